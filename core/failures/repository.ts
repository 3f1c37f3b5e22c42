import type { Knex } from 'knex';
import { at, atOrNull, count, recordMapper } from '../db/record';
import type { FailureCodeTable, FailureReportTable } from '../db/tables';
import type { FailureCode, FailureReport } from './schema';

type Queryable = Knex | Knex.Transaction;

type CodeRow = FailureCodeTable;

/** A report row with its tool's asset number and its code and title, as reportQuery selects it. */
type ReportRow = FailureReportTable & { asset_number: string; failure_code: string; failure_title: string };

const code = recordMapper<CodeRow, FailureCode>({
  id: 'id',
  code: 'code',
  title: 'title',
  component: 'component',
  description: 'description',
  defaultSeverity: 'default_severity',
  active: 'active',
  createdAt: at('created_at'),
  updatedAt: at('updated_at'),
});
export const toCode = code.toRecord;
/** The columns a create or an update of a failure code writes, from the fields given (the code itself never changes). */
export const codeColumns = code.writable(['title', 'component', 'description', 'defaultSeverity', 'active']);

const report = recordMapper<ReportRow, FailureReport>({
  id: 'id',
  toolId: 'tool_id',
  assetNumber: 'asset_number',
  failureCodeId: 'failure_code_id',
  failureCode: 'failure_code',
  failureTitle: 'failure_title',
  inspectionId: 'inspection_id',
  severity: 'severity',
  component: 'component',
  cavity: 'cavity',
  shotCount: count('shot_count'),
  description: 'description',
  rootCause: 'root_cause',
  status: 'status',
  reportedBy: 'reported_by',
  reportedAt: at('reported_at'),
  closedAt: atOrNull('closed_at'),
  version: 'version',
  createdAt: at('created_at'),
  updatedAt: at('updated_at'),
});
export const toReport = report.toRecord;

export async function findCode(db: Queryable, code: string, lock = false): Promise<FailureCode | undefined> {
  const q = db('failure_codes').where('code', code);
  if (lock) q.forUpdate();
  const row = (await q.first()) as CodeRow | undefined;
  return row ? toCode(row) : undefined;
}

/** Failure reports with their tool's asset number and their code and its title, as one query. */
export function reportQuery(db: Queryable) {
  return db('failure_reports as f')
    .join('tools as t', 't.id', 'f.tool_id')
    .join('failure_codes as c', 'c.id', 'f.failure_code_id')
    .select('f.*', 't.asset_number', 'c.code as failure_code', 'c.title as failure_title');
}

export async function findReport(db: Queryable, id: number, lock = false): Promise<FailureReport | undefined> {
  const q = reportQuery(db).where('f.id', id);
  if (lock) q.forUpdate('f');
  const row = (await q.first()) as ReportRow | undefined;
  return row ? toReport(row) : undefined;
}

export type { CodeRow, ReportRow };
