import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize, type Operation } from '../auth/permissions';
import { audited } from '../audit/audited';
import { inTransaction } from '../db/transaction';
import { atVersion, nextVersion } from '../db/version';
import { getByKey } from '../records/lookup';
import { ToolroomError, conflict, notFound, validationError } from '../errors';
import { findTool } from '../tools/repository';
import { parse, type Page } from '../validate';
import { OVERDUE_SQL, actionQuery, findAction, toAction, today, type ActionRow } from './repository';
import {
  ACTION_TRANSITIONS,
  PENDING_STATUSES,
  assignActionInput,
  cancelActionInput,
  completeActionInput,
  createActionInput,
  getActionInput,
  listActionsInput,
  startActionInput,
  verifyActionInput,
  type Action,
  type ActionStatus,
  type NewActionValues,
} from './schema';
import { listPage } from '../db/page';
import { actionAssigned } from '../notifications/triggers';

/** Work is assigned to people: the assignee must be a user who can still log in. */
async function checkAssignee(trx: Knex.Transaction, userId: number, field = 'assigneeId'): Promise<void> {
  const user: { active: boolean; username: string } | undefined = await trx('users').where('id', userId).first('active', 'username');
  if (!user) throw notFound('user', userId, field);
  if (!user.active) throw conflict(`user ${user.username} is not active`, field, 'active');
}

/**
 * Write a parsed action and its audit event in the caller's transaction (the caller has
 * authorized). The tool must be in service; a failure report or inspection it follows must be
 * of that tool; the assignee must be an active user.
 */
export async function insertAction(trx: Knex.Transaction, actor: Actor, input: NewActionValues): Promise<Action> {
  const tool = await findTool(trx, { id: input.toolId });
  if (!tool) throw notFound('tool', input.toolId, 'toolId');
  if (tool.status === 'retired') throw conflict(`tool ${tool.assetNumber} is retired`, 'toolId', 'not_retired');
  for (const [field, table, entity] of [
    ['failureReportId', 'failure_reports', 'failure report'],
    ['inspectionId', 'inspections', 'inspection'],
  ] as const) {
    const refId = input[field] ?? null;
    if (refId === null) continue;
    const row: { tool_id: number } | undefined = await trx(table).where('id', refId).first('tool_id');
    if (!row) throw notFound(entity, refId, field);
    if (row.tool_id !== tool.id) {
      throw validationError([{ field, rule: 'same_tool', message: `${entity} ${refId} is not about tool ${tool.assetNumber}` }]);
    }
  }
  if (input.assigneeId != null) await checkAssignee(trx, input.assigneeId);
  const [{ id }] = await trx('actions')
    .insert({
      kind: input.kind,
      title: input.title,
      description: input.description ?? null,
      tool_id: tool.id,
      failure_report_id: input.failureReportId ?? null,
      inspection_id: input.inspectionId ?? null,
      assignee_id: input.assigneeId ?? null,
      due_date: input.dueDate ?? null,
      status: 'open',
      created_by: actor.id,
    })
    .returning('id');
  const action = await audited(trx, actor, { action: 'action.create', entity: 'action', entityId: id }, findAction(trx, id));
  if (action.assigneeId !== null) await actionAssigned(trx, actor, action, action.assigneeId);
  return action;
}

/** Create a corrective or preventive action on a tool, optionally for a failure, with assignee and due date. */
export async function createAction(db: Knex, actor: Actor, input: unknown): Promise<Action> {
  authorize(actor, 'action.create');
  const v = parse(createActionInput, input);
  return inTransaction(db, async (trx) => {
    // A new action due yesterday is a typo: it would be born overdue.
    if (v.dueDate !== null && v.dueDate < (await today(trx))) {
      throw validationError([{ field: 'dueDate', rule: 'not_in_past', message: 'must not be before today' }]);
    }
    return insertAction(trx, actor, v);
  });
}

/** Lock an action for a write; it must exist and, when a version is given, still be at that version. */
async function lockAction(trx: Knex.Transaction, id: number, version?: number): Promise<Action> {
  return atVersion(await findAction(trx, id, true), 'action', id, version);
}

function checkTransition(action: Action, to: ActionStatus): void {
  if (!ACTION_TRANSITIONS[action.status].includes(to)) {
    throw conflict(`action ${action.id} is ${action.status}: it cannot become ${to}`, 'status', 'transition');
  }
}

/** The 'own' grant: a technician works on actions assigned to them or to nobody. */
function authorizeOwn(actor: Actor, operation: Operation, action: Action): void {
  authorize(actor, operation, { ownerId: action.assigneeId === null ? null : String(action.assigneeId) });
}

/** Lock, check and write one status change (or assignment) with its audit event; returns the action after. */
async function changeAction(
  db: Knex,
  actor: Actor,
  key: { id: number; version?: number },
  operation: Operation,
  change: (trx: Knex.Transaction, before: Action) => Promise<Record<string, unknown>>,
): Promise<Action> {
  return inTransaction(db, async (trx) => {
    const before = await lockAction(trx, key.id, key.version);
    const patch = await change(trx, before);
    await trx('actions')
      .where('id', key.id)
      .update({ ...patch, ...nextVersion(trx, before) });
    return audited(trx, actor, { action: operation, entity: 'action', entityId: key.id, before }, findAction(trx, key.id));
  });
}

