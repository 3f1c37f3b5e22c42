import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { audited } from '../audit/audited';
import { inTransaction } from '../db/transaction';
import { conflict } from '../errors';
import { atVersion, nextVersion } from '../db/version';
import { getByKey } from '../records/lookup';
import { parse, type Page } from '../validate';
import { findTool, hydrate, toolColumns, toolQuery, writeCavities, type ToolRow } from './repository';
import { createToolInput, getToolInput, listToolsInput, retireToolInput, updateToolInput, type Tool } from './schema';
import { containsPattern, listPage } from '../db/page';

/** Register a tool (mould) with its cavities. */
export async function createTool(db: Knex, actor: Actor, input: unknown): Promise<Tool> {
  authorize(actor, 'tool.create');
  const v = parse(createToolInput, input);
  return inTransaction(db, async (trx) => {
    const [{ id }] = await trx('tools')
      .insert({ ...toolColumns(v), part_numbers: JSON.stringify(v.partNumbers) })
      .returning('id');
    await writeCavities(trx, id, v.cavityCount, v.blockedCavities);
    return audited(trx, actor, { action: 'tool.create', entity: 'tool', entityId: id }, findTool(trx, { id }));
  });
}

/** Lock a tool for a write; it must exist and, when a version is given, still be at that version. */
export async function lockTool(trx: Knex.Transaction, id: number, version?: number): Promise<Tool> {
  return atVersion(await findTool(trx, { id }, true), 'tool', id, version, (t) => `tool ${t.assetNumber}`);
}

/** Change a tool's metadata, status (store / maintenance / toolmaker) or blocked cavities. */
export async function updateTool(db: Knex, actor: Actor, input: unknown): Promise<Tool> {
  authorize(actor, 'tool.update');
  const v = parse(updateToolInput, input);
  return inTransaction(db, async (trx) => {
    const before = await lockTool(trx, v.id, v.version);
    if (before.status === 'retired') throw conflict(`tool ${before.assetNumber} is retired`, 'id', 'not_retired');
    if (v.status && v.status !== before.status && before.press) {
      throw conflict(`tool ${before.assetNumber} is mounted on press ${before.press.code}: unmount it first`, 'status', 'not_mounted');
    }
    const cavityCount = v.cavityCount ?? before.cavityCount;
    const blocked =
      v.blockedCavities ??
      before.cavities.filter((c) => c.state === 'blocked').map((c) => ({ number: c.number, reason: c.blockedReason! }));
    const tooHigh = blocked.findIndex((b) => b.number > cavityCount);
    if (tooHigh >= 0) {
      throw conflict(`cavity ${blocked[tooHigh].number} is blocked but the tool would have ${cavityCount}`, 'cavityCount', 'covers_blocked_cavities');
    }
    const patch: Record<string, unknown> = { ...toolColumns(v), ...nextVersion(trx, before) };
    if (v.partNumbers !== undefined) patch.part_numbers = JSON.stringify(v.partNumbers);
    await trx('tools').where('id', v.id).update(patch);
    if (v.cavityCount !== undefined || v.blockedCavities !== undefined) {
      await writeCavities(trx, v.id, cavityCount, blocked);
    }
    return audited(trx, actor, { action: 'tool.update', entity: 'tool', entityId: v.id, before }, findTool(trx, { id: v.id }));
  });
}

/** Retire a tool: it stays with its history but leaves every working list. */
export async function retireTool(db: Knex, actor: Actor, input: unknown): Promise<Tool> {
  authorize(actor, 'tool.retire');
  const v = parse(retireToolInput, input);
  return inTransaction(db, async (trx) => {
    const before = await lockTool(trx, v.id, v.version);
    if (before.status === 'retired') throw conflict(`tool ${before.assetNumber} is already retired`, 'id', 'not_retired');
    if (before.press) throw conflict(`tool ${before.assetNumber} is mounted on press ${before.press.code}: unmount it first`, 'id', 'not_mounted');
    await trx('tools').where('id', v.id).update({
      status: 'retired',
      retired_at: trx.fn.now(),
      retired_reason: v.reason,
      ...nextVersion(trx, before),
    });
    await trx('pm_plans').where('tool_id', v.id).update({ active: false, updated_at: trx.fn.now() });
    return audited(trx, actor, { action: 'tool.retire', entity: 'tool', entityId: v.id, before }, findTool(trx, { id: v.id }));
  });
}

/** A tool by `id` or by `assetNumber` (case does not matter). */
export async function getTool(db: Knex, actor: Actor, input: unknown): Promise<Tool> {
  return getByKey(actor, 'tool.read', getToolInput, input, 'tool', (key) => findTool(db, key));
}

/**
 * Tools by status, customer and free text (words found in asset number, name, part numbers), by asset number.
 * Retired tools only appear when asked for by status or `includeRetired`.
 */
export async function listTools(db: Knex, actor: Actor, input: unknown): Promise<Page<Tool>> {
  return listPage(db, actor, 'tool.read', listToolsInput, input, {
    rows: (db) => toolQuery(db).orderBy('t.asset_number'),
    count: (db) => db('tools as t'),
    filter: (q, v) => {
      if (v.status) q.whereIn('t.status', Array.isArray(v.status) ? v.status : [v.status]);
      else if (!v.includeRetired) q.whereNot('t.status', 'retired');
      if (v.customer) q.whereRaw('lower(t.customer) = lower(?)', [v.customer]);
      // Every word must appear somewhere in the asset number, name or part numbers (search_text, migration 005).
      for (const word of (v.q ?? '').toLowerCase().split(/\s+/).filter(Boolean)) {
        q.whereRaw('t.search_text LIKE ?', [containsPattern(word)]);
      }
    },
    toItems: (list: ToolRow[]) => hydrate(db, list),
  });
}
