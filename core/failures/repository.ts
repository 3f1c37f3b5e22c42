import type { Knex } from 'knex';
import { iso } from '../db/transaction';
import type { Component, FailureCode, FailureReport, FailureStatus, Severity } from './schema';

type Queryable = Knex | Knex.Transaction;

interface CodeRow {
  id: number;
  code: string;
  title: string;
  component: Component;
  description: string | null;
  default_severity: Severity;
  active: boolean;
  created_at: Date;
  updated_at: Date;
}

interface ReportRow {
  id: number;
  tool_id: number;
  asset_number: string;
  failure_code_id: number;
  failure_code: string;
  failure_title: string;
  inspection_id: number | null;
  severity: Severity;
  component: Component;
  cavity: number | null;
  shot_count: number | string;
  description: string | null;
  root_cause: string | null;
  status: FailureStatus;
  reported_by: string;
  reported_at: Date;
  closed_at: Date | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export function toCode(row: CodeRow): FailureCode {
  return {
    id: row.id,
    code: row.code,
    title: row.title,
    component: row.component,
    description: row.description,
    defaultSeverity: row.default_severity,
    active: row.active,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
  };
}

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

export function toReport(row: ReportRow): FailureReport {
  return {
    id: row.id,
    toolId: row.tool_id,
    assetNumber: row.asset_number,
    failureCodeId: row.failure_code_id,
    failureCode: row.failure_code,
    failureTitle: row.failure_title,
    inspectionId: row.inspection_id,
    severity: row.severity,
    component: row.component,
    cavity: row.cavity,
    shotCount: Number(row.shot_count),
    description: row.description,
    rootCause: row.root_cause,
    status: row.status,
    reportedBy: row.reported_by,
    reportedAt: iso(row.reported_at)!,
    closedAt: iso(row.closed_at),
    version: row.version,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
  };
}

export async function findReport(db: Queryable, id: number, lock = false): Promise<FailureReport | undefined> {
  const q = reportQuery(db).where('f.id', id);
  if (lock) q.forUpdate('f');
  const row = (await q.first()) as ReportRow | undefined;
  return row ? toReport(row) : undefined;
}

export type { CodeRow, ReportRow };
