import type { Knex } from 'knex';
import { z } from 'zod';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { recordAudit } from '../audit/record';
import { inTransaction, iso } from '../db/transaction';
import { conflict, notFound } from '../errors';
import { id, parse } from '../validate';

/**
 * How long each kind of record is kept before the purge (core/retention/purge.ts) deletes it. The
 * defaults follow IATF 16949 practice for what they cover: the records that prove a tool's history
 * stay while the tool is in use and a period after it is retired, what only serves operations goes
 * sooner. Admins change a period (audited); a legal hold on a tool keeps all of its records.
 */
export const RECORD_TYPES = {
  // Login attempts are not here: logins already drop them after 7 days (core/accounts/attempts.ts), and
  // every attempt is in the audit trail.
  /** Sessions, counted from when they ended (revoked or expired). */
  sessions: 365,
  /** Raw shot readings: the counters and lifetime totals they fed stay; the readings prove them for 3 years. */
  shot_readings: 3 * 365,
  /**
   * A retired tool and everything of it (mounts, PM plans and events, inspections, failures, actions,
   * photos and their files, readings): kept while it is in use and this long after its retirement or
   * its last shot reading (its last part), whichever is later (IATF 16949: the part's life plus a year).
   */
  tool_records: 365,
  /**
   * Audit events: only the oldest part of the hash chain goes, as a whole, under a signed anchor
   * (core/audit/anchor.ts); the events of a tool under a legal hold keep the cut before them.
   */
  audit_events: 10 * 365,
} as const;
export type RecordType = keyof typeof RECORD_TYPES;
export const RECORD_TYPE_NAMES = Object.keys(RECORD_TYPES) as RecordType[];

const recordType = z.enum(RECORD_TYPE_NAMES as [RecordType, ...RecordType[]]);

export const retentionPolicyRecord = z
  .object({
    recordType,
    keepDays: z.number().int(),
    /** false while the default applies. */
    changed: z.boolean(),
    updatedAt: z.string().nullable(),
    updatedBy: z.string().nullable(),
  })
  .strict()
  .meta({ id: 'RetentionPolicy' });
export type RetentionPolicy = z.infer<typeof retentionPolicyRecord>;

/** A tool's legal hold as placed, and as released. */
export const legalHoldRecord = z.object({ toolId: z.number().int(), reason: z.string() }).strict().meta({ id: 'LegalHold' });
export const releasedHoldRecord = z.object({ toolId: z.number().int() }).strict();

export const setRetentionInput = z
  .object({
    recordType,
    keepDays: z.number().int().min(1).max(36500),
  })
  .strict();

export const legalHoldInput = z.object({ toolId: id, reason: z.string().trim().min(3).max(1000) }).strict();
export const releaseHoldInput = z.object({ toolId: id }).strict();

interface PolicyRow {
  record_type: RecordType;
  keep_days: number;
  updated_at: Date | string;
  updated_by: string;
}

/** Every record type's period, defaults filled in (no permission: the purge reads it too, as the system). */
export async function retentionPeriods(db: Knex): Promise<RetentionPolicy[]> {
  const rows = (await db('retention_policies').select('*')) as PolicyRow[];
  return RECORD_TYPE_NAMES.map((recordType) => {
    const r = rows.find((x) => x.record_type === recordType);
    return { recordType, keepDays: r?.keep_days ?? RECORD_TYPES[recordType], changed: Boolean(r), updatedAt: iso(r?.updated_at), updatedBy: r?.updated_by ?? null };
  });
}

export async function listRetention(db: Knex, actor: Actor, _input: unknown = {}): Promise<RetentionPolicy[]> {
  authorize(actor, 'retention.manage');
  return retentionPeriods(db);
}

export async function setRetention(db: Knex, actor: Actor, input: unknown): Promise<RetentionPolicy> {
  authorize(actor, 'retention.manage');
  const v = parse(setRetentionInput, input);
  return inTransaction(db, async (trx) => {
    const before = (await retentionPeriods(trx)).find((p) => p.recordType === v.recordType)!;
    const now = new Date();
    await trx('retention_policies')
      .insert({ record_type: v.recordType, keep_days: v.keepDays, updated_at: now, updated_by: actor.name })
      .onConflict('record_type')
      .merge();
    const after = (await retentionPeriods(trx)).find((p) => p.recordType === v.recordType)!;
    await recordAudit(trx, actor, { action: 'retention.update', entity: 'retention_policy', entityId: v.recordType, before, after });
    return after;
  });
}

/** Keep everything of a tool from the purge until the hold is released (litigation, a customer claim). */
export async function placeLegalHold(db: Knex, actor: Actor, input: unknown): Promise<{ toolId: number; reason: string }> {
  authorize(actor, 'retention.manage');
  const v = parse(legalHoldInput, input);
  return inTransaction(db, async (trx) => {
    if (!(await trx('tools').where('id', v.toolId).first('id'))) throw notFound('tool', v.toolId, 'toolId');
    if (await trx('legal_holds').where('tool_id', v.toolId).whereNull('released_at').first('id')) throw conflict(`tool ${v.toolId} is already under a legal hold`, 'toolId', 'one_open_hold');
    const [{ id }] = await trx('legal_holds').insert({ tool_id: v.toolId, reason: v.reason, placed_at: new Date(), placed_by: actor.name }).returning('id');
    const hold = { toolId: v.toolId, reason: v.reason };
    await recordAudit(trx, actor, { action: 'legal_hold.place', entity: 'legal_hold', entityId: id, after: hold });
    return hold;
  });
}

export async function releaseLegalHold(db: Knex, actor: Actor, input: unknown): Promise<{ toolId: number }> {
  authorize(actor, 'retention.manage');
  const v = parse(releaseHoldInput, input);
  return inTransaction(db, async (trx) => {
    const hold = await trx('legal_holds').where('tool_id', v.toolId).whereNull('released_at').forUpdate().first('id', 'reason');
    if (!hold) throw notFound('legal hold on tool', v.toolId, 'toolId');
    await trx('legal_holds').where('id', hold.id).update({ released_at: new Date(), released_by: actor.name });
    await recordAudit(trx, actor, { action: 'legal_hold.release', entity: 'legal_hold', entityId: hold.id, before: { toolId: v.toolId, reason: hold.reason } });
    return { toolId: v.toolId };
  });
}

/** A legal hold in force: the tool, why and since when, by whom. */
export const openHoldRecord = z
  .object({ toolId: z.number().int(), assetNumber: z.string(), toolName: z.string(), reason: z.string(), placedAt: z.string(), placedBy: z.string() })
  .strict()
  .meta({ id: 'OpenLegalHold' });
export type OpenHold = z.infer<typeof openHoldRecord>;

export const listHoldsInput = z.object({}).strict();

/** The legal holds in force, newest first (the operations page lists them to release). */
export async function listLegalHolds(db: Knex, actor: Actor, input: unknown = {}): Promise<OpenHold[]> {
  authorize(actor, 'retention.manage');
  parse(listHoldsInput, input);
  const rows = (await db('legal_holds as h')
    .join('tools as t', 't.id', 'h.tool_id')
    .whereNull('h.released_at')
    .orderBy('h.id', 'desc')
    .select('h.tool_id', 't.asset_number', 't.name', 'h.reason', 'h.placed_at', 'h.placed_by')) as { tool_id: number; asset_number: string; name: string; reason: string; placed_at: Date | string; placed_by: string }[];
  return rows.map((r) => ({ toolId: Number(r.tool_id), assetNumber: r.asset_number, toolName: r.name, reason: r.reason, placedAt: iso(r.placed_at)!, placedBy: r.placed_by }));
}
