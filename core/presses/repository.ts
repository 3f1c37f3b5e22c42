import type { Knex } from 'knex';
import { iso } from '../db/transaction';
import { at, recordMapper } from '../db/record';
import type { PressTable } from '../db/tables';
import type { Press } from './schema';

type Queryable = Knex | Knex.Transaction;

/** A press row with its open mount's tool, as pressQuery selects it. */
type PressRow = PressTable & { tool_id?: number | null; tool_asset_number?: string | null; tool_name?: string | null; mounted_at?: Date | null };

const press = recordMapper<PressRow, Press>({
  id: 'id',
  code: 'code',
  name: 'name',
  tonnage: 'tonnage',
  opcuaEndpoint: 'opcua_endpoint',
  location: 'location',
  active: 'active',
  createdAt: at('created_at'),
  updatedAt: at('updated_at'),
  tool: (r) => (r.tool_id ? { id: r.tool_id, assetNumber: r.tool_asset_number!, name: r.tool_name!, mountedAt: iso(r.mounted_at)! } : null),
});

/** The columns a create or an update of a press writes, from the fields given. */
export const pressColumns = press.writable(['code', 'name', 'tonnage', 'opcuaEndpoint', 'location', 'active']);

/** Presses with the tool mounted now (open mount), as one query. */
export function pressQuery(db: Queryable) {
  return db('presses as p')
    .leftJoin('tool_mounts as m', function joinOpenMount() {
      this.on('m.press_id', 'p.id').andOnNull('m.unmounted_at');
    })
    .leftJoin('tools as t', 't.id', 'm.tool_id')
    .select('p.*', 't.id as tool_id', 't.asset_number as tool_asset_number', 't.name as tool_name', 'm.mounted_at as mounted_at');
}

export const toPress = press.toRecord;

export async function findPress(db: Queryable, where: { id: number } | { code: string }): Promise<Press | undefined> {
  const q = pressQuery(db);
  if ('id' in where) q.where('p.id', where.id);
  else q.where('p.code', where.code.toUpperCase());
  const row = (await q.first()) as PressRow | undefined;
  return row ? toPress(row) : undefined;
}

/**
 * Lock a press row for a write (a mount, an update) and return it as it is now. Lock a tool
 * before its press, everywhere, so mounts and unmounts cannot deadlock.
 */
export async function lockPress(trx: Knex.Transaction, id: number): Promise<Press | undefined> {
  const locked = await trx('presses').where('id', id).forUpdate().first('id');
  return locked ? findPress(trx, { id }) : undefined;
}

export type { PressRow };
