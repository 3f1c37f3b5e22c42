import type { Knex } from 'knex';
import { iso, num } from '../db/transaction';
import type {
  Inspection,
  InspectionKind,
  InspectionResult,
  InspectionTemplate,
  ItemResult,
  SparePart,
  TemplateItem,
} from './schema';

type Queryable = Knex | Knex.Transaction;

interface TemplateRow {
  id: number;
  code: string;
  name: string;
  kind: InspectionKind;
  items: TemplateItem[] | string;
  active: boolean;
  created_at: Date;
  updated_at: Date;
}

interface InspectionRow {
  id: number;
  tool_id: number;
  asset_number: string;
  template_id: number;
  template_code: string;
  template_items: TemplateItem[] | string;
  pm_plan_id: number | null;
  kind: InspectionKind;
  outcome: 'pass' | 'fail';
  performed_at: Date;
  performed_by: string;
  lifetime_shots: number | string;
  findings: string | null;
  spare_parts: SparePart[] | string;
  minutes_spent: number | null;
  cost: string | number | null;
  created_at: Date;
}

interface ResultRow {
  inspection_id: number;
  item_key: string;
  label: string;
  result: ItemResult;
  note: string | null;
  failure_report_id: number | null;
}

/** jsonb arrives parsed from pg and PGlite alike; a string would mean a text column slipped in. */
function json<T>(value: T | string): T {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}

function toTemplate(row: TemplateRow): InspectionTemplate {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    kind: row.kind,
    items: json(row.items).map((i) => ({ key: i.key, label: i.label, failureCode: i.failureCode ?? null, hint: i.hint ?? null })),
    active: row.active,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
  };
}

export async function findTemplate(
  db: Queryable,
  where: { id: number } | { code: string },
  lock = false,
): Promise<InspectionTemplate | undefined> {
  const q = db('inspection_templates').where(where).first();
  if (lock) q.forUpdate();
  const row = (await q) as TemplateRow | undefined;
  return row ? toTemplate(row) : undefined;
}

export async function findTemplates(db: Queryable, filter: { kind?: InspectionKind; includeInactive: boolean }): Promise<InspectionTemplate[]> {
  const q = db('inspection_templates').orderBy('code');
  if (filter.kind) q.where('kind', filter.kind);
  if (!filter.includeInactive) q.where('active', true);
  return ((await q) as TemplateRow[]).map(toTemplate);
}

/** Inspections with their tool's asset number and template code, as one query. */
export function inspectionQuery(db: Queryable) {
  return db('inspections as i')
    .join('tools as t', 't.id', 'i.tool_id')
    .join('inspection_templates as tp', 'tp.id', 'i.template_id')
    .select('i.*', 't.asset_number', 'tp.code as template_code', 'tp.items as template_items');
}

/**
 * Attach results and the actions each inspection raised, with two extra queries. The failure
 * reports it raised are the ones its answers link to (no look-up in failure_reports needed).
 */
export async function hydrateInspections(db: Queryable, rows: InspectionRow[]): Promise<Inspection[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  // One after the other: inside a transaction both would share one connection.
  const results: ResultRow[] = await db('inspection_results').whereIn('inspection_id', ids);
  const actions: { id: number; inspection_id: number }[] = await db('actions').whereIn('inspection_id', ids).orderBy('id').select('id', 'inspection_id');
  const group = <T extends { inspection_id: number }>(list: T[]) => {
    const by = new Map<number, T[]>();
    for (const item of list) by.set(item.inspection_id, [...(by.get(item.inspection_id) ?? []), item]);
    return by;
  };
  const resultsBy = group(results);
  const actionsBy = group(actions);
  return rows.map((row) => {
    const spareParts = json(row.spare_parts);
    // Results show in the checklist's order; items removed from the template since come last.
    const order = new Map(json(row.template_items).map((item, i) => [item.key, i]));
    const rank = (key: string) => order.get(key) ?? Number.MAX_SAFE_INTEGER;
    const results = [...(resultsBy.get(row.id) ?? [])]
      .sort((a, b) => rank(a.item_key) - rank(b.item_key) || a.item_key.localeCompare(b.item_key))
      .map((r): InspectionResult => ({
        itemKey: r.item_key,
        label: r.label,
        result: r.result,
        note: r.note,
        failureReportId: r.failure_report_id,
      }));
    return {
      id: row.id,
      toolId: row.tool_id,
      assetNumber: row.asset_number,
      templateId: row.template_id,
      templateCode: row.template_code,
      pmPlanId: row.pm_plan_id,
      kind: row.kind,
      outcome: row.outcome,
      performedAt: iso(row.performed_at)!,
      performedBy: row.performed_by,
      lifetimeShots: Number(row.lifetime_shots),
      findings: row.findings,
      spareParts: spareParts.map((p) => ({ partNumber: p.partNumber, description: p.description ?? null, quantity: Number(p.quantity) })),
      minutesSpent: row.minutes_spent,
      cost: num(row.cost),
      results,
      failureReportIds: results.flatMap((r) => (r.failureReportId === null ? [] : [r.failureReportId])),
      actionIds: (actionsBy.get(row.id) ?? []).map((a) => a.id),
      createdAt: iso(row.created_at)!,
    };
  });
}

export async function findInspection(db: Queryable, id: number): Promise<Inspection | undefined> {
  const row = (await inspectionQuery(db).where('i.id', id).first()) as InspectionRow | undefined;
  return row ? (await hydrateInspections(db, [row]))[0] : undefined;
}

export type { InspectionRow, TemplateRow };
