import { z } from 'zod';
import { id, oneOf, optionalText, pastTimestamp, pagination, text, timestamp } from '../validate';
import { DEFAULT_WARNING_PERCENT, PM_STATES, type PmState, type PmStatus } from './state';
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

export interface PmPlan {
  id: number;
  toolId: number;
  assetNumber: string;
  toolName: string;
  name: string;
  intervalShots: number | null;
  intervalDays: number | null;
  warningPercent: number;
  templateId: number | null;
  active: boolean;
  lastPmAt: string;
  lastPmLifetimeShots: number;
  /** The tool's lifetime shots now: shots since the last PM are this minus lastPmLifetimeShots. */
  toolLifetimeShots: number;
  /** The state last announced (pmTransitions), not necessarily the state now. */
  notifiedState: PmState;
  version: number;
  createdAt: string;
  updatedAt: string;
  status: PmStatus;
}

export interface PmEvent {
  id: number;
  planId: number;
  toolId: number;
  performedAt: string;
  performedBy: string;
  lifetimeShots: number;
  inspectionId: number | null;
  notes: string | null;
  createdAt: string;
  /** The plan after the PM: counting again from zero. */
  plan: PmPlan;
}

/** A plan that became more urgent than last announced: announced once, by whoever finds it first. */
export interface PmTransition {
  plan: PmPlan;
  assetNumber: string;
  from: PmState;
  to: PmState;
}
