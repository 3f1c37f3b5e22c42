import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { audited } from '../audit/audited';
import { inTransaction } from '../db/transaction';
import { notFound, validationError, type FieldProblem } from '../errors';
import { getByKey } from '../records/lookup';
import { parse } from '../validate';
import { findCode } from '../failures/repository';
import type { FailureCode } from '../failures/schema';
import { findTemplate, findTemplates } from './repository';
import {
  createTemplateInput,
  getTemplateInput,
  listTemplatesInput,
  updateTemplateInput,
  type InspectionTemplate,
  type TemplateItem,
} from './schema';

type Queryable = Knex | Knex.Transaction;

/** Every failure code an item names must be in the catalog and in use (`items.N.failureCode`). */
async function checkItemCodes(db: Queryable, items: TemplateItem[]): Promise<void> {
  const problems: FieldProblem[] = [];
  const codes = new Map<string, FailureCode | undefined>();
  for (const [i, item] of items.entries()) {
    if (item.failureCode === null) continue;
    if (!codes.has(item.failureCode)) codes.set(item.failureCode, await findCode(db, item.failureCode));
    const code = codes.get(item.failureCode);
    const field = `items.${i}.failureCode`;
    if (!code) problems.push({ field, rule: 'exists', message: `failure code ${item.failureCode} is not in the catalog` });
    else if (!code.active) problems.push({ field, rule: 'active', message: `failure code ${item.failureCode} is no longer in use` });
  }
  if (problems.length) throw validationError(problems);
}

function itemsJson(items: TemplateItem[]): string {
  return JSON.stringify(items.map((i) => ({ key: i.key, label: i.label, failureCode: i.failureCode, hint: i.hint })));
}

/** Insert a template inside the caller's transaction (the seed and createTemplate share it). */
export async function insertTemplate(
  trx: Knex.Transaction,
  actor: Actor,
  values: { code: string; name: string; kind: InspectionTemplate['kind']; items: TemplateItem[]; active: boolean },
): Promise<InspectionTemplate> {
  await checkItemCodes(trx, values.items);
  const [{ id }] = await trx('inspection_templates')
    .insert({ code: values.code, name: values.name, kind: values.kind, items: itemsJson(values.items), active: values.active })
    .returning('id');
  return audited(trx, actor, { action: 'template.create', entity: 'inspection_template', entityId: id }, findTemplate(trx, { id }));
}

/** Create a checklist template for post-run inspections or PM work. */
export async function createTemplate(db: Knex, actor: Actor, input: unknown): Promise<InspectionTemplate> {
  authorize(actor, 'template.manage');
  const v = parse(createTemplateInput, input);
  return inTransaction(db, (trx) => insertTemplate(trx, actor, v));
}

/** Rename, re-code, switch on/off or rewrite the checklist of a template (keys keep their meaning). */
export async function updateTemplate(db: Knex, actor: Actor, input: unknown): Promise<InspectionTemplate> {
  authorize(actor, 'template.manage');
  const v = parse(updateTemplateInput, input);
  return inTransaction(db, async (trx) => {
    const before = await findTemplate(trx, { id: v.id }, true);
    if (!before) throw notFound('inspection template', v.id);
    if (v.items) await checkItemCodes(trx, v.items);
    const patch: Record<string, unknown> = { updated_at: trx.fn.now() };
    if (v.code !== undefined) patch.code = v.code;
    if (v.name !== undefined) patch.name = v.name;
    if (v.kind !== undefined) patch.kind = v.kind;
    if (v.active !== undefined) patch.active = v.active;
    if (v.items !== undefined) patch.items = itemsJson(v.items);
    await trx('inspection_templates').where('id', v.id).update(patch);
    return audited(trx, actor, { action: 'template.update', entity: 'inspection_template', entityId: v.id, before }, findTemplate(trx, { id: v.id }));
  });
}

/** A template by `id` or by `code` (case does not matter). */
export async function getTemplate(db: Knex, actor: Actor, input: unknown): Promise<InspectionTemplate> {
  return getByKey(actor, 'inspection.read', getTemplateInput, input, 'inspection template', (key) => findTemplate(db, key));
}

/** Templates in use (or all, with `includeInactive`), optionally of one kind, by code. */
export async function listTemplates(db: Knex, actor: Actor, input: unknown): Promise<InspectionTemplate[]> {
  authorize(actor, 'inspection.read');
  const v = parse(listTemplatesInput, input);
  return findTemplates(db, v);
}
