import type { Knex } from 'knex';
import { listActions } from '../actions/service';
import type { Action } from '../actions/schema';
import type { Actor } from '../auth/actor';
import { listFailures } from '../failures/service';
import type { FailureReport } from '../failures/schema';
import { listPlans } from '../pm/service';
import type { PmPlan } from '../pm/schema';
import { urgency } from '../pm/state';
import { listPresses } from '../presses/service';
import type { Press } from '../presses/schema';
import { parse } from '../validate';
import { z } from 'zod';

export const homeInput = z
  .object({
    /** How many of each list (default 20). */
    limit: z.number().int().min(1).max(100).default(20),
  })
  .strict();

/**
 * The home page of a logged-in user: their open actions (overdue first), tools whose PM is in
 * WARNING / DUE / OVERDUE (most urgent first), recent failures, presses and what is mounted on them.
 * Each list through its own service, so each checks the actor's permission.
 */
export interface HomeSummary {
  myActions: { items: Action[]; total: number };
  pmAlerts: { items: PmPlan[]; total: number };
  recentFailures: { items: FailureReport[]; total: number };
  presses: Press[];
  at: string;
}

export async function homeSummary(db: Knex, actor: Actor, input?: unknown): Promise<HomeSummary> {
  const { limit } = parse(homeInput, input ?? {});
  const [myActions, plans, failures, presses] = await Promise.all([
    listActions(db, actor, { mine: true, status: ['open', 'in_progress'], limit }),
    listPlans(db, actor, { state: ['WARNING', 'DUE', 'OVERDUE'], limit: 500 }),
    listFailures(db, actor, { limit }),
    listPresses(db, actor, { limit: 500 }),
  ]);
  const alerts = [...plans.items].sort((a, b) => urgency(b.status.state) - urgency(a.status.state) || b.status.percent - a.status.percent);
  return {
    myActions: { items: myActions.items, total: myActions.total },
    pmAlerts: { items: alerts.slice(0, limit), total: plans.total },
    recentFailures: { items: failures.items, total: failures.total },
    presses: presses.items,
    at: new Date().toISOString(),
  };
}
