import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { recordAudit } from '../audit/record';
import { inTransaction } from '../db/transaction';
import { conflict, notFound, ToolroomError, validationError, type FieldProblem } from '../errors';
import type { Remount } from '../mounts/service';
import { enqueueShots, type ShotPoint } from '../outbox/shots';
import { pmTransitionsInTransaction } from '../pm/service';
import type { PmTransition } from '../pm/schema';
import { parse } from '../validate';
import { countReading, counterMax, counterWidthFor, DEFAULT_COUNTER_CONFIG, type CounterConfig, type CounterState, type CounterWidth, type Outcome } from './counter';
import { shotReadingsInput, type ShotReading } from './schema';
import { attribute, type Attributed, type MouldMismatch } from './attribution';
import { addShots } from './lifetime';
import { shotEvents } from '../notifications/triggers';

/** What became of one reading; `duplicate` = stored before (same source and time), nothing done again. */
export interface ReadingResult {
  source: string;
  at: string;
  outcome: Outcome | 'duplicate';
  /** Shots added to the tool (0 unless counted). */
  delta: number;
  /** For a held reading: the shots accepting it would add. */
  pending: number | null;
  pressId: number | null;
  toolId: number | null;
  assetNumber: string | null;
  /** The tool's lifetime shots after this reading (null when no tool). */
  lifetimeShots: number | null;
  /** The reading's MouldId when it named no tool it could move to this press; the shots went to the mounted tool. */
  mouldMismatch: string | null;
}

export interface RecordResult {
  /** One per reading, in the order given. */
  readings: ReadingResult[];
  /** PM plans of the counted tools that became more urgent: each announced once. */
  transitions: PmTransition[];
  /** Tools moved because a press reported their MouldId, in time order. */
  remounts: Remount[];
}

export interface RecordOptions {
  /** Counter width and jump limit of these readings' sources (the shot-count node's settings). */
  counter?: CounterConfig;
}

interface Subject {
  pressId: number | null;
  pressCode: string | null;
  toolId: number | null;
}

type Work = Attributed & { index: number };

const keyOf = (source: string, at: Date) => `${source}\u0000${at.getTime()}`;

/** Presses and tools named by the readings, by id or code / asset number; unknown ones are errors naming the reading. */
async function resolveSubjects(trx: Knex.Transaction, readings: ShotReading[]): Promise<Subject[]> {
  const split = (keys: (number | string | null)[]) => ({
    ids: [...new Set(keys.filter((k): k is number => typeof k === 'number'))],
    codes: [...new Set(keys.filter((k): k is string => typeof k === 'string'))],
  });
  const p = split(readings.map((r) => r.press));
  const t = split(readings.map((r) => r.tool));
  const presses = (p.ids.length || p.codes.length
    ? await trx('presses').where((w) => w.whereIn('id', p.ids).orWhereIn('code', p.codes)).select('id', 'code')
    : []) as { id: number; code: string }[];
  const tools = (t.ids.length || t.codes.length
    ? await trx('tools').where((w) => w.whereIn('id', t.ids).orWhereIn('asset_number', t.codes)).select('id', 'asset_number', 'status')
    : []) as { id: number; asset_number: string; status: string }[];
  return readings.map((r, i) => {
    if (r.press !== null) {
      const press = presses.find((x) => (typeof r.press === 'number' ? x.id === r.press : x.code === r.press));
      if (!press) throw notFound('press', r.press, `${i}.press`);
      return { pressId: press.id, pressCode: press.code, toolId: null };
    }
    const tool = tools.find((x) => (typeof r.tool === 'number' ? x.id === r.tool : x.asset_number === r.tool));
    if (!tool) throw notFound('tool', r.tool!, `${i}.tool`);
    if (tool.status === 'retired') throw conflict(`tool ${tool.asset_number} is retired`, `${i}.tool`, 'not_retired');
    return { pressId: null, pressCode: null, toolId: tool.id };
  });
}

interface StateRow {
  source: string;
  last_counter: string | null;
  last_at: Date | string | null;
  held_counter: string | null;
}

/**
 * Create missing counter states and lock them all, in source order (every runtime locks in the same
 * order), in one statement: the upsert locks each row it meets (created or there) and returns it.
 */
