import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import type { PmTransition } from '../pm/schema';
import { links } from './events';
import { raiseEvent } from './raise';

/**
 * The events the domain's writes raise, each called inside that write's transaction. The keys say
 * what makes an event the same one: a PM plan reaching a state in one interval (a PM recorded starts
 * the next), an assignment of an action to a person, a reading held.
 */

const PM_TYPE = { WARNING: 'pm.warning', DUE: 'pm.due', OVERDUE: 'pm.overdue' } as const;
const PM_WORD = { WARNING: 'coming due', DUE: 'due', OVERDUE: 'overdue' } as const;

/** PM plans announced as more urgent (core/pm/service.ts announce): one event per plan and state reached. */
export async function pmTransitionEvents(trx: Knex.Transaction, actor: Actor, transitions: PmTransition[], now: Date): Promise<void> {
  for (const t of transitions) {
    if (t.to === 'NOT_DUE') continue;
    await raiseEvent(
      trx,
      actor,
      {
        type: PM_TYPE[t.to],
        key: `pm:${t.plan.id}:${t.to}:${t.plan.lastPmAt}`,
        title: `PM "${t.plan.name}" on tool ${t.assetNumber} is ${PM_WORD[t.to]}`,
        entity: 'pm_plan',
        entityId: t.plan.id,
        link: links.pmPlans(t.assetNumber),
        toolId: t.plan.toolId,
        data: { assetNumber: t.assetNumber, plan: t.plan.name, from: t.from, to: t.to, percent: t.plan.status.percent },
      },
      now,
    );
  }
}

interface ActionFacts {
  id: number;
  title: string;
  toolId: number;
  assetNumber: string;
  dueDate: string | null;
}

/** An action given to someone (created with an assignee, or assigned): they hear of it. */
export async function actionAssigned(trx: Knex.Transaction, actor: Actor, action: ActionFacts, assigneeId: number): Promise<void> {
  // The same action assigned to the same person again (after handing it back) is news again.
  const { n } = (await trx('notification_events').where({ entity: 'action', entity_id: String(action.id), type: 'action.assigned' }).count('* as n').first()) as { n: string | number };
  await raiseEvent(trx, actor, {
    type: 'action.assigned',
    key: `action.assigned:${action.id}:${assigneeId}:${n}`,
    title: `Action "${action.title}" on tool ${action.assetNumber} is assigned to you`,
    entity: 'action',
    entityId: action.id,
    link: links.actions(),
    toolId: action.toolId,
    userId: assigneeId,
    data: { assetNumber: action.assetNumber, dueDate: action.dueDate, assignedBy: actor.name },
  });
}

/** A failure reported as critical: the tool is down. */
export async function failureReported(
  trx: Knex.Transaction,
  actor: Actor,
  report: { id: number; severity: string; toolId: number; assetNumber: string; failureCode: string; failureTitle: string },
): Promise<void> {
  if (report.severity !== 'critical') return;
  await raiseEvent(trx, actor, {
    type: 'failure.critical',
    key: `failure.critical:${report.id}`,
    title: `Tool ${report.assetNumber} is down: ${report.failureTitle} (${report.failureCode})`,
    entity: 'failure_report',
    entityId: report.id,
    link: links.failure(report.id),
    toolId: report.toolId,
    data: { assetNumber: report.assetNumber, failureCode: report.failureCode, reportedBy: actor.name },
  });
}

/** Share of its expected lifetime at which a tool is near its end: time to order a new mould. */
export const END_OF_LIFE_PERCENT = 90;

/**
 * After shots were counted: readings held for review, and tools that crossed END_OF_LIFE_PERCENT of
 * their expected lifetime in this batch (`added` per tool: their lifetime before was now − added).
 */
export async function shotEvents(
  trx: Knex.Transaction,
  actor: Actor,
  added: Map<number, number>,
  held: { source: string; at: string; pending: number | null; toolId: number | null; assetNumber: string | null }[],
): Promise<void> {
  for (const r of held) {
    await raiseEvent(trx, actor, {
      type: 'shots.held',
      key: `shots.held:${r.source}:${r.at}`,
      title: `A reading from ${r.source} is held for review (${r.pending ?? '?'} shots)`,
      entity: 'shot_reading',
      entityId: `${r.source}@${r.at}`,
      link: r.assetNumber ? links.tool(r.assetNumber) : links.home(),
      toolId: r.toolId,
      data: { source: r.source, at: r.at, pending: r.pending },
    });
  }
  if (!added.size) return;
  const { rows } = (await trx.raw(
    `SELECT t.id, t.asset_number, t.lifetime_shots, t.expected_lifetime_shots
     FROM tools t JOIN jsonb_to_recordset(?::jsonb) AS v(id int, add bigint) ON v.id = t.id
     WHERE t.expected_lifetime_shots IS NOT NULL
       AND t.lifetime_shots * 100 >= t.expected_lifetime_shots * ?
       AND (t.lifetime_shots - v.add) * 100 < t.expected_lifetime_shots * ?`,
    [JSON.stringify([...added].map(([id, add]) => ({ id, add }))), END_OF_LIFE_PERCENT, END_OF_LIFE_PERCENT],
  )) as { rows: { id: number; asset_number: string; lifetime_shots: string | number; expected_lifetime_shots: string | number }[] };
  for (const t of rows) {
    await raiseEvent(trx, actor, {
      type: 'tool.end_of_life',
      key: `tool.end_of_life:${t.id}:${t.expected_lifetime_shots}`,
      title: `Tool ${t.asset_number} has run ${END_OF_LIFE_PERCENT} % of its expected life`,
      entity: 'tool',
      entityId: t.id,
      link: links.tool(t.asset_number),
      toolId: t.id,
      data: { assetNumber: t.asset_number, lifetimeShots: Number(t.lifetime_shots), expectedLifetimeShots: Number(t.expected_lifetime_shots) },
    });
  }
}
