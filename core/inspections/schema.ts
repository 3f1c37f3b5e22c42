import { z } from 'zod';
import { bigCount, id, instant, minutesSpent, money, oneOf, optionalText, pastTimestamp, recordId, text, timestamp, pagination, recordTimes } from '../validate';
import { failureCode as failureCodeRef, SEVERITIES, type Severity } from '../failures/schema';
import { assetNumber, typedCode } from '../codes';

export const INSPECTION_KINDS = ['post_run', 'preventive'] as const;
export type InspectionKind = (typeof INSPECTION_KINDS)[number];
export const RESULTS = ['pass', 'fail', 'na'] as const;
export type ItemResult = (typeof RESULTS)[number];
export { SEVERITIES, type Severity };

export const MAX_ITEMS = 100;

const templateCode = typedCode(
  /^[A-Za-z0-9][A-Za-z0-9_-]*$/,
  'letters, digits, _ and - only, starting with a letter or digit',
  'lower',
);

const itemKey = z
  .string()
  .trim()
  .min(1)
  .max(60)
  .regex(/^[a-z0-9_]+$/, 'lower-case letters, digits and _ only');

const templateItem = z
  .object({
    key: itemKey,
    label: text(200),
    failureCode: failureCodeRef.nullish().transform((v) => v ?? null),
    hint: optionalText(1000),
  })
  .strict();

const templateItems = z
  .array(templateItem)
  .min(1)
  .max(MAX_ITEMS)
  .superRefine((items, ctx) => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      if (seen.has(item.key)) {
        ctx.addIssue({ code: 'custom', path: [i, 'key'], message: `item key ${item.key} is used twice`, params: { rule: 'unique' } });
      }
      seen.add(item.key);
    });
  });

/** The tools a template applies to, each once; none: every tool. */
const toolIds = z
  .array(id)
  .max(500)
  .superRefine((ids, ctx) => {
    ids.forEach((v, i) => {
      if (ids.indexOf(v) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `tool ${v} is named twice`, params: { rule: 'unique' } });
    });
  });

export const createTemplateInput = z
  .object({
    code: templateCode,
    name: text(200),
    kind: z.enum(INSPECTION_KINDS),
    items: templateItems,
    toolIds: toolIds.default([]),
    active: z.boolean().default(true),
  })
  .strict();
export type CreateTemplateInput = z.input<typeof createTemplateInput>;

/**
 * `items`, when given, is the whole checklist afterwards. Keys are the identity of an item: keep a
 * key to keep its meaning. A checklist an inspection was recorded with is never changed: new items
 * make a new version, and past inspections keep pointing at theirs. `toolIds` is the whole list
 * of tools it applies to afterwards (empty: every tool).
 */
export const updateTemplateInput = z
  .object({
    id,
    code: templateCode.optional(),
    name: text(200).optional(),
    kind: z.enum(INSPECTION_KINDS).optional(),
    items: templateItems.optional(),
    toolIds: toolIds.optional(),
    active: z.boolean().optional(),
  })
  .strict();
export type UpdateTemplateInput = z.input<typeof updateTemplateInput>;

const templateVersion = z.preprocess((v) => (typeof v === 'string' && /^\d{1,9}$/.test(v) ? Number(v) : v), z.number().int().min(1).max(1_000_000));

/** A template by id or code; with `version`, that version's checklist (an inspection's), else the newest. */
export const getTemplateInput = z.union([
  z.object({ id, version: templateVersion.optional() }).strict(),
  z.object({ code: templateCode, version: templateVersion.optional() }).strict(),
]);

export const listTemplatesInput = z
  .object({
    kind: z.enum(INSPECTION_KINDS).optional(),
    /** Only the templates that apply to this tool (those for every tool and those naming it). */
    toolId: id.optional(),
    includeInactive: z.boolean().default(false),
  })
  .strict();

export const templateItemRecord = z.object({
  key: z.string(),
  label: z.string(),
  /** The catalog code a failed answer raises a failure report with (null: an action only). */
  failureCode: z.string().nullable(),
  hint: z.string().nullable(),
}).meta({ id: 'TemplateItem' });
export type TemplateItem = z.infer<typeof templateItemRecord>;

export const inspectionTemplateRecord = z.object({
  id: recordId,
  code: z.string(),
  name: z.string(),
  kind: z.enum(INSPECTION_KINDS),
  /** The checklist's version: 1, and one more each time a checklist in use was edited. */
  version: z.number().int().min(1),
  items: z.array(templateItemRecord),
  /** The tools it applies to, by asset number; empty: every tool. */
  tools: z.array(z.object({ id: recordId, assetNumber: z.string(), name: z.string() })),
  active: z.boolean(),
  ...recordTimes,
}).meta({ id: 'InspectionTemplate' });
export type InspectionTemplate = z.infer<typeof inspectionTemplateRecord>;