/** Assign a pending action to an active user, or hand an open one back (`assigneeId: null`). */
export async function assignAction(db: Knex, actor: Actor, input: unknown): Promise<Action> {
  authorize(actor, 'action.assign');
  const v = parse(assignActionInput, input);
  return changeAction(db, actor, v, 'action.assign', async (trx, before) => {
    if (!(PENDING_STATUSES as readonly string[]).includes(before.status)) {
      throw conflict(`action ${before.id} is ${before.status}: only open or in-progress actions are assigned`, 'status', 'pending');
    }
    if (v.assigneeId === null && before.status === 'in_progress') {
      throw conflict(`action ${before.id} is in progress: assign it to someone else instead`, 'assigneeId', 'assigned_in_progress');
    }
    if (v.assigneeId !== null) await checkAssignee(trx, v.assigneeId);
    if (v.assigneeId !== null && v.assigneeId !== before.assigneeId) await actionAssigned(trx, actor, before, v.assigneeId);
    return { assignee_id: v.assigneeId };
  });
}

/**
 * Start work on an action. A technician starts their own or an unassigned one; whoever starts an
 * unassigned action takes it (a flow acting as `system` has no one to give it to).
 */
export async function startAction(db: Knex, actor: Actor, input: unknown): Promise<Action> {
  const v = parse(startActionInput, input);
  return changeAction(db, actor, v, 'action.start', async (trx, before) => {
    authorizeOwn(actor, 'action.start', before);
    checkTransition(before, 'in_progress');
    const patch: Record<string, unknown> = { status: 'in_progress', started_at: trx.fn.now() };
    if (before.assigneeId === null && actor.role !== 'system') {
      const userId = Number(actor.id);
      if (!Number.isSafeInteger(userId) || userId <= 0) throw notFound('user', actor.id, 'assigneeId');
      await checkAssignee(trx, userId);
      patch.assignee_id = userId;
    }
    return patch;
  });
}

/** Finish the work with what was done (the resolution); a technician completes their own. */
export async function completeAction(db: Knex, actor: Actor, input: unknown): Promise<Action> {
  const v = parse(completeActionInput, input);
  return changeAction(db, actor, v, 'action.complete', async (trx, before) => {
    authorizeOwn(actor, 'action.complete', before);
    checkTransition(before, 'done');
    return { status: 'done', completed_at: trx.fn.now(), completed_by: actor.id, resolution: v.resolution, minutes_spent: v.minutesSpent ?? null, cost: v.cost ?? null };
  });
}

/** Roles trusted to verify their own work: an admin, and a flow (the system actor has no person to be two of). */
const SELF_VERIFY_ROLES: readonly string[] = ['admin', 'system'];

/**
 * Verify done work (four eyes): an engineer other than the one who completed it confirms the fix.
 * Admins and flows may verify their own; in a toolroom with one engineer the admin is the second pair.
 */
export async function verifyAction(db: Knex, actor: Actor, input: unknown): Promise<Action> {
  authorize(actor, 'action.verify');
  const v = parse(verifyActionInput, input);
  return changeAction(db, actor, v, 'action.verify', async (trx, before) => {
    checkTransition(before, 'verified');
    if (before.completedBy === actor.id && !SELF_VERIFY_ROLES.includes(actor.role)) {
      const message = `action ${before.id} was completed by ${actor.name}: someone else verifies it`;
      throw new ToolroomError('forbidden', message, [{ field: 'id', rule: 'not_completer', message }]);
    }
    return { status: 'verified', verified_at: trx.fn.now(), verified_by: actor.id };
  });
}

/** Cancel a pending action, saying why (not needed, duplicate, superseded). */
export async function cancelAction(db: Knex, actor: Actor, input: unknown): Promise<Action> {
  authorize(actor, 'action.cancel');
  const v = parse(cancelActionInput, input);
  return changeAction(db, actor, v, 'action.cancel', async (_trx, before) => {
    checkTransition(before, 'cancelled');
    return { status: 'cancelled', cancelled_reason: v.reason };
  });
}

export async function getAction(db: Knex, actor: Actor, input: unknown): Promise<Action> {
  return getByKey(actor, 'action.read', getActionInput, input, 'action', (key) => findAction(db, key.id));
}

/**
 * Actions by assignee ("mine"), status, tool, failure, inspection and overdue: overdue first,
 * then by due date (none last), then oldest first.
 */
export async function listActions(db: Knex, actor: Actor, input: unknown): Promise<Page<Action>> {
  return listPage(db, actor, 'action.read', listActionsInput, input, {
    rows: (db) => actionQuery(db).orderByRaw(`${OVERDUE_SQL} DESC, a.due_date ASC NULLS LAST, a.id ASC`),
    count: (db) => db('actions as a'),
    filter: (q, v) => {
      if (v.assigneeId === null) q.whereNull('a.assignee_id');
      else if (v.assigneeId !== undefined) q.where('a.assignee_id', v.assigneeId);
      if (v.mine) {
        // The system actor is no user: nothing is assigned to it.
        if (/^\d+$/.test(actor.id)) q.where('a.assignee_id', Number(actor.id));
        else q.whereRaw('false');
      }
      if (v.status) q.whereIn('a.status', Array.isArray(v.status) ? v.status : [v.status]);
      if (v.toolId !== undefined) q.where('a.tool_id', v.toolId);
      if (v.failureReportId !== undefined) q.where('a.failure_report_id', v.failureReportId);
      if (v.inspectionId !== undefined) q.where('a.inspection_id', v.inspectionId);
      if (v.overdue !== undefined) q.whereRaw(v.overdue ? OVERDUE_SQL : `NOT ${OVERDUE_SQL}`);
    },
    toItems: (list: ActionRow[]) => list.map(toAction),
  });
}
