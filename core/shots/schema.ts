import { z } from 'zod';
import { id, instant, oneOf, optionalText, pagination, pastTimestamp, recordId, text } from '../validate';
import { pressCode } from '../codes';
import { mountRecord } from '../mounts/schema';
import { pmTransitionRecord } from '../pm/schema';
import { OUTCOMES } from './counter';

/** UInt64's maximum: no press counter reports more. */
const UINT64_MAX = 0xffff_ffff_ffff_ffffn;

/**
 * An absolute counter or a delta: a whole number ≥ 0 as number (up to 2^53), digit string or
 * bigint (beyond 2^53: a UInt64 counter passed as a number has already lost its last digits).
 */
const counterValue = z
  .union([z.number(), z.string(), z.bigint()])
  .superRefine((v, ctx) => {
    const fail = (rule: string, message: string) => ctx.addIssue({ code: 'custom', message, params: { rule } });
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < 0) fail('non_negative_integer', 'must be a whole number ≥ 0');
      else if (!Number.isSafeInteger(v)) fail('safe_integer', 'beyond 2^53 send the counter as a string or bigint');
    } else if (typeof v === 'string') {
      if (!/^\d{1,20}$/.test(v.trim())) fail('digits', 'must be a whole number ≥ 0 written in digits');
      else if (BigInt(v.trim()) > UINT64_MAX) fail('uint64', 'must not exceed 2^64 - 1');
    } else if (v < 0n) fail('non_negative_integer', 'must be a whole number ≥ 0');
    else if (v > UINT64_MAX) fail('uint64', 'must not exceed 2^64 - 1');
  })
  .transform((v) => (typeof v === 'string' ? BigInt(v.trim()) : BigInt(v)));

/** A tool by id or asset number, a press by id or code. */
const toolKey = z.union([z.number().int().positive(), z.string().trim().min(1).max(40).transform((v) => v.toUpperCase())]);
const pressKey = z.union([z.number().int().positive(), pressCode]);

/**
 * One reading as `toolroom-shot-count` receives it (issue 4):
 * `{ press | tool, counter | shots, at?, source?, cycleTimeMs?, mouldId? }`.
 * `source` names the signal so each counter is tracked on its own; by default the press (or tool),
 * with manual entries apart from the press's counter.
 */
export const shotReadingInput = z
  .object({
    press: pressKey.optional(),
    tool: toolKey.optional(),
    counter: counterValue.optional(),
    shots: counterValue.optional(),
    at: pastTimestamp.optional(),
    source: z.string().trim().min(1).max(200).optional(),
    // OPC 40077 LastCycleTime may be fractional; a cycle over a day is a unit mix-up.
    cycleTimeMs: z.number().min(0).max(86_400_000).transform(Math.round).nullish(),
    mouldId: z.string().trim().max(40).nullish(),
    // The counter's OPC-UA data type as the press node read it (UInt16, UInt32, ...): its width unless the shot counter fixes one.
    counterType: z.string().trim().min(1).max(40).nullish(),
  })
  .strict()
  .superRefine((v, ctx) => {
    oneOf(['press', 'tool'])(v, ctx);
    oneOf(['counter', 'shots'])(v, ctx);
    if (v.counterType && v.counter === undefined) ctx.addIssue({ code: 'custom', path: ['counterType'], message: 'goes with a counter, not with shots', params: { rule: 'with_counter' } });
    if (v.shots === 0n) ctx.addIssue({ code: 'custom', path: ['shots'], message: 'must be at least 1', params: { rule: 'positive' } });
  })
  .transform((v) => {
    const subject = v.press !== undefined ? `press:${v.press}` : `tool:${v.tool}`;
    return {
      press: v.press ?? null,
      tool: v.tool ?? null,
      counter: v.counter ?? null,
      shots: v.shots ?? null,
      at: v.at ?? new Date(),
      source: v.source ?? (v.shots !== undefined ? `${subject}:manual` : subject),
      cycleTimeMs: v.cycleTimeMs ?? null,
      mouldId: v.mouldId ? v.mouldId.toUpperCase() : null,
      counterType: v.counterType ?? null,
    };
  });
export type ShotReadingInput = z.input<typeof shotReadingInput>;
export type ShotReading = z.output<typeof shotReadingInput>;

/** Readings arriving together (one batch, few transactions). */
export const shotReadingsInput = z.array(shotReadingInput).min(1).max(10_000);

