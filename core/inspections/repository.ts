import type { Knex } from 'knex';
import { at, count, countOrNull, recordMapper } from '../db/record';
import type { InspectionResultTable, InspectionTable, InspectionTemplateTable } from '../db/tables';
import type { Inspection, InspectionKind, InspectionResult, InspectionTemplate, SparePart, TemplateItem } from './schema';

type Queryable = Knex | Knex.Transaction;

/** jsonb columns as read: parsed by both drivers (a string would mean a text column slipped in). */
type TemplateRow = Omit<InspectionTemplateTable, 'items'> & { items: TemplateItem[] | string };
type TemplateTool = InspectionTemplate['tools'][number];

/** An inspection row with its tool's asset number and its template's code and items, as inspectionQuery selects it. */
type InspectionRow = Omit<InspectionTable, 'spare_parts'> & {
  spare_parts: SparePart[] | string;
  asset_number: string;
  template_code: string;
  /** The items of the version it was recorded with. */
  template_items: TemplateItem[] | string;
};

type ResultRow = InspectionResultTable;

/** jsonb arrives parsed from pg and PGlite alike; a string would mean a text column slipped in. */
function json<T>(value: T | string): T {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}

const template = recordMapper<TemplateRow & { tools: TemplateTool[] }, InspectionTemplate>({
  id: 'id',
  code: 'code',
  name: 'name',
  kind: 'kind',
  version: 'version',
  items: (r) => json(r.items).map((i) => ({ key: i.key, label: i.label, failureCode: i.failureCode ?? null, hint: i.hint ?? null })),
  tools: 'tools',
  active: 'active',
  createdAt: at('created_at'),
  updatedAt: at('updated_at'),
});
const toTemplate = template.toRecord;

const result = recordMapper<ResultRow, InspectionResult>({
  itemKey: 'item_key',
  label: 'label',
  result: 'result',
  note: 'note',
  failureReportId: 'failure_report_id',
});

/** An inspection from its row and what hydrateInspections gathers for it. */
const inspection = recordMapper<InspectionRow & { results: InspectionResult[]; action_ids: number[] }, Inspection>({
  id: 'id',
  toolId: 'tool_id',
  assetNumber: 'asset_number',
  templateId: 'template_id',
  templateCode: 'template_code',
  templateVersion: 'template_version',
  pmPlanId: 'pm_plan_id',
  kind: 'kind',
  outcome: 'outcome',
  performedAt: at('performed_at'),
  performedBy: 'performed_by',
  lifetimeShots: count('lifetime_shots'),
  findings: 'findings',
  spareParts: (r) => json(r.spare_parts).map((p) => ({ partNumber: p.partNumber, description: p.description ?? null, quantity: Number(p.quantity) })),
  minutesSpent: 'minutes_spent',
  cost: countOrNull('cost'),
  results: 'results',
  failureReportIds: (r) => r.results.flatMap((x) => (x.failureReportId === null ? [] : [x.failureReportId])),
  actionIds: 'action_ids',
  createdAt: at('created_at'),
});

/** Templates with the tools each applies to, with one more query. */
async function hydrateTemplates(db: Queryable, rows: TemplateRow[]): Promise<InspectionTemplate[]> {
  if (rows.length === 0) return [];
  const tools: (TemplateTool & { template_id: number })[] = await db('inspection_template_tools as tt')
    .join('tools as t', 't.id', 'tt.tool_id')
    .whereIn('tt.template_id', rows.map((r) => r.id))
    .orderBy('t.asset_number')
    .select('tt.template_id', 't.id', 't.asset_number as assetNumber', 't.name');
  return rows.map((row) =>
    toTemplate({ ...row, tools: tools.filter((t) => t.template_id === row.id).map((t) => ({ id: t.id, assetNumber: t.assetNumber, name: t.name })) }),
  );
}

/**
 * A template as it is now (its newest version), or with `version` that version's checklist.
 * `lock`: 'update' to change it, 'share' to record an inspection against it (an edit waits).
 */
export async function findTemplate(
  db: Queryable,
  where: { id: number } | { code: string },
  lock: false | 'update' | 'share' = false,
  version?: number,
): Promise<InspectionTemplate | undefined> {
  const q = db('inspection_templates').where(where).first();
  if (lock === 'update') q.forUpdate();
  if (lock === 'share') q.forShare();
  let row = (await q) as TemplateRow | undefined;
  if (row && version !== undefined && version !== row.version) {
    const old: { items: TemplateItem[] | string } | undefined = await db('inspection_template_versions').where({ template_id: row.id, version }).first('items');
    row = old ? { ...row, version, items: old.items } : undefined;
  }
  return row ? (await hydrateTemplates(db, [row]))[0] : undefined;
}

export async function findTemplates(db: Queryable, filter: { kind?: InspectionKind; toolId?: number; includeInactive: boolean }): Promise<InspectionTemplate[]> {
  const q = db('inspection_templates as tp').orderBy('code').select('tp.*');
  if (filter.kind) q.where('kind', filter.kind);
  if (!filter.includeInactive) q.where('active', true);
  if (filter.toolId !== undefined) {
    const toolId = filter.toolId;
    q.where((w) =>
      w
        .whereNotExists((x) => x.select(db.raw('1')).from('inspection_template_tools as a').whereRaw('a.template_id = tp.id'))
        .orWhereExists((x) => x.select(db.raw('1')).from('inspection_template_tools as a').whereRaw('a.template_id = tp.id').where('a.tool_id', toolId)),
    );
  }
  return hydrateTemplates(db, (await q) as TemplateRow[]);
}

/** Whether an inspection was recorded with this version of the template. */
export async function versionInUse(db: Queryable, templateId: number, version: number): Promise<boolean> {
  return (await db('inspections').where({ template_id: templateId, template_version: version }).first('id')) !== undefined;
}

/** Inspections with their tool's asset number, their template's code and the items of their version, as one query. */
export function inspectionQuery(db: Queryable) {
  return db('inspections as i')
    .join('tools as t', 't.id', 'i.tool_id')
    .join('inspection_templates as tp', 'tp.id', 'i.template_id')
    .join('inspection_template_versions as tv', function joinVersion() {
      this.on('tv.template_id', 'i.template_id').andOn('tv.version', 'i.template_version');
    })
    .select('i.*', 't.asset_number', 'tp.code as template_code', 'tv.items as template_items');
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
    // Results show in the order of the checklist version they were recorded with.
    const order = new Map(json(row.template_items).map((item, i) => [item.key, i]));
    const rank = (key: string) => order.get(key) ?? Number.MAX_SAFE_INTEGER;
    const results = [...(resultsBy.get(row.id) ?? [])]
      .sort((a, b) => rank(a.item_key) - rank(b.item_key) || a.item_key.localeCompare(b.item_key))
      .map(result.toRecord);
    return inspection.toRecord({ ...row, results, action_ids: (actionsBy.get(row.id) ?? []).map((a) => a.id) });
  });
}

export async function findInspection(db: Queryable, id: number): Promise<Inspection | undefined> {
  const row = (await inspectionQuery(db).where('i.id', id).first()) as InspectionRow | undefined;
  return row ? (await hydrateInspections(db, [row]))[0] : undefined;
}

export type { InspectionRow, TemplateRow };
