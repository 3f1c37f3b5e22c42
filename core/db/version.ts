import type { Knex } from 'knex';
import { conflict, notFound } from '../errors';

/**
 * A record read under lock for a write: it must exist and, when the caller names the version it
 * read, still be at that version. Optimistic concurrency: a form opened before someone else saved
 * is refused (`conflict`, rule `current_version`) instead of writing over their change.
 * `name` says the record in the plant's words (e.g. "tool M-100"); by default "<entity> <id>".
 */
export function atVersion<T extends { version: number }>(
  record: T | undefined,
  entity: string,
  id: number,
  version: number | undefined,
  name: (record: T) => string = () => `${entity} ${id}`,
): T {
  if (!record) throw notFound(entity, id);
  if (version !== undefined && version !== record.version) {
    throw conflict(`${name(record)} was changed by someone else (version ${record.version}, not ${version})`, 'version', 'current_version');
  }
  return record;
}

/** The columns every versioned write sets: the next version and the time of the change. */
export function nextVersion(trx: Knex.Transaction, before: { version: number }): { version: number; updated_at: Knex.Raw } {
  return { version: before.version + 1, updated_at: trx.fn.now() };
}
