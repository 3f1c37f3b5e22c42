import type { Actor } from '../../core/auth/actor';
import type { Db } from '../../core/db/connect';
import { ToolroomError, validationError, type FieldProblem } from '../../core/errors';
import type { PmTransition } from '../../core/pm/schema';
import type { CounterConfig } from '../../core/shots/counter';
import { recordReadings, type ReadingResult, type RecordResult } from '../../core/shots/service';

/**
 * The queue behind toolroom-shot-count: readings arriving together are written in few
 * transactions (core/shots/service recordReadings), and none is lost while the database is away.
 * No Node-RED here: the node wraps it, tests and benchmarks drive it directly.
 *
 * - One message (one reading or an array) is the unit of success or failure: its readings are
 *   stored together or not at all, and an error names the field within that message.
 * - A batch is a run of queued messages of the same actor, up to `maxReadings` readings, sent once
 *   the oldest has waited `maxWaitMs` or the queue holds `maxReadings`. One batch is in flight at a
 *   time, so a source's readings reach the database in the order they came.
 * - A batch refused for a bad message (validation, unknown press, ...) is retried without the
 *   messages the error names; the others are unaffected. A database that cannot be reached keeps
 *   the batch queued and retried with backoff: each reading is stored once by source and time,
 *   so a retry after a commit whose answer was lost counts nothing twice.
 */

export interface ShotBatcherOptions {
  database(): Promise<Db>;
  counter?: CounterConfig;
  /** How long the oldest queued reading may wait for others (ms). */
  maxWaitMs: number;
  /** Readings per transaction, at most 10,000 (recordReadings' limit). */
  maxReadings: number;
  /** Readings kept while the database is away; beyond it new messages are refused. */
  maxQueued?: number;
  /** Backoff after a failed try: doubling from min to max. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A batch was stored: its PM transitions (each announced once, here) and what it held. */
  onStored?(batch: { readings: ReadingResult[]; transitions: PmTransition[]; ms: number }): void;
  /** The database could not be reached: the batch stays queued and is tried again in `retryInMs`. */
  onWaiting?(info: { error: Error; queued: number; retryInMs: number }): void;
}

/** What one message gets: the results of its own readings, in its order. */
export type MessageResult = ReadingResult[];

interface Entry {
  readings: unknown[];
  /** The message held one reading, not an array: its errors name fields without an index. */
  single: boolean;
  actor: Actor;
  key: string;
  arrived: number;
  /** Try on its own (an error of the batch it was in named no message). */
  alone: boolean;
  resolve(result: MessageResult): void;
  reject(err: Error): void;
}

const DEFAULT_MAX_QUEUED = 100_000;
/** Unexpected (not outage, not rule) failures of a batch before its messages are tried one by one. */
const ODD_FAILURES = 3;

const actorKey = (a: Actor) => `${a.role}\u0000${a.id}\u0000${a.via ?? ''}`;

/**
 * The database could not be reached or answer (worth waiting for), as opposed to a bad batch: network
 * and server-going-away errors, connection classes 08/53/57P, the pool timing out.
 */
export function isOutage(err: unknown): boolean {
  if (err instanceof ToolroomError) return false;
  const e = err as { code?: unknown; name?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/^(E[A-Z]+|08...|53...|57P0[1-4])$/.test(code)) return true;
  if (e?.name === 'KnexTimeoutError') return true;
  return /Connection terminated|connect ECONN|timeout exceeded|Client has encountered a connection error/i.test(String(e?.message ?? ''));
}

/** A transaction that lost a race (deadlock, serialization): try again. */
function isConcurrency(err: unknown): boolean {
  return err instanceof ToolroomError && err.code === 'conflict' && err.cause.details.some((d) => d.rule === 'concurrent_update');
}

export function backoff(failures: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.min(20, Math.max(0, failures - 1)));
}

/** The message index a problem's field starts with ("12.press" → 12), or null. */
function indexOf(field: string): number | null {
  const m = /^(\d+)(?:\.|$)/.exec(field);
  return m ? Number(m[1]) : null;
}

/** The problems of one message, their fields relative to it: "12.press" → "2.press", or "press" for a single reading. */
function ownProblems(details: FieldProblem[], entry: Entry, offset: number): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const d of details) {
    const i = indexOf(d.field);
    if (i === null) {
      out.push(d);
      continue;
    }
    const local = i - offset;
    if (local < 0 || local >= entry.readings.length) continue;
    const rest = d.field.slice(String(i).length).replace(/^\./, '');
    out.push({ ...d, field: entry.single ? rest : rest ? `${local}.${rest}` : String(local) });
  }
  return out;
}

