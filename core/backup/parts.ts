import fs from 'node:fs';
import path from 'node:path';

/**
 * What of TOOLROOM_DATA_DIR a backup carries, under the same relative names it restores to:
 * - data: `photos/**`, the Node-RED flows and their (encrypted) credentials, `toolroom.json` (what the
 *   first start did, so a restored instance never seeds again);
 * - keys, in a part of their own encrypted separately (to its own recipient if one is given): `keys/**`
 *   (the credentialSecret file, later the photo key) and Node-RED's `.config.runtime.json` (which holds
 *   the generated credential key of an instance that has no key file yet).
 * Never the PGlite files (the dump stands for them) and nothing else the runtime regenerates.
 */

export interface PartFile {
  /** Relative name in the archive and in the data directory ('/'-separated). */
  name: string;
  /** Where it is read from now. */
  file: string;
  size: number;
}

export const DATA_FILES = ['node-red/flows.json', 'node-red/flows_cred.json', 'toolroom.json'];
export const DATA_TREES = ['photos'];
export const KEY_FILES = ['node-red/.config.runtime.json'];
export const KEY_TREES = ['keys'];

/** Every regular file under `dir` (symbolic links are not followed: a backup copies the data dir, not what it points at). */
function walk(root: string, rel: string, out: PartFile[]): void {
  const dir = path.join(root, rel);
  if (!fs.existsSync(dir)) return;
  for (const d of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const name = `${rel}/${d.name}`;
    if (d.isDirectory()) walk(root, name, out);
    else if (d.isFile()) out.push({ name, file: path.join(root, name), size: fs.statSync(path.join(root, name)).size });
  }
}

function collect(dataDir: string, files: string[], trees: string[]): PartFile[] {
  const out: PartFile[] = [];
  for (const name of files) {
    const file = path.join(dataDir, name);
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (stat?.isFile()) out.push({ name, file, size: stat.size });
  }
  for (const tree of trees) walk(dataDir, tree, out);
  return out;
}

export function dataFiles(dataDir: string): PartFile[] {
  return collect(dataDir, DATA_FILES, DATA_TREES);
}

/** The key files; `extra` adds key files kept outside the data dir (e.g. a Docker secret), under `keys/`. */
export function keyFiles(dataDir: string, extra: { name: string; file: string }[] = []): PartFile[] {
  const out = collect(dataDir, KEY_FILES, KEY_TREES);
  for (const e of extra) {
    if (out.some((f) => path.resolve(f.file) === path.resolve(e.file))) continue;
    out.push({ name: e.name, file: e.file, size: fs.statSync(e.file).size });
  }
  return out;
}

/** The parts of a data dir a restore would overwrite that already exist (empty = a fresh data dir). */
export function occupiedParts(dataDir: string): string[] {
  return [...DATA_FILES, ...DATA_TREES, ...KEY_FILES, ...KEY_TREES].filter((name) => {
    const p = path.join(dataDir, name);
    const stat = fs.statSync(p, { throwIfNoEntry: false });
    if (!stat) return false;
    return !stat.isDirectory() || fs.readdirSync(p).length > 0;
  });
}
