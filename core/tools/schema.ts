import { z } from 'zod';
import { bigCount, id, instant, optionalText, recordId, text, pagination, recordTimes } from '../validate';
import { assetNumber } from '../codes';

export const TOOL_STATUSES = ['in_press', 'in_store', 'in_maintenance', 'at_toolmaker', 'retired'] as const;
export type ToolStatus = (typeof TOOL_STATUSES)[number];
/** Statuses a person sets directly: `in_press` follows mounts, `retired` follows retire. */
export const SETTABLE_STATUSES = ['in_store', 'in_maintenance', 'at_toolmaker'] as const;

export const MAX_CAVITIES = 512;

const blockedCavity = z.object({
  number: z.number().int().min(1).max(MAX_CAVITIES),
  reason: text(500),
});

const toolFields = {
  name: text(200),
  partNumbers: z.array(text(80)).max(50),
  customer: optionalText(200),
  owner: optionalText(200),
  toolmaker: optionalText(200),
  year: z.number().int().min(1900).max(2100).nullable(),
  spiClass: z.number().int().min(101).max(105).nullable(),
  cavityCount: z.number().int().min(1).max(MAX_CAVITIES),
  hotRunnerZones: z.number().int().min(0).max(256),
  expectedLifetimeShots: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).nullable(),
  location: optionalText(200),
  notes: optionalText(4000),
};

/** Blocked cavities must exist on the tool, once each. */
function checkCavities(
  value: { cavityCount?: number; blockedCavities?: { number: number }[] },
  ctx: z.RefinementCtx,
  cavityCount: number | undefined,
) {
  const seen = new Set<number>();
  (value.blockedCavities ?? []).forEach((c, i) => {
    if (cavityCount !== undefined && c.number > cavityCount) {
      ctx.addIssue({ code: 'custom', path: ['blockedCavities', i, 'number'], message: `cavity ${c.number} does not exist (tool has ${cavityCount})`, params: { rule: 'cavity_exists' } });
    }
    if (seen.has(c.number)) {
      ctx.addIssue({ code: 'custom', path: ['blockedCavities', i, 'number'], message: `cavity ${c.number} is listed twice`, params: { rule: 'unique' } });
    }
    seen.add(c.number);
  });
}

export const createToolInput = z
  .object({
    assetNumber,
    ...toolFields,
    partNumbers: toolFields.partNumbers.default([]),
    customer: toolFields.customer.default(null),
    owner: toolFields.owner.default(null),
    toolmaker: toolFields.toolmaker.default(null),
    year: toolFields.year.default(null),
    spiClass: toolFields.spiClass.default(null),
    hotRunnerZones: toolFields.hotRunnerZones.default(0),
    expectedLifetimeShots: toolFields.expectedLifetimeShots.default(null),
    location: toolFields.location.default(null),
    notes: toolFields.notes.default(null),
    status: z.enum(SETTABLE_STATUSES).default('in_store'),
    blockedCavities: z.array(blockedCavity).max(MAX_CAVITIES).default([]),
    // A mould already in service arrives with shots on it: its count when registered (later only counted).
    lifetimeShots: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  })
  .strict()
  .superRefine((v, ctx) => checkCavities(v, ctx, v.cavityCount));
export type CreateToolInput = z.input<typeof createToolInput>;

/**
 * An update names the tool and the fields to change. `blockedCavities`, when given, is the full
 * list of blocked cavities afterwards; `version`, when given, must match (optimistic locking).
 */
export const updateToolInput = z
  .object({
    id,
    version: z.number().int().positive().optional(),
    assetNumber: assetNumber.optional(),
    ...Object.fromEntries(Object.entries(toolFields).map(([k, s]) => [k, s.optional()])) as {
      [K in keyof typeof toolFields]: z.ZodOptional<(typeof toolFields)[K]>;
    },
    status: z.enum(SETTABLE_STATUSES).optional(),
    blockedCavities: z.array(blockedCavity).max(MAX_CAVITIES).optional(),
  })
  .strict()
  .superRefine((v, ctx) => checkCavities(v, ctx, v.cavityCount));
export type UpdateToolInput = z.input<typeof updateToolInput>;

export const retireToolInput = z
  .object({ id, reason: text(1000), version: z.number().int().positive().optional() })
  .strict();

/** A tool by id, or by asset number (what the QR label carries). */
export const getToolInput = z.union([
  z.object({ id }).strict(),
  z.object({ assetNumber }).strict(),
]);

export const listToolsInput = z
  .object({
    status: z.union([z.enum(TOOL_STATUSES), z.array(z.enum(TOOL_STATUSES)).min(1)]).optional(),
    customer: z.string().trim().min(1).max(200).optional(),
    q: z.string().trim().max(200).optional(),
    includeRetired: z.boolean().default(false),
    ...pagination,
  })
  .strict();
export type ListToolsInput = z.input<typeof listToolsInput>;

export const cavityRecord = z.object({
  number: z.number().int().min(1).max(MAX_CAVITIES),
  state: z.enum(['active', 'blocked']),
  blockedReason: z.string().nullable(),
  lifetimeShots: bigCount,
}).meta({ id: 'Cavity' });
export type Cavity = z.infer<typeof cavityRecord>;

export const toolRecord = z.object({
  id: recordId,
  assetNumber: z.string(),
  name: z.string(),
  partNumbers: z.array(z.string()),
  customer: z.string().nullable(),
  owner: z.string().nullable(),
  toolmaker: z.string().nullable(),
  year: z.number().int().nullable(),
  spiClass: z.number().int().nullable(),
  cavityCount: z.number().int(),
  activeCavities: z.number().int().min(0),
  cavities: z.array(cavityRecord),
  hotRunnerZones: z.number().int(),
  expectedLifetimeShots: bigCount.nullable(),
  lifetimeShots: bigCount,
  status: z.enum(TOOL_STATUSES),
  location: z.string().nullable(),
  notes: z.string().nullable(),
  retiredAt: instant.nullable(),
  retiredReason: z.string().nullable(),
  version: z.number().int().positive(),
  ...recordTimes,
  /** The press the tool is mounted on now, if any. */
  press: z.object({ id: recordId, code: z.string(), mountedAt: instant }).nullable(),
}).meta({ id: 'Tool' });
export type Tool = z.infer<typeof toolRecord>;
