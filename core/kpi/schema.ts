/**
 * Toolroom's KPIs: what each number means, in plain words. The SQL that computes them is in
 * migrations/013_kpi.ts (views and functions Grafana reads too); core/kpi/service.ts calls it.
 *
 * Scope and range. Every KPI is asked for a time range [from, to) and a scope: per tool (asset number),
 * per press (its code), per customer (the tool's customer; "(no customer)" when none) or plant-wide
 * ('plant'); `subject` narrows it to one tool, press or customer. A failure or a job of work belongs to
 * the press the tool last ran on at that time (its latest mount started before it).
 *
 * - Failure: every failure report, whatever its severity or status; it counts when it was reported.
 * - Operating shots: the shots counted for the tool in the range (the deltas of its readings).
 * - Operating hours: the time the tool was mounted on a press in the range (a mount still open counts until now).
 *   A mounted tool that is not cycling still counts: presses do not tell us why they stopped.
 * - MTBF: operating shots (and operating hours) in the range divided by the failures reported in it; none
 *   when nothing failed.
 * - MTTR: from a failure being reported to its repair being over, averaged over the failures reported in
 *   the range whose repair is over. Over = every (not cancelled) action on the failure is verified — at
 *   the last verification; or, for a failure handled without actions, when it was closed.
 * - Failure Pareto: failures in the range counted by failure code, by component or by tool, largest first,
 *   with each one's share and the running (cumulative) share.
 * - PM compliance: a PM is on time when it was done before its plan went OVERDUE (below 110 % of the
 *   interval on shots and on days, the same threshold as core/pm/state.ts); compliance is the PMs done on
 *   time / all PMs done, per month of doing them. A PM never done does not count in a month: it is in the
 *   plans overdue now, each with how far past due (shots and days since it fell due).
 * - PM forecast: when each active plan falls due — on days, at its calendar date; on shots, at the tool's
 *   pace over the last 7 days (shots in those days / 7); the earlier of the two. No shots this week = no
 *   shot-based forecast.
 * - Scheduled vs unscheduled maintenance: scheduled = inspections (post-run and preventive) and preventive
 *   actions; unscheduled = corrective actions (repairs). Jobs count when done (an inspection when
 *   performed, an action when completed, done or verified); the share is by hours spent (world class ≈ 90 %).
 * - Maintenance hours and cost: minutes and cost entered on inspections and completed actions, per month.
 * - Utilisation: shots in the range per calendar day; days mounted; capacity = mounted time / the tool's
 *   typical (median) cycle time on that press; utilisation = shots / capacity. Idle tools: tools in service
 *   (not retired) with no shot in the range (not per press: a tool that is off every press has none).
 * - Tool trend (the tool page, for everyone who may read tools and PMs): its shots per UTC day, and the PM
 *   forecast of its plans as above.
 * - End of life: tools in service whose lifetime shots are within N % of their expected lifetime (or past
 *   it), with the date they reach it at the pace of the last 30 days.
 */
import { z } from 'zod';
import { assetNumber } from '../codes';
import { PM_STATES } from '../pm/state';
import { bigCount, instant, isoDate, recordId, text, timestamp, wholeNumber } from '../validate';

export const KPI_SCOPES = ['tool', 'press', 'customer', 'plant'] as const;
export type KpiScope = (typeof KPI_SCOPES)[number];
export const PARETO_DIMENSIONS = ['code', 'component', 'tool'] as const;

/** The default range: the last 90 days. */
export const DEFAULT_RANGE_DAYS = 90;
/** Longest range accepted: ten years and a bit (a plant's whole history). */
const MAX_RANGE_DAYS = 3700;
const DAY_MS = 86_400_000;

const rangeShape = {
  from: timestamp.optional(),
  to: timestamp.optional(),
  by: z.enum(KPI_SCOPES).default('plant'),
  subject: text(200).optional(),
};

/** from/to default to the last 90 days; from must come before to, within ten years. */
function withRange(v: { from?: Date; to?: Date }, ctx: z.RefinementCtx): void {
  if (v.from && v.to && v.from.getTime() >= v.to.getTime()) {
    ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from', params: { rule: 'after_from' } });
  } else if (v.from && v.to && v.to.getTime() - v.from.getTime() > MAX_RANGE_DAYS * DAY_MS) {
    ctx.addIssue({ code: 'custom', path: ['from'], message: `the range must be at most ${MAX_RANGE_DAYS} days`, params: { rule: 'max_range' } });
  }
}

export const kpiRangeInput = z.object(rangeShape).strict().superRefine(withRange);
export type KpiRangeInput = z.input<typeof kpiRangeInput>;
export const paretoInput = z
  .object({ ...rangeShape, dimension: z.enum(PARETO_DIMENSIONS).default('code') })
  .strict()
  .superRefine(withRange);
export const pmPlansInput = z
  .object({
    /** Only plans in these states (e.g. OVERDUE for "overdue now"). */
    state: z.enum(['NOT_DUE', 'WARNING', 'DUE', 'OVERDUE']).optional(),
    assetNumber: text(64).optional(),
  })
  .strict();