function errorFor(err: ToolroomError, details: FieldProblem[]): ToolroomError {
  return err.code === 'validation' ? validationError(details) : new ToolroomError(err.code, err.message, details, { retryAt: err.retryAt });
}

export class ShotBatcher {
  private readonly queue: Entry[] = [];
  private queued = 0;
  private flying: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private retryAt = 0;
  private outages = 0;
  private oddFailures = 0;
  private closing = false;
  private readonly maxQueued: number;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;

  constructor(private readonly options: ShotBatcherOptions) {
    if (!(options.maxReadings >= 1 && options.maxReadings <= 10_000)) throw new RangeError('maxReadings must be 1 to 10,000');
    this.maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
    this.minBackoff = options.minBackoffMs ?? 500;
    this.maxBackoff = options.maxBackoffMs ?? 30_000;
  }

  /** Readings waiting (including a batch in flight). */
  pending(): number {
    return this.queued;
  }

  /**
   * Queue one message's readings (`payload` one reading or an array); resolves with their results
   * once stored, or rejects with the error that refused them (fields relative to the message).
   */
  add(payload: unknown, actor: Actor): Promise<MessageResult> {
    if (this.closing) return Promise.reject(new Error('toolroom-shot-count is closing: the reading was not taken'));
    const single = !Array.isArray(payload);
    // Stamped now, not when the batch is written: a reading is as of its arrival, and a retry keeps its time (and so its identity).
    const now = new Date().toISOString();
    const readings = (single ? [payload] : (payload as unknown[])).map((r) =>
      r !== null && typeof r === 'object' && !Array.isArray(r) && (r as { at?: unknown }).at === undefined ? { ...(r as object), at: now } : r,
    );
    if (this.queued + readings.length > this.maxQueued) {
      return Promise.reject(new Error(`toolroom-shot-count holds ${this.queued} readings waiting for the database (at most ${this.maxQueued}): the reading was not taken`));
    }
    return new Promise<MessageResult>((resolve, reject) => {
      this.queue.push({ readings, single, actor, key: actorKey(actor), arrived: Date.now(), alone: false, resolve, reject });
      this.queued += readings.length;
      this.schedule();
    });
  }

  /** Store what is queued now, ignoring the batch window; resolves when the queue is empty or a deadline passes. */
  async close(deadlineMs = 10_000): Promise<void> {
    this.closing = true;
    const end = Date.now() + deadlineMs;
    // While closing, waits for the database are short: the deadline decides.
    this.retryAt = Math.min(this.retryAt, Date.now() + 250);
    while ((this.queue.length || this.flying) && Date.now() < end) {
      this.schedule();
      await (this.flying ?? new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, end - Date.now())))));
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const e of this.queue.splice(0)) e.reject(new Error('toolroom-shot-count closed before the database could store the reading'));
    this.queued = 0;
  }

  private schedule(): void {
    if (this.flying || !this.queue.length) return;
    const now = Date.now();
    let wait = 0;
    if (this.retryAt > now) wait = this.retryAt - now;
    else if (!this.closing && this.queued < this.options.maxReadings) wait = this.queue[0].arrived + this.options.maxWaitMs - now;
    if (wait > 0) {
      if (!this.timer) {
        this.timer = setTimeout(() => {
          this.timer = null;
          this.schedule();
        }, wait);
      }
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.flying = this.flushOnce().finally(() => {
      this.flying = null;
      this.schedule();
    });
  }

  /** The next batch off the head of the queue: same actor, at most maxReadings readings (at least one message). */
  private take(): Entry[] {
    const head = this.queue[0];
    let n = 1;
    let readings = head.readings.length;
    if (!head.alone) {
      while (n < this.queue.length) {
        const e = this.queue[n];
        if (e.alone || e.key !== head.key || readings + e.readings.length > this.options.maxReadings) break;
        readings += e.readings.length;
        n++;
      }
    }
    return this.queue.splice(0, n);
  }

  private requeue(batch: Entry[]): void {
    this.queue.unshift(...batch);
  }

  private settle(entry: Entry, outcome: { result: MessageResult } | { error: Error }): void {
    this.queued -= entry.readings.length;
    if ('error' in outcome) entry.reject(outcome.error);
    else entry.resolve(outcome.result);
  }

  private async flushOnce(): Promise<void> {
    const batch = this.take();
    const started = Date.now();
    let result: RecordResult;
    try {
      const db = await this.options.database();
      const readings = batch.length === 1 ? batch[0].readings : batch.flatMap((e) => e.readings);
      result = await recordReadings(db, batch[0].actor, readings, { counter: this.options.counter });
    } catch (err) {
      this.failed(batch, err as Error);
      return;
    }
    this.outages = 0;
    this.oddFailures = 0;
    this.retryAt = 0;
    let offset = 0;
    for (const e of batch) {
      this.settle(e, { result: result.readings.slice(offset, offset + e.readings.length) });
      offset += e.readings.length;
    }
    this.options.onStored?.({ readings: result.readings, transitions: result.transitions, ms: Date.now() - started });
  }

  private failed(batch: Entry[], err: Error): void {
    if (isOutage(err) || isConcurrency(err)) {
      this.requeue(batch);
      this.outages++;
      const wait = this.closing ? 250 : backoff(this.outages, this.minBackoff, this.maxBackoff);
      this.retryAt = Date.now() + wait;
      this.options.onWaiting?.({ error: err, queued: this.queued, retryInMs: wait });
      return;
    }
    if (err instanceof ToolroomError) {
      if (batch.length === 1) return this.settle(batch[0], { error: errorFor(err, ownProblems(err.cause.details, batch[0], 0)) });
      // Which messages does the error name? Refuse those, send the rest again at once.
      const starts: number[] = [];
      batch.reduce((offset, e) => (starts.push(offset), offset + e.readings.length), 0);
      const named = new Set<number>();
      let unplaced = err.cause.details.length === 0;
      for (const d of err.cause.details) {
        const i = indexOf(d.field);
        if (i === null) unplaced = true;
        else named.add(starts.findLastIndex((s) => s <= i));
      }
      if (unplaced) {
        for (const e of batch) e.alone = true;
        return this.requeue(batch);
      }
      const rest: Entry[] = [];
      batch.forEach((e, k) => {
        if (named.has(k)) this.settle(e, { error: errorFor(err, ownProblems(err.cause.details, e, starts[k])) });
        else rest.push(e);
      });
      return this.requeue(rest);
    }
    // Neither an outage nor a rule: a few tries, then the messages one by one, and one failing alone is refused.
    this.oddFailures++;
    if (this.oddFailures < ODD_FAILURES) {
      this.requeue(batch);
      this.retryAt = Date.now() + backoff(this.oddFailures, this.minBackoff, this.maxBackoff);
      return;
    }
    this.oddFailures = 0;
    if (batch.length === 1) return this.settle(batch[0], { error: err });
    for (const e of batch) e.alone = true;
    this.requeue(batch);
  }
}

