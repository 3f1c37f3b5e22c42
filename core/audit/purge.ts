import type { Knex } from 'knex';
import { writeAnchor, type AuditKey } from './anchor';

export interface AuditPurge {
  /** Events removed (0: nothing was old enough, or a hold or the last anchor keeps the cut where it is). */
  purged: number;
  /** The anchor written, when events went. */
  anchor: { id: number; seq: number; hash: string } | null;
}

/** Rows deleted: pg gives the count, knex-pglite its result object. */
export const deletedCount = (r: unknown): number => (typeof r === 'number' ? r : Number((r as { affectedRows?: number }).affectedRows ?? 0));

const first = async (q: Knex.QueryBuilder): Promise<number | null> => {
  const row = (await q.first()) as { seq: number | string | null } | undefined;
  return row?.seq === null || row?.seq === undefined ? null : Number(row.seq);
};

/**
 * Purge the audit chain's prefix older than `before`, inside the caller's transaction: from the oldest
 * event up to a cut point, never a hole. The cut stops before the first event at or after `before`
 * (numbers follow commit order, times nearly so) and before the first event of a tool under a legal hold
 * (the tool's own events, and any whose before/after names it as toolId). The anchor of the last purged
 * link is written first (core/audit/anchor.ts), then the prefix goes.
 */
export async function purgeAuditPrefix(trx: Knex.Transaction, key: () => AuditKey, before: Date, createdBy: string): Promise<AuditPurge> {
  const none: AuditPurge = { purged: 0, anchor: null };
  // One purge of the trail at a time: a second waits here, then starts from the anchor the first wrote.
  await trx.raw('LOCK TABLE audit_anchors IN SHARE ROW EXCLUSIVE MODE');
  const last = await first(trx('audit_anchors').orderBy('seq', 'desc').select('seq'));
  const from = (last ?? 0) + 1;
  const newest = await first(trx('audit_events').max({ seq: 'seq' }));
  if (newest === null || newest < from) return none;
  const young = await first(trx('audit_events').where('at', '>=', before).whereNotNull('seq').min({ seq: 'seq' }));
  const held = "(SELECT tool_id::text FROM legal_holds WHERE released_at IS NULL)";
  const heldEvent = await first(
    trx('audit_events')
      .whereNotNull('seq')
      .whereRaw(`((entity = 'tool' AND entity_id IN ${held}) OR after->>'toolId' IN ${held} OR before->>'toolId' IN ${held})`)
      .min({ seq: 'seq' }),
  );
  const cut = Math.min(newest, ...[young, heldEvent].filter((s): s is number => s !== null).map((s) => s - 1));
  if (cut < from) return none;
  const link = (await trx('audit_events').where('seq', cut).first('id', 'at', 'hash')) as { id: number | string; at: Date; hash: string } | undefined;
  // A hole below the cut is the verifier's to report, not the purge's to hide.
  if (!link) throw new Error(`audit purge: event seq ${cut}, the cut point, is missing; run verify-audit`);
  const anchor = await writeAnchor(trx, key(), { seq: cut, eventId: Number(link.id), eventAt: link.at, hash: link.hash, firstSeq: from, purged: cut - from + 1, createdBy });
  const purged = deletedCount(await trx('audit_events').where('seq', '<=', cut).delete());
  if (purged !== cut - from + 1) throw new Error(`audit purge: ${purged} events found up to seq ${cut}, expected ${cut - from + 1} (seq ${from}–${cut}); nothing was purged; run verify-audit`);
  return { purged, anchor: { id: anchor.id, seq: cut, hash: link.hash } };
}
