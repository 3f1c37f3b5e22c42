import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { audited } from '../audit/audited';
import { inTransaction } from '../db/transaction';
import { conflict, notFound } from '../errors';
import { getByKey } from '../records/lookup';
import { parse, type Page } from '../validate';
import { findPress, lockPress, pressColumns, pressQuery, toPress, type PressRow } from './repository';
import { createPressInput, deactivatePressInput, getPressInput, listPressesInput, updatePressInput, type Press } from './schema';
import { containsPattern, listPage } from '../db/page';

/** Register a press (injection moulding machine) and, if it has one, its OPC-UA endpoint. */
export async function createPress(db: Knex, actor: Actor, input: unknown): Promise<Press> {
  authorize(actor, 'press.create');
  const v = parse(createPressInput, input);
  return inTransaction(db, async (trx) => {
    const [{ id }] = await trx('presses').insert(pressColumns(v)).returning('id');
    return audited(trx, actor, { action: 'press.create', entity: 'press', entityId: id }, findPress(trx, { id }));
  });
}

/** Change a press; a press with a tool on it stays active until the tool is unmounted. */
export async function updatePress(db: Knex, actor: Actor, input: unknown): Promise<Press> {
  authorize(actor, 'press.update');
  const v = parse(updatePressInput, input);
  return inTransaction(db, async (trx) => {
    const before = await lockPress(trx, v.id);
    if (!before) throw notFound('press', v.id);
    if (v.active === false && before.tool) {
      throw conflict(`press ${before.code} holds tool ${before.tool.assetNumber}: unmount it first`, 'active', 'not_mounted');
    }
    await trx('presses').where('id', v.id).update({ ...pressColumns(v), updated_at: trx.fn.now() });
    return audited(trx, actor, { action: 'press.update', entity: 'press', entityId: v.id, before }, findPress(trx, { id: v.id }));
  });
}

/** Take a press out of use (it is kept with its history); one with a tool on it refuses, as updatePress does. */
export async function deactivatePress(db: Knex, actor: Actor, input: unknown): Promise<Press> {
  const { id } = parse(deactivatePressInput, input);
  return updatePress(db, actor, { id, active: false });
}

/** A press by `id` or by `code` (case does not matter), with the tool on it now. */
export async function getPress(db: Knex, actor: Actor, input: unknown): Promise<Press> {
  return getByKey(actor, 'press.read', getPressInput, input, 'press', (key) => findPress(db, key));
}

/** Presses by code, each with the tool mounted now; inactive ones only when asked for. */
export async function listPresses(db: Knex, actor: Actor, input: unknown): Promise<Page<Press>> {
  return listPage(db, actor, 'press.read', listPressesInput, input, {
    rows: (db) => pressQuery(db).orderBy('p.code'),
    count: (db) => db('presses as p'),
    filter: (q, v) => {
      if (!v.includeInactive) q.where('p.active', true);
      if (v.q) {
        const pattern = containsPattern(v.q);
        q.where((w) =>
          w.whereRaw('p.code ILIKE ?', [pattern]).orWhereRaw('p.name ILIKE ?', [pattern]).orWhereRaw('p.location ILIKE ?', [pattern]),
        );
      }
    },
    toItems: (list: PressRow[]) => list.map(toPress),
  });
}
