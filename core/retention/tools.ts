import fs from 'node:fs/promises';
import path from 'node:path';
import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { recordAudit } from '../audit/record';
import { deletedCount } from '../audit/purge';
import { inTransaction, iso } from '../db/transaction';
import type { PhotoStore } from '../photos/store';

/**
 * The purge of a retired tool's records (IATF 16949 practice: kept while the tool is in use and a
 * period after it, `tool_records` in core/retention/policy.ts). The period counts from the later of the
 * retirement and the tool's last shot reading (its last part). Everything of the tool goes in one
 * transaction with its own audit event; its photo files are deleted once that has committed. A crash in
 * between leaves files no row names: the next purge removes those (`removeOrphanPhotoFiles`).
 * Its audit events stay: the trail has its own period.
 */

/** What goes with a tool, children first (the foreign keys' order); each counted in the audit event. */
export const TOOL_RECORD_TABLES = [
  'photos', 'actions', 'inspection_results', 'pm_events', 'failure_reports', 'inspections', 'pm_plans', 'tool_mounts',
  'shot_readings', 'shot_months', 'tool_cavities', 'notification_events', 'legal_holds', 'inspection_template_tools', 'tools',
] as const;
export type ToolRecordTable = (typeof TOOL_RECORD_TABLES)[number];

const PHOTO_FILE_COLUMNS = ['path', 'display_path', 'thumbnail_path', 'annotated_path'] as const;

/** The retired tools (or just `only`) whose period has passed by `before`, none under an open legal hold. */
export async function expiredTools(db: Knex, before: Date, only?: number): Promise<number[]> {
  const q = db('tools as t');
  if (only !== undefined) q.where('t.id', only);
  const rows = (await q
    .where('t.status', 'retired')
    .whereNotNull('t.retired_at')
    .whereRaw('greatest(t.retired_at, (SELECT max(r.at) FROM shot_readings r WHERE r.tool_id = t.id)) < ?', [before])
    .whereNotExists((q) => q.select(db.raw('1')).from('legal_holds as h').whereRaw('h.tool_id = t.id').whereNull('h.released_at'))
    .orderBy('t.id')
    .select('t.id')) as { id: number }[];
  return rows.map((r) => r.id);
}

export interface ToolPurge {
  toolId: number;
  assetNumber: string;
  removed: Record<ToolRecordTable, number>;
  /** Photo files deleted after the commit. */
  files: number;
}

/**
 * Purge one tool, re-checked under its row lock (still retired, still past `before`, no hold placed
 * meanwhile); null when it no longer qualifies. An error rolls the whole tool back.
 */
export async function purgeTool(db: Knex, actor: Actor, toolId: number, before: Date, store: PhotoStore): Promise<ToolPurge | null> {
  let name = `tool ${toolId}`;
  const done = await inTransaction(db, async (trx) => {
    const tool = (await trx('tools').where('id', toolId).forUpdate().first('id', 'asset_number', 'status', 'retired_at')) as { id: number; asset_number: string; status: string; retired_at: Date | null } | undefined;
    if (!tool || tool.status !== 'retired') return null;
    name = `tool ${tool.asset_number} (id ${toolId})`;
    if (!(await expiredTools(trx, before, toolId)).length) return null;
    const photos = (await trx('photos').where('tool_id', toolId).select(...PHOTO_FILE_COLUMNS)) as Record<string, string | null>[];
    const files = photos.flatMap((p) => PHOTO_FILE_COLUMNS.map((c) => p[c]).filter((f): f is string => Boolean(f)));
    const of = (table: string) => trx(table).where('tool_id', toolId);
    const inspections = trx('inspections').where('tool_id', toolId).select('id');
    // A checklist for chosen tools that named only this one would apply to every tool once the tool is
    // gone (no tools = all): it is taken out of use instead, and named in the audit event.
    const orphanedTemplates = (await trx('inspection_template_tools as a')
      .where('a.tool_id', toolId)
      .whereNotExists((q) => q.select(trx.raw('1')).from('inspection_template_tools as b').whereRaw('b.template_id = a.template_id').whereNot('b.tool_id', toolId))
      .pluck('a.template_id')) as number[];
    if (orphanedTemplates.length) await trx('inspection_templates').whereIn('id', orphanedTemplates).update({ active: false, updated_at: trx.fn.now() });
    const removed = {} as Record<ToolRecordTable, number>;
    for (const table of TOOL_RECORD_TABLES) {
      const q = table === 'inspection_results' ? trx(table).whereIn('inspection_id', inspections) : table === 'tools' ? trx(table).where('id', toolId) : of(table);
      removed[table] = deletedCount(await q.delete());
    }
    const after = { assetNumber: tool.asset_number, retiredAt: iso(tool.retired_at), before: before.toISOString(), removed, files: files.length, templatesTakenOutOfUse: orphanedTemplates };
    await recordAudit(trx, actor, { action: 'retention.purge_tool', entity: 'tool', entityId: toolId, after });
    return { toolId, assetNumber: tool.asset_number, removed, files };
  }).catch((err: Error) => {
    throw new Error(`${name} could not be purged, nothing of it was deleted: ${err.message}`, { cause: err });
  });
  if (!done) return null;
  await store.remove(done.files);
  return { ...done, files: done.files.length };
}

/** A crash between a commit and its file deletion, or an upload in progress: files younger than this stay. */
export const ORPHAN_GRACE_MS = 24 * 3_600_000;

/**
 * Delete photo files that no photo row names (left by a purge or an annotation that stopped between its
 * commit and its clean-up), one directory (`ab/`) at a time. Files modified within ORPHAN_GRACE_MS of
 * `now` stay: an upload writes its files before its row commits.
 */
export async function removeOrphanPhotoFiles(db: Knex, store: PhotoStore, now: Date): Promise<number> {
  let removed = 0;
  const dirs = await fs.readdir(store.dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  for (const d of dirs) {
    // Only the store's own layout (ab/<32 hex>.<variant>, a stopped write's .tmp too): nothing else put there.
    if (!d.isDirectory() || !/^[0-9a-f]{2}$/.test(d.name)) continue;
    const names = (await fs.readdir(path.join(store.dir, d.name))).filter((n) => n.startsWith(d.name) && /^[0-9a-f]{32}\./.test(n));
    if (!names.length) continue;
    const rows = (await db('photos').where('path', 'like', `${d.name}/%`).select(...PHOTO_FILE_COLUMNS)) as Record<string, string | null>[];
    const named = new Set(rows.flatMap((r) => PHOTO_FILE_COLUMNS.map((c) => r[c])));
    const orphans: string[] = [];
    for (const name of names) {
      const file = `${d.name}/${name}`;
      if (named.has(file)) continue;
      const stat = await fs.stat(path.join(store.dir, file)).catch(() => null);
      if (stat?.isFile() && stat.mtimeMs < now.getTime() - ORPHAN_GRACE_MS) orphans.push(file);
    }
    await store.remove(orphans);
    removed += orphans.length;
  }
  return removed;
}
