import type { Knex } from 'knex';
import { z } from 'zod';
import { listActions } from '../actions/service';
import type { Action } from '../actions/schema';
import type { Actor } from '../auth/actor';
import { listFailures } from '../failures/service';
import { listInspections } from '../inspections/service';
import { mountHistory } from '../mounts/service';
import { listPlans } from '../pm/service';
import type { PmPlan } from '../pm/schema';
import { getTool } from '../tools/service';
import { toolTrend } from '../kpi/service';
import type { ToolTrend } from '../kpi/schema';
import { assetNumber } from '../codes';
import type { Tool } from '../tools/schema';
import { id, parse } from '../validate';

/** A tool by id or asset number (what its QR label carries), and how many timeline entries. */
export const toolViewInput = z.union([
  z.object({ id, limit: z.number().int().min(1).max(200).default(60) }).strict(),
  z.object({ assetNumber, limit: z.number().int().min(1).max(200).default(60) }).strict(),
]);

export type TimelineKind = 'mount' | 'unmount' | 'inspection' | 'failure' | 'action';

/** One thing that happened to the tool, newest first on the page. */
export interface TimelineEntry {
  kind: TimelineKind;
  at: string;
  /** Id of the mount, inspection, failure report or action. */
  refId: number;
  title: string;
  detail: string | null;
  /** pass / fail, a severity, an action status: what a badge shows. */
  tag: string | null;
  by: string | null;
}

/**
 * Everything a tool's page shows, in one call: the tool (cavities, press, lifetime shots), its
 * active PM plans with their state now, its pending actions, a timeline of mounts, inspections,
 * failures and actions, and its trend (shots per day over the last 30 days, when each PM falls due at
 * this week's pace). Each part through its own service (permissions checked).
 */
export interface ToolView {
  tool: Tool;
  plans: PmPlan[];
  pendingActions: Action[];
  timeline: TimelineEntry[];
  trend: ToolTrend;
}

export async function toolView(db: Knex, actor: Actor, input: unknown): Promise<ToolView> {
  const v = parse(toolViewInput, input);
  const tool = await getTool(db, actor, 'id' in v ? { id: v.id } : { assetNumber: v.assetNumber });
  const n = v.limit;
  const [plans, mounts, inspections, failures, actions, trend] = await Promise.all([
    listPlans(db, actor, { toolId: tool.id, limit: 100 }),
    mountHistory(db, actor, { toolId: tool.id, limit: n }),
    listInspections(db, actor, { toolId: tool.id, limit: n }),
    listFailures(db, actor, { toolId: tool.id, limit: n }),
    listActions(db, actor, { toolId: tool.id, limit: Math.max(n, 100) }),
    toolTrend(db, actor, { assetNumber: tool.assetNumber }),
  ]);
  const timeline: TimelineEntry[] = [];
  for (const m of mounts.items) {
    timeline.push({ kind: 'mount', at: m.mountedAt, refId: m.id, title: `Mounted on ${m.press.code}`, detail: m.note, tag: null, by: m.mountedBy });
    if (m.unmountedAt) timeline.push({ kind: 'unmount', at: m.unmountedAt, refId: m.id, title: `Unmounted from ${m.press.code}`, detail: null, tag: null, by: m.unmountedBy });
  }
  for (const i of inspections.items) {
    const failed = i.results.filter((r) => r.result === 'fail').length;
    timeline.push({
      kind: 'inspection',
      at: i.performedAt,
      refId: i.id,
      title: i.kind === 'post_run' ? 'Post-run inspection' : 'PM inspection',
      detail: failed ? `${failed} item${failed > 1 ? 's' : ''} failed${i.findings ? ` · ${i.findings}` : ''}` : i.findings,
      tag: i.outcome,
      by: i.performedBy,
    });
  }
  for (const f of failures.items) {
    timeline.push({
      kind: 'failure',
      at: f.reportedAt,
      refId: f.id,
      title: `${f.failureCode} ${f.failureTitle}`,
      detail: [f.cavity ? `cavity ${f.cavity}` : null, `at ${f.shotCount} shots`, f.description].filter(Boolean).join(' · '),
      tag: f.severity,
      by: f.reportedBy,
    });
  }
  for (const a of actions.items) {
    timeline.push({ kind: 'action', at: a.createdAt, refId: a.id, title: a.title, detail: a.assigneeName ? `for ${a.assigneeName}` : null, tag: a.overdue ? 'overdue' : a.status, by: a.createdBy });
  }
  timeline.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  return {
    tool,
    plans: plans.items,
    pendingActions: actions.items.filter((a) => a.status === 'open' || a.status === 'in_progress'),
    timeline: timeline.slice(0, n),
    trend,
  };
}
