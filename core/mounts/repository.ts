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
 * Not a service (no actor): shot counting calls it inside its own transaction.
 */
export async function toolMountedAt(db: Queryable, pressId: number, at: Date): Promise<number | null> {
  return (await mountSpans(db, [pressId], at, at))(pressId, at);
}

/** One span of a tool on a press, as attribution needs it. */
interface Span {
  toolId: number;
  mountedAt: number;
  unmountedAt: number | null;
}

/** The tool on a press at an instant, or null, answered from spans fetched once. */
export type ToolOnPressAt = (pressId: number, at: Date) => number | null;

/**
 * The mount spans of some presses that overlap [from, to], as one query: attributes a batch of
 * shot readings without a query per reading. Spans are [mounted_at, unmounted_at): at the instant
 * of a swap the incoming tool is mounted.
 */
export async function mountSpans(db: Queryable, pressIds: number[], from: Date, to: Date): Promise<ToolOnPressAt> {
  const byPress = new Map<number, Span[]>();
  if (pressIds.length) {
    const rows = (await db('tool_mounts')
      .whereIn('press_id', pressIds)
      .andWhere('mounted_at', '<=', to)
      .andWhere((w) => w.whereNull('unmounted_at').orWhere('unmounted_at', '>', from))
      .orderBy('mounted_at', 'desc')
      .select('press_id', 'tool_id', 'mounted_at', 'unmounted_at')) as { press_id: number; tool_id: number; mounted_at: Date | string; unmounted_at: Date | string | null }[];
    for (const r of rows) {
      const span = { toolId: r.tool_id, mountedAt: new Date(r.mounted_at).getTime(), unmountedAt: r.unmounted_at === null ? null : new Date(r.unmounted_at).getTime() };
      byPress.set(r.press_id, [...(byPress.get(r.press_id) ?? []), span]);
    }
  }
  return (pressId, at) => {
    const t = at.getTime();
    const span = byPress.get(pressId)?.find((s) => s.mountedAt <= t && (s.unmountedAt === null || s.unmountedAt > t));
    return span ? span.toolId : null;
  };
}

export type { MountRow };
