import type { Knex } from 'knex';
import { iso } from '../db/transaction';
import type { ToolStatus } from '../tools/schema';
import type { PmEvent, PmPlan } from './schema';
import { pmStatus, type PmState } from './state';

type Queryable = Knex | Knex.Transaction;

interface PlanRow {
  id: number;
  tool_id: number;
  name: string;
  interval_shots: number | string | null;
  interval_days: number | null;
  warning_percent: number;
  template_id: number | null;
  active: boolean;
  last_pm_lifetime_shots: number | string;
  last_pm_at: Date;
  notified_state: PmState;
  version: number;
  created_at: Date;
  updated_at: Date;
  asset_number: string;
  tool_name: string;
  tool_status: ToolStatus;
  tool_lifetime_shots: number | string;
}

interface EventRow {
  id: number;
  pm_plan_id: number;
  tool_id: number;
  performed_at: Date;
  performed_by: string;
  lifetime_shots: number | string;
  inspection_id: number | null;
  notes: string | null;
  created_at: Date;
}

/** Plans with their tool's asset number and lifetime shots (what their status is computed from), as one query. */
export function planQuery(db: Queryable) {
  return db('pm_plans as p')
    .join('tools as t', 't.id', 'p.tool_id')
    .select(
      'p.*',
      't.asset_number as asset_number',
      't.name as tool_name',
      't.status as tool_status',
      't.lifetime_shots as tool_lifetime_shots',
    );
}

/** A plan record with its status at `now`; shots since the last PM are derived, never stored. */
export function toPlan(row: PlanRow, now: Date): PmPlan {
  const lastPmLifetimeShots = Number(row.last_pm_lifetime_shots);
  const toolLifetimeShots = Number(row.tool_lifetime_shots);
  const intervalShots = row.interval_shots == null ? null : Number(row.interval_shots);
  return {
    id: row.id,
    toolId: row.tool_id,
    assetNumber: row.asset_number,
    toolName: row.tool_name,
    name: row.name,
    intervalShots,
    intervalDays: row.interval_days,
    warningPercent: row.warning_percent,
    templateId: row.template_id,
    active: row.active,
    lastPmAt: iso(row.last_pm_at)!,
    lastPmLifetimeShots,
    toolLifetimeShots,
    notifiedState: row.notified_state,
    version: row.version,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
    status: pmStatus({
      intervalShots,
      intervalDays: row.interval_days,
      warningPercent: row.warning_percent,
      shotsSinceLastPm: toolLifetimeShots - lastPmLifetimeShots,
      lastPmAt: row.last_pm_at,
      lastPmLifetimeShots,
      now,
    }),
  };
}

export async function findPlan(db: Queryable, id: number, now = new Date(), lock = false): Promise<PmPlan | undefined> {
  const q = planQuery(db).where('p.id', id);
  if (lock) q.forUpdate('p');
  const row = (await q.first()) as PlanRow | undefined;
  return row ? toPlan(row, now) : undefined;
}

export function toEvent(row: EventRow, plan: PmPlan): PmEvent {
  return {
    id: row.id,
    planId: row.pm_plan_id,
    toolId: row.tool_id,
    performedAt: iso(row.performed_at)!,
    performedBy: row.performed_by,
    lifetimeShots: Number(row.lifetime_shots),
    inspectionId: row.inspection_id,
    notes: row.notes,
    createdAt: iso(row.created_at)!,
    plan,
  };
}

export type { PlanRow, EventRow };