// toolroom-shot-count's settings (the node itself is ../toolroom-shot-count.ts).

export interface ShotCountDef {
  id: string;
  type: string;
  name?: string;
  config?: string;
  /** auto (the press's counter data type, else uint32) | uint16 | uint32 | uint64 | decimal (a display counter wrapping after decimalMax). */
  width?: string;
  decimalMax?: number | string;
  jumpLimit?: number | string;
  /** Batch window: ms the first reading may wait, and readings per transaction. */
  batchMs?: number | string;
  batchSize?: number | string;
}

export interface ShotCountSettings {
  counter: CounterConfig;
  maxWaitMs: number;
  maxReadings: number;
}

const WIDTHS = ['auto', 'uint16', 'uint32', 'uint64', 'decimal'] as const;

/** The node's settings as batcher options; a setting that cannot work is a validation error naming it. */
export function shotCountSettings(def: ShotCountDef): ShotCountSettings {
  const problems: FieldProblem[] = [];
  const whole = (field: keyof ShotCountDef, fallback: number, min: number, max: number, message: string): number => {
    const raw = def[field];
    const n = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      problems.push({ field, rule: 'range', message });
      return fallback;
    }
    return n;
  };
  const width = (def.width || 'auto') as (typeof WIDTHS)[number];
  if (!WIDTHS.includes(width)) problems.push({ field: 'width', rule: 'one_of', message: `must be one of ${WIDTHS.join(', ')}` });
  const decimalMax = width === 'decimal' ? whole('decimalMax', 999_999, 1, Number.MAX_SAFE_INTEGER, 'the display counter maximum must be a whole number ≥ 1, e.g. 999999') : 0;
  const jumpLimit = whole('jumpLimit', 10_000, 1, Number.MAX_SAFE_INTEGER, 'must be a whole number of shots ≥ 1');
  const maxWaitMs = whole('batchMs', 100, 0, 60_000, 'must be whole milliseconds from 0 to 60000');
  const maxReadings = whole('batchSize', 1000, 1, 10_000, 'must be a whole number of readings from 1 to 10000');
  if (problems.length) throw validationError(problems);
  return {
    // auto: each reading's counter type says the width (core/shots/counter counterWidthFor).
    counter: width === 'auto' ? { jumpLimit } : { width: width === 'decimal' ? { decimal: decimalMax } : width, jumpLimit },
    maxWaitMs,
    maxReadings,
  };
}
