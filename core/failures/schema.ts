import { z } from 'zod';
import { bigCount, id, instant, optionalText, pagination, pastTimestamp, recordId, text, timestamp, recordTimes } from '../validate';

import { typedCode } from '../codes';
/**
 * The parts of a mould a failure is booked against: the catalog groups its codes by them and
 * trend reports count by them. Fixed here, in one place; the labels are what pickers show.
 */
export const COMPONENTS = [
  'ejector_system',
  'cavity_core_inserts',
  'slides_lifters',
  'hot_runner',
  'cooling',
  'parting_line_vents',
  'gating',
  'guiding',
  // Mould base, clamping, wiring, lifting, hydraulics: real failures that fit no group above.
  'other',
] as const;
export type Component = (typeof COMPONENTS)[number];

export const COMPONENT_LABELS: Record<Component, string> = {
  ejector_system: 'Ejector system',
  cavity_core_inserts: 'Cavity, core and inserts',
  slides_lifters: 'Slides and lifters',
  hot_runner: 'Hot runner',
  cooling: 'Cooling (water circuits)',
  parting_line_vents: 'Parting line and vents',
  gating: 'Gating (gates and cold runner)',
  guiding: 'Guiding and alignment',
  other: 'Other (mould base, wiring, clamping, hydraulics)',
};

/** `critical` = the tool is down; `major` = it runs with risk or scrap; `minor` = fix at the next PM. */
export const SEVERITIES = ['minor', 'major', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const FAILURE_STATUSES = ['open', 'investigating', 'resolved', 'closed'] as const;
export type FailureStatus = (typeof FAILURE_STATUSES)[number];

/**
 * The one table of allowed failure status changes. A resolved failure may be reopened for more
 * investigation when the fix does not hold; closed is final.
 */
export const FAILURE_TRANSITIONS: Record<FailureStatus, readonly FailureStatus[]> = {
  open: ['investigating', 'resolved'],
  investigating: ['resolved'],
  resolved: ['closed', 'investigating'],
  closed: [],
};

/** Severities whose failure may not be resolved without a root cause (the 5-why). */
export const ROOT_CAUSE_REQUIRED: readonly Severity[] = ['major', 'critical'];

/** Catalog codes as printed on reports: upper case, e.g. EJ-PIN-BROKEN. */
export const failureCode = typedCode(
  /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
  'letters, digits and . _ - only, starting with a letter or digit',
  'upper',
);

// ---- catalog ----

export const createCodeInput = z
  .object({
    code: failureCode,
    title: text(200),
    component: z.enum(COMPONENTS),
    description: optionalText(2000).default(null),
    defaultSeverity: z.enum(SEVERITIES).default('major'),
    active: z.boolean().default(true),
  })
  .strict();
export type CreateCodeInput = z.input<typeof createCodeInput>;

/** A code is named by its code and keeps it: reports and checklists refer to it. `active: false` retires it. */
export const updateCodeInput = z
  .object({
    code: failureCode,
    title: text(200).optional(),
    component: z.enum(COMPONENTS).optional(),
    description: optionalText(2000).optional(),
    defaultSeverity: z.enum(SEVERITIES).optional(),
    active: z.boolean().optional(),
  })
  .strict();
export type UpdateCodeInput = z.input<typeof updateCodeInput>;

export const getCodeInput = z.object({ code: failureCode }).strict();

export const listCodesInput = z
  .object({
    component: z.enum(COMPONENTS).optional(),
    includeInactive: z.boolean().default(false),
  })
  .strict();
export type ListCodesInput = z.input<typeof listCodesInput>;

export const failureCodeRecord = z.object({
  id: recordId,
  code: z.string(),
  title: z.string(),
  component: z.enum(COMPONENTS),
  description: z.string().nullable(),
  defaultSeverity: z.enum(SEVERITIES),
  active: z.boolean(),
  ...recordTimes,
}).meta({ id: 'FailureCode' });
export type FailureCode = z.infer<typeof failureCodeRecord>;

/** The catalog for a picker: components in their fixed order, each with its codes. */
export const catalogGroupRecord = z.object({
  component: z.enum(COMPONENTS),
  label: z.string(),
  codes: z.array(failureCodeRecord),
}).meta({ id: 'CatalogGroup' });
export type CatalogGroup = z.infer<typeof catalogGroupRecord>;

// ---- reports ----

const shotCount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const cavity = z.number().int().min(1).nullable();

export const reportFailureInput = z
  .object({
    toolId: id,
    failureCode,
    severity: z.enum(SEVERITIES).optional(),
    component: z.enum(COMPONENTS).optional(),
    cavity: cavity.optional(),
    shotCount: shotCount.optional(),
    description: optionalText(4000).optional(),
    inspectionId: id.nullable().optional(),
    /** When the failure was found, if not now (a report typed up after the shift). */
    reportedAt: pastTimestamp.optional(),
  })
  .strict();
export type ReportFailureInput = z.input<typeof reportFailureInput>;

/**
 * A parsed report as `insertFailureReport` takes it (from `reportFailure` or an inspection):
 * left out, severity and component come from the catalog code and the shot count from the tool.
 */
export interface ReportFailureValues {
  toolId: number;
  failureCode: string;
  severity?: Severity | null;
  component?: Component | null;
  cavity?: number | null;
  shotCount?: number | null;
  description?: string | null;
  inspectionId?: number | null;
  reportedAt?: Date | null;
}

/** Triage: status, severity and the root cause (5-why); `version`, when given, must match. */
export const triageFailureInput = z
  .object({
    id,
    version: z.number().int().positive().optional(),
    status: z.enum(FAILURE_STATUSES).optional(),
    severity: z.enum(SEVERITIES).optional(),
    rootCause: optionalText(8000).optional(),
    description: optionalText(4000).optional(),
  })
  .strict();
export type TriageFailureInput = z.input<typeof triageFailureInput>;

export const getFailureInput = z.object({ id }).strict();

export const listFailuresInput = z
  .object({
    toolId: id.optional(),
    status: z.union([z.enum(FAILURE_STATUSES), z.array(z.enum(FAILURE_STATUSES)).min(1)]).optional(),
    severity: z.union([z.enum(SEVERITIES), z.array(z.enum(SEVERITIES)).min(1)]).optional(),
    component: z.enum(COMPONENTS).optional(),
    from: timestamp.optional(),
    to: timestamp.optional(),
    ...pagination,
  })
  .strict()
  .refine((v) => !v.from || !v.to || v.from <= v.to, { path: ['to'], message: 'must not be before from', params: { rule: 'after_from' } });
export type ListFailuresInput = z.input<typeof listFailuresInput>;

export const failureReportRecord = z.object({
  id: recordId,
  toolId: recordId,
  assetNumber: z.string(),
  failureCodeId: recordId,
  failureCode: z.string(),
  failureTitle: z.string(),
  inspectionId: recordId.nullable(),
  severity: z.enum(SEVERITIES),
  component: z.enum(COMPONENTS),
  cavity: z.number().int().nullable(),
  shotCount: bigCount,
  description: z.string().nullable(),
  rootCause: z.string().nullable(),
  status: z.enum(FAILURE_STATUSES),
  reportedBy: z.string(),
  reportedAt: instant,
  closedAt: instant.nullable(),
  version: z.number().int().positive(),
  ...recordTimes,
}).meta({ id: 'FailureReport' });
export type FailureReport = z.infer<typeof failureReportRecord>;
