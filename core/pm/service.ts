import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { recordAudit } from '../audit/record';
import { audited } from '../audit/audited';
import { inTransaction } from '../db/transaction';
import { atVersion, nextVersion } from '../db/version';
import { getByKey } from '../records/lookup';
import { conflict, notFound, validationError } from '../errors';
import type { ToolStatus } from '../tools/schema';
import { parse, type Page } from '../validate';
import { findPlan, planQuery, toEvent, toPlan, type EventRow, type PlanRow } from './repository';
import {
  createPlanInput,
  getPlanInput,
  listPlansInput,
  pmTransitionsInput,
  recordPmInput,
  updatePlanInput,
  type PmEvent,
  type PmPlan,
  type PmTransition,
} from './schema';
import { pmStatus, stateUrgencySql, urgency, urgencySql } from './state';
import { listPage } from '../db/page';
import { pmTransitionEvents } from '../notifications/triggers';

type Queryable = Knex | Knex.Transaction;

interface ToolFacts {
  id: number;
  asset_number: string;
  status: ToolStatus;
  lifetime_shots: number | string;
}

/**
 * Lock order everywhere: tool, then its plans. The shot counter locks the tool it counts into and
 * then escalates that tool's plans; taking them in the same order here means no deadlock.
 * FOR SHARE is enough: it keeps the counter from moving lifetime shots while we read them.
 */
async function shareTool(trx: Knex.Transaction, where: { id: number } | { assetNumber: string }): Promise<ToolFacts | undefined> {
  const q = trx('tools').forShare();
  if ('id' in where) q.where('id', where.id);
  else q.where('asset_number', where.assetNumber);
  return q.first('id', 'asset_number', 'status', 'lifetime_shots');
}

/** The plan's tool id without locking (it never changes), so the tool can be locked first. */
async function toolOfPlan(db: Queryable, planId: number, field: string): Promise<number> {
  const row: { tool_id: number } | undefined = await db('pm_plans').where('id', planId).first('tool_id');
  if (!row) throw notFound('PM plan', planId, field);
  return row.tool_id;
}

/** A plan's checklist is a preventive template in use. */
async function checkTemplate(trx: Knex.Transaction, templateId: number | null | undefined): Promise<void> {
  if (templateId == null) return;
  const t: { code: string; kind: string; active: boolean } | undefined = await trx('inspection_templates')
    .where('id', templateId)
    .first('code', 'kind', 'active');
  if (!t) throw notFound('inspection template', templateId, 'templateId');
  if (t.kind !== 'preventive') {
    throw validationError([{ field: 'templateId', rule: 'template_kind', message: `template ${t.code} is for ${t.kind} inspections, not PM` }]);
  }
  if (!t.active) throw conflict(`inspection template ${t.code} is not in use`, 'templateId', 'active');
}

function intervalsRequired(): never {
  throw validationError(
    ['intervalShots', 'intervalDays'].map((field) => ({ field, rule: 'interval_required', message: 'give intervalShots, intervalDays or both' })),
  );
}

/** "Every 50000 shots / 90 days": a name that says what the plan measures. */
function defaultName(intervalShots: number | null, intervalDays: number | null): string {
  const parts = [intervalShots != null ? `${intervalShots} shots` : null, intervalDays != null ? `${intervalDays} days` : null];
  return `PM every ${parts.filter(Boolean).join(' / ')}`;
}

