#!/usr/bin/env node
/**
 * `toolroom` — operator commands (package.json `bin`; in a checkout `node dist/scripts/toolroom.js`):
 *
 *   toolroom backup [--dir DIR]          back up the database (DATABASE_URL, else the PGlite files under
 *                                        TOOLROOM_DATA_DIR, with the app stopped), photos, flows and keys
 *   toolroom restore ARCHIVE [--identity FILE]... [--force] [--without-keys]
 *                                        restore into an empty database and data dir (or over them: --force)
 *   toolroom verify ARCHIVE [--identity FILE]...   decrypt and check an archive, restore nothing
 *   toolroom purge                       delete what has outlived its retention period (core/retention), audited:
 *                                        sessions, readings, retired tools' records and photo files, the audit
 *                                        trail's oldest part under an anchor signed with TOOLROOM_AUDIT_KEY_FILE;
 *                                        with INFLUX_URL, give InfluxDB the shot readings' period too
 *   toolroom keygen FILE                 make a backup key pair: FILE gets the identity (keep it off the Pi),
 *                                        the recipient (public key) is printed for TOOLROOM_BACKUP_RECIPIENT_FILE
 *
 * Settings: TOOLROOM_BACKUP_DIR, TOOLROOM_BACKUP_RECIPIENT_FILE, TOOLROOM_BACKUP_KEYS_RECIPIENT_FILE
 * (default: the recipient file), TOOLROOM_BACKUP_IDENTITY_FILE (for restore/verify without --identity),
 * TOOLROOM_BACKUP_KEEP_DAILY / _WEEKLY / _MONTHLY (7 / 4 / 12). Exit code 0 done, 1 failed or refused,
 * 2 a usage or setting error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { systemActor } from '../core/auth/actor';
import { migrateLatest, openDatabase, optionsFromEnv } from '../core/db/connect';
import { isToolroomError } from '../core/errors';
import { newKeyPair, readIdentities } from '../core/backup/age';
import { createBackup } from '../core/backup/service';
import { backupSettingsFromEnv } from '../core/backup/settings';
import { restoreBackup, verifyArchive } from '../core/backup/restore';
import { pgliteInUse } from '../core/backup/database';
import { purgeExpired } from '../core/retention/purge';
import { auditKeyFile, ensureAuditKey } from '../core/audit/anchor';
import { photoStoreFromEnv } from '../core/photos/store';
import { retentionPeriods } from '../core/retention/policy';
import { applyInfluxRetention } from '../core/retention/influx';
import { parseInfluxUrl } from '../core/outbox/influx';

/** The embedded database may be opened by one process only: refuse while the app (or anyone) has it open. */
function embeddedFree(options: { url?: string; dataDir?: string }, command: string): void {
  if (!options.url && options.dataDir && pgliteInUse(options.dataDir)) {
    throw new Error(`toolroom ${command}: the embedded database in ${options.dataDir} is open (is Toolroom running? stop it first; after a crash, start and stop it once)`);
  }
}

