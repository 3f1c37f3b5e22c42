import type { Knex } from 'knex';
import { z } from 'zod';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { recordAudit } from '../audit/record';
import { inTransaction } from '../db/transaction';
import { parse } from '../validate';
import { RECORD_TYPE_NAMES, retentionPeriods, type RecordType } from './policy';

/**
 * The daily purge: deletes what has outlived its retention period, in one transaction with one audit
 * event that counts what went per record type (the trail says what was removed, never the removed rows).
 * Never purged: shot readings held for review (an engineer has not decided yet), readings of a tool
 * under a legal hold, open sessions. The audit trail itself is not purged (its hash chain stays whole).
 */
/** What a purge deleted per record type, and the cut-off time of each. */
export const purgeResultRecord = z
  .object({ removed: z.record(z.enum(RECORD_TYPE_NAMES as [RecordType, ...RecordType[]]), z.number().int()), before: z.record(z.enum(RECORD_TYPE_NAMES as [RecordType, ...RecordType[]]), z.string()) })
  .strict()
  .meta({ id: 'PurgeResult' });
export type PurgeResult = z.infer<typeof purgeResultRecord>;

const DAY = 86_400_000;

/** Rows deleted: pg gives the count, knex-pglite its result object. */
const count = (r: unknown): number => (typeof r === 'number' ? r : Number((r as { affectedRows?: number }).affectedRows ?? 0));

export const purgeInput = z.object({ now: z.date().optional() }).strict();

export async function purgeExpired(db: Knex, actor: Actor, input: unknown = {}): Promise<PurgeResult> {
  authorize(actor, 'retention.manage');
  const now = parse(purgeInput, input).now ?? new Date();
  return inTransaction(db, async (trx) => {
    const periods = Object.fromEntries((await retentionPeriods(trx)).map((p) => [p.recordType, p.keepDays])) as Record<RecordType, number>;
    const cutoff = (t: RecordType) => new Date(now.getTime() - periods[t] * DAY);
    const removed = {} as Record<RecordType, number>;
    removed.sessions = count(await trx('sessions')
      .whereRaw('COALESCE(revoked_at, expires_at) < ?', [cutoff('sessions')])
      .delete());
    removed.shot_readings = count(await trx('shot_readings')
      .where('at', '<', cutoff('shot_readings'))
      .whereNot('outcome', 'held')
      .where((q) => q.whereNull('tool_id').orWhereNotIn('tool_id', trx('legal_holds').whereNull('released_at').select('tool_id')))
      .delete());
    const before = Object.fromEntries(Object.keys(removed).map((t) => [t, cutoff(t as RecordType).toISOString()])) as Record<RecordType, string>;
    await recordAudit(trx, actor, { action: 'retention.purge', entity: 'retention', entityId: now.toISOString().slice(0, 10), after: { removed, before } });
    return { removed, before };
  });
}