// ---- inspections -------------------------------------------------------------------------

/** Only a failed item says what failed: a code, severity or cavity on a pass or n.a. is a mistake. */
const itemResult = z
  .object({
    itemKey: z.string().trim().min(1).max(60),
    result: z.enum(RESULTS),
    note: optionalText(2000),
    failureCode: failureCodeRef.nullish().transform((v) => v ?? null),
    severity: z.enum(SEVERITIES).nullish().transform((v) => v ?? null),
    cavity: z.number().int().min(1).max(512).nullish().transform((v) => v ?? null),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.result === 'fail') return;
    for (const field of ['failureCode', 'severity', 'cavity'] as const) {
      if (r[field] !== null) {
        ctx.addIssue({ code: 'custom', path: [field], message: `only a failed item names a ${field}`, params: { rule: 'only_on_fail' } });
      }
    }
  });

const sparePart = z
  .object({
    partNumber: text(80),
    description: optionalText(200),
    // Grease and fluids are used by the litre or kilo: fractions are fine, nothing or less is not.
    quantity: z.number().positive().max(1_000_000),
  })
  .strict();


export const recordInspectionInput = z
  .object({
    toolId: id.optional(),
    assetNumber: assetNumber.optional(),
    templateId: id.optional(),
    templateCode: templateCode.optional(),
    kind: z.enum(INSPECTION_KINDS).optional(),
    performedAt: pastTimestamp.optional(),
    results: z.array(itemResult).min(1).max(MAX_ITEMS),
    findings: optionalText(4000),
    spareParts: z.array(sparePart).max(100).default([]),
    minutesSpent: minutesSpent.nullish().transform((v) => v ?? null),
    cost: money.nullish().transform((v) => v ?? null),
    pmPlanId: id.nullish().transform((v) => v ?? null),
  })
  .strict()
  .superRefine((v, ctx) => {
    oneOf(['toolId', 'assetNumber'])(v, ctx);
    oneOf(['templateId', 'templateCode'])(v, ctx);
  });
export type RecordInspectionInput = z.input<typeof recordInspectionInput>;

export const getInspectionInput = z.object({ id }).strict();

export const listInspectionsInput = z
  .object({
    toolId: id.optional(),
    kind: z.enum(INSPECTION_KINDS).optional(),
    outcome: z.enum(['pass', 'fail']).optional(),
    /** performedAt ≥ from */
    from: timestamp.optional(),
    /** performedAt ≤ to */
    to: timestamp.optional(),
    ...pagination,
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.from && v.to && v.from > v.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from', params: { rule: 'after_from' } });
  });
export type ListInspectionsInput = z.input<typeof listInspectionsInput>;

export const sparePartRecord = z.object({ partNumber: z.string(), description: z.string().nullable(), quantity: z.number() }).meta({ id: 'SparePart' });
export type SparePart = z.infer<typeof sparePartRecord>;

export const inspectionResultRecord = z.object({
  itemKey: z.string(),
  /** The label as it read when the inspection was done. */
  label: z.string(),
  result: z.enum(RESULTS),
  note: z.string().nullable(),
  failureReportId: recordId.nullable(),
}).meta({ id: 'InspectionResult' });
export type InspectionResult = z.infer<typeof inspectionResultRecord>;

export const inspectionRecord = z.object({
  id: recordId,
  toolId: recordId,
  assetNumber: z.string(),
  templateId: recordId,
  templateCode: z.string(),
  /** The version of the checklist it was recorded with. */
  templateVersion: z.number().int().min(1),
  pmPlanId: recordId.nullable(),
  kind: z.enum(INSPECTION_KINDS),
  outcome: z.enum(['pass', 'fail']),
  performedAt: instant,
  /** Actor id (users.id or 'system'). */
  performedBy: z.string(),
  /** The tool's lifetime shots when the inspection was recorded. */
  lifetimeShots: bigCount,
  findings: z.string().nullable(),
  spareParts: z.array(sparePartRecord),
  minutesSpent: z.number().int().nullable(),
  cost: z.number().nullable(),
  results: z.array(inspectionResultRecord),
  /** What the failed items raised, in checklist order. */
  failureReportIds: z.array(recordId),
  actionIds: z.array(recordId),
  createdAt: instant,
}).meta({ id: 'Inspection' });
export type Inspection = z.infer<typeof inspectionRecord>;
