import type { Knex } from 'knex';
import { at, atOrNull, countOrNull, dayOrNull, recordMapper } from '../db/record';
import type { ActionTable } from '../db/tables';
import { PENDING_STATUSES, type Action } from './schema';

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

/** An action row with its tool's asset number, its assignee's name and whether it is overdue, as actionQuery selects it. */
type ActionRow = ActionTable & { asset_number: string; assignee_name: string | null; overdue: boolean };

const action = recordMapper<ActionRow, Action>({
  id: 'id',
  kind: 'kind',
  title: 'title',
  description: 'description',
  toolId: 'tool_id',
  assetNumber: 'asset_number',
  failureReportId: 'failure_report_id',
  inspectionId: 'inspection_id',
  assigneeId: 'assignee_id',
  assigneeName: 'assignee_name',
  dueDate: dayOrNull('due_date'),
  status: 'status',
  overdue: (r) => Boolean(r.overdue),
  createdBy: 'created_by',
  startedAt: atOrNull('started_at'),
  completedAt: atOrNull('completed_at'),
  completedBy: 'completed_by',
  resolution: 'resolution',
  verifiedAt: atOrNull('verified_at'),
  verifiedBy: 'verified_by',
  cancelledReason: 'cancelled_reason',
  minutesSpent: 'minutes_spent',
  cost: countOrNull('cost'),
  version: 'version',
  createdAt: at('created_at'),
  updatedAt: at('updated_at'),
});

/** Actions with their tool's asset number, the assignee's name and whether they are overdue, as one query. */
export function actionQuery(db: Queryable) {
  return db('actions as a')
    .join('tools as t', 't.id', 'a.tool_id')
    .leftJoin('users as u', 'u.id', 'a.assignee_id')
    .select('a.*', 't.asset_number', 'u.display_name as assignee_name', db.raw(`${OVERDUE_SQL} AS overdue`));
}

export const toAction = action.toRecord;

export async function findAction(db: Queryable, id: number, lock = false): Promise<Action | undefined> {
  const q = actionQuery(db).where('a.id', id);
  if (lock) q.forUpdate('a');
  const row = (await q.first()) as ActionRow | undefined;
  return row ? toAction(row) : undefined;
}

export type { ActionRow };
