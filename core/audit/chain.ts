import { createHash } from 'node:crypto';
import type { AuditEventTable } from '../db/tables';

/**
 * The hash chain of audit events, shared by recordAudit, the migration that chains older events and
 * the verifier. Two hashes per event:
 * - content_hash = sha256(canonical JSON of the event's own fields), computed in core when it is recorded;
 * - hash = sha256(prev_hash + content_hash) (prev_hash '' for the first event), computed at commit by the
 *   trigger of migration 008, which also numbers the event (`seq`, 1, 2, 3, … in commit order).
 * Both are lower-case hex. Anyone can recompute them from the rows with this file alone.
 */

/** The fields of an event that its content hash covers, as the database gives them back. */
export type AuditContent = Pick<AuditEventTable, 'actor_id' | 'actor_name' | 'actor_role' | 'via' | 'action' | 'entity' | 'entity_id' | 'before' | 'after'> & {
  at: Date | string;
};

/**
 * JSON with object keys sorted (UTF-16 order) at every depth and no spaces (RFC 8785 for what JSON.parse
 * yields): jsonb hands objects back in its own key order, so the hash must not depend on key order.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The content hash. `at` counts to the millisecond (what a JS Date holds on both drivers); before and
 * after as JSON.parse gives them back from jsonb, so a value hashes the same written and read back.
 */
export function contentHash(e: AuditContent): string {
  return sha256(
    canonicalJson({
      at: new Date(e.at).toISOString(),
      actor_id: e.actor_id,
      actor_name: e.actor_name,
      actor_role: e.actor_role,
      via: e.via ?? null,
      action: e.action,
      entity: e.entity,
      entity_id: e.entity_id,
      before: e.before ?? null,
      after: e.after ?? null,
    }),
  );
}

/** An event's link hash from the previous event's hash (null for the first) and its content hash. */
export function linkHash(prevHash: string | null, content: string): string {
  return sha256((prevHash ?? '') + content);
}

/** The same link hash in SQL, for the commit-time trigger (must stay equal to linkHash). */
export const LINK_HASH_SQL = (prev: string, content: string): string =>
  `encode(sha256(convert_to(coalesce(${prev}, '') || ${content}, 'UTF8')), 'hex')`;
