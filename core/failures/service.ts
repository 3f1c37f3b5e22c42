import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { audited } from '../audit/audited';
import { inTransaction } from '../db/transaction';
import { atVersion, nextVersion } from '../db/version';
import { getByKey } from '../records/lookup';
import { conflict, notFound, validationError } from '../errors';
import { findTool } from '../tools/repository';
import { parse, type Page } from '../validate';
import { findCode, findReport, reportQuery, toReport, type ReportRow } from './repository';
import {
  FAILURE_TRANSITIONS,
  ROOT_CAUSE_REQUIRED,
  getFailureInput,
  listFailuresInput,
  reportFailureInput,
  triageFailureInput,
  type FailureReport,
  type ReportFailureValues,
} from './schema';
import { listPage } from '../db/page';
import { failureReported } from '../notifications/triggers';

/** Action statuses that leave nothing to do: a failure closes only when all its actions are here. */
const FINISHED_ACTION_STATUSES = ['verified', 'cancelled'];

/**
 * Write a parsed failure report and its audit event in the caller's transaction (the caller has
 * authorized). The tool must exist and be in service, the code be in the catalog and in use, the
 * cavity exist on the tool and an inspection, if named, be of that tool.
 */
export async function insertFailureReport(trx: Knex.Transaction, actor: Actor, input: ReportFailureValues): Promise<FailureReport> {
  const tool = await findTool(trx, { id: input.toolId });
  if (!tool) throw notFound('tool', input.toolId, 'toolId');
  if (tool.status === 'retired') throw conflict(`tool ${tool.assetNumber} is retired`, 'toolId', 'not_retired');
  const code = await findCode(trx, input.failureCode);
  // A code is a value picked from the catalog (as in checklists), so a bad one is a validation error.
  if (!code) throw validationError([{ field: 'failureCode', rule: 'exists', message: `failure code ${input.failureCode} is not in the catalog` }]);
  if (!code.active) throw validationError([{ field: 'failureCode', rule: 'active', message: `failure code ${code.code} is no longer in use` }]);
  const cavity = input.cavity ?? null;
  if (cavity !== null && cavity > tool.cavityCount) {
    throw validationError([{ field: 'cavity', rule: 'cavity_exists', message: `cavity ${cavity} does not exist (tool ${tool.assetNumber} has ${tool.cavityCount})` }]);
  }
  const inspectionId = input.inspectionId ?? null;
  if (inspectionId !== null) {
    const inspection: { tool_id: number } | undefined = await trx('inspections').where('id', inspectionId).first('tool_id');
    if (!inspection) throw notFound('inspection', inspectionId, 'inspectionId');
    if (inspection.tool_id !== tool.id) {
      throw validationError([{ field: 'inspectionId', rule: 'inspection_of_tool', message: `inspection ${inspectionId} was not done on tool ${tool.assetNumber}` }]);
    }
  }
  const [{ id }] = await trx('failure_reports')
    .insert({
      tool_id: tool.id,
      failure_code_id: code.id,
      inspection_id: inspectionId,
      severity: input.severity ?? code.defaultSeverity,
      component: input.component ?? code.component,
      cavity,
      shot_count: input.shotCount ?? tool.lifetimeShots,
      description: input.description ?? null,
      status: 'open',
      reported_by: actor.id,
      reported_at: input.reportedAt ?? trx.fn.now(),
    })
    .returning('id');
  const report = await audited(trx, actor, { action: 'failure.report', entity: 'failure_report', entityId: id }, findReport(trx, id));
  await failureReported(trx, actor, report);
  return report;
}

/**
 * Report a failure from the catalog on a tool. Severity and component default to the code's,
 * the shot count to the tool's lifetime count now. A critical failure (tool down) leaves the
 * tool's status to people: a mounted tool follows its mount, and whether a tool in store goes
 * to maintenance or to the toolmaker is the engineer's call at triage.
 */
