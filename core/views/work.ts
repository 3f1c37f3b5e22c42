import type { Knex } from 'knex';
import { z } from 'zod';
import type { Actor, UserRole } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { listAuditInput, type AuditEvent } from '../audit/query';
import { auditExportFileName, auditExportPages } from '../audit/export';
import { AUDIT_CSV_COLUMNS, auditCsvRow } from '../audit/csv';
import { parse } from '../validate';

/**
 * Read models of the shop-floor work pages (issue 6): who an action can be assigned to, and the
 * audit log as a file to download. Each checks the actor's permission first; the pages only show.
 */

export interface Assignee {
  id: number;
  username: string;
  displayName: string;
  role: UserRole;
}

export const assigneesInput = z.object({}).strict();

/**
 * Active users an action can be given to, by display name. For whoever may assign actions: the
 * full user list (`user.read`) stays with admins, this shows only names and roles.
 */
export async function listAssignees(db: Knex, actor: Actor, input?: unknown): Promise<Assignee[]> {
  authorize(actor, 'action.assign');
  parse(assigneesInput, input ?? {});
  const rows = (await db('users').where('active', true).select('id', 'username', 'display_name', 'role').orderBy(['display_name', 'username'])) as {
    id: number;
    username: string;
    display_name: string;
    role: UserRole;
  }[];
  return rows.map((r) => ({ id: Number(r.id), username: r.username, displayName: r.display_name, role: r.role }));
}

const filterShape = listAuditInput.shape;

export const exportAuditInput = z
  .object({
    format: z.enum(['csv', 'json']).default('csv'),
    entity: filterShape.entity,
    entityId: filterShape.entityId,
    actorId: filterShape.actorId,
    from: filterShape.from,
    to: filterShape.to,
  })
  .strict();

export interface AuditExport {
  filename: string;
  mimeType: string;
  count: number;
  content: string;
}

/**
 * The audit log (admins: `audit.read`), filtered like listAuditEvents, newest first, as a CSV or
 * JSON file's content with a file name: the page offers it as a download.
 */
export async function exportAuditEvents(db: Knex, actor: Actor, input: unknown): Promise<AuditExport> {
  authorize(actor, 'audit.read');
  const { format, ...filter } = parse(exportAuditInput, input ?? {});
  // The query's own schema takes the filter as given (it parses strings and dates itself).
  const raw = (input ?? {}) as Record<string, unknown>;
  const given: Record<string, unknown> = Object.fromEntries(Object.keys(filter).filter((k) => raw[k] !== undefined).map((k) => [k, raw[k]]));
  // A download is held in memory whole: bounded.
  const events: AuditEvent[] = [];
  for await (const page of await auditExportPages(db, actor, given, { buffered: true })) events.push(...page);
  const filename = auditExportFileName(format);
  if (format === 'json') return { filename, mimeType: 'application/json', count: events.length, content: JSON.stringify(events, null, 2) };
  const content = [AUDIT_CSV_COLUMNS.join(','), ...events.map(auditCsvRow)].join('\r\n') + '\r\n';
  return { filename, mimeType: 'text/csv', count: events.length, content };
}
