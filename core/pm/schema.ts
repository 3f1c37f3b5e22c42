import { z } from 'zod';
import { bigCount, id, instant, oneOf, optionalText, pastTimestamp, pagination, recordId, text, timestamp, recordTimes } from '../validate';
import { DEFAULT_WARNING_PERCENT, PM_STATES } from './state';
import { assetNumber } from '../codes';

const intervalShots = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/** Ten years: a calendar interval longer than that is a typo for shots. */
export const MAX_INTERVAL_DAYS = 3660;
const intervalDays = z.number().int().positive().max(MAX_INTERVAL_DAYS);
const warningPercent = z.number().int().min(1).max(100);

/** A plan measures shots, days or both; with neither it could never fall due. */
function checkIntervals(v: { intervalShots?: number | null; intervalDays?: number | null }, ctx: z.RefinementCtx) {
  if (v.intervalShots == null && v.intervalDays == null) {
    for (const field of ['intervalShots', 'intervalDays']) {
      ctx.addIssue({ code: 'custom', path: [field], message: 'give intervalShots, intervalDays or both', params: { rule: 'interval_required' } });
    }
  }
}

/**
 * A PM plan for a tool (by id or asset number). It starts counting from `lastPmAt` (default now)
 * and `lastPmLifetimeShots` (default the tool's lifetime shots now), so a new plan starts at zero
 * unless the last PM before the plan is known.
 */
export const createPlanInput = z
  .object({
    toolId: id.optional(),
    assetNumber: assetNumber.optional(),
    name: text(200).optional(),
    intervalShots: intervalShots.nullish().transform((v) => v ?? null),
    intervalDays: intervalDays.nullish().transform((v) => v ?? null),
    warningPercent: warningPercent.default(DEFAULT_WARNING_PERCENT),
    templateId: id.nullish().transform((v) => v ?? null),
    active: z.boolean().default(true),
    lastPmAt: pastTimestamp.optional(),
    lastPmLifetimeShots: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    checkIntervals(v, ctx);
    oneOf(['toolId', 'assetNumber'])(v, ctx);
  });
export type CreatePlanInput = z.input<typeof createPlanInput>;

/** Change a plan; `null` removes an interval or the template. `version`, when given, must match. */
export const updatePlanInput = z
  .object({
    id,
    version: z.number().int().positive().optional(),
    name: text(200).optional(),
    intervalShots: intervalShots.nullable().optional(),
    intervalDays: intervalDays.nullable().optional(),
    warningPercent: warningPercent.optional(),
    templateId: id.nullable().optional(),
    active: z.boolean().optional(),
  })
  .strict();
export type UpdatePlanInput = z.input<typeof updatePlanInput>;

export const getPlanInput = z.object({ id }).strict();

const pmState = z.enum(PM_STATES);

export const listPlansInput = z
  .object({
    toolId: id.optional(),
    assetNumber: assetNumber.optional(),
    state: z.union([pmState, z.array(pmState).min(1)]).optional(),
    includeInactive: z.boolean().default(false),
    ...pagination,
  })
  .strict();
export type ListPlansInput = z.input<typeof listPlansInput>;

/** A PM done: when (default now, never before the plan's last PM), by whom (the actor), optionally the inspection that logged it. */
export const recordPmInput = z
  .object({
    planId: id,
    performedAt: pastTimestamp.nullish().transform((v) => v ?? null),
    notes: optionalText(4000),
    inspectionId: id.nullish().transform((v) => v ?? null),
  })
  .strict()
  // A PM record says what was done (who and when are the actor and performedAt): a note, or the
  // inspection against the plan's checklist it was done with. An empty record proves nothing.
  .refine((v) => v.notes !== null || v.inspectionId !== null, {
    path: ['notes'],
    message: 'say what was done: a note, or the inspection (checklist) the PM was done with',
    params: { rule: 'required' },
  });
export type RecordPmInput = z.input<typeof recordPmInput>;

export const pmTransitionsInput = z
  .object({ now: timestamp.optional() })
  .strict();

export const pmStatusRecord = z.object({
  state: pmState,
  shotsSince: z.number().int(),
  /** Days since the last PM (fractional, to the hundredth). */
  daysSince: z.number(),
  /** Percent of each interval used, floored to a tenth (null without that interval); display only. */
  shotsPercent: z.number().nullable(),
  daysPercent: z.number().nullable(),
  /** The larger of the two: the measure that decides the state. */
  percent: z.number(),
  /** Lifetime shot count at which the PM falls due (null without a shot interval). */
  dueAtShots: z.number().int().nullable(),
  /** ISO time at which the PM falls due (null without a day interval). */
  dueAt: instant.nullable(),
  /** Shots / days left until due; negative once past it (by how much). */
  remainingShots: z.number().int().nullable(),
  remainingDays: z.number().nullable(),
  /** Which measure decides; on a tie, shots (the counter is what wears the mould). */
  drivenBy: z.enum(['shots', 'days']),
}).meta({ id: 'PmStatus' });
export type PmStatus = z.infer<typeof pmStatusRecord>;

export const pmPlanRecord = z.object({
  id: recordId,
  toolId: recordId,
  assetNumber: z.string(),
  toolName: z.string(),
  name: z.string(),
  intervalShots: bigCount.nullable(),
  intervalDays: z.number().int().nullable(),
  warningPercent: z.number().int(),
  templateId: recordId.nullable(),
  active: z.boolean(),
  lastPmAt: instant,
  lastPmLifetimeShots: bigCount,
  /** The tool's lifetime shots now: shots since the last PM are this minus lastPmLifetimeShots. */
  toolLifetimeShots: bigCount,
  /** The state last announced (pmTransitions), not necessarily the state now. */
  notifiedState: pmState,
  version: z.number().int().positive(),
  ...recordTimes,
  status: pmStatusRecord,
}).meta({ id: 'PmPlan' });
export type PmPlan = z.infer<typeof pmPlanRecord>;

export const pmEventRecord = z.object({
  id: recordId,
  planId: recordId,
  toolId: recordId,
  performedAt: instant,
  performedBy: z.string(),
  lifetimeShots: bigCount,
  inspectionId: recordId.nullable(),
  notes: z.string().nullable(),
  createdAt: instant,
  /** The plan after the PM: counting again from zero. */
  plan: pmPlanRecord,
}).meta({ id: 'PmEvent' });
export type PmEvent = z.infer<typeof pmEventRecord>;

/** A plan that became more urgent than last announced: announced once, by whoever finds it first. */
export const pmTransitionRecord = z.object({
  plan: pmPlanRecord,
  assetNumber: z.string(),
  from: pmState,
  to: pmState,
}).meta({ id: 'PmTransition' });
export type PmTransition = z.infer<typeof pmTransitionRecord>;