/** Plan a PM for a tool: every N shots and/or every T days, warning at W %. */
export async function createPlan(db: Knex, actor: Actor, input: unknown): Promise<PmPlan> {
  authorize(actor, 'pm.plan.create');
  const v = parse(createPlanInput, input);
  return inTransaction(db, async (trx) => {
    const byId = v.toolId !== undefined;
    const field = byId ? 'toolId' : 'assetNumber';
    const tool = await shareTool(trx, byId ? { id: v.toolId! } : { assetNumber: v.assetNumber! });
    if (!tool) throw notFound('tool', byId ? v.toolId! : v.assetNumber!, field);
    if (tool.status === 'retired') throw conflict(`tool ${tool.asset_number} is retired`, field, 'not_retired');
    const lifetime = Number(tool.lifetime_shots);
    if (v.lastPmLifetimeShots !== undefined && v.lastPmLifetimeShots > lifetime) {
      throw validationError([{
        field: 'lastPmLifetimeShots',
        rule: 'not_above_lifetime',
        message: `tool ${tool.asset_number} has ${lifetime} lifetime shots; the last PM cannot have been later`,
      }]);
    }
    await checkTemplate(trx, v.templateId);
    const [{ id }] = await trx('pm_plans')
      .insert({
        tool_id: tool.id,
        name: v.name ?? defaultName(v.intervalShots, v.intervalDays),
        interval_shots: v.intervalShots,
        interval_days: v.intervalDays,
        warning_percent: v.warningPercent,
        template_id: v.templateId,
        active: v.active,
        last_pm_lifetime_shots: v.lastPmLifetimeShots ?? lifetime,
        last_pm_at: v.lastPmAt ?? new Date(),
      })
      .returning('id');
    return audited(trx, actor, { action: 'pm.plan.create', entity: 'pm_plan', entityId: id }, findPlan(trx, id));
  });
}

/** Lock a plan for a write; when a version is given, it must still be at that version. */
async function lockPlan(trx: Knex.Transaction, id: number, version?: number): Promise<PmPlan> {
  return atVersion(await findPlan(trx, id, new Date(), true), 'PM plan', id, version);
}

/**
 * Change a plan's intervals, warning percent, name, checklist or whether it is in use.
 * When the change makes the plan less urgent (a longer interval), the announced state drops to the
 * state now, so the plan is announced again when it climbs back; a more urgent one is left for pmTransitions.
 */
export async function updatePlan(db: Knex, actor: Actor, input: unknown): Promise<PmPlan> {
  authorize(actor, 'pm.plan.update');
  const v = parse(updatePlanInput, input);
  return inTransaction(db, async (trx) => {
    const tool = (await shareTool(trx, { id: await toolOfPlan(trx, v.id, 'id') }))!;
    const before = await lockPlan(trx, v.id, v.version);
    if (tool.status === 'retired') throw conflict(`tool ${tool.asset_number} is retired`, 'id', 'not_retired');
    const intervalShots = v.intervalShots === undefined ? before.intervalShots : v.intervalShots;
    const intervalDays = v.intervalDays === undefined ? before.intervalDays : v.intervalDays;
    if (intervalShots === null && intervalDays === null) intervalsRequired();
    await checkTemplate(trx, v.templateId);
    const warningPercent = v.warningPercent ?? before.warningPercent;
    const stateNow = pmStatus({
      intervalShots,
      intervalDays,
      warningPercent,
      shotsSinceLastPm: before.status.shotsSince,
      lastPmAt: before.lastPmAt,
      now: new Date(),
    }).state;
    const notified = urgency(stateNow) < urgency(before.notifiedState) ? stateNow : before.notifiedState;
    const patch: Record<string, unknown> = {
      interval_shots: intervalShots,
      interval_days: intervalDays,
      warning_percent: warningPercent,
      notified_state: notified,
      ...nextVersion(trx, before),
    };
    if (v.name !== undefined) patch.name = v.name;
    if (v.templateId !== undefined) patch.template_id = v.templateId;
    if (v.active !== undefined) patch.active = v.active;
    await trx('pm_plans').where('id', v.id).update(patch);
    return audited(trx, actor, { action: 'pm.plan.update', entity: 'pm_plan', entityId: v.id, before }, findPlan(trx, v.id));
  });
}

/** A plan with its status now. */
export async function getPlan(db: Knex, actor: Actor, input: unknown): Promise<PmPlan> {
  return getByKey(actor, 'pm.read', getPlanInput, input, 'PM plan', (key) => findPlan(db, key.id));
}

/**
 * Plans with their status, by tool asset number. The state is computed (shots and time move on
 * without a write), so a state filter runs the same rule in SQL: only the page is fetched.
 */