export const endOfLifeInput = z
  .object({ withinPercent: wholeNumber().pipe(z.number().min(0).max(100)).default(10) })
  .strict();

/** A resolved range as the SQL gets it. */
export function resolveRange(v: { from?: Date; to?: Date }, now = new Date()): { from: Date; to: Date } {
  const to = v.to ?? now;
  return { from: v.from ?? new Date(to.getTime() - DEFAULT_RANGE_DAYS * DAY_MS), to };
}

// Output records: what core/kpi/service.ts hands out (camelCase, times as ISO strings, counts and money
// as numbers). Subjects are never null: the SQL leaves out what has no subject in the scope.

/** A whole number that may be negative (shots past a due point or an expected lifetime). */
const signedCount = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

export const reliabilityRecord = z.object({
  subject: z.string(),
  failures: bigCount,
  operatingShots: bigCount,
  operatingHours: z.number(),
  /** None when nothing failed. */
  mtbfShots: z.number().nullable(),
  mtbfHours: z.number().nullable(),
  repairs: bigCount,
  /** None when no repair is over. */
  mttrHours: z.number().nullable(),
}).meta({ id: 'KpiReliability' });
export type ReliabilityRow = z.infer<typeof reliabilityRecord>;

export const paretoRecord = z.object({
  key: z.string(),
  label: z.string(),
  failures: bigCount,
  percent: z.number(),
  cumulativePercent: z.number(),
}).meta({ id: 'KpiFailurePareto' });
export type ParetoRow = z.infer<typeof paretoRecord>;

export const pmComplianceRecord = z.object({
  /** The month's first instant (UTC). */
  month: instant,
  subject: z.string(),
  pmsDone: bigCount,
  onTime: bigCount,
  late: bigCount,
  compliancePercent: z.number(),
}).meta({ id: 'KpiPmCompliance' });
export type PmComplianceRow = z.infer<typeof pmComplianceRecord>;

export const pmPlanForecastRecord = z.object({
  planId: recordId,
  planName: z.string(),
  toolId: recordId,
  assetNumber: z.string(),
  customer: z.string().nullable(),
  /** The press the tool is mounted on now. */
  pressCode: z.string().nullable(),
  intervalShots: bigCount.nullable(),
  intervalDays: z.number().int().nullable(),
  shotsSince: bigCount,
  daysSince: z.number(),
  percent: z.number(),
  state: z.enum(PM_STATES),
  /** Shots / days past the due point (negative = still to go). */
  overdueShots: signedCount.nullable(),
  overdueDays: z.number().nullable(),
  shotsPerDay: z.number(),
  dueAt: instant.nullable(),
  dueInDays: z.number().nullable(),
}).meta({ id: 'PmPlanForecast' });
export type PmPlanForecast = z.infer<typeof pmPlanForecastRecord>;

export const maintenanceRecord = z.object({
  /** The month's first instant (UTC). */
  month: instant,
  subject: z.string(),
  scheduledJobs: bigCount,
  unscheduledJobs: bigCount,
  scheduledHours: z.number(),
  unscheduledHours: z.number(),
  hours: z.number(),
  cost: z.number(),
  /** None when no time was entered. */
  scheduledPercent: z.number().nullable(),
}).meta({ id: 'KpiMaintenance' });
export type MaintenanceRow = z.infer<typeof maintenanceRecord>;

export const utilisationRecord = z.object({
  subject: z.string(),
  /** Tools in service and those without a shot: none per press, or for a subject only shots name. */
  tools: bigCount.nullable(),
  idleTools: bigCount.nullable(),
  shots: bigCount,
  shotsPerDay: z.number(),
  mountedDays: z.number(),
  cycleTimeMs: z.number().nullable(),
  capacityShots: z.number().nullable(),
  utilisationPercent: z.number().nullable(),
}).meta({ id: 'KpiUtilisation' });
export type UtilisationRow = z.infer<typeof utilisationRecord>;

export const endOfLifeRecord = z.object({
  toolId: recordId,
  assetNumber: z.string(),
  toolName: z.string(),
  customer: z.string().nullable(),
  lifetimeShots: bigCount,
  expectedLifetimeShots: bigCount,
  percentUsed: z.number(),
  /** Negative once past the expected lifetime. */
  remainingShots: signedCount,
  shotsPerDay: z.number(),
  /** None without shots in the last 30 days. */
  endAt: instant.nullable(),
}).meta({ id: 'KpiEndOfLife' });
export type EndOfLifeRow = z.infer<typeof endOfLifeRecord>;

/** The tool page's trend: shots per day (UTC days) over the last `days`, and its plans' forecast. */
export const toolTrendInput = z
  .object({ assetNumber, days: wholeNumber().pipe(z.number().min(1).max(366)).default(30) })
  .strict();

export const toolTrendRecord = z.object({
  assetNumber: z.string(),
  /** One entry a day, oldest first, today last (days without shots are 0). */
  shotsPerDay: z.array(z.object({ day: isoDate, shots: bigCount })),
  plans: z.array(pmPlanForecastRecord),
}).meta({ id: 'ToolTrend' });
export type ToolTrend = z.infer<typeof toolTrendRecord>;
