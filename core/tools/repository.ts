import type { Knex } from 'knex';
import { iso } from '../db/transaction';
import { at, atOrNull, count, countOrNull, recordMapper } from '../db/record';
import type { ToolCavityTable, ToolTable } from '../db/tables';
import type { Cavity, Tool } from './schema';

type Queryable = Knex | Knex.Transaction;

/** A tool row with its open mount's press, as toolQuery selects it. */
type ToolRow = ToolTable & { press_id?: number | null; press_code?: string | null; mounted_at?: Date | null };
type CavityRow = ToolCavityTable;

const cavity = recordMapper<CavityRow, Cavity>({
  number: 'number',
  state: 'state',
  blockedReason: 'blocked_reason',
  lifetimeShots: count('lifetime_shots'),
});

/** A tool from its row and its cavities' rows (activeCavities and cavities come from those). */
const tool = recordMapper<ToolRow & { cavities: Cavity[] }, Tool>({
  id: 'id',
  assetNumber: 'asset_number',
  name: 'name',
  partNumbers: (r) => r.part_numbers ?? [],
  customer: 'customer',
  owner: 'owner',
  toolmaker: 'toolmaker',
  year: 'year',
  spiClass: 'spi_class',
  cavityCount: 'cavity_count',
  activeCavities: (r) => r.cavities.filter((c) => c.state === 'active').length,
  cavities: 'cavities',
  hotRunnerZones: 'hot_runner_zones',
  expectedLifetimeShots: countOrNull('expected_lifetime_shots'),
  lifetimeShots: count('lifetime_shots'),
  status: 'status',
  location: 'location',
  notes: 'notes',
  retiredAt: atOrNull('retired_at'),
  retiredReason: 'retired_reason',
  version: 'version',
  createdAt: at('created_at'),
  updatedAt: at('updated_at'),
  press: (r) => (r.press_id ? { id: r.press_id, code: r.press_code!, mountedAt: iso(r.mounted_at)! } : null),
});

/** The columns a create or an update of a tool writes, from the fields given (`partNumbers` is JSON: written apart). */
export const toolColumns = tool.writable([
  'assetNumber', 'name', 'customer', 'owner', 'toolmaker', 'year', 'spiClass', 'cavityCount',
  'hotRunnerZones', 'expectedLifetimeShots', 'lifetimeShots', 'status', 'location', 'notes',
]);

/** Tools with their current press (open mount), as one query. */
export function toolQuery(db: Queryable) {
  return db('tools as t')
    .leftJoin('tool_mounts as m', function joinOpenMount() {
      this.on('m.tool_id', 't.id').andOnNull('m.unmounted_at');
    })
    .leftJoin('presses as p', 'p.id', 'm.press_id')
    .select('t.*', 'p.id as press_id', 'p.code as press_code', 'm.mounted_at as mounted_at');
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
  return rows.map((r) => tool.toRecord({ ...r, cavities: (byTool.get(r.id) ?? []).map(cavity.toRecord) }));
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
