import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { audited } from '../audit/audited';
import { inTransaction } from '../db/transaction';
import { notFound, validationError, type FieldProblem } from '../errors';
import { foundByKey } from '../records/lookup';
import { parse } from '../validate';
import { findCode } from '../failures/repository';
import type { FailureCode } from '../failures/schema';
import { findTemplate, findTemplates, versionInUse } from './repository';
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

/** Every tool a template is said to apply to exists (`toolIds.N`); then the list replaces the old one. */
async function setTemplateTools(trx: Knex.Transaction, templateId: number, toolIds: number[]): Promise<void> {
  const found = new Set((await trx('tools').whereIn('id', toolIds).select('id')).map((t: { id: number }) => t.id));
  const problems: FieldProblem[] = toolIds.flatMap((toolId, i) =>
    found.has(toolId) ? [] : [{ field: `toolIds.${i}`, rule: 'exists', message: `no tool with id ${toolId}` }],
  );
  if (problems.length) throw validationError(problems);
  await trx('inspection_template_tools').where('template_id', templateId).delete();
  if (toolIds.length) await trx('inspection_template_tools').insert(toolIds.map((toolId) => ({ template_id: templateId, tool_id: toolId })));
}

/** Insert a template inside the caller's transaction (the seed and createTemplate share it). */
export async function insertTemplate(
  trx: Knex.Transaction,
  actor: Actor,
  values: { code: string; name: string; kind: InspectionTemplate['kind']; items: TemplateItem[]; toolIds?: number[]; active: boolean },
): Promise<InspectionTemplate> {
  await checkItemCodes(trx, values.items);
  // Version 1's items are saved by the database (migration 015) with the row.
  const [{ id }] = await trx('inspection_templates')
    .insert({ code: values.code, name: values.name, kind: values.kind, items: itemsJson(values.items), active: values.active })
    .returning('id');
  if (values.toolIds?.length) await setTemplateTools(trx, id, values.toolIds);
  return audited(trx, actor, { action: 'template.create', entity: 'inspection_template', entityId: id }, findTemplate(trx, { id }));
}

/** Create a checklist template for post-run inspections or PM work. */
export async function createTemplate(db: Knex, actor: Actor, input: unknown): Promise<InspectionTemplate> {
  authorize(actor, 'template.manage');
  const v = parse(createTemplateInput, input);
  return inTransaction(db, (trx) => insertTemplate(trx, actor, v));
}

/**
 * Rename, re-code, switch on/off, say which tools it applies to or rewrite the checklist of a
 * template (keys keep their meaning). A checklist an inspection was recorded with is never changed
 * under it: different items then make the next version, which later inspections are recorded with.
 */
export async function updateTemplate(db: Knex, actor: Actor, input: unknown): Promise<InspectionTemplate> {
  authorize(actor, 'template.manage');
  const v = parse(updateTemplateInput, input);
  return inTransaction(db, async (trx) => {
    // Locked: an inspection being recorded holds a share lock, so "in use" cannot change under us.
    const before = await findTemplate(trx, { id: v.id }, 'update');
    if (!before) throw notFound('inspection template', v.id);
    const patch: Record<string, unknown> = { updated_at: trx.fn.now() };
    if (v.items !== undefined && itemsJson(v.items) !== itemsJson(before.items)) {
      await checkItemCodes(trx, v.items);
      patch.items = itemsJson(v.items);
      if (await versionInUse(trx, v.id, before.version)) patch.version = before.version + 1;
    }
    if (v.code !== undefined) patch.code = v.code;
    if (v.name !== undefined) patch.name = v.name;
    if (v.kind !== undefined) patch.kind = v.kind;
    if (v.active !== undefined) patch.active = v.active;
    if (v.toolIds !== undefined) await setTemplateTools(trx, v.id, v.toolIds);
    await trx('inspection_templates').where('id', v.id).update(patch);
    return audited(trx, actor, { action: 'template.update', entity: 'inspection_template', entityId: v.id, before }, findTemplate(trx, { id: v.id }));
  });
}

/** A template by `id` or by `code` (case does not matter): its newest version, or the `version` asked for. */
export async function getTemplate(db: Knex, actor: Actor, input: unknown): Promise<InspectionTemplate> {
  authorize(actor, 'inspection.read');
  const { version, ...key } = parse(getTemplateInput, input);
  const template = foundByKey(await findTemplate(db, key), 'inspection template', key);
  if (version === undefined || version === template.version) return template;
  const old = await findTemplate(db, key, false, version);
  if (!old) throw notFound(`version of inspection template ${template.code}`, version, 'version');
  return old;
}

/** Templates in use (or all, with `includeInactive`), optionally of one kind or for one tool, by code; each as its newest version. */
export async function listTemplates(db: Knex, actor: Actor, input: unknown): Promise<InspectionTemplate[]> {
  authorize(actor, 'inspection.read');
  const v = parse(listTemplatesInput, input);
  return findTemplates(db, v);
}
