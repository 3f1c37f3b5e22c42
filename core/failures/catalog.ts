import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { recordAudit } from '../audit/record';
import { inTransaction } from '../db/transaction';
import { notFound } from '../errors';
import { getByKey } from '../records/lookup';
import { parse } from '../validate';
import { codeColumns, findCode, toCode, type CodeRow } from './repository';
import {
  COMPONENTS,
  COMPONENT_LABELS,
  createCodeInput,
  getCodeInput,
  listCodesInput,
  updateCodeInput,
  type CatalogGroup,
  type FailureCode,
} from './schema';

/** Add a failure code to the catalog. */
export async function createCode(db: Knex, actor: Actor, input: unknown): Promise<FailureCode> {
  authorize(actor, 'catalog.manage');
  const v = parse(createCodeInput, input);
  return inTransaction(db, async (trx) => {
    const [row] = (await trx('failure_codes')
      .insert({ code: v.code, ...codeColumns(v) })
      .returning('*')) as CodeRow[];
    const code = toCode(row);
    await recordAudit(trx, actor, { action: 'failure_code.create', entity: 'failure_code', entityId: code.id, after: code });
    return code;
  });
}

/**
 * Change a code's title, component, description or default severity, or take it out of use
 * (`active: false`) and back. Codes are never deleted: reports keep pointing at them.
 */
export async function updateCode(db: Knex, actor: Actor, input: unknown): Promise<FailureCode> {
  authorize(actor, 'catalog.manage');
  const v = parse(updateCodeInput, input);
  return inTransaction(db, async (trx) => {
    const before = await findCode(trx, v.code, true);
    if (!before) throw notFound('failure code', v.code, 'code');
    const patch = { updated_at: trx.fn.now(), ...codeColumns(v) };
    const [row] = (await trx('failure_codes').where('id', before.id).update(patch).returning('*')) as CodeRow[];
    const after = toCode(row);
    await recordAudit(trx, actor, { action: 'failure_code.update', entity: 'failure_code', entityId: after.id, before, after });
    return after;
  });
}

export async function getCode(db: Knex, actor: Actor, input: unknown): Promise<FailureCode> {
  return getByKey(actor, 'failure.read', getCodeInput, input, 'failure code', (key) => findCode(db, key.code));
}

async function selectCodes(db: Knex, v: ReturnType<typeof listCodesInput.parse>): Promise<FailureCode[]> {
  const q = db('failure_codes').orderBy('code');
  if (v.component) q.where('component', v.component);
  if (!v.includeInactive) q.where('active', true);
  return ((await q) as CodeRow[]).map(toCode);
}

/** Codes by component, in use only unless `includeInactive`, by code. */
export async function listCodes(db: Knex, actor: Actor, input: unknown): Promise<FailureCode[]> {
  authorize(actor, 'failure.read');
  return selectCodes(db, parse(listCodesInput, input));
}

/** The catalog for a picker: components in their fixed order, each with its codes; empty groups left out. */
export async function listCatalog(db: Knex, actor: Actor, input: unknown): Promise<CatalogGroup[]> {
  authorize(actor, 'failure.read');
  const codes = await selectCodes(db, parse(listCodesInput, input));
  return COMPONENTS.map((component) => ({
    component,
    label: COMPONENT_LABELS[component],
    codes: codes.filter((c) => c.component === component),
  })).filter((g) => g.codes.length > 0);
}
