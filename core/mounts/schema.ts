import { z } from 'zod';
import { SETTABLE_STATUSES, TOOL_STATUSES } from '../tools/schema';
import { pressCode } from '../codes';
import { id, instant, oneOf, optionalText, pastTimestamp, pagination, recordId } from '../validate';

// Only a lookup key here: the asset number's own rules live in core/tools.
const assetNumber = z
  .string()
  .trim()
  .min(1)
  .max(40)
  .transform((v) => v.toUpperCase());

// null and absent both mean "now"; coercing null would mean 1970.
const at = pastTimestamp.nullish().transform((v) => v ?? null);

const toolRef = { toolId: id.optional(), assetNumber: assetNumber.optional() };
const pressRef = { pressId: id.optional(), pressCode: pressCode.optional() };

/** Mount a tool (by id or asset number) on a press (by id or code), now or at a past instant. */
export const mountToolInput = z
  .object({
    ...toolRef,
    ...pressRef,
    at,
    note: optionalText(2000),
    /** Why a tool whose PM is OVERDUE goes into the press anyway (required then: core/mounts/service.ts). */
    overrideReason: optionalText(2000),
  })
  .strict()
  .superRefine((v, ctx) => {
    oneOf(['toolId', 'assetNumber'])(v, ctx);
    oneOf(['pressId', 'pressCode'])(v, ctx);
  });
export type MountToolInput = z.input<typeof mountToolInput>;

/** Unmount the tool named by itself or by the press it is on; it goes where `status` says. */
export const unmountToolInput = z
  .object({
    ...toolRef,
    ...pressRef,
    at,
    status: z.enum(SETTABLE_STATUSES).default('in_store'),
    note: optionalText(2000),
  })
  .strict()
  .superRefine(oneOf(['toolId', 'assetNumber', 'pressId', 'pressCode']));
export type UnmountToolInput = z.input<typeof unmountToolInput>;

export const mountHistoryInput = z
  .object({ ...toolRef, ...pressRef, ...pagination })
  .strict()
  .superRefine((v, ctx) => {
    oneOf(['toolId', 'assetNumber'], false)(v, ctx);
    oneOf(['pressId', 'pressCode'], false)(v, ctx);
  });
export type MountHistoryInput = z.input<typeof mountHistoryInput>;

/**
 * One span of a tool on a press: [mountedAt, unmountedAt), open while unmountedAt is null.
 * `note` holds the mount note; an unmount note is added on its own line after "Unmount: ".
 */
export const mountRecord = z.object({
  id: recordId,
  tool: z.object({ id: recordId, assetNumber: z.string(), name: z.string(), status: z.enum(TOOL_STATUSES) }),
  press: z.object({ id: recordId, code: z.string(), name: z.string() }),
  mountedAt: instant,
  unmountedAt: instant.nullable(),
  mountedBy: z.string(),
  unmountedBy: z.string().nullable(),
  note: z.string().nullable(),
}).meta({ id: 'Mount' });
export type Mount = z.infer<typeof mountRecord>;
