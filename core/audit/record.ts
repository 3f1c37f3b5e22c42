import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';

export interface AuditInput {
  action: string;
  entity: string;
  entityId: string | number;
  before?: unknown;
  after?: unknown;
}

/** Record an audit event inside the caller's transaction: the write and its trail commit together. */
export async function recordAudit(trx: Knex.Transaction, actor: Actor, event: AuditInput): Promise<void> {
  await trx('audit_events').insert({
    actor_id: actor.id,
    actor_name: actor.name,
    actor_role: actor.role,
    via: actor.via ?? null,
    action: event.action,
    entity: event.entity,
    entity_id: String(event.entityId),
    before: event.before === undefined ? null : JSON.stringify(event.before),
    after: event.after === undefined ? null : JSON.stringify(event.after),
  });
}
