import type { Knex } from 'knex';
import { at, count, countOrNull, recordMapper } from '../db/record';
import type { BigCount, PmEventTable, PmPlanTable } from '../db/tables';
import type { ToolStatus } from '../tools/schema';
import type { PmEvent, PmPlan } from './schema';
import { pmStatus } from './state';

type Queryable = Knex | Knex.Transaction;

/** A plan row with its tool, as planQuery selects it. */
type PlanRow = PmPlanTable & { asset_number: string; tool_name: string; tool_status: ToolStatus; tool_lifetime_shots: BigCount };
type EventRow = PmEventTable;

/** A plan's stored fields; its status (computed at a given `now`) is added by toPlan. */
const plan = recordMapper<PlanRow, Omit<PmPlan, 'status'>>({
  id: 'id',
  toolId: 'tool_id',
  assetNumber: 'asset_number',
  toolName: 'tool_name',
  name: 'name',
  intervalShots: countOrNull('interval_shots'),
  intervalDays: 'interval_days',
  warningPercent: 'warning_percent',
  templateId: 'template_id',
  active: 'active',
  lastPmAt: at('last_pm_at'),
  lastPmLifetimeShots: count('last_pm_lifetime_shots'),
  toolLifetimeShots: count('tool_lifetime_shots'),
  notifiedState: 'notified_state',
  version: 'version',
  createdAt: at('created_at'),
  updatedAt: at('updated_at'),
});

const event = recordMapper<EventRow & { plan: PmPlan }, PmEvent>({
  id: 'id',
  planId: 'pm_plan_id',
  toolId: 'tool_id',
  performedAt: at('performed_at'),
  performedBy: 'performed_by',
  lifetimeShots: count('lifetime_shots'),
  inspectionId: 'inspection_id',
  notes: 'notes',
  createdAt: at('created_at'),
  plan: 'plan',
});

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
  const fields = plan.toRecord(row);
  return {
    ...fields,
    status: pmStatus({
      intervalShots: fields.intervalShots,
      intervalDays: fields.intervalDays,
      warningPercent: fields.warningPercent,
      shotsSinceLastPm: fields.toolLifetimeShots - fields.lastPmLifetimeShots,
      lastPmAt: row.last_pm_at,
      lastPmLifetimeShots: fields.lastPmLifetimeShots,
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
  return event.toRecord({ ...row, plan });
}

export type { PlanRow, EventRow };
