import type { AuditEvent } from './query';

/** The columns of an audit export (REST API and dashboard alike), one event a row. */
export const AUDIT_CSV_COLUMNS = ['seq', 'id', 'at', 'actorId', 'actorName', 'actorRole', 'via', 'action', 'entity', 'entityId', 'before', 'after'] as const;

/** One CSV field (RFC 4180): quoted when needed; a leading = + - @ is defused so a spreadsheet shows it as text, never runs it. */
export function csvField(value: unknown): string {
  let s = value == null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** One audit event as a CSV line (without its line end). */
export function auditCsvRow(e: AuditEvent): string {
  return [e.seq, e.id, e.at, e.actor.id, e.actor.name, e.actor.role, e.actor.via, e.action, e.entity, e.entityId, e.before, e.after].map(csvField).join(',');
}
