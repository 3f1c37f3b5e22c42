import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { inTransaction } from '../db/transaction';
import { parse } from '../validate';
import { links } from './events';
import { raiseEvent } from './raise';
import { raiseBackupFailedInput, type RaisedEvent } from './schema';

/**
 * System events other code raises: the backup job (when it exists) reports a failed backup here, and
 * admins hear of it. One event per archive: a retried report of the same failure is the same event.
 */
export async function raiseBackupFailed(db: Knex, actor: Actor, input: unknown): Promise<RaisedEvent | null> {
  authorize(actor, 'notification.raise');
  const v = parse(raiseBackupFailedInput, input);
  return inTransaction(db, (trx) => backupFailedInTransaction(trx, actor, v));
}

/** The event of a failed backup, in the transaction that audits the failure (core/backup raises it itself). */
export function backupFailedInTransaction(trx: Knex.Transaction, actor: Actor, v: { archive: string; error: string }): Promise<RaisedEvent | null> {
  return raiseEvent(trx, actor, {
    type: 'backup.failed',
    key: `backup.failed:${v.archive}`,
    title: `Backup ${v.archive} failed: ${v.error.slice(0, 200)}`,
    entity: 'backup',
    entityId: v.archive,
    link: links.home(),
    data: { archive: v.archive, error: v.error },
  });
}
