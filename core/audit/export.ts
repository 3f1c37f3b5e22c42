import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { COUNT_CAP } from '../db/page';
import { validationError } from '../errors';
import { listAuditEvents, type AuditEvent } from './query';

/** Events a page of an export holds: one query, and a bounded piece of memory. */
export const EXPORT_PAGE = 500;
/** At most this many events in an export held in memory (the lists' count cap); a wider one is refused, naming the filter to narrow. */
export const MAX_BUFFERED_EVENTS = COUNT_CAP;

export interface AuditExportOptions {
  /** The export is held in memory (a dashboard download): refuse more than MAX_BUFFERED_EVENTS. A stream needs no bound. */
  buffered?: boolean;
}

/**
 * An audit export (admins: `audit.read`), page by page, newest first; `filter` is listAuditEvents'
 * input without paging. The first page is read before this returns, so a refusal or a bad filter
 * is thrown before anything is sent. Events written meanwhile would shift the pages: the export
 * ends where it began. A consumer that stops early (a client went away) just stops iterating.
 */
export async function auditExportPages(
  db: Knex,
  actor: Actor,
  filter: Record<string, unknown>,
  options: AuditExportOptions = {},
): Promise<AsyncGenerator<AuditEvent[]>> {
  const given = { ...filter, to: filter.to === undefined ? new Date().toISOString() : filter.to };
  const page = (offset: number) => listAuditEvents(db, actor, { ...given, limit: EXPORT_PAGE, offset });
  const first = await page(0);
  if (options.buffered && first.totalCapped) {
    throw validationError([
      { field: 'from', rule: 'export_size', message: `more than ${MAX_BUFFERED_EVENTS.toLocaleString('en-US')} events: narrow the time span` },
    ]);
  }
  return (async function* () {
    let items = first.items;
    for (let offset = 0; ; ) {
      yield items;
      if (items.length < EXPORT_PAGE) return;
      offset += EXPORT_PAGE;
      items = (await page(offset)).items;
    }
  })();
}

/** The file name of an audit export made now: `toolroom-audit-<UTC time>.<extension>`. */
export function auditExportFileName(extension: string, now = new Date()): string {
  return `toolroom-audit-${now.toISOString().slice(0, 19).replaceAll(':', '')}.${extension}`;
}
