import type { Knex } from 'knex';
import { at, atOrNull, recordMapper } from '../db/record';
import type { ToolMountTable } from '../db/tables';
import type { ToolStatus } from '../tools/schema';
import type { Mount } from './schema';

type Queryable = Knex | Knex.Transaction;

/** A mount row with its tool and press, as mountQuery selects it. */
type MountRow = ToolMountTable & {
  asset_number: string;
  tool_name: string;
  tool_status: ToolStatus;
  press_code: string;
  press_name: string;
};

const mount = recordMapper<MountRow, Mount>({
  id: 'id',
  tool: (r) => ({ id: r.tool_id, assetNumber: r.asset_number, name: r.tool_name, status: r.tool_status }),
  press: (r) => ({ id: r.press_id, code: r.press_code, name: r.press_name }),
  mountedAt: at('mounted_at'),
  unmountedAt: atOrNull('unmounted_at'),
  mountedBy: 'mounted_by',
  unmountedBy: 'unmounted_by',
  note: 'note',
});

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

export const toMount = mount.toRecord;

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
