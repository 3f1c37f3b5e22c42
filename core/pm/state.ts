/**
 * PM state: how far a tool is through its preventive-maintenance interval. Pure (no database, no
 * clock): the caller passes the plan, the shots and the time since the last PM, and `now`.
 */
import type { PmStatus } from './schema';

export const PM_STATES = ['NOT_DUE', 'WARNING', 'DUE', 'OVERDUE'] as const;
export type PmState = (typeof PM_STATES)[number];

/**
 * The rule, on the measure (shots or days) that is further along:
 *   NOT_DUE  below the warning percent;
 *   WARNING  from the warning percent (exactly at it included) up to the interval;
 *   DUE      from 100 % of the interval (the PM should be done now);
 *   OVERDUE  from OVERDUE_PERCENT: the mould has run a tenth of an interval past its PM
 *            (55 000 shots on a 50 000-shot plan, 99 days on a 90-day plan), which a toolroom
 *            treats as a missed PM rather than one that is merely due.
 * One percent for both measures keeps "whichever comes first" a single comparison.
 */
export const OVERDUE_PERCENT = 110;
export const DEFAULT_WARNING_PERCENT = 90;

const DAY_MS = 86_400_000;

export interface PmStateInput {
  intervalShots: number | null;
  intervalDays: number | null;
  warningPercent: number;
  shotsSinceLastPm: number;
  lastPmAt: Date | string;
  now: Date;
  /** The tool's lifetime shots at the last PM, so `dueAtShots` reads on the tool's counter (0 = since the PM). */
  lastPmLifetimeShots?: number;
}

/** What pmStatus answers: its fields are described with the plan's output schema (core/pm/schema.ts). */
export type { PmStatus };

/** used / interval as a percent, floored to a tenth, without float noise (45 000 of 50 000 is 90, not 90.00000001). */
function percentOf(used: number, interval: number): number {
  return Math.floor((used * 1000) / interval) / 10;
}

/** used ≥ percent % of interval, compared exactly in integers / milliseconds. */
function reached(used: number, interval: number, percent: number): boolean {
  return used * 100 >= interval * percent;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

const RANK: Record<PmState, number> = { NOT_DUE: 0, WARNING: 1, DUE: 2, OVERDUE: 3 };

/** How urgent a state is (NOT_DUE 0 … OVERDUE 3), for "more urgent than" comparisons. */
export function urgency(state: PmState): number {
  return RANK[state];
}

/** The state of one measure: used units out of an interval. */
function stateOf(used: number, interval: number, warningPercent: number): PmState {
  if (reached(used, interval, OVERDUE_PERCENT)) return 'OVERDUE';
  if (reached(used, interval, 100)) return 'DUE';
  if (reached(used, interval, warningPercent)) return 'WARNING';
  return 'NOT_DUE';
}

/** A plan's status now: state, progress on each measure, and when the PM falls due. */
export function pmStatus(input: PmStateInput): PmStatus {
  const { intervalShots, intervalDays, warningPercent } = input;
  if (intervalShots == null && intervalDays == null) throw new RangeError('a PM plan needs intervalShots or intervalDays');
  const lastPmAtMs = new Date(input.lastPmAt).getTime();
  // A counter corrected downwards, or a PM stamped a moment ahead by a tablet's clock, is zero elapsed.
  const shotsSince = Math.max(0, input.shotsSinceLastPm);
  const elapsedMs = Math.max(0, input.now.getTime() - lastPmAtMs);

  const byShots = intervalShots != null ? stateOf(shotsSince, intervalShots, warningPercent) : null;
  const byDays = intervalDays != null ? stateOf(elapsedMs, intervalDays * DAY_MS, warningPercent) : null;
  const shotsPercent = intervalShots != null ? percentOf(shotsSince, intervalShots) : null;
  const daysPercent = intervalDays != null ? percentOf(elapsedMs, intervalDays * DAY_MS) : null;

  // Further along = higher state, then the higher exact fraction (cross-multiplied, no division).
  let drivenBy: 'shots' | 'days';
  if (byShots === null) drivenBy = 'days';
  else if (byDays === null) drivenBy = 'shots';
  else if (RANK[byShots] !== RANK[byDays]) drivenBy = RANK[byShots] > RANK[byDays] ? 'shots' : 'days';
  else drivenBy = shotsSince * (intervalDays! * DAY_MS) >= elapsedMs * intervalShots! ? 'shots' : 'days';

  const dueAtMs = intervalDays != null ? lastPmAtMs + intervalDays * DAY_MS : null;
  return {
    state: (drivenBy === 'shots' ? byShots : byDays)!,
    shotsSince,
    daysSince: round2(elapsedMs / DAY_MS),
    shotsPercent,
    daysPercent,
    percent: Math.max(shotsPercent ?? 0, daysPercent ?? 0),
    dueAtShots: intervalShots != null ? (input.lastPmLifetimeShots ?? 0) + intervalShots : null,
    dueAt: dueAtMs != null ? new Date(dueAtMs).toISOString() : null,
    remainingShots: intervalShots != null ? intervalShots - shotsSince : null,
    remainingDays: dueAtMs != null ? round2((dueAtMs - input.now.getTime()) / DAY_MS) : null,
    drivenBy,
  };
}

/**
 * The same rule in SQL, for filtering in the database (lists of thousands of plans, the search for
 * escalations): the urgency (0..3) of a plan row `p` joined to its tool `t`, at the bound time.
 * Same integer comparisons as above (days as whole seconds: interval × percent × 864 s); the PM
 * tests check that both agree at every edge. Bindings: the time, three times.
 */
export function urgencySql(now: Date): { sql: string; bindings: Date[] } {
  const shots = 'GREATEST(t.lifetime_shots - p.last_pm_lifetime_shots, 0) * 100';
  const byShots = (percent: string) => `${shots} >= p.interval_shots * ${percent}`;
  const byDays = (percent: string) => `?::timestamptz >= p.last_pm_at + p.interval_days::bigint * ${percent} * 864 * interval '1 second'`;
  const level = (test: (percent: string) => string, column: string) =>
    `CASE WHEN ${column} IS NULL THEN NULL WHEN ${test(String(OVERDUE_PERCENT))} THEN 3 WHEN ${test('100')} THEN 2 ` +
    `WHEN ${test('p.warning_percent')} THEN 1 ELSE 0 END`;
  return { sql: `GREATEST(${level(byShots, 'p.interval_shots')}, ${level(byDays, 'p.interval_days')})`, bindings: [now, now, now] };
}

/** A state column's urgency in SQL. */
export function stateUrgencySql(column: string): string {
  return `CASE ${column} ${PM_STATES.map((s) => `WHEN '${s}' THEN ${RANK[s]}`).join(' ')} END`;
}
