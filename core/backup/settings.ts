import path from 'node:path';
import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { conflict } from '../errors';
import { z } from 'zod';
import { parse } from '../validate';
import { credentialSecretFile, DEFAULT_SECRET_NAME } from '../keys';
import { auditKeyFile, DEFAULT_AUDIT_KEY_NAME } from '../audit/anchor';
import { readRecipients } from './age';
import { archiveTime, DEFAULT_KEEP, type KeepPolicy } from './retention';
import type { AuditEventTable } from '../db/tables';
import { iso } from '../db/transaction';
import { createBackup, type BackupInput, type BackupResult } from './service';
import fs from 'node:fs';

/**
 * A backup as this installation is configured for it (TOOLROOM_BACKUP_*): what `toolroom backup` runs,
 * and what an admin asks for over the API. A missing or wrong setting is a `conflict` naming it (the
 * server is not set up for backups), not the caller's mistake.
 */
function keepFromEnv(env: NodeJS.ProcessEnv): KeepPolicy {
  const one = (kind: keyof KeepPolicy) => {
    const name = `TOOLROOM_BACKUP_KEEP_${kind.toUpperCase()}`;
    const raw = env[name];
    if (raw === undefined || raw === '') return DEFAULT_KEEP[kind];
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 1000) throw conflict(`${name} must be a whole number from 0 to 1000, not ${raw}`, name, 'setting');
    return n;
  };
  return { daily: one('daily'), weekly: one('weekly'), monthly: one('monthly') };
}

export function backupSettingsFromEnv(env: NodeJS.ProcessEnv = process.env, dir?: string): BackupInput {
  const dataDir = path.resolve(env.TOOLROOM_DATA_DIR || './data');
  const target = dir ?? env.TOOLROOM_BACKUP_DIR;
  if (!target) throw conflict('TOOLROOM_BACKUP_DIR is not set: where should archives go?', 'TOOLROOM_BACKUP_DIR', 'setting');
  const recipientFile = env.TOOLROOM_BACKUP_RECIPIENT_FILE;
  if (!recipientFile) throw conflict('TOOLROOM_BACKUP_RECIPIENT_FILE is not set: the public key (age1…) backups are encrypted to (toolroom keygen makes one)', 'TOOLROOM_BACKUP_RECIPIENT_FILE', 'setting');
  let recipients: string[];
  let keysRecipients: string[] | undefined;
  try {
    recipients = readRecipients(recipientFile, 'TOOLROOM_BACKUP_RECIPIENT_FILE');
    if (env.TOOLROOM_BACKUP_KEYS_RECIPIENT_FILE) keysRecipients = readRecipients(env.TOOLROOM_BACKUP_KEYS_RECIPIENT_FILE, 'TOOLROOM_BACKUP_KEYS_RECIPIENT_FILE');
  } catch (err) {
    throw conflict((err as Error).message, 'TOOLROOM_BACKUP_RECIPIENT_FILE', 'setting');
  }
  // The credential key may live outside the data dir (a Docker secret): it is archived all the same.
  const secret = credentialSecretFile(env, dataDir);
  const extraKeyFiles = fs.existsSync(secret) ? [{ name: `keys/${DEFAULT_SECRET_NAME}`, file: secret }] : [];
  // So may the audit key that signs the purge anchors.
  const auditKey = auditKeyFile(env);
  if (fs.existsSync(auditKey)) extraKeyFiles.push({ name: `keys/${DEFAULT_AUDIT_KEY_NAME}`, file: auditKey });
  return { dir: path.resolve(target), dataDir, recipients, keysRecipients, keep: keepFromEnv(env), extraKeyFiles };
}

/** An on-demand backup takes no input: where and to whom come from the server's settings. */
export const backupNowInput = z.object({}).strict();

/** Back up now, as configured (an admin's on-demand backup; the API's POST /backups). */
export async function backupNow(db: Knex, actor: Actor, input: unknown = {}, env: NodeJS.ProcessEnv = process.env): Promise<BackupResult> {
  authorize(actor, 'backup.create');
  parse(backupNowInput, input);
  return createBackup(db, actor, backupSettingsFromEnv(env));
}

export const listBackupsInput = z.object({}).strict();

/** An archive in the backup directory: its name, when it was made (from the name) and its size. */
const archiveRecord = z.object({ name: z.string(), at: z.string(), bytes: z.number().int() }).strict();

/** The last backup's outcome as the audit trail has it: made (with its size) or failed (with the error). */
const lastBackupRecord = z
  .object({ outcome: z.enum(['created', 'failed']), at: z.string(), archive: z.string(), bytes: z.number().int().nullable(), error: z.string().nullable(), by: z.string() })
  .strict();

export const backupListRecord = z
  .object({
    /** false while TOOLROOM_BACKUP_DIR or the recipient is not set: `problem` says which. */
    configured: z.boolean(),
    problem: z.string().nullable(),
    dir: z.string().nullable(),
    /** Newest first. */
    archives: z.array(archiveRecord),
    last: lastBackupRecord.nullable(),
  })
  .strict()
  .meta({ id: 'BackupList' });
export type BackupList = z.infer<typeof backupListRecord>;

/**
 * The archives in the configured backup directory, newest first, and the last backup's outcome (made or
 * failed, from the audit trail): the admins' operations page. A server not set up for backups answers
 * `configured: false` with the setting that is missing, not an error: the page says so.
 */
export async function listBackups(db: Knex, actor: Actor, input: unknown = {}, env: NodeJS.ProcessEnv = process.env): Promise<BackupList> {
  authorize(actor, 'backup.create');
  parse(listBackupsInput, input);
  let dir: string | null = env.TOOLROOM_BACKUP_DIR ? path.resolve(env.TOOLROOM_BACKUP_DIR) : null;
  let problem: string | null = null;
  try {
    dir = backupSettingsFromEnv(env).dir;
  } catch (err) {
    problem = (err as Error).message;
  }
  const present = !!dir && !!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory();
  if (dir && !present && !problem) problem = `the backup directory ${dir} does not exist (is the share mounted?)`;
  const names = present ? fs.readdirSync(dir!) : [];
  const archives = names
    .flatMap((name) => {
      const at = archiveTime(name);
      const stat = at && fs.statSync(path.join(dir!, name), { throwIfNoEntry: false });
      return at && stat?.isFile() ? [{ name, at: at.toISOString(), bytes: stat.size }] : [];
    })
    .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  const event = (await db('audit_events').where('entity', 'backup').whereIn('action', ['backup.create', 'backup.fail']).orderBy('id', 'desc').first()) as
    | Pick<AuditEventTable, 'action' | 'at' | 'entity_id' | 'after' | 'actor_name'>
    | undefined;
  const after = (typeof event?.after === 'string' ? JSON.parse(event.after) : (event?.after ?? {})) as { bytes?: number; error?: string };
  const last = event
    ? {
        outcome: event.action === 'backup.create' ? ('created' as const) : ('failed' as const),
        at: iso(event.at)!,
        archive: event.entity_id,
        bytes: typeof after.bytes === 'number' ? after.bytes : null,
        error: typeof after.error === 'string' ? after.error : null,
        by: event.actor_name,
      }
    : null;
  return { configured: !problem, problem, dir, archives, last };
}