async function lockStates(trx: Knex.Transaction, sources: Map<string, number | null>): Promise<Map<string, CounterState>> {
  if (!sources.size) return new Map();
  const { rows } = (await trx.raw(
    `INSERT INTO counter_states AS c (source, press_id)
     SELECT v.source, v.press_id FROM jsonb_to_recordset(?::jsonb) AS v(source text, press_id int) ORDER BY v.source
     ON CONFLICT (source) DO UPDATE SET updated_at = c.updated_at
     RETURNING c.source, c.last_counter::text AS last_counter, c.last_at, c.held_counter::text AS held_counter`, // text: a UInt64 must not pass through a float
    [JSON.stringify([...sources].map(([source, press_id]) => ({ source, press_id })))],
  )) as { rows: StateRow[] };
  return new Map(
    rows.map((r) => [
      r.source,
      {
        lastCounter: r.last_counter === null ? null : BigInt(r.last_counter),
        lastAt: r.last_at === null ? null : new Date(r.last_at),
        held: r.held_counter === null ? null : BigInt(r.held_counter),
      },
    ]),
  );
}

/** Readings from counter sources, with the press each counts for: their states are locked and written. */
type CounterSources = Map<string, number | null>;

/**
 * Each reading's counter width (the setting's, else its counter type's); a counter type that cannot be
 * counted, or a value beyond the width, is a bad reading, refused before anything is read.
 */
function counterWidths(readings: ShotReading[], config: CounterConfig): CounterWidth[] {
  const problems: FieldProblem[] = [];
  const widths = readings.map((r, i) => {
    try {
      const width = counterWidthFor(config, r.counter !== null ? r.counterType : null, r.source, `${i}.counterType`);
      const max = counterMax(width);
      if (r.counter !== null && r.counter > max) problems.push({ field: `${i}.counter`, rule: 'within_width', message: `must not exceed the counter's maximum ${max}` });
      return width;
    } catch (err) {
      if (!(err instanceof ToolroomError)) throw err;
      problems.push(...err.cause.details);
      return 'uint64';
    }
  });
  if (problems.length) throw validationError(problems);
  return widths;
}

/**
 * Resolve: each reading's press or tool, the readings in time order per source (whatever order the
 * batch came in; results keep the given order), and the counter states of their sources, locked.
 */
async function resolve(trx: Knex.Transaction, readings: ShotReading[]): Promise<{ work: Work[]; counterSources: CounterSources; states: Map<string, CounterState> }> {
  const subjects = await resolveSubjects(trx, readings);
  const work: Work[] = readings.map((reading, index) => ({ index, reading, ...subjects[index], duplicate: false, mouldMismatch: null }));
  work.sort((a, b) => a.reading.at.getTime() - b.reading.at.getTime() || a.index - b.index);
  const counterSources: CounterSources = new Map();
  for (const w of work) if (w.reading.counter !== null) counterSources.set(w.reading.source, w.pressId);
  return { work, counterSources, states: await lockStates(trx, counterSources) };
}

/**
 * De-duplicate: stored before, or earlier in this batch? Under the state locks nobody else writes
 * these counter sources meanwhile; a manual source is guarded by the unique (source, at) at insert time instead.
 */
async function markDuplicates(trx: Knex.Transaction, work: Work[], sources: string[]): Promise<void> {
  const seen = new Set<string>();
  const stored = (await trx('shot_readings')
    .whereIn('source', sources)
    .whereBetween('at', [work[0].reading.at, work[work.length - 1].reading.at])
    .select('source', 'at')) as { source: string; at: Date | string }[];
  for (const s of stored) seen.add(keyOf(s.source, new Date(s.at)));
  for (const w of work) {
    const key = keyOf(w.reading.source, w.reading.at);
    w.duplicate = seen.has(key);
    seen.add(key);
  }
}

/**
 * Count: each new reading turned into shots by the counter semantics against its source's state
 * (which moves on), in time order. Returns each reading's result (in the given order) and the rows to store.
 */
