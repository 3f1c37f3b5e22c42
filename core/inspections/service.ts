import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { audited } from '../audit/audited';
import { inTransaction } from '../db/transaction';
import { ToolroomError, notFound, conflict, validationError, type FieldProblem } from '../errors';
import { getByKey } from '../records/lookup';
import { findTool } from '../tools/repository';
import type { Tool } from '../tools/schema';
import { parse, type Page } from '../validate';
import { today } from '../actions/repository';
import { insertAction } from '../actions/service';
import { insertFailureReport } from '../failures/service';
import { recordPmInTransaction } from '../pm/service';
import { findInspection, findTemplate, hydrateInspections, inspectionQuery, type InspectionRow } from './repository';
import {
  getInspectionInput,
  listInspectionsInput,
  recordInspectionInput,
  type Inspection,
  type InspectionTemplate,
  type Severity,
  type TemplateItem,
} from './schema';
import { listPage } from '../db/page';

type RecordInput = ReturnType<typeof recordInspectionInput.parse>;
type ResultInput = RecordInput['results'][number];

/** Days until a corrective action from a failed item is due: a tool-down finding is for today. */
export const ACTION_DUE_DAYS: Record<Severity, number> = { critical: 0, major: 7, minor: 30 };

/** Every template item answered exactly once, nothing else; failed cavities exist on the tool. */
function matchResults(template: InspectionTemplate, tool: Tool, results: ResultInput[]): Map<string, TemplateItem> {
  const items = new Map(template.items.map((i) => [i.key, i]));
  const answered = new Set<string>();
  const problems: FieldProblem[] = [];
  results.forEach((r, i) => {
    const field = `results.${i}.itemKey`;
    if (!items.has(r.itemKey)) {
      problems.push({ field, rule: 'template_item', message: `${r.itemKey} is not an item of template ${template.code}` });
    } else if (answered.has(r.itemKey)) {
      problems.push({ field, rule: 'answered_once', message: `${r.itemKey} is answered more than once` });
    }
    answered.add(r.itemKey);
    if (r.cavity !== null && r.cavity > tool.cavityCount) {
      problems.push({ field: `results.${i}.cavity`, rule: 'cavity_exists', message: `cavity ${r.cavity} does not exist (tool has ${tool.cavityCount})` });
    }
  });
  const missing = template.items.filter((i) => !answered.has(i.key)).map((i) => i.key);
  if (missing.length) {
    problems.push({ field: 'results', rule: 'every_item_answered', message: `items not answered: ${missing.join(', ')}` });
  }
  if (problems.length) throw validationError(problems);
  return items;
}

/** The PM plan a preventive inspection fulfils is the tool's own (whether it may be recorded is core/pm's rule). */
async function checkPmPlan(trx: Knex.Transaction, v: RecordInput, kind: string, tool: Tool): Promise<void> {
  if (v.pmPlanId === null) return;
  if (kind !== 'preventive') {
    throw validationError([{ field: 'pmPlanId', rule: 'preventive_only', message: 'only a preventive inspection fulfils a PM plan' }]);
  }
  const plan: { tool_id: number } | undefined = await trx('pm_plans').where('id', v.pmPlanId).first('tool_id');
  if (!plan) throw notFound('PM plan', v.pmPlanId, 'pmPlanId');
  if (plan.tool_id !== tool.id) {
    throw validationError([{ field: 'pmPlanId', rule: 'plan_of_tool', message: `PM plan ${v.pmPlanId} belongs to another tool` }]);
  }
}

/**
 * Run a write another module owns (a failure report, an action, a PM) and name the fields of its
 * errors as this call's input names them, so the caller sees what to fix in what it sent.
 */
async function asField<T>(rename: Record<string, string>, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!(err instanceof ToolroomError)) throw err;
    const details = err.cause.details.map((d) => ({ ...d, field: rename[d.field] ?? d.field }));
    throw err.code === 'validation' ? validationError(details) : new ToolroomError(err.code, err.message, details);
  }
}

/** `days` after `day` ('YYYY-MM-DD'), as 'YYYY-MM-DD'. */
export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Record a post-run or preventive inspection. Each failed item raises a corrective action and,
 * when the item or the answer names a failure code, a failure report the action belongs to; the
 * inspection, its answers, those records and their audit events commit together or not at all.
 */
