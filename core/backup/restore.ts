import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { systemActor } from '../auth/actor';
import { recordAudit } from '../audit/record';
import { openDatabase } from '../db/connect';
import { parse } from '../validate';
import { migrationSource } from '../../migrations';
import { decryptBuffer, decryptFailure, decryptFile } from './age';
import { databaseIsEmpty, pgliteDirInUse, restorePglite, restoreServer } from './database';
import { checkManifest, KEYS_PART, MANIFEST, type Manifest } from './manifest';
import { occupiedParts } from './parts';
import { extractTar } from './tar';

/**
 * `toolroom restore ARCHIVE`: into an empty database and data directory, or over them when told
 * (`force`). Nothing is written to the target until the whole archive has been decrypted (age
 * authenticates every chunk and its end), unpacked into a staging directory inside the data dir and
 * checked against its manifest: a truncated, altered or foreign archive is refused as it is. The
 * database is then restored in one transaction (a server) or into a new PGlite directory swapped in
 * whole; the files are moved in; the restore is the restored trail's newest audit event.
 * Run it with the app stopped.
 */

export const restoreInput = z
  .object({
    archive: z.string().min(1),
    identities: z.array(z.string().min(1)).min(1),
    /** TOOLROOM_DATA_DIR to restore into. */
    dataDir: z.string().min(1),
    /** The PostgreSQL server database; absent = embedded PGlite under dataDir/pglite. */
    url: z.string().min(1).optional(),
    /** Restore over a database and data dir that are not empty. */
    force: z.boolean().optional(),
    /** Restore although no identity opens the keys part (Node-RED credentials will not be readable). */
    withoutKeys: z.boolean().optional(),
  })
  .strict();
export type RestoreInput = z.input<typeof restoreInput>;

/** A restore refused before anything was written: the message says why and what to do. */
export class RestoreRefused extends Error {
  override readonly name = 'RestoreRefused';
}

export interface RestoreResult {
  archive: string;
  createdAt: string;
  backend: Manifest['database']['backend'];
  files: number;
  keys: 'restored' | 'skipped';
}

export interface UnpackedArchive {
  dir: string;
  manifest: Manifest;
  /** The key files' names (unpacked under dir/keys-part), or null when no identity opened the keys part. */
  keys: string[] | null;
}

/** Decrypt, unpack and check an archive into `dir` (created here, empty). Throws RestoreRefused. */
export async function unpackArchive(archive: string, identities: string[], dir: string): Promise<UnpackedArchive> {
  if (!fs.statSync(archive, { throwIfNoEntry: false })?.isFile()) throw new RestoreRefused(`archive ${archive} does not exist`);
  const contents = path.join(dir, 'archive');
  fs.mkdirSync(contents, { recursive: true, mode: 0o700 });
  let extracted;
  try {
    extracted = await extractTar(decryptFile(archive, identities), contents);
  } catch (err) {
    const why = /truncated|tar header|unsafe path|other than a file/.test((err as Error).message) ? (err as Error).message : decryptFailure(err);
    throw new RestoreRefused(`archive ${path.basename(archive)} refused: ${why}; nothing was restored`);
  }
  let manifest: Manifest;
  try {
    const text = fs.existsSync(path.join(contents, MANIFEST)) ? fs.readFileSync(path.join(contents, MANIFEST), 'utf8') : '';
    if (!text) throw new Error(`it has no ${MANIFEST}`);
    manifest = checkManifest(text, extracted);
  } catch (err) {
    throw new RestoreRefused(`archive ${path.basename(archive)} refused: ${(err as Error).message}; nothing was restored`);
  }
  const known = new Set(await migrationSource.getMigrations([]));
  const unknown = manifest.database.migrations.find((m) => !known.has(m));
  if (unknown) throw new RestoreRefused(`archive ${path.basename(archive)} was made by a newer Toolroom (migration ${unknown}): upgrade Toolroom first, then restore`);

  let keys: string[] | null = null;
  try {
    const plain = await decryptBuffer(fs.readFileSync(path.join(contents, KEYS_PART)), identities);
    const keyDir = path.join(dir, 'keys-part');
    fs.mkdirSync(keyDir, { mode: 0o700 });
    keys = (await extractTar((async function* () {
      yield plain;
    })(), keyDir)).map((e) => e.name);
  } catch (err) {
    if (!/no identity matched/i.test((err as Error).message)) throw new RestoreRefused(`archive ${path.basename(archive)} refused: its keys part ${decryptFailure(err)}`);
  }
  return { dir, manifest, keys };
}

/** Move a staged file into the data dir (same file system: a rename), replacing what is there. */
function moveIn(from: string, dataDir: string, name: string): void {
  const to = path.join(dataDir, ...name.split('/'));
  fs.mkdirSync(path.dirname(to), { recursive: true, mode: 0o700 });
  fs.renameSync(from, to);
}

