import { backendOf, type Db } from './connect';

/**
 * Housekeeping a PostgreSQL server's autovacuum does by itself and embedded PGlite never does: the
 * planner gets no statistics for tables that grow by the thousand a day (shot readings, audit
 * events), so a list may be planned as if the table were empty; and dead row versions (deleted
 * rows, updates of indexed columns) keep their space and index entries. In-page pruning handles
 * the plain updates of every shot batch; VACUUM (ANALYZE) the rest. Blocks PGlite's one
 * connection while it runs (callers queue meanwhile): cheap once pages are all-visible.
 */
export async function maintainEmbedded(db: Db): Promise<{ ran: boolean; ms: number }> {
  if (backendOf(db) !== 'pglite') return { ran: false, ms: 0 };
  const started = Date.now();
  await db.raw('VACUUM (ANALYZE)');
  return { ran: true, ms: Date.now() - started };
}

/** How often the runtime maintains an embedded database (TOOLROOM_PGLITE_MAINTENANCE_MINUTES, default 30). */
export function maintenanceIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
  const minutes = Number(env.TOOLROOM_PGLITE_MAINTENANCE_MINUTES);
  return (Number.isFinite(minutes) && minutes > 0 ? minutes : 30) * 60_000;
}
