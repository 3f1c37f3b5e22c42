import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { contentHash } from './chain';

export interface AuditInput {
  action: string;
  entity: string;
  entityId: string | number;
  before?: unknown;
  after?: unknown;
}

/** JSON as jsonb will hand it back (undefined → null): the value the content hash must cover. */
function asStored(value: unknown): { text: string | null; value: unknown } {
  const text = value === undefined ? null : (JSON.stringify(value) ?? null);
  return { text, value: text === null ? null : JSON.parse(text) };
}

/**
 * Record an audit event inside the caller's transaction: the write and its trail commit together.
 *
 * The event carries its content hash (core/audit/chain.ts); its place in the chain (seq, prev_hash,
 * hash) is given at COMMIT by a deferred trigger (migration 008) that locks the one-row chain head.
 * Why at commit: the chain must follow commit order, so whoever links an event must hold the head until
 * it commits. Taken here, mid-transaction, that lock would be held across the rest of the caller's work
 * (recordReadings goes on to PM transitions) and taken before row locks other writers hold (a PM record
 * locks its plan, then audits) — a deadlock and a bottleneck. At commit it is every transaction's last
 * lock: audited commits queue only for their own commit, and never while holding what another waits for.
 */
export async function recordAudit(trx: Knex.Transaction, actor: Actor, event: AuditInput): Promise<void> {
  const before = asStored(event.before);
  const after = asStored(event.after);
  const row = {
    at: new Date(), // set here, to the millisecond, so the hash covers exactly what is stored
    actor_id: actor.id,
    actor_name: actor.name,
    actor_role: actor.role,
    via: actor.via ?? null,
    action: event.action,
    entity: event.entity,
    entity_id: String(event.entityId),
  };
  await trx('audit_events').insert({
    ...row,
    before: before.text,
    after: after.text,
    content_hash: contentHash({ ...row, before: before.value, after: after.value }),
  });
}