async function targetOccupied(v: z.infer<typeof restoreInput>, pgliteDir: string): Promise<string[]> {
  const found = occupiedParts(v.dataDir).map((p) => `${p} in ${v.dataDir}`);
  if (v.url) {
    const db = openDatabase({ url: v.url, poolMax: 1 });
    try {
      if (!(await databaseIsEmpty(db))) found.unshift('tables in the database');
    } finally {
      await db.destroy();
    }
  } else if (pgliteDirInUse(pgliteDir)) found.unshift(`a database in ${pgliteDir}`);
  return found;
}

export async function restoreBackup(input: unknown): Promise<RestoreResult> {
  const v = parse(restoreInput, input);
  const pgliteDir = path.join(v.dataDir, 'pglite');
  const occupied = await targetOccupied(v, pgliteDir);
  if (occupied.length && !v.force) {
    throw new RestoreRefused(`the target is not empty (${occupied.join(', ')}): restore into an empty database and data directory, or over them with --force`);
  }
  const createdDataDir = !fs.existsSync(v.dataDir);
  fs.mkdirSync(v.dataDir, { recursive: true });
  // Staged inside the data dir: on its (encrypted) disk, and moved in by rename.
  const stage = fs.mkdtempSync(path.join(v.dataDir, '.restore-'));
  try {
    const unpacked = await unpackArchive(v.archive, v.identities, stage);
    const { manifest } = unpacked;
    const name = path.basename(v.archive);
    if (!unpacked.keys && !v.withoutKeys) {
      throw new RestoreRefused(`archive ${name}: none of the identities opens its keys part (encrypted to a separate keys recipient?): give that identity too, or --without-keys (the Node-RED credentials will then be unreadable); nothing was restored`);
    }
    const wantServer = manifest.database.backend === 'postgres';
    if (wantServer !== Boolean(v.url)) {
      throw new RestoreRefused(`archive ${name} holds a ${wantServer ? 'PostgreSQL server' : 'PGlite (embedded)'} database: restore it into ${wantServer ? 'a server (set DATABASE_URL)' : 'PGlite (unset DATABASE_URL)'}; nothing was restored`);
    }
    const dump = path.join(stage, 'archive', manifest.database.file);
    const dataEntries = manifest.entries.map((e) => e.name).filter((n) => n !== manifest.database.file && n !== KEYS_PART);
    const result: RestoreResult = { archive: name, createdAt: manifest.createdAt, backend: manifest.database.backend, files: dataEntries.length, keys: unpacked.keys ? 'restored' : 'skipped' };
    const audit = { action: 'backup.restore', entity: 'backup', entityId: name, after: result };

    const stagedPglite = path.join(stage, 'pglite');
    if (v.url) {
      await restoreServer(v.url, dump, stage, Boolean(v.force));
      const db = openDatabase({ url: v.url, poolMax: 1 });
      try {
        await db.transaction((trx) => recordAudit(trx, systemActor('restore'), audit));
      } finally {
        await db.destroy();
      }
    } else {
      await restorePglite(stagedPglite, dump);
      const db = openDatabase({ dataDir: stagedPglite });
      try {
        await db.transaction((trx) => recordAudit(trx, systemActor('restore'), audit));
      } finally {
        await db.destroy();
      }
    }

    // The database is in; now the files (the parts they replace go first when forced).
    if (v.force) for (const part of occupiedParts(v.dataDir)) fs.rmSync(path.join(v.dataDir, part), { recursive: true, force: true });
    if (!v.url) {
      if (fs.existsSync(pgliteDir)) fs.renameSync(pgliteDir, path.join(stage, 'pglite-replaced'));
      fs.renameSync(stagedPglite, pgliteDir);
    }
    for (const n of dataEntries) moveIn(path.join(stage, 'archive', ...n.split('/')), v.dataDir, n);
    for (const n of unpacked.keys ?? []) moveIn(path.join(stage, 'keys-part', ...n.split('/')), v.dataDir, n);
    return result;
  } catch (err) {
    if (createdDataDir) {
      fs.rmSync(stage, { recursive: true, force: true });
      fs.rmSync(v.dataDir, { recursive: true, force: true });
    }
    throw err;
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

/** `toolroom verify ARCHIVE`: decrypt and check an archive without restoring it (a restore drill). */
export async function verifyArchive(archive: string, identities: string[], workDir: string): Promise<{ manifest: Manifest; keys: boolean }> {
  const stage = fs.mkdtempSync(path.join(workDir, '.verify-'));
  try {
    const unpacked = await unpackArchive(archive, identities, stage);
    return { manifest: unpacked.manifest, keys: unpacked.keys !== null };
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}
