import { z } from 'zod';
import { id, instant, isoDate, minutesSpent, money, optionalText, pagination, recordId, text, recordTimes } from '../validate';

export const ACTION_KINDS = ['corrective', 'preventive'] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

export const ACTION_STATUSES = ['open', 'in_progress', 'done', 'verified', 'cancelled'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

/** Statuses with work still to do: only these can be overdue, (re)assigned or cancelled. */
export const PENDING_STATUSES = ['open', 'in_progress'] as const satisfies readonly ActionStatus[];

/**
 * The one table of allowed action status changes: start, complete, verify, or cancel while work
 * is pending. Verified and cancelled are final; a fix that does not hold is a new action.
 */
export const ACTION_TRANSITIONS: Record<ActionStatus, readonly ActionStatus[]> = {
  open: ['in_progress', 'cancelled'],
  in_progress: ['done', 'cancelled'],
  done: ['verified'],
  verified: [],
  cancelled: [],
};

const version = z.number().int().positive().optional();

export const createActionInput = z
  .object({
    kind: z.enum(ACTION_KINDS).default('corrective'),
    title: text(200),
    description: optionalText(4000).default(null),
    toolId: id,
    failureReportId: id.nullable().default(null),
    inspectionId: id.nullable().default(null),
    assigneeId: id.nullable().default(null),
    dueDate: isoDate.nullable().default(null),
  })
  .strict();
export type CreateActionInput = z.input<typeof createActionInput>;

/** A parsed new action as `insertAction` takes it (from `createAction` or an inspection). */
export interface NewActionValues {
  kind: ActionKind;
  title: string;
  description?: string | null;
  toolId: number;
  failureReportId?: number | null;
  inspectionId?: number | null;
  assigneeId?: number | null;
  /** 'YYYY-MM-DD' */
  dueDate?: string | null;
}

/** Assign to an active user, or `null` to hand an open action back to the pool. */
export const assignActionInput = z.object({ id, version, assigneeId: id.nullable() }).strict();
export const startActionInput = z.object({ id, version }).strict();
/** Completing records the work: its resolution, and optionally the time and cost it took (for the maintenance KPIs). */
export const completeActionInput = z
  .object({ id, version, resolution: text(4000), minutesSpent: minutesSpent.nullish(), cost: money.nullish() })
  .strict();
export const verifyActionInput = z.object({ id, version }).strict();
export const cancelActionInput = z.object({ id, version, reason: text(1000) }).strict();
export const getActionInput = z.object({ id }).strict();

export const listActionsInput = z
  .object({
    /** A user's actions, or `null` for the unassigned ones. */
    assigneeId: id.nullable().optional(),
    /** The calling actor's own actions ("my actions"). */
    mine: z.boolean().optional(),
    status: z.union([z.enum(ACTION_STATUSES), z.array(z.enum(ACTION_STATUSES)).min(1)]).optional(),
    toolId: id.optional(),
    failureReportId: id.optional(),
    inspectionId: id.optional(),
    overdue: z.boolean().optional(),
    ...pagination,
  })
  .strict();
export type ListActionsInput = z.input<typeof listActionsInput>;

export const actionRecord = z.object({
  id: recordId,
  kind: z.enum(ACTION_KINDS),
  title: z.string(),
  description: z.string().nullable(),
  toolId: recordId,
  assetNumber: z.string(),
  failureReportId: recordId.nullable(),
  inspectionId: recordId.nullable(),
  assigneeId: recordId.nullable(),
  assigneeName: z.string().nullable(),
  dueDate: isoDate.nullable(),
  status: z.enum(ACTION_STATUSES),
  /** Past its due date with work pending (see OVERDUE_SQL). */
  overdue: z.boolean(),
  createdBy: z.string(),
  startedAt: instant.nullable(),
  completedAt: instant.nullable(),
  completedBy: z.string().nullable(),
  resolution: z.string().nullable(),
  verifiedAt: instant.nullable(),
  verifiedBy: z.string().nullable(),
  cancelledReason: z.string().nullable(),
  /** Time and cost of the work, recorded when it was completed (maintenance KPIs). */
  minutesSpent: z.number().int().nullable(),
  cost: z.number().nullable(),
  version: z.number().int().positive(),
  ...recordTimes,
}).meta({ id: 'Action' });
export type Action = z.infer<typeof actionRecord>;
