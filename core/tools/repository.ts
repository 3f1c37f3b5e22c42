import type { Knex } from 'knex';
import { iso } from '../db/transaction';
import type { Cavity, Tool, ToolStatus } from './schema';

type Queryable = Knex | Knex.Transaction;

interface ToolRow {
  id: number;
  asset_number: string;
  name: string;
  part_numbers: string[];
  customer: string | null;
  owner: string | null;
  toolmaker: string | null;
  year: number | null;
  spi_class: number | null;
  cavity_count: number;
  hot_runner_zones: number;
  expected_lifetime_shots: number | null;
  lifetime_shots: number;
  status: ToolStatus;
  location: string | null;
  notes: string | null;
  retired_at: Date | null;
  retired_reason: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
  press_id?: number | null;
  press_code?: string | null;
  mounted_at?: Date | null;
}

interface CavityRow {
  tool_id: number;
  number: number;
  state: 'active' | 'blocked';
  blocked_reason: string | null;
  lifetime_shots: number;
}

/** Tools with their current press (open mount), as one query. */
export function toolQuery(db: Queryable) {
  return db('tools as t')
    .leftJoin('tool_mounts as m', function joinOpenMount() {
      this.on('m.tool_id', 't.id').andOnNull('m.unmounted_at');
    })
    .leftJoin('presses as p', 'p.id', 'm.press_id')
    .select('t.*', 'p.id as press_id', 'p.code as press_code', 'm.mounted_at as mounted_at');
}

function toTool(row: ToolRow, cavities: CavityRow[]): Tool {
  const cavs: Cavity[] = cavities.map((c) => ({
    number: c.number,
    state: c.state,
    blockedReason: c.blocked_reason,
    lifetimeShots: Number(c.lifetime_shots),
  }));
  return {
    id: row.id,
    assetNumber: row.asset_number,
    name: row.name,
    partNumbers: row.part_numbers ?? [],
    customer: row.customer,
    owner: row.owner,
    toolmaker: row.toolmaker,
    year: row.year,
    spiClass: row.spi_class,
    cavityCount: row.cavity_count,
    activeCavities: cavs.filter((c) => c.state === 'active').length,
    cavities: cavs,
    hotRunnerZones: row.hot_runner_zones,
    expectedLifetimeShots: row.expected_lifetime_shots == null ? null : Number(row.expected_lifetime_shots),
    lifetimeShots: Number(row.lifetime_shots),
    status: row.status,
    location: row.location,
    notes: row.notes,
    retiredAt: iso(row.retired_at),
    retiredReason: row.retired_reason,
    version: row.version,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
    press: row.press_id ? { id: row.press_id, code: row.press_code!, mountedAt: iso(row.mounted_at)! } : null,
  };
}

/** Attach cavities to tool rows with one extra query. */
export async function hydrate(db: Queryable, rows: ToolRow[]): Promise<Tool[]> {
  if (rows.length === 0) return [];
  const cavities: CavityRow[] = await db('tool_cavities')
    .whereIn('tool_id', rows.map((r) => r.id))
    .orderBy(['tool_id', 'number']);
  const byTool = new Map<number, CavityRow[]>();
  for (const c of cavities) {
    const list = byTool.get(c.tool_id) ?? [];
    list.push(c);
    byTool.set(c.tool_id, list);
  }
  return rows.map((r) => toTool(r, byTool.get(r.id) ?? []));
}

export async function findTool(db: Queryable, where: { id: number } | { assetNumber: string }, lock = false): Promise<Tool | undefined> {
  const q = toolQuery(db);
  if ('id' in where) q.where('t.id', where.id);
  else q.where('t.asset_number', where.assetNumber);
  if (lock) q.forUpdate('t');
  const row = (await q.first()) as ToolRow | undefined;
  return row ? (await hydrate(db, [row]))[0] : undefined;
}

/** Write the full set of cavities 1..cavityCount with the given blocked ones, keeping shot counts. */
export async function writeCavities(
  trx: Knex.Transaction,
  toolId: number,
  cavityCount: number,
  blocked: { number: number; reason: string }[],
): Promise<void> {
  const reasons = new Map(blocked.map((b) => [b.number, b.reason]));
  await trx('tool_cavities').where('tool_id', toolId).andWhere('number', '>', cavityCount).delete();
  const rows = Array.from({ length: cavityCount }, (_, i) => {
    const number = i + 1;
    const reason = reasons.get(number);
    return { tool_id: toolId, number, state: reason ? 'blocked' : 'active', blocked_reason: reason ?? null };
  });
  await trx('tool_cavities').insert(rows).onConflict(['tool_id', 'number']).merge(['state', 'blocked_reason']);
}

export type { ToolRow };
