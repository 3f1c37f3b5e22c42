import type { Knex } from 'knex';
import { z } from 'zod';
import type { Actor } from '../auth/actor';
import { listPage } from '../db/page';
import { at, count, recordMapper } from '../db/record';
import type { AuditEventTable } from '../db/tables';
import { instant, pagination, recordId, timestamp, type Page } from '../validate';

export const auditEventRecord = z.object({
  id: recordId,
  /** Place in the hash chain: commit order, gap-free (core/audit/chain.ts). */
  seq: z.number().int().positive(),
  at: instant,
  actor: z.object({ id: z.string(), name: z.string(), role: z.string(), via: z.string().nullable() }),
  action: z.string(),
  entity: z.string(),
  entityId: z.string(),
  before: z.unknown(),
  after: z.unknown(),
}).meta({ id: 'AuditEvent' });
export type AuditEvent = z.infer<typeof auditEventRecord>;

const auditEvent = recordMapper<AuditEventTable, AuditEvent>({
  id: count('id'),
  // Null only inside the writing transaction: the commit trigger numbers every event.
  seq: (r) => Number(r.seq),
  at: at('at'),
  actor: (r) => ({ id: r.actor_id, name: r.actor_name, role: r.actor_role, via: r.via }),
  action: 'action',
  entity: 'entity',
  entityId: 'entity_id',
  before: 'before',
  after: 'after',
});

export const listAuditInput = z
  .object({
    entity: z.string().trim().min(1).max(40).optional(),
    entityId: z.union([z.string().trim().min(1).max(40), z.number().int().positive().transform(String)]).optional(),
    actorId: z.string().trim().min(1).max(40).optional(),
    from: timestamp.optional(),
    to: timestamp.optional(),
    ...pagination,
  })
  .strict();

/** The audit trail, newest (last committed) first, by record, by person or by time span. */
export async function listAuditEvents(db: Knex, actor: Actor, input: unknown): Promise<Page<AuditEvent>> {
  return listPage(db, actor, 'audit.read', listAuditInput, input, {
    rows: (db) => db('audit_events').orderBy('seq', 'desc'),
    count: (db) => db('audit_events'),
    filter: (q, v) => {
      if (v.entity) q.where('entity', v.entity);
      if (v.entityId) q.where('entity_id', v.entityId);
      if (v.actorId) q.where('actor_id', v.actorId);
      if (v.from) q.where('at', '>=', v.from);
      if (v.to) q.where('at', '<=', v.to);
    },
    toItems: (rows: AuditEventTable[]) => rows.map(auditEvent.toRecord),
  });
}