export async function listPlans(db: Knex, actor: Actor, input: unknown): Promise<Page<PmPlan>> {
  const now = new Date();
  return listPage(db, actor, 'pm.read', listPlansInput, input, {
    rows: (db) => planQuery(db).orderBy([{ column: 't.asset_number' }, { column: 'p.name' }, { column: 'p.id' }]),
    count: (db) => db('pm_plans as p').join('tools as t', 't.id', 'p.tool_id'),
    filter: (q, v) => {
      if (v.toolId !== undefined) q.where('p.tool_id', v.toolId);
      if (v.assetNumber !== undefined) q.where('t.asset_number', v.assetNumber);
      if (!v.includeInactive) q.where('p.active', true);
      if (v.state !== undefined) {
        const ranks = [...new Set(Array.isArray(v.state) ? v.state : [v.state])].map(urgency);
        const { sql, bindings } = urgencySql(now);
        q.whereRaw(`(${sql}) IN (${ranks.map(() => '?').join(', ')})`, [...bindings, ...ranks]);
      }
    },
    toItems: (list: PlanRow[]) => list.map((r) => toPlan(r, now)),
  });
}

/**
 * Record a PM done on a plan inside the caller's transaction (an inspection that fulfils a plan
 * records it this way): a pm_event at the tool's lifetime shots, and the plan counts from zero again.
 */
export async function recordPmInTransaction(trx: Knex.Transaction, actor: Actor, input: unknown): Promise<PmEvent> {
  authorize(actor, 'pm.record');
  const v = parse(recordPmInput, input);
  const tool = (await shareTool(trx, { id: await toolOfPlan(trx, v.planId, 'planId') }))!;
  const before = await lockPlan(trx, v.planId);
  if (tool.status === 'retired') throw conflict(`tool ${tool.asset_number} is retired`, 'planId', 'not_retired');
  if (!before.active) throw conflict(`PM plan ${before.id} is not active`, 'planId', 'active');

  let lifetimeShots = Number(tool.lifetime_shots);
  let performedAt = v.performedAt;
  if (v.inspectionId !== null) {
    // The inspection that logged the work knows the shot count and time it was done at.
    const inspection: { tool_id: number; pm_plan_id: number | null; performed_at: Date; lifetime_shots: number | string } | undefined =
      await trx('inspections').where('id', v.inspectionId).first('tool_id', 'pm_plan_id', 'performed_at', 'lifetime_shots');
    if (!inspection) throw notFound('inspection', v.inspectionId, 'inspectionId');
    if (inspection.tool_id !== before.toolId || (inspection.pm_plan_id !== null && inspection.pm_plan_id !== before.id)) {
      throw validationError([{ field: 'inspectionId', rule: 'inspection_of_plan', message: `inspection ${v.inspectionId} was not done on this tool for this plan` }]);
    }
    lifetimeShots = Number(inspection.lifetime_shots);
    performedAt ??= new Date(inspection.performed_at);
  }
  performedAt ??= new Date();
  // A PM older than the last one would wind the plan backwards; history before it is not this call's job.
  if (performedAt.getTime() < new Date(before.lastPmAt).getTime() || lifetimeShots < before.lastPmLifetimeShots) {
    throw validationError([{ field: v.performedAt ? 'performedAt' : 'inspectionId', rule: 'after_last_pm', message: `must not be before the plan's last PM (${before.lastPmAt})` }]);
  }

  const [row] = (await trx('pm_events')
    .insert({
      pm_plan_id: before.id,
      tool_id: before.toolId,
      performed_at: performedAt,
      performed_by: actor.id,
      lifetime_shots: lifetimeShots,
      inspection_id: v.inspectionId,
      notes: v.notes,
    })
    .returning('*')) as EventRow[];
  await trx('pm_plans').where('id', before.id).update({
    last_pm_lifetime_shots: lifetimeShots,
    last_pm_at: performedAt,
    notified_state: 'NOT_DUE',
    ...nextVersion(trx, before),
  });
  const event = toEvent(row, (await findPlan(trx, before.id))!);
  await recordAudit(trx, actor, { action: 'pm.record', entity: 'pm_plan', entityId: before.id, before, after: event });
  return event;
}

/** Record a PM done on a plan: the plan's shots and days since the last PM start from zero. */
export async function recordPm(db: Knex, actor: Actor, input: unknown): Promise<PmEvent> {
  return inTransaction(db, (trx) => recordPmInTransaction(trx, actor, input));
}