export async function recordInspection(db: Knex, actor: Actor, input: unknown): Promise<Inspection> {
  authorize(actor, 'inspection.record');
  const v = parse(recordInspectionInput, input);
  return inTransaction(db, async (trx) => {
    const toolRef: { id: number } | { assetNumber: string } = v.toolId !== undefined ? { id: v.toolId } : { assetNumber: v.assetNumber! };
    // Locked so the lifetime shots we copy and the tool's status cannot move under us.
    const tool = await findTool(trx, toolRef, true);
    if (!tool) throw 'id' in toolRef ? notFound('tool', toolRef.id, 'toolId') : notFound('tool', toolRef.assetNumber, 'assetNumber');
    const toolField = 'id' in toolRef ? 'toolId' : 'assetNumber';
    if (tool.status === 'retired') throw conflict(`tool ${tool.assetNumber} is retired`, toolField, 'not_retired');

    const templateRef: { id: number } | { code: string } = v.templateId !== undefined ? { id: v.templateId } : { code: v.templateCode! };
    // Share-locked: an edit of its checklist waits, so the version recorded is the one answered.
    const template = await findTemplate(trx, templateRef, 'share');
    const templateField = 'id' in templateRef ? 'templateId' : 'templateCode';
    if (!template) throw notFound('inspection template', 'id' in templateRef ? templateRef.id : templateRef.code, templateField);
    if (!template.active) throw conflict(`inspection template ${template.code} is not in use`, templateField, 'active');
    if (template.tools.length && !template.tools.some((t) => t.id === tool.id)) {
      throw validationError([{ field: templateField, rule: 'applies_to_tool', message: `template ${template.code} does not apply to tool ${tool.assetNumber}` }]);
    }
    if (v.kind !== undefined && v.kind !== template.kind) {
      throw validationError([{ field: 'kind', rule: 'template_kind', message: `template ${template.code} is for ${template.kind} inspections` }]);
    }
    const kind = template.kind;
    const items = matchResults(template, tool, v.results);
    await checkPmPlan(trx, v, kind, tool);

    const performedAt = v.performedAt ?? new Date();
    const failed = v.results.filter((r) => r.result === 'fail');
    const [{ id }] = await trx('inspections')
      .insert({
        tool_id: tool.id,
        template_id: template.id,
        template_version: template.version,
        pm_plan_id: v.pmPlanId,
        kind,
        outcome: failed.length ? 'fail' : 'pass',
        performed_at: performedAt,
        performed_by: actor.id,
        lifetime_shots: tool.lifetimeShots,
        findings: v.findings,
        spare_parts: JSON.stringify(v.spareParts.map((p) => ({ partNumber: p.partNumber, description: p.description, quantity: p.quantity }))),
        minutes_spent: v.minutesSpent,
        cost: v.cost,
      })
      .returning('id');
    // Labels are copied: the template may change later, this record must still read as it was done.
    await trx('inspection_results').insert(
      v.results.map((r) => ({ inspection_id: id, item_key: r.itemKey, label: items.get(r.itemKey)!.label, result: r.result, note: r.note })),
    );

    // Due dates count from the database's today, the day overdue is judged by (core/actions).
    const todayOnDb = failed.length ? await today(trx) : '';
    for (const [index, r] of v.results.entries()) {
      if (r.result !== 'fail') continue;
      const item = items.get(r.itemKey)!;
      // The answer's code wins over the item's: the technician saw what actually failed.
      const code = r.failureCode ?? item.failureCode;
      const codeField = r.failureCode !== null ? `results.${index}.failureCode` : `results.${index}.itemKey`;
      const description = [r.cavity !== null ? `Cavity ${r.cavity}` : null, r.note ?? v.findings].filter(Boolean).join(': ') || null;
      let severity: Severity | null = r.severity;
      let failureReportId: number | null = null;
      if (code !== null) {
        const report = await asField({ failureCode: codeField, cavity: `results.${index}.cavity`, severity: `results.${index}.severity` }, () =>
          insertFailureReport(trx, actor, {
            toolId: tool.id,
            failureCode: code,
            inspectionId: id,
            severity: r.severity,
            cavity: r.cavity,
            shotCount: tool.lifetimeShots,
            description: r.note ?? item.label,
            reportedAt: performedAt,
          }),
        );
        failureReportId = report.id;
        severity = report.severity;
        await trx('inspection_results').where({ inspection_id: id, item_key: r.itemKey }).update({ failure_report_id: report.id });
      }
      await insertAction(trx, actor, {
        kind: 'corrective',
        title: `Failed ${kind === 'post_run' ? 'post-run' : 'PM'} check: ${item.label}`.slice(0, 200),
        description,
        toolId: tool.id,
        failureReportId,
        inspectionId: id,
        assigneeId: null,
        dueDate: addDays(todayOnDb, ACTION_DUE_DAYS[severity ?? 'major']),
      });
    }

    if (v.pmPlanId !== null) {
      // planId is our pmPlanId; what core/pm says of the inspection (dated before the last PM) is of its time.
      await asField({ planId: 'pmPlanId', inspectionId: 'performedAt' }, () =>
        recordPmInTransaction(trx, actor, { planId: v.pmPlanId, inspectionId: id, notes: v.findings }),
      );
    }

    return audited(trx, actor, { action: 'inspection.record', entity: 'inspection', entityId: id }, findInspection(trx, id));
  });
}

/** One inspection with its answers and the ids of the actions and failure reports it raised. */
export async function getInspection(db: Knex, actor: Actor, input: unknown): Promise<Inspection> {
  return getByKey(actor, 'inspection.read', getInspectionInput, input, 'inspection', (key) => findInspection(db, key.id));
}

/** Inspections by tool, kind, outcome and time span, newest first. */
export async function listInspections(db: Knex, actor: Actor, input: unknown): Promise<Page<Inspection>> {
  return listPage(db, actor, 'inspection.read', listInspectionsInput, input, {
    rows: (db) => inspectionQuery(db).orderBy([{ column: 'i.performed_at', order: 'desc' }, { column: 'i.id', order: 'desc' }]),
    count: (db) => db('inspections as i'),
    filter: (q, v) => {
      if (v.toolId !== undefined) q.where('i.tool_id', v.toolId);
      if (v.kind) q.where('i.kind', v.kind);
      if (v.outcome) q.where('i.outcome', v.outcome);
      if (v.from) q.where('i.performed_at', '>=', v.from);
      if (v.to) q.where('i.performed_at', '<=', v.to);
    },
    toItems: (list: InspectionRow[]) => hydrateInspections(db, list),
  });
}
