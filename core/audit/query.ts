import type { Knex } from 'knex';
import { z } from 'zod';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { iso } from '../db/transaction';
import { fetchPage } from '../db/page';
import { parse, pagination, timestamp, type Page } from '../validate';
import type { AuditContent } from './chain';

interface AuditRow extends AuditContent {
  id: number | string;
  seq: number | string;
  at: Date;
}

export interface AuditEvent {
  id: number;
  /** Place in the hash chain: commit order, gap-free (core/audit/chain.ts). */
  seq: number;
  at: string;
  actor: { id: string; name: string; role: string; via: string | null };
  action: string;
  entity: string;
  entityId: string;
  before: unknown;
  after: unknown;
}

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
  authorize(actor, 'audit.read');
  const v = parse(listAuditInput, input);
  const filter = (q: Knex.QueryBuilder) => {
    if (v.entity) q.where('entity', v.entity);
    if (v.entityId) q.where('entity_id', v.entityId);
    if (v.actorId) q.where('actor_id', v.actorId);
    if (v.from) q.where('at', '>=', v.from);
    if (v.to) q.where('at', '<=', v.to);
    return q;
  };
  return fetchPage(filter(db('audit_events')).orderBy('seq', 'desc'), filter(db('audit_events')), v, (rows: AuditRow[]) =>
    rows.map((r) => ({
      id: Number(r.id),
      seq: Number(r.seq),
      at: iso(r.at)!,
      actor: { id: r.actor_id, name: r.actor_name, role: r.actor_role, via: r.via },
      action: r.action,
      entity: r.entity,
      entityId: r.entity_id,
      before: r.before,
      after: r.after,
    })),
  );
}