function count(work: Work[], states: Map<string, CounterState>, config: CounterConfig, widths: CounterWidth[]): { results: ReadingResult[]; rows: Record<string, unknown>[] } {
  const results: ReadingResult[] = new Array(work.length);
  const rows: Record<string, unknown>[] = [];
  for (const w of work) {
    const r = w.reading;
    const base = { source: r.source, at: r.at.toISOString(), pressId: w.pressId, toolId: w.toolId, assetNumber: null, lifetimeShots: null, mouldMismatch: w.mouldMismatch };
    if (w.duplicate) {
      results[w.index] = { ...base, outcome: 'duplicate', delta: 0, pending: null };
      continue;
    }
    const state = states.get(r.source) ?? { lastCounter: null, lastAt: null, held: null };
    const c = countReading(state, r.counter !== null ? { counter: r.counter, at: r.at } : { shots: r.shots!, at: r.at }, { ...config, width: widths[w.index] });
    if (r.counter !== null) states.set(r.source, c.nextState);
    // Shots made while no tool was mounted go to no tool; the reading keeps them, so they can be assigned later.
    const unattributed = w.toolId === null && c.delta > 0n;
    const outcome: Outcome = unattributed ? 'unattributed' : c.outcome;
    const delta = Number(c.delta);
    results[w.index] = { ...base, outcome, delta: unattributed ? 0 : delta, pending: c.pending === null ? null : Number(c.pending) };
    rows.push({
      i: w.index,
      source: r.source,
      press_id: w.pressId,
      tool_id: w.toolId,
      at: r.at.toISOString(),
      counter: r.counter === null ? null : r.counter.toString(),
      delta,
      outcome,
      pending: c.pending === null ? null : c.pending.toString(),
      cycle_time_ms: r.cycleTimeMs,
      mould_id: r.mouldId,
    });
  }
  return { results, rows };
}

/**
 * Insert the readings and write the counter states in one statement; what the unique (source, at)
 * turned away was stored by someone else meanwhile: a duplicate. The rows travel as JSON
 * parameters: binding thousands of parameters cost more than the insert (bench/shot-readings.ts).
 */
async function storeReadings(
  trx: Knex.Transaction,
  rows: Record<string, unknown>[],
  states: Map<string, CounterState>,
  counterSources: CounterSources,
  results: ReadingResult[],
): Promise<void> {
  const next = [...states].map(([source, st]) => ({
    source,
    last_counter: st.lastCounter?.toString() ?? null,
    last_at: st.lastAt?.toISOString() ?? null,
    held_counter: st.held?.toString() ?? null,
    press_id: counterSources.get(source) ?? null,
  }));
  const { rows: turnedAway } = (await trx.raw(
    `WITH v AS (SELECT * FROM jsonb_to_recordset(?::jsonb) AS v(i int, source text, press_id int, tool_id int, at timestamptz,
                  counter numeric, delta bigint, outcome text, pending numeric, cycle_time_ms int, mould_id text)),
          ins AS (INSERT INTO shot_readings (source, press_id, tool_id, at, counter, delta, outcome, pending, cycle_time_ms, mould_id)
                  SELECT source, press_id, tool_id, at, counter, delta, outcome, pending, cycle_time_ms, mould_id FROM v ORDER BY i
                  ON CONFLICT (source, at) DO NOTHING RETURNING source, at),
          states AS (UPDATE counter_states c SET last_counter = s.last_counter, last_at = s.last_at, held_counter = s.held_counter,
                       press_id = s.press_id, updated_at = now()
                     FROM jsonb_to_recordset(?::jsonb) AS s(source text, last_counter numeric, last_at timestamptz, held_counter numeric, press_id int)
                     WHERE c.source = s.source)
     SELECT v.i FROM v WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.source = v.source AND ins.at = v.at)`,
    [JSON.stringify(rows), JSON.stringify(next)],
  )) as { rows: { i: number }[] };
  for (const { i } of turnedAway) Object.assign(results[i], { outcome: 'duplicate', delta: 0, pending: null });
}

/** Each counted tool with its asset number and lifetime shots, for the results and the audit event. */
type Lifetimes = Map<number, { assetNumber: string; now: number }>;

/**
 * Add the counted shots to the tools (and their active cavities), give each reading the tool's
 * lifetime right after it (in time order, from the count before the batch), and queue one outbox
 * point per counted reading for InfluxDB. Returns the shots per tool and the tools' lifetimes.
 */