/**
 * A tool's active plans that are OVERDUE now (a read inside the caller's transaction: mounting a
 * tool asks, core/mounts/service.ts). Shots move only under the tool's lock, which the caller holds.
 */
export async function overduePlansInTransaction(trx: Knex.Transaction, toolId: number, now = new Date()): Promise<PmPlan[]> {
  const rows = (await planQuery(trx).where('p.tool_id', toolId).where('p.active', true).orderBy('p.id')) as PlanRow[];
  return rows.map((r) => toPlan(r, now)).filter((p) => p.status.state === 'OVERDUE');
}

/** Active plans of tools in use that are more urgent now than last announced (a read; nothing locked). */
async function escalating(db: Queryable, now: Date, toolIds?: number[]): Promise<number[]> {
  const { sql, bindings } = urgencySql(now);
  const q = planQuery(db)
    .where('p.active', true)
    .whereNot('t.status', 'retired')
    .whereRaw(`(${sql}) > ${stateUrgencySql('p.notified_state')}`, bindings);
  if (toolIds) q.whereIn('p.tool_id', toolIds);
  const rows = (await q) as PlanRow[];
  return rows.map((r) => toPlan(r, now)).filter((p) => urgency(p.status.state) > urgency(p.notifiedState)).map((p) => p.id);
}

/**
 * Announce the given plans' escalations once: lock them in id order (every runtime takes the same
 * order), re-read what was last announced under the lock, and move it on. A second runtime waiting
 * on the same rows then reads the new announced state and finds nothing to announce.
 */
async function announce(trx: Knex.Transaction, actor: Actor, planIds: number[], now: Date): Promise<PmTransition[]> {
  if (planIds.length === 0) return [];
  const rows = (await planQuery(trx).whereIn('p.id', planIds).orderBy('p.id').forUpdate('p')) as PlanRow[];
  const transitions: PmTransition[] = [];
  for (const row of rows) {
    const plan = toPlan(row, now);
    if (!plan.active || row.tool_status === 'retired') continue;
    const from = plan.notifiedState;
    const to = plan.status.state;
    if (urgency(to) > urgency(from)) transitions.push({ plan: { ...plan, notifiedState: to }, assetNumber: plan.assetNumber, from, to });
  }
  // Bookkeeping of announcements, not an edit: the version stays, so nobody's form goes stale.
  for (const to of new Set(transitions.map((t) => t.to))) {
    await trx('pm_plans').whereIn('id', transitions.filter((t) => t.to === to).map((t) => t.plan.id)).update({ notified_state: to });
  }
  for (const t of transitions) {
    await recordAudit(trx, actor, {
      action: 'pm.transition',
      entity: 'pm_plan',
      entityId: t.plan.id,
      before: { notifiedState: t.from },
      after: { notifiedState: t.to, status: t.plan.status },
    });
  }
  await pmTransitionEvents(trx, actor, transitions, now);
  return transitions;
}

/**
 * Plans that became more urgent (NOT_DUE → WARNING → DUE → OVERDUE) since last announced, each
 * returned exactly once however many runtimes ask; a jump over several states is one transition.
 * A plan that becomes less urgent (after its PM, or a longer interval) is not announced.
 */
export async function pmTransitions(db: Knex, actor: Actor, input?: unknown): Promise<PmTransition[]> {
  authorize(actor, 'pm.read');
  const v = parse(pmTransitionsInput, input);
  const now = v.now ?? new Date();
  const candidates = await escalating(db, now);
  if (candidates.length === 0) return [];
  return inTransaction(db, (trx) => announce(trx, actor, candidates, now));
}

/**
 * The same for the plans of some tools, inside the caller's transaction: the shot counter calls it
 * after adding shots (the new lifetime is visible here before it commits), with the tools locked.
 */
export async function pmTransitionsInTransaction(
  trx: Knex.Transaction,
  actor: Actor,
  input: { toolIds: number[]; now?: Date },
): Promise<PmTransition[]> {
  authorize(actor, 'pm.read');
  if (input.toolIds.length === 0) return [];
  const now = input.now ?? new Date();
  return announce(trx, actor, await escalating(trx, now, input.toolIds), now);
}
