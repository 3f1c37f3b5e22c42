import { z } from 'zod';
import { id, isoDate, minutesSpent, money, optionalText, pagination, text } from '../validate';

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

export interface Action {
  id: number;
  kind: ActionKind;
  title: string;
  description: string | null;
  toolId: number;
  assetNumber: string;
  failureReportId: number | null;
  inspectionId: number | null;
  assigneeId: number | null;
  assigneeName: string | null;
  dueDate: string | null;
  status: ActionStatus;
  /** Past its due date with work pending (see OVERDUE_SQL). */
  overdue: boolean;
  createdBy: string;
  startedAt: string | null;
  completedAt: string | null;
  completedBy: string | null;
  resolution: string | null;
  verifiedAt: string | null;
  verifiedBy: string | null;
  cancelledReason: string | null;
  minutesSpent: number | null;
  cost: number | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}
