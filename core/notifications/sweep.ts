import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { inTransaction, isoDay } from '../db/transaction';
import { links, type EventTypeName } from './events';
import { notifyRole, raiseEvent } from './raise';

/**
 * Events that time raises, not a write: actions due tomorrow and overdue (by the calendar day in
 * UTC), and the escalation of critical events nobody acknowledged. Any runtime may sweep at any
 * moment: the event keys and the escalation level, moved on under a row lock, make each happen once.
 */

/** Who an unacknowledged critical event goes to next, level by level. */
export const ESCALATION_ROLES = ['engineer', 'admin'] as const;

export interface SweepOptions {
  now: Date;
  /** After how long unacknowledged a critical event goes to the next level (and again after as long). */
  escalateAfterMs: number;
}

const DAY_MS = 86_400_000;

async function actionsDue(db: Knex, actor: Actor, type: EventTypeName, now: Date): Promise<number> {
  const today = isoDay(now)!;
  const tomorrow = isoDay(new Date(now.getTime() + DAY_MS))!;
  const q = db('actions as a')
    .join('tools as t', 't.id', 'a.tool_id')
    .whereIn('a.status', ['open', 'in_progress'])
    .whereNotNull('a.assignee_id')
    .select('a.id', 'a.title', 'a.tool_id', 'a.assignee_id', 'a.due_date', 't.asset_number');
  if (type === 'action.due_tomorrow') q.where('a.due_date', tomorrow);
  else q.where('a.due_date', '<', today);
  // Already raised for this due date: skip without a write.
  q.whereNotExists(db('notification_events as e').whereRaw(`e.key = ? || a.id || ':' || a.due_date::text`, [`${type}:`]));
  const rows = (await q) as { id: number; title: string; tool_id: number; assignee_id: number; due_date: Date | string; asset_number: string }[];
  let raised = 0;
  for (const a of rows) {
    const due = isoDay(a.due_date)!;
    const event = await inTransaction(db, (trx) =>
      raiseEvent(
        trx,
        actor,
        {
          type,
          key: `${type}:${a.id}:${due}`,
          title: type === 'action.due_tomorrow' ? `Action "${a.title}" on tool ${a.asset_number} is due tomorrow` : `Action "${a.title}" on tool ${a.asset_number} is overdue (due ${due})`,
          entity: 'action',
          entityId: a.id,
          link: links.actions(),
          toolId: a.tool_id,
          userId: a.assignee_id,
          data: { assetNumber: a.asset_number, dueDate: due },
        },
        now,
      ),
    );
    if (event) raised++;
  }
  return raised;
}

/**
 * Move unacknowledged critical events one level on when their time has come (level n after n ×
 * escalateAfterMs). A level whose people all had the event already is passed on to the next at once.
 */
async function escalate(db: Knex, opts: SweepOptions): Promise<number> {
  return inTransaction(db, async (trx) => {
    const { rows } = (await trx.raw(
      `SELECT id, type, escalation_level, created_at FROM notification_events
       WHERE severity = 'critical' AND acknowledged_at IS NULL AND escalation_level < ?
         AND created_at + (escalation_level + 1) * ?::float8 * interval '1 millisecond' <= ?
       ORDER BY id FOR UPDATE SKIP LOCKED`,
      [ESCALATION_ROLES.length, opts.escalateAfterMs, opts.now],
    )) as { rows: { id: number | string; type: EventTypeName; escalation_level: number }[] };
    for (const e of rows) {
      let level = e.escalation_level;
      let added = 0;
      while (added === 0 && level < ESCALATION_ROLES.length) {
        level++;
        added = await notifyRole(trx, { id: Number(e.id), type: e.type }, ESCALATION_ROLES[level - 1], level, opts.now);
      }
      await trx('notification_events').where('id', e.id).update({ escalation_level: level });
    }
    return rows.length;
  });
}

export interface SweepResult {
  dueTomorrow: number;
  overdue: number;
  escalated: number;
}

/** One sweep at `now`. */
export async function sweep(db: Knex, actor: Actor, opts: SweepOptions): Promise<SweepResult> {
  return {
    dueTomorrow: await actionsDue(db, actor, 'action.due_tomorrow', opts.now),
    overdue: await actionsDue(db, actor, 'action.overdue', opts.now),
    escalated: await escalate(db, opts),
  };
}