export async function reportFailure(db: Knex, actor: Actor, input: unknown): Promise<FailureReport> {
  authorize(actor, 'failure.report');
  const v = parse(reportFailureInput, input);
  return inTransaction(db, (trx) => insertFailureReport(trx, actor, v));
}

/** Lock a failure report for a write; it must exist and, when a version is given, still be at that version. */
async function lockReport(trx: Knex.Transaction, id: number, version?: number): Promise<FailureReport> {
  return atVersion(await findReport(trx, id, true), 'failure report', id, version);
}

/**
 * Triage a failure: move it along its status table, change its severity, record the root cause.
 * A major or critical failure is resolved only with a root cause; a failure closes only when
 * each of its actions is verified or cancelled. A closed failure is history and does not change.
 */
export async function triageFailure(db: Knex, actor: Actor, input: unknown): Promise<FailureReport> {
  authorize(actor, 'failure.triage');
  const v = parse(triageFailureInput, input);
  return inTransaction(db, async (trx) => {
    const before = await lockReport(trx, v.id, v.version);
    if (before.status === 'closed') throw conflict(`failure report ${v.id} is closed`, 'status', 'not_closed');
    const status = v.status ?? before.status;
    if (status !== before.status && !FAILURE_TRANSITIONS[before.status].includes(status)) {
      throw conflict(`failure report ${v.id} cannot go from ${before.status} to ${status}`, 'status', 'transition');
    }
    const severity = v.severity ?? before.severity;
    const rootCause = v.rootCause !== undefined ? v.rootCause : before.rootCause;
    if ((status === 'resolved' || status === 'closed') && rootCause === null && ROOT_CAUSE_REQUIRED.includes(severity)) {
      throw validationError([{ field: 'rootCause', rule: 'required_to_resolve', message: `a ${severity} failure needs a root cause before it is ${status}` }]);
    }
    if (status === 'closed') {
      const open: { id: number }[] = await trx('actions')
        .where('failure_report_id', v.id)
        .whereNotIn('status', FINISHED_ACTION_STATUSES)
        .select('id');
      if (open.length) {
        throw conflict(`failure report ${v.id} has unfinished actions (${open.map((a) => a.id).join(', ')}): verify or cancel them first`, 'status', 'actions_finished');
      }
    }
    const patch: Record<string, unknown> = { ...nextVersion(trx, before), status, severity, root_cause: rootCause };
    if (v.description !== undefined) patch.description = v.description;
    if (status === 'closed') patch.closed_at = trx.fn.now();
    await trx('failure_reports').where('id', v.id).update(patch);
    return audited(trx, actor, { action: 'failure.triage', entity: 'failure_report', entityId: v.id, before }, findReport(trx, v.id));
  });
}

/** The update operation of a failure report is its triage (`msg.topic` 'update' reads naturally). */
export const updateFailure = triageFailure;

export async function getFailure(db: Knex, actor: Actor, input: unknown): Promise<FailureReport> {
  return getByKey(actor, 'failure.read', getFailureInput, input, 'failure report', (key) => findReport(db, key.id));
}

/** Failure reports by tool, status, severity, component and time span, newest first. */
export async function listFailures(db: Knex, actor: Actor, input: unknown): Promise<Page<FailureReport>> {
  const list = <T>(x: T | T[]) => (Array.isArray(x) ? x : [x]);
  return listPage(db, actor, 'failure.read', listFailuresInput, input, {
    rows: (db) => reportQuery(db).orderBy([{ column: 'f.reported_at', order: 'desc' }, { column: 'f.id', order: 'desc' }]),
    count: (db) => db('failure_reports as f'),
    filter: (q, v) => {
      if (v.toolId !== undefined) q.where('f.tool_id', v.toolId);
      if (v.status) q.whereIn('f.status', list(v.status));
      if (v.severity) q.whereIn('f.severity', list(v.severity));
      if (v.component) q.where('f.component', v.component);
      if (v.from) q.where('f.reported_at', '>=', v.from);
      if (v.to) q.where('f.reported_at', '<=', v.to);
    },
    toItems: (rows: ReportRow[]) => rows.map(toReport),
  });
}
