import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { recordAudit, type AuditInput } from './record';

/**
 * What a create or update returns: the record as the write left it, read back in the write's
 * transaction and audited with it (`before` → that record) before the transaction commits.
 */
export async function audited<T>(trx: Knex.Transaction, actor: Actor, event: Omit<AuditInput, 'after'>, readBack: Promise<T | undefined>): Promise<T> {
  const after = (await readBack)!;
  await recordAudit(trx, actor, { ...event, after });
  return after;
}
