import type { Knex } from 'knex';
import { iso, isoDay, num } from '../db/transaction';
import { PENDING_STATUSES, type Action, type ActionKind, type ActionStatus } from './schema';

type Queryable = Knex | Knex.Transaction;

/**
 * Overdue, the one definition: due before today (the database's date) with work pending. Lists
 * select it, filter and sort by it, so a record and the list it came in never disagree.
 */
export const OVERDUE_SQL = `(a.due_date IS NOT NULL AND a.due_date < CURRENT_DATE AND a.status IN (${PENDING_STATUSES.map((s) => `'${s}'`).join(', ')}))`;

/** Today by the database's clock, 'YYYY-MM-DD': the same day OVERDUE_SQL compares with. */
export async function today(db: Queryable): Promise<string> {
  const { rows } = await db.raw<{ rows: { today: string }[] }>("SELECT to_char(CURRENT_DATE, 'YYYY-MM-DD') AS today");
  return rows[0].today;
}

interface ActionRow {
  id: number;
  kind: ActionKind;
  title: string;
  description: string | null;
  tool_id: number;
  asset_number: string;
  failure_report_id: number | null;
  inspection_id: number | null;
  assignee_id: number | null;
  assignee_name: string | null;
  due_date: Date | string | null;
  status: ActionStatus;
  overdue: boolean;
  created_by: string;
  started_at: Date | null;
  completed_at: Date | null;
  completed_by: string | null;
  resolution: string | null;
  verified_at: Date | null;
  verified_by: string | null;
  cancelled_reason: string | null;
  minutes_spent: number | null;
  cost: string | number | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/** Actions with their tool's asset number, the assignee's name and whether they are overdue, as one query. */
export function actionQuery(db: Queryable) {
  return db('actions as a')
    .join('tools as t', 't.id', 'a.tool_id')
    .leftJoin('users as u', 'u.id', 'a.assignee_id')
    .select('a.*', 't.asset_number', 'u.display_name as assignee_name', db.raw(`${OVERDUE_SQL} AS overdue`));
}

export function toAction(row: ActionRow): Action {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    description: row.description,
    toolId: row.tool_id,
    assetNumber: row.asset_number,
    failureReportId: row.failure_report_id,
    inspectionId: row.inspection_id,
    assigneeId: row.assignee_id,
    assigneeName: row.assignee_name,
    dueDate: isoDay(row.due_date),
    status: row.status,
    overdue: Boolean(row.overdue),
    createdBy: row.created_by,
    startedAt: iso(row.started_at),
    completedAt: iso(row.completed_at),
    completedBy: row.completed_by,
    resolution: row.resolution,
    verifiedAt: iso(row.verified_at),
    verifiedBy: row.verified_by,
    cancelledReason: row.cancelled_reason,
    minutesSpent: row.minutes_spent,
    cost: num(row.cost),
    version: row.version,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
  };
}

export async function findAction(db: Queryable, id: number, lock = false): Promise<Action | undefined> {
  const q = actionQuery(db).where('a.id', id);
  if (lock) q.forUpdate('a');
  const row = (await q.first()) as ActionRow | undefined;
  return row ? toAction(row) : undefined;
}

export type { ActionRow };
