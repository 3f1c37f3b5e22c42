/**
 * The KPIs for pages, the REST API and reports: each call checks `kpi.read` and reads one of the SQL
 * functions of migrations/013_kpi.ts (definitions in plain words: core/kpi/schema.ts).
 */
import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { iso, num } from '../db/transaction';
import { notFound } from '../errors';
import { parse } from '../validate';
import {
  endOfLifeInput,
  kpiRangeInput,
  paretoInput,
  pmPlansInput,
  resolveRange,
  toolTrendInput,
  type EndOfLifeRow,
  type MaintenanceRow,
  type ParetoRow,
  type PmComplianceRow,
  type PmPlanForecast,
  type ReliabilityRow,
  type ToolTrend,
  type UtilisationRow,
} from './schema';

/** A row of a KPI function as a record: camelCase keys, times as ISO strings, money (numeric) as a number. */
function record<T>(row: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    const name = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    out[name] = value instanceof Date ? iso(value) : key === 'cost' ? num(value as string | null) : value;
  }
  return out as T;
}

async function rows<T>(db: Knex, sql: string, bindings: readonly unknown[]): Promise<T[]> {
  const result = await db.raw<{ rows: Record<string, unknown>[] }>(sql, bindings as Knex.RawBinding[]);
  return result.rows.map((r) => record<T>(r));
}

/** A range-and-scope input as the SQL functions' first four arguments. */
function scoped(input: unknown) {
  const v = parse(kpiRangeInput, input);
  const { from, to } = resolveRange(v);
  return { bindings: [from, to] as unknown[], scope: [v.by, v.subject ?? null] };
}

/** MTBF (shots and hours) and MTTR per subject of the scope. */
export async function reliability(db: Knex, actor: Actor, input: unknown): Promise<ReliabilityRow[]> {
  authorize(actor, 'kpi.read');
  const { bindings, scope } = scoped(input);
  return rows(db, 'SELECT * FROM kpi_reliability(?, ?, ?, ?)', [...bindings, ...scope]);
}

/** Failures by code, component or tool, largest first, with shares. */
export async function failurePareto(db: Knex, actor: Actor, input: unknown): Promise<ParetoRow[]> {
  authorize(actor, 'kpi.read');
  const v = parse(paretoInput, input);
  const { from, to } = resolveRange(v);
  return rows(db, 'SELECT * FROM kpi_failure_pareto(?, ?, ?, ?, ?)', [from, to, v.dimension, v.by, v.subject ?? null]);
}

/** PMs done on time (before OVERDUE) per month. */
export async function pmCompliance(db: Knex, actor: Actor, input: unknown): Promise<PmComplianceRow[]> {
  authorize(actor, 'kpi.read');
  const { bindings, scope } = scoped(input);
  return rows(db, 'SELECT * FROM kpi_pm_compliance(?, ?, ?, ?)', [...bindings, ...scope]);
}

/** Active plans with their state now, how far past due, and when they fall due at this week's pace. */
export async function pmForecast(db: Knex, actor: Actor, input: unknown, now = new Date()): Promise<PmPlanForecast[]> {
  authorize(actor, 'kpi.read');
  const v = parse(pmPlansInput, input);
  const found = await rows<PmPlanForecast>(db, 'SELECT * FROM kpi_pm_plans(?)', [now]);
  return found.filter((p) => (!v.state || p.state === v.state) && (!v.assetNumber || p.assetNumber === v.assetNumber));
}

/** Scheduled vs unscheduled jobs, hours and cost per month. */
export async function maintenance(db: Knex, actor: Actor, input: unknown): Promise<MaintenanceRow[]> {
  authorize(actor, 'kpi.read');
  const { bindings, scope } = scoped(input);
  return rows(db, 'SELECT * FROM kpi_maintenance(?, ?, ?, ?)', [...bindings, ...scope]);
}

/** Shots per day, days mounted, utilisation against capacity, idle tools. */
export async function utilisation(db: Knex, actor: Actor, input: unknown): Promise<UtilisationRow[]> {
  authorize(actor, 'kpi.read');
  const { bindings, scope } = scoped(input);
  return rows(db, 'SELECT * FROM kpi_utilisation(?, ?, ?, ?)', [...bindings, ...scope]);
}

/** Tools within N % of their expected lifetime shots. */
export async function endOfLife(db: Knex, actor: Actor, input: unknown, now = new Date()): Promise<EndOfLifeRow[]> {
  authorize(actor, 'kpi.read');
  const v = parse(endOfLifeInput, input);
  return rows(db, 'SELECT * FROM kpi_end_of_life(?, ?)', [v.withinPercent, now]);
}

/** What the tool page shows of a tool's use: shots per day and when its PMs fall due (technicians too). */
export async function toolTrend(db: Knex, actor: Actor, input: unknown, now = new Date()): Promise<ToolTrend> {
  authorize(actor, 'tool.read');
  authorize(actor, 'pm.read');
  const v = parse(toolTrendInput, input);
  const tool: { id: number } | undefined = await db('tools').where('asset_number', v.assetNumber).first('id');
  if (!tool) throw notFound('tool', v.assetNumber, 'assetNumber');
  const days = await rows<{ day: string; shots: number }>(
    db,
    `SELECT to_char(d, 'YYYY-MM-DD') AS day, coalesce(sum(r.delta), 0)::bigint AS shots
     FROM generate_series(date_trunc('day', ?::timestamptz AT TIME ZONE 'UTC') - (?::int - 1) * interval '1 day',
                          date_trunc('day', ?::timestamptz AT TIME ZONE 'UTC'), interval '1 day') AS d
     LEFT JOIN shot_readings r ON r.tool_id = ? AND r.at >= d AT TIME ZONE 'UTC' AND r.at < (d + interval '1 day') AT TIME ZONE 'UTC'
     GROUP BY d ORDER BY d`,
    [now, v.days, now, tool.id],
  );
  const plans = await rows<PmPlanForecast>(db, 'SELECT * FROM kpi_pm_plans(?) WHERE tool_id = ?', [now, tool.id]);
  return { assetNumber: v.assetNumber, shotsPerDay: days, plans };
}
