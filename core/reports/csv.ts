/**
 * CSV exports of tools, inspections, failures and actions over a time range, for spreadsheets and
 * ERP imports: streamed page by page (memory stays bounded however many rows), one audit event per
 * export (who took which table over which range). Fields are RFC 4180 and defused like the audit
 * export's (core/audit/csv.ts: a leading = + - @ becomes text).
 */
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { recordAudit } from '../audit/record';
import { csvField } from '../audit/csv';
import { inTransaction } from '../db/transaction';
import { parse, timestamp } from '../validate';

export const EXPORT_KINDS = ['tools', 'inspections', 'failures', 'actions'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

/** Which time each table's range applies to; without from/to, everything. */
export const exportInput = z
  .object({ kind: z.enum(EXPORT_KINDS), from: timestamp.optional(), to: timestamp.optional() })
  .strict()
  .refine((v) => !v.from || !v.to || v.from < v.to, { path: ['to'], message: 'must be after from', params: { rule: 'after_from' } });

interface Table {
  /** The time column the range filters on. */
  time: string;
  /** Column name in the file → SQL expression. */
  columns: Record<string, string>;
  query: (db: Knex) => Knex.QueryBuilder;
}

const TABLES: Record<ExportKind, Table> = {
  tools: {
    time: 'x.created_at',
    columns: {
      id: 'x.id', assetNumber: 'x.asset_number', name: 'x.name', customer: 'x.customer', owner: 'x.owner', toolmaker: 'x.toolmaker',
      year: 'x.year', spiClass: 'x.spi_class', cavityCount: 'x.cavity_count', status: 'x.status', location: 'x.location',
      lifetimeShots: 'x.lifetime_shots', expectedLifetimeShots: 'x.expected_lifetime_shots', createdAt: 'x.created_at',
    },
    query: (db) => db('tools as x'),
  },
  inspections: {
    time: 'x.performed_at',
    columns: {
      id: 'x.id', assetNumber: 't.asset_number', kind: 'x.kind', template: 'it.code', outcome: 'x.outcome', performedAt: 'x.performed_at',
      performedBy: 'x.performed_by', lifetimeShots: 'x.lifetime_shots', findings: 'x.findings', minutesSpent: 'x.minutes_spent', cost: 'x.cost',
    },
    query: (db) => db('inspections as x').join('tools as t', 't.id', 'x.tool_id').join('inspection_templates as it', 'it.id', 'x.template_id'),
  },
  failures: {
    time: 'x.reported_at',
    columns: {
      id: 'x.id', assetNumber: 't.asset_number', code: 'c.code', title: 'c.title', severity: 'x.severity', component: 'x.component', cavity: 'x.cavity',
      shotCount: 'x.shot_count', status: 'x.status', reportedAt: 'x.reported_at', reportedBy: 'x.reported_by', description: 'x.description',
      rootCause: 'x.root_cause', closedAt: 'x.closed_at',
    },
    query: (db) => db('failure_reports as x').join('tools as t', 't.id', 'x.tool_id').join('failure_codes as c', 'c.id', 'x.failure_code_id'),
  },
  actions: {
    time: 'x.created_at',
    columns: {
      id: 'x.id', assetNumber: 't.asset_number', kind: 'x.kind', title: 'x.title', status: 'x.status', failureReportId: 'x.failure_report_id',
      assignee: 'u.display_name', dueDate: "to_char(x.due_date, 'YYYY-MM-DD')", createdAt: 'x.created_at', completedAt: 'x.completed_at',
      resolution: 'x.resolution', verifiedAt: 'x.verified_at', minutesSpent: 'x.minutes_spent', cost: 'x.cost',
    },
    query: (db) => db('actions as x').join('tools as t', 't.id', 'x.tool_id').leftJoin('users as u', 'u.id', 'x.assignee_id'),
  },
};

const PAGE = 1000;

/** A value as a CSV cell: times in ISO 8601 (UTC), the rest as text. */
const cell = (v: unknown) => csvField(v instanceof Date ? v.toISOString() : v);

export interface CsvExport {
  filename: string;
  /** The file's lines, header first, each ending in CRLF; pulled page by page. */
  lines: AsyncIterable<string>;
}

/**
 * Check the role, validate, audit, and hand back the export to stream. The audit event commits before
 * the first byte: an export that breaks off midway was still taken.
 */
export async function exportCsv(db: Knex, actor: Actor, input: unknown): Promise<CsvExport> {
  authorize(actor, 'report.export');
  const v = parse(exportInput, input);
  const table = TABLES[v.kind];
  // An export ends where it began: rows written meanwhile would shift the pages.
  const to = v.to ?? new Date();
  await inTransaction(db, (trx) =>
    recordAudit(trx, actor, { action: 'report.export', entity: 'report', entityId: v.kind, after: { kind: v.kind, from: v.from ?? null, to } }),
  );
  const names = Object.keys(table.columns);
  const select = names.map((n) => db.raw(`${table.columns[n]} AS ??`, [n]));
  async function* lines(): AsyncGenerator<string> {
    yield names.join(',') + '\r\n';
    for (let after = 0; ; ) {
      const q = table.query(db).select(select).where('x.id', '>', after).where(table.time, '<', to).orderBy('x.id').limit(PAGE);
      if (v.from) q.where(table.time, '>=', v.from);
      const rows = (await q) as Record<string, unknown>[];
      for (const row of rows) yield names.map((n) => cell(row[n])).join(',') + '\r\n';
      if (rows.length < PAGE) return;
      after = Number(rows[rows.length - 1].id);
    }
  }
  const stamp = to.toISOString().slice(0, 19).replaceAll(':', '');
  return { filename: `toolroom-${v.kind}-${stamp}.csv`, lines: lines() };
}
