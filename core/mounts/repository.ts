import type { Knex } from 'knex';
import { iso } from '../db/transaction';
import type { ToolStatus } from '../tools/schema';
import type { Mount } from './schema';

type Queryable = Knex | Knex.Transaction;

interface MountRow {
  id: number;
  tool_id: number;
  press_id: number;
  mounted_at: Date;
  unmounted_at: Date | null;
  mounted_by: string;
  unmounted_by: string | null;
  note: string | null;
  asset_number: string;
  tool_name: string;
  tool_status: ToolStatus;
  press_code: string;
  press_name: string;
}

/** Mount spans with their tool and press, as one query. */
export function mountQuery(db: Queryable) {
  return db('tool_mounts as m')
    .join('tools as t', 't.id', 'm.tool_id')
    .join('presses as p', 'p.id', 'm.press_id')
    .select(
      'm.*',
      't.asset_number as asset_number',
      't.name as tool_name',
      't.status as tool_status',
      'p.code as press_code',
      'p.name as press_name',
    );
}

export function toMount(row: MountRow): Mount {
  return {
    id: row.id,
    tool: { id: row.tool_id, assetNumber: row.asset_number, name: row.tool_name, status: row.tool_status },
    press: { id: row.press_id, code: row.press_code, name: row.press_name },
    mountedAt: iso(row.mounted_at)!,
    unmountedAt: iso(row.unmounted_at),
    mountedBy: row.mounted_by,
    unmountedBy: row.unmounted_by,
    note: row.note,
  };
}

export async function findMount(db: Queryable, id: number): Promise<Mount | undefined> {
  const row = (await mountQuery(db).where('m.id', id).first()) as MountRow | undefined;
  return row ? toMount(row) : undefined;
}

/** The open mount of a tool or of a press, if any. */
export async function findOpenMount(db: Queryable, where: { toolId: number } | { pressId: number }): Promise<Mount | undefined> {
  const q = mountQuery(db).whereNull('m.unmounted_at');
  if ('toolId' in where) q.where('m.tool_id', where.toolId);
  else q.where('m.press_id', where.pressId);
  const row = (await q.first()) as MountRow | undefined;
  return row ? toMount(row) : undefined;
}

/** When the last closed mount of a tool or press ended; a new mount may not start before it. */
export async function lastUnmountedAt(db: Queryable, where: { toolId: number } | { pressId: number }): Promise<Date | null> {
  const q = db('tool_mounts').whereNotNull('unmounted_at');
  if ('toolId' in where) q.where('tool_id', where.toolId);
  else q.where('press_id', where.pressId);
  const row = (await q.max({ last: 'unmounted_at' }).first()) as { last: Date | string | null } | undefined;
  return row?.last == null ? null : new Date(row.last);
}

/**
 * The tool mounted on a press at an instant, or null: what attributes a shot reading to a tool.
 * Spans are [mounted_at, unmounted_at): at the instant of a swap the incoming tool is mounted.
 * Not a service (no actor): shot counting calls it inside its own transaction.
 */
export async function toolMountedAt(db: Queryable, pressId: number, at: Date): Promise<number | null> {
  const row = (await db('tool_mounts')
    .where('press_id', pressId)
    .andWhere('mounted_at', '<=', at)
    .andWhere((w) => w.whereNull('unmounted_at').orWhere('unmounted_at', '>', at))
    .orderBy('mounted_at', 'desc')
    .first('tool_id')) as { tool_id: number } | undefined;
  return row ? row.tool_id : null;
}

export type { MountRow };
