import type { Knex } from 'knex';
import { iso } from '../db/transaction';
import type { Press } from './schema';

type Queryable = Knex | Knex.Transaction;

interface PressRow {
  id: number;
  code: string;
  name: string;
  tonnage: number | null;
  opcua_endpoint: string | null;
  location: string | null;
  active: boolean;
  created_at: Date;
  updated_at: Date;
  tool_id?: number | null;
  tool_asset_number?: string | null;
  tool_name?: string | null;
  mounted_at?: Date | null;
}

/** Presses with the tool mounted now (open mount), as one query. */
export function pressQuery(db: Queryable) {
  return db('presses as p')
    .leftJoin('tool_mounts as m', function joinOpenMount() {
      this.on('m.press_id', 'p.id').andOnNull('m.unmounted_at');
    })
    .leftJoin('tools as t', 't.id', 'm.tool_id')
    .select('p.*', 't.id as tool_id', 't.asset_number as tool_asset_number', 't.name as tool_name', 'm.mounted_at as mounted_at');
}

export function toPress(row: PressRow): Press {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    tonnage: row.tonnage,
    opcuaEndpoint: row.opcua_endpoint,
    location: row.location,
    active: row.active,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
    tool: row.tool_id
      ? { id: row.tool_id, assetNumber: row.tool_asset_number!, name: row.tool_name!, mountedAt: iso(row.mounted_at)! }
      : null,
  };
}

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
