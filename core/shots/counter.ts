import { validationError } from '../errors';

/**
 * Counter semantics: how one reading of a press's counter becomes a number of shots.
 * Pure (no database): the caller loads the per-source state, applies `countReading`, and stores
 * `nextState` in the same transaction as the reading. Counters are BigInt throughout: a UInt64
 * counter exceeds 2^53 and must not lose its last digits.
 */

/** Outcomes of a reading (shot_readings_outcome_check). The last three are set by review and attribution, not here. */
export const OUTCOMES = [
  'baseline', 'counted', 'reset', 'rollover', 'repeat', 'out_of_order', 'held', 'manual',
  'accepted', 'rejected', 'unattributed',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Outcomes whose delta adds to lifetime shots (a held jump adds only once an engineer accepts it). */
export const COUNTING_OUTCOMES: readonly Outcome[] = ['counted', 'reset', 'rollover', 'manual', 'accepted'];

/** The counter's width: it wraps from its maximum to 0 (a decimal display counter from e.g. 999 999). */
export type CounterWidth = 'uint16' | 'uint32' | 'uint64' | { decimal: number };

export interface CounterConfig {
  /** Absent: the width of the reading's counter data type (counterTypeWidth), else uint32. */
  width?: CounterWidth;
  /** The largest step counted without review; anything larger is held for an engineer. */
  jumpLimit: number | bigint;
}

/** A press cycling every 2 s makes 1 800 shots an hour: a larger step needs a person's eye. */
export const DEFAULT_COUNTER_CONFIG: CounterConfig = { jumpLimit: 10_000 };

/** The width of a counter whose data type nobody reported. */
export const DEFAULT_WIDTH: CounterWidth = 'uint32';

/** OPC-UA built-in data types a cycle counter may have, and where each wraps (a Byte after 255). */
const DATA_TYPE_WIDTHS: Record<string, CounterWidth> = { Byte: { decimal: 255 }, UInt16: 'uint16', UInt32: 'uint32', UInt64: 'uint64' };

/**
 * The width a reading's counter is counted with: the node's own setting if it fixes one, else the
 * counter's OPC-UA data type as the press node reported it (`counterType`), else uint32. A signed or
 * floating-point counter (Int32, Double, ...) is refused whatever the setting: it goes negative or
 * loses cycles where it wraps, so its shots cannot be trusted. `source` names the counter (endpoint#node id).
 */
export function counterWidthFor(config: CounterConfig, counterType: string | null, source: string, field = 'counterType'): CounterWidth {
  if (counterType === null) return config.width ?? DEFAULT_WIDTH;
  const width = DATA_TYPE_WIDTHS[counterType];
  if (width === undefined) {
    throw validationError([{
      field,
      rule: 'unsigned_counter',
      message: `the counter ${source} is ${counterType}: a shot counter must be an unsigned whole number (Byte, UInt16, UInt32 or UInt64); point the press node at the press's cycle counter`,
    }]);
  }
  return config.width ?? width;
}

/** What is remembered per source (a row of counter_states). */
export interface CounterState {
  /** The last trusted counter value; null before the first reading. */
  lastCounter: bigint | null;
  /** Time of the newest reading seen (trusted or held): older readings are out of order. */
  lastAt: Date | null;
  /** Counter of a held jump not yet confirmed by the readings after it, else null. */
  held?: bigint | null;
}

export type CounterValue = number | string | bigint;

/** An absolute counter as the press reports it, or a delta (manual entry). */
export type Reading = { counter: CounterValue; at: Date } | { shots: CounterValue; at: Date };

export interface CountResult {
  outcome: Outcome;
  /** Shots to add to lifetime now (0 for baseline, repeat, out of order and held). */
  delta: bigint;
  /** For a held reading: the shots that accepting it would add. */
  pending: bigint | null;
  nextState: CounterState;
}

const WIDTH_MAX: Record<Exclude<CounterWidth, object>, bigint> = {
  uint16: 0xffffn,
  uint32: 0xffff_ffffn,
  uint64: 0xffff_ffff_ffff_ffffn,
};

/** The largest value a counter of this width shows before it wraps to 0. */
export function counterMax(width: CounterWidth): bigint {
  if (typeof width === 'object') {
    if (!Number.isSafeInteger(width.decimal) || width.decimal < 1) {
      throw validationError([{ field: 'width.decimal', rule: 'positive_integer', message: 'the display counter maximum must be a positive integer' }]);
    }
    return BigInt(width.decimal);
  }
  const max = WIDTH_MAX[width];
  if (max === undefined) {
    throw validationError([{ field: 'width', rule: 'invalid_value', message: 'must be uint16, uint32, uint64 or { decimal: max }' }]);
  }
  return max;
}

/** A counter value as BigInt: a non-negative integer given as number (safe range), digit string or bigint. */
export function toCounter(value: CounterValue, field = 'counter'): bigint {
  let out: bigint | null = null;
  if (typeof value === 'bigint') out = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) out = BigInt(value);
  else if (typeof value === 'string' && /^\d{1,20}$/.test(value.trim())) out = BigInt(value.trim());
  if (out === null || out < 0n) {
    throw validationError([{ field, rule: 'counter_value', message: 'must be a non-negative whole number (a string or bigint beyond 2^53)' }]);
  }
  return out;
}

