import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { backupFailedInTransaction } from '../notifications/system';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { recordAudit } from '../audit/record';
import { backendOf, type Db } from '../db/connect';
import { parse } from '../validate';
import { encryptBuffer, encryptStream } from './age';
import { dataFiles, keyFiles, type PartFile } from './parts';
import { archiveName, archivesToKeep, archiveTime, DEFAULT_KEEP } from './retention';
import { bufferContent, fileContent, writeTar, type TarEntry } from './tar';
import { DUMP_FILE, dumpDatabase } from './database';
import { MANIFEST, KEYS_PART, type Manifest } from './manifest';

/**
 * `toolroom backup`: the database dump, the data dir's photos and Node-RED flows, and the key material
 * (a part of its own, encrypted separately) in one tar, encrypted with age to the backup recipients and
 * written to the backup directory (an NFS/SMB mount on a plant) as `toolroom-<UTC time>.tar.age`.
 * The archive appears under its name only once complete (written as a hidden .partial file, synced,
 * renamed); then the archives beyond the retention policy are deleted. Audited, and so is a failure.
 */

const recipient = z.string().regex(/^age1[0-9a-z]+$/, 'must be an age recipient (age1…)');
const count = z.number().int().min(0).max(1000);

export const backupInput = z
  .object({
    /** Where archives go. */
    dir: z.string().min(1),
    /** TOOLROOM_DATA_DIR: photos, node-red/, keys/. */
    dataDir: z.string().min(1),
    recipients: z.array(recipient).min(1),
    /** Recipients of the keys part (default: `recipients`), e.g. a key kept in the plant manager's safe. */
    keysRecipients: z.array(recipient).min(1).optional(),
    keep: z.object({ daily: count, weekly: count, monthly: count }).strict().optional(),
    /** Key files kept outside the data dir (e.g. a Docker secret), archived as keys/<name>. */
    extraKeyFiles: z.array(z.object({ name: z.string().regex(/^keys\/[A-Za-z0-9._-]+$/), file: z.string().min(1) }).strict()).optional(),
  })
  .strict();
export type BackupInput = z.input<typeof backupInput>;

/** A backup written: the archive's name and path, its size, how many files it holds, the older archives pruned. */
export const backupResultRecord = z
  .object({ archive: z.string(), path: z.string(), bytes: z.number().int(), files: z.number().int(), pruned: z.array(z.string()) })
  .strict()
  .meta({ id: 'BackupResult' });
export type BackupResult = z.infer<typeof backupResultRecord>;

/** An entry whose content is hashed as it streams, for the manifest. */
function hashed(name: string, size: number, content: () => AsyncIterable<Uint8Array>, into: Manifest['entries']): TarEntry {
  return {
    name,
    size,
    async *content() {
      const hash = createHash('sha256');
      for await (const chunk of content()) {
        hash.update(chunk);
        yield chunk;
      }
      into.push({ name, size, sha256: hash.digest('hex') });
    },
  };
}

async function* entries(dump: { name: string; file: string }, files: PartFile[], keys: Uint8Array, manifest: Manifest): AsyncGenerator<TarEntry> {
  yield hashed(dump.name, fs.statSync(dump.file).size, fileContent(dump.file), manifest.entries);
  for (const f of files) yield hashed(f.name, f.size, fileContent(f.file), manifest.entries);
  yield hashed(KEYS_PART, keys.length, bufferContent(keys), manifest.entries);
  // Last, so it holds every entry's hash.
  const text = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
  yield { name: MANIFEST, size: text.length, content: bufferContent(text) };
}

async function writeArchive(file: string, chunks: AsyncIterable<Uint8Array>): Promise<number> {
  const fd = fs.openSync(file, 'wx', 0o600);
  let bytes = 0;
  try {
    for await (const chunk of chunks) {
      fs.writeSync(fd, chunk);
      bytes += chunk.length;
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return bytes;
}

/** Delete the archives the policy does not keep (only files named like archives). */
export function pruneArchives(dir: string, keep = DEFAULT_KEEP): string[] {
  const archives = fs.readdirSync(dir).flatMap((name) => {
    const at = archiveTime(name);
    return at ? [{ name, at }] : [];
  });
  const kept = archivesToKeep(archives, keep);
  const pruned = archives.filter((a) => !kept.has(a.name)).map((a) => a.name);
  for (const name of pruned) fs.rmSync(path.join(dir, name), { force: true });
  return pruned;
}

export async function createBackup(db: Db, actor: Actor, input: unknown): Promise<BackupResult> {
  authorize(actor, 'backup.create');
  const v = parse(backupInput, input);
  const at = new Date();
  const name = archiveName(at);
  const partial = path.join(v.dir, `.${name}.partial`);
  fs.mkdirSync(v.dataDir, { recursive: true });
  // The plain dump is staged on the data disk (encrypted at rest there), not in a tmpfs or on the share.
  const work = fs.mkdtempSync(path.join(v.dataDir, '.backup-'));
  try {
    if (!fs.statSync(v.dir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`the backup directory ${v.dir} does not exist (is the share mounted?)`);
    const migrations = (await db('knex_migrations').orderBy('id').pluck('name')) as string[];
    const backend = backendOf(db);
    const dump = { name: DUMP_FILE[backend], file: path.join(work, DUMP_FILE[backend]) };
    await dumpDatabase(db, dump.file);

    const keyTar: Uint8Array[] = [];
    for await (const chunk of writeTar(keyFiles(v.dataDir, v.extraKeyFiles).map((f) => ({ name: f.name, size: f.size, content: fileContent(f.file) })), at.getTime())) keyTar.push(chunk);
    const keys = await encryptBuffer(Buffer.concat(keyTar), v.keysRecipients ?? v.recipients);

    const files = dataFiles(v.dataDir);
    const manifest: Manifest = { format: 'toolroom-backup', version: 1, createdAt: at.toISOString(), database: { backend, file: dump.name, migrations }, entries: [] };
    const bytes = await writeArchive(partial, encryptStream(writeTar(entries(dump, files, keys, manifest), at.getTime()), v.recipients));
    fs.renameSync(partial, path.join(v.dir, name));
    const pruned = pruneArchives(v.dir, v.keep ?? DEFAULT_KEEP);
    const result = { archive: name, path: path.join(v.dir, name), bytes, files: files.length, pruned };
    await db.transaction((trx) => recordAudit(trx, actor, { action: 'backup.create', entity: 'backup', entityId: name, after: { archive: name, bytes, files: files.length, backend, pruned } }));
    return result;
  } catch (err) {
    fs.rmSync(partial, { force: true });
    const message = (err as Error).message ?? String(err);
    // The failure joins the audit trail and reaches the admins (inbox, e-mail, MQTT, toolroom-event nodes)
    // when the database still answers; the caller reports it either way.
    await db
      .transaction(async (trx) => {
        await recordAudit(trx, actor, { action: 'backup.fail', entity: 'backup', entityId: name, after: { archive: name, error: message.slice(0, 2000) } });
        await backupFailedInTransaction(trx, actor, { archive: name, error: message.slice(0, 2000) });
      })
      .catch(() => undefined);
    throw err;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
