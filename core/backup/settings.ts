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
import { DEFAULT_KEEP, type KeepPolicy } from './retention';
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