/** Held readings waiting for review, oldest first; of one press and/or one tool. */
export const listHeldReadingsInput = z.object({ pressId: id.optional(), toolId: id.optional(), ...pagination }).strict();
export type ListHeldReadingsInput = z.input<typeof listHeldReadingsInput>;

/** An engineer accepts a held jump: its shots count. */
export const acceptHeldReadingInput = z.object({ id, note: optionalText(2000) }).strict();
export type AcceptHeldReadingInput = z.input<typeof acceptHeldReadingInput>;

/** An engineer rejects a held jump (a glitch, a typo): it never counts, and says why. */
export const rejectHeldReadingInput = z.object({ id, reason: text(2000) }).strict();
export type RejectHeldReadingInput = z.input<typeof rejectHeldReadingInput>;

/** A held reading (a jump above the limit), before or after an engineer's review. */
export const heldReadingRecord = z.object({
  id: recordId,
  source: z.string(),
  at: instant,
  press: z.object({ id: recordId, code: z.string() }).nullable(),
  /** The tool the reading was attributed to when it arrived (null: no tool was mounted). */
  tool: z.object({ id: recordId, assetNumber: z.string() }).nullable(),
  /** The counter as the press reported it, as text (a UInt64 counter exceeds 2^53); null for a manual entry. */
  counter: z.string().nullable(),
  /** The shots accepting adds (beyond 2^53 a review refuses it). */
  pending: z.number().nullable(),
  /** Shots it added: 0 while held or rejected, `pending` once accepted. */
  delta: z.number().int(),
  outcome: z.enum(OUTCOMES),
  cycleTimeMs: z.number().int().nullable(),
  mouldId: z.string().nullable(),
  recordedAt: instant,
  reviewedAt: instant.nullable(),
  reviewedBy: z.string().nullable(),
  /** The engineer's note on accepting, or the reason for rejecting. */
  reviewNote: z.string().nullable(),
}).meta({ id: 'HeldReading' });
export type HeldReading = z.infer<typeof heldReadingRecord>;

export const acceptResultRecord = z.object({
  reading: heldReadingRecord,
  /** PM plans of the tool that became more urgent with the accepted shots: each announced once. */
  transitions: z.array(pmTransitionRecord),
}).meta({ id: 'AcceptResult' });
export type AcceptResult = z.infer<typeof acceptResultRecord>;

/** What recordReadings answers (core/shots/service.ts: RecordResult). */
export const recordResultRecord = z.object({
  /** One per reading, in the order given; `duplicate` = stored before (same source and time), nothing done again. */
  readings: z.array(
    z.object({
      source: z.string(),
      at: instant,
      outcome: z.enum([...OUTCOMES, 'duplicate']),
      delta: z.number().int(),
      pending: z.number().int().nullable(),
      pressId: recordId.nullable(),
      toolId: recordId.nullable(),
      assetNumber: z.string().nullable(),
      lifetimeShots: z.number().int().nullable(),
      mouldMismatch: z.string().nullable(),
    }),
  ),
  transitions: z.array(pmTransitionRecord),
  /** Tools moved because a press reported their MouldId, in time order. */
  remounts: z.array(z.object({ unmounted: z.array(mountRecord), mounted: mountRecord })),
}).meta({ id: 'ShotReadingsResult' });

/**
 * An engineer's manual shot entry for a tool (shots the counter missed: a press without OPC-UA, a
 * counter replaced), with the reason, which is required: the entry changes the lifetime PM and the
 * tool's end of life count by, and its reason is the only trail of why.
 */
export const manualShotsInput = z
  .object({
    tool: toolKey,
    // A whole number of shots; beyond ten million at once is a typo, not a missed weekend.
    shots: z.number().int().min(1).max(10_000_000),
    reason: text(2000),
    at: pastTimestamp.optional(),
  })
  .strict();
export type ManualShotsInput = z.input<typeof manualShotsInput>;

export const manualShotsRecord = z.object({
  /** The reading as stored (outcome `manual`), with the engineer and the reason as its review. */
  reading: heldReadingRecord,
  lifetimeShots: z.number().int(),
  /** PM plans of the tool that became more urgent with the shots: each announced once. */
  transitions: z.array(pmTransitionRecord),
}).meta({ id: 'ManualShotsResult' });
export type ManualShotsResult = z.infer<typeof manualShotsRecord>;