/**
 * The step from a trusted counter `last` to `value`, before the jump limit is applied.
 * A decrease is a rollover when counting across the wrap is a plausible step, i.e. when
 * (max - last) + 1 + value <= jumpLimit: the old value was within jumpLimit of the maximum and
 * the new one is small (65534 -> 3 on UInt16 is 5 shots). Any other decrease is a reset (job
 * change, PLC restart), and the new value is the shots counted since it.
 */
function step(last: bigint, value: bigint, max: bigint, limit: bigint): { outcome: Outcome; delta: bigint } {
  if (value === last) return { outcome: 'repeat', delta: 0n };
  if (value > last) return { outcome: 'counted', delta: value - last };
  const across = max - last + 1n + value;
  if (last <= max && across <= limit) return { outcome: 'rollover', delta: across };
  return { outcome: 'reset', delta: value };
}

function limitOf(config: CounterConfig): bigint {
  const limit = typeof config.jumpLimit === 'bigint' ? config.jumpLimit : Number.isSafeInteger(config.jumpLimit) ? BigInt(config.jumpLimit) : -1n;
  if (limit < 1n) throw validationError([{ field: 'jumpLimit', rule: 'positive_integer', message: 'the jump limit must be a positive whole number' }]);
  return limit;
}

/**
 * Turn one reading into shots. Rules, in order:
 * - `shots` (manual entry) counts as given (held when above the jump limit: a typed extra zero); the counter state is untouched.
 * - a reading older than the newest seen is out of order and counts nothing;
 * - the first counter reading is the baseline (0 shots);
 * - otherwise `step` from the last trusted counter: repeat (0), increase, rollover or reset;
 *   a step above the jump limit is held (0 shots now, `pending` on acceptance), and the trusted
 *   counter stays where it was. While a jump is held, the next reading decides where the press is:
 *   a plausible step from the held value counts from there (the press really is there); a plausible
 *   step from the trusted value counts from that (the jump was a glitch). Either way the held reading
 *   itself still waits for review; the same held value again is a repeat and confirms nothing.
 */
export function countReading(state: CounterState, reading: Reading, config: CounterConfig): CountResult {
  const limit = limitOf(config);
  const max = counterMax(config.width ?? DEFAULT_WIDTH);
  const held = state.held ?? null;

  if ('shots' in reading) {
    const shots = toCounter(reading.shots, 'shots');
    if (shots > limit) return { outcome: 'held', delta: 0n, pending: shots, nextState: state };
    return { outcome: 'manual', delta: shots, pending: null, nextState: state };
  }

  const value = toCounter(reading.counter);
  if (value > max) {
    throw validationError([{ field: 'counter', rule: 'within_width', message: `must not exceed the counter's maximum ${max}` }]);
  }
  const at = reading.at;
  if (state.lastAt && at.getTime() < state.lastAt.getTime()) {
    return { outcome: 'out_of_order', delta: 0n, pending: null, nextState: state };
  }
  const trusted = (counter: bigint, heldCounter: bigint | null = null): CounterState => ({ lastCounter: counter, lastAt: at, held: heldCounter });

  if (state.lastCounter === null) return { outcome: 'baseline', delta: 0n, pending: null, nextState: trusted(value) };

  if (held !== null) {
    if (value === held) return { outcome: 'repeat', delta: 0n, pending: null, nextState: trusted(state.lastCounter, held) };
    const fromHeld = step(held, value, max, limit);
    if (fromHeld.outcome !== 'reset' && fromHeld.delta <= limit) return { ...fromHeld, pending: null, nextState: trusted(value) };
  }
  const s = step(state.lastCounter, value, max, limit);
  if (s.delta > limit) return { outcome: 'held', delta: 0n, pending: s.delta, nextState: trusted(state.lastCounter, value) };
  return { ...s, pending: null, nextState: trusted(value) };
}