async function creditTools(trx: Knex.Transaction, work: Work[], results: ReadingResult[]): Promise<{ perTool: Map<number, number>; lifetime: Lifetimes }> {
  const perTool = new Map<number, number>();
  for (const w of work) {
    const res = results[w.index];
    if (res.delta > 0 && w.toolId !== null) perTool.set(w.toolId, (perTool.get(w.toolId) ?? 0) + res.delta);
  }
  const counts = await addShots(trx, perTool);
  const lifetime: Lifetimes = new Map([...counts].map(([id, c]) => [id, { assetNumber: c.assetNumber, now: c.lifetimeShots - perTool.get(id)! }]));
  const others = [...new Set(work.map((w) => w.toolId).filter((id): id is number => id !== null && !lifetime.has(id)))];
  if (others.length) {
    const rows = (await trx('tools').whereIn('id', others).select('id', 'asset_number', 'lifetime_shots')) as { id: number; asset_number: string; lifetime_shots: number | string }[];
    for (const t of rows) lifetime.set(t.id, { assetNumber: t.asset_number, now: Number(t.lifetime_shots) });
  }

  const points: ShotPoint[] = [];
  for (const w of work) {
    const res = results[w.index];
    const tool = w.toolId === null ? undefined : lifetime.get(w.toolId);
    if (!tool) continue;
    tool.now += res.delta;
    res.assetNumber = tool.assetNumber;
    res.lifetimeShots = tool.now;
    if (res.delta > 0) {
      points.push({ tool: tool.assetNumber, press: w.pressCode, source: res.source, delta: res.delta, lifetime: tool.now, cycleTimeMs: w.reading.cycleTimeMs, at: w.reading.at });
    }
  }
  await enqueueShots(trx, points);
  return { perTool, lifetime };
}

/**
 * Announce: one audit event per batch (the readings themselves are the detailed trail; a remount
 * has its own events), then the counted tools' PM plans that became more urgent, once each.
 */
async function announce(
  trx: Knex.Transaction,
  actor: Actor,
  batch: { sources: string[]; results: ReadingResult[]; perTool: Map<number, number>; lifetime: Lifetimes; mismatches: MouldMismatch[] },
): Promise<PmTransition[]> {
  const { sources, results, perTool, lifetime, mismatches } = batch;
  const tally: Record<string, number> = {};
  for (const res of results) tally[res.outcome] = (tally[res.outcome] ?? 0) + 1;
  await recordAudit(trx, actor, {
    action: 'shots.record',
    entity: 'shot_readings',
    entityId: sources.length === 1 ? sources[0] : `${sources.length} sources`,
    after: {
      readings: results.length,
      outcomes: tally,
      shotsByTool: Object.fromEntries([...perTool].map(([id, n]) => [lifetime.get(id)!.assetNumber, n])),
      held: results.filter((r) => r.outcome === 'held').map((r) => ({ source: r.source, at: r.at, pending: r.pending })),
      ...(mismatches.length ? { mouldMismatches: mismatches } : {}),
    },
  });
  // Notifications the counting raises: held readings to review, tools near their end of life.
  await shotEvents(trx, actor, perTool, results.filter((r) => r.outcome === 'held'));
  return pmTransitionsInTransaction(trx, actor, { toolIds: [...perTool.keys()] });
}

/**
 * Record a batch of shot readings (issue 4) in one transaction: each reading is stored once
 * (idempotent by source and time), turned into shots by the counter semantics (core/shots/counter.ts)
 * against its source's state, attributed to the tool mounted on its press at its time (a MouldId
 * naming another tool remounts the press first: core/shots/attribution.ts), and added to the tool's
 * and its active cavities' lifetime shots, with one outbox row per counted reading for InfluxDB.
 * Then the tools' PM plans that became more urgent are announced (once each).
 * A bad reading rejects the batch, naming it by index, and nothing is written.
 * Lock order: counter states (by source), then tools and presses of a remount, then the counted tools
 * (by id), then their PM plans.
 */
export async function recordReadings(db: Knex, actor: Actor, input: unknown, options: RecordOptions = {}): Promise<RecordResult> {
  authorize(actor, 'shot.record');
  const readings = parse(shotReadingsInput, input);
  return inTransaction(db, (trx) => recordReadingsInTransaction(trx, actor, readings, options.counter ?? DEFAULT_COUNTER_CONFIG));
}

/** recordReadings' work on parsed readings inside the caller's transaction (a manual entry comes here too: core/shots/manual.ts). */
export async function recordReadingsInTransaction(trx: Knex.Transaction, actor: Actor, readings: ShotReading[], config: CounterConfig): Promise<RecordResult> {
  const widths = counterWidths(readings, config);
  const sources = [...new Set(readings.map((r) => r.source))];
  const { work, counterSources, states } = await resolve(trx, readings);
  await markDuplicates(trx, work, sources);
  const { remounts, mismatches } = await attribute(trx, actor, work);
  const { results, rows } = count(work, states, config, widths);
  await storeReadings(trx, rows, states, counterSources, results);
  const { perTool, lifetime } = await creditTools(trx, work, results);
  const transitions = await announce(trx, actor, { sources, results, perTool, lifetime, mismatches });
  return { readings: results, transitions, remounts };
}