/** A usage or setting mistake: exit code 2, the sentence only. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface Parsed {
  command: 'backup' | 'restore' | 'verify' | 'keygen' | 'purge';
  archive?: string;
  dir?: string;
  identities: string[];
  force: boolean;
  withoutKeys: boolean;
}

const USAGE = 'usage: toolroom backup [--dir DIR] | purge | restore ARCHIVE [--identity FILE]... [--force] [--without-keys] | verify ARCHIVE [--identity FILE]... | keygen FILE';

export function parseArgs(argv: string[]): Parsed {
  const [command, ...rest] = argv;
  if (command !== 'backup' && command !== 'restore' && command !== 'verify' && command !== 'keygen' && command !== 'purge') throw new UsageError(USAGE);
  const out: Parsed = { command, identities: [], force: false, withoutKeys: false };
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const value = () => {
      const v = rest[++i];
      if (v === undefined) throw new UsageError(`toolroom ${command}: ${arg} needs a value`);
      return v;
    };
    if (arg === '--dir' && command === 'backup') out.dir = value();
    else if (arg === '--identity' && (command === 'restore' || command === 'verify')) out.identities.push(value());
    else if (arg === '--force' && command === 'restore') out.force = true;
    else if (arg === '--without-keys' && command === 'restore') out.withoutKeys = true;
    else if (!arg.startsWith('-')) positional.push(arg);
    else throw new UsageError(`toolroom ${command}: unknown option ${arg}\n${USAGE}`);
  }
  const wants = command === 'backup' || command === 'purge' ? 0 : 1;
  if (positional.length !== wants) throw new UsageError(`toolroom ${command}: ${wants ? 'needs one file' : 'takes no file'}\n${USAGE}`);
  out.archive = positional[0];
  return out;
}

function identitiesFrom(p: Parsed, env: NodeJS.ProcessEnv): string[] {
  const files = p.identities.length ? p.identities : env.TOOLROOM_BACKUP_IDENTITY_FILE ? [env.TOOLROOM_BACKUP_IDENTITY_FILE] : [];
  if (!files.length) throw new UsageError(`toolroom ${p.command}: give the backup identity with --identity FILE (or TOOLROOM_BACKUP_IDENTITY_FILE)`);
  try {
    return files.flatMap((f) => readIdentities(f, '--identity'));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function backup(p: Parsed, env: NodeJS.ProcessEnv): Promise<string> {
  let input;
  try {
    input = backupSettingsFromEnv(env, p.dir);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const options = optionsFromEnv(env);
  if (!options.url && !fs.existsSync(options.dataDir!)) throw new UsageError(`no database at ${options.dataDir} (set DATABASE_URL or TOOLROOM_DATA_DIR)`);
  embeddedFree(options, 'backup');
  const db = openDatabase({ ...options, poolMax: 2 });
  try {
    await migrateLatest(db);
    const r = await createBackup(db, systemActor('toolroom backup'), input);
    const pruned = r.pruned.length ? `; deleted by retention: ${r.pruned.join(', ')}` : '';
    return `backup written: ${r.path} (${r.bytes} bytes, ${r.files} files besides the database)${pruned}`;
  } finally {
    await db.destroy();
  }
}

async function purge(env: NodeJS.ProcessEnv): Promise<string> {
  embeddedFree(optionsFromEnv(env), 'purge');
  const db = openDatabase({ ...optionsFromEnv(env), poolMax: 2 });
  try {
    await migrateLatest(db);
    const r = await purgeExpired(db, systemActor('toolroom purge'), {}, { store: photoStoreFromEnv(env), auditKey: () => ensureAuditKey(auditKeyFile(env)) });
    let influx = '';
    if (env.INFLUX_URL) {
      const days = (await retentionPeriods(db)).find((p) => p.recordType === 'shot_readings')!.keepDays;
      const rp = await applyInfluxRetention(parseInfluxUrl(env.INFLUX_URL), days);
      influx = `; InfluxDB retention policy ${rp.policy}: ${days} days${rp.changed ? ' (set now)' : ''}`;
    }
    const anchor = r.anchor ? `; audit trail purged up to seq ${r.anchor.seq} under signed anchor ${r.anchor.id}` : '';
    const failed = r.failedTools.map((f) => `\ntool ${f.toolId} NOT purged (kept whole): ${f.error}`).join('');
    return `purged: ${Object.entries(r.removed).map(([t, n]) => `${n} ${t}`).join(', ')}, ${r.photoFiles} photo files${anchor}${influx}${failed}`;
  } finally {
    await db.destroy();
  }
}

export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const p = parseArgs(argv);
  if (p.command === 'keygen') {
    const file = path.resolve(p.archive!);
    const pair = await newKeyPair();
    try {
      fs.writeFileSync(file, pair.identityFile, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      throw new UsageError(`toolroom keygen: cannot create ${file} (${(err as NodeJS.ErrnoException).code})${(err as NodeJS.ErrnoException).code === 'EEXIST' ? ': it exists; a key is never overwritten' : ''}`);
    }
    return `identity written to ${file} (keep it, and a copy, OFF the Pi: it opens every backup)\nrecipient (public key, for TOOLROOM_BACKUP_RECIPIENT_FILE): ${pair.recipient}`;
  }
  if (p.command === 'backup') return backup(p, env);
  if (p.command === 'purge') return purge(env);
  const identities = identitiesFrom(p, env);
  const dataDir = path.resolve(env.TOOLROOM_DATA_DIR || './data');
  if (p.command === 'verify') {
    fs.mkdirSync(dataDir, { recursive: true });
    const r = await verifyArchive(path.resolve(p.archive!), identities, dataDir);
    return `archive ${path.basename(p.archive!)} is intact: made ${r.manifest.createdAt} from ${r.manifest.database.backend}, ${r.manifest.entries.length} entries, keys part ${r.keys ? 'readable' : 'NOT readable with these identities'}`;
  }
  const url = env.DATABASE_URL || undefined;
  embeddedFree(url ? { url } : { dataDir: path.join(dataDir, 'pglite') }, 'restore');
  const r = await restoreBackup({ archive: path.resolve(p.archive!), identities, dataDir, url, force: p.force, withoutKeys: p.withoutKeys });
  return `restored ${r.archive} (made ${r.createdAt}) into ${url ? 'the PostgreSQL database' : `PGlite under ${dataDir}`}: ${r.files} files, keys ${r.keys}`;
}

if (require.main === module) {
  run(process.argv.slice(2)).then(
    (out) => console.log(out),
    (err: Error) => {
      console.error(err instanceof UsageError || isToolroomError(err) || err.name === 'RestoreRefused' ? err.message : `toolroom: ${err.message}`);
      process.exitCode = err instanceof UsageError || isToolroomError(err) ? 2 : 1;
    },
  );
}
