import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { recordAudit } from '../audit/record';
import { inTransaction } from '../db/transaction';
import { conflict, notFound, validationError, type FieldProblem } from '../errors';
import { toolMountedAt } from '../mounts/repository';
import { enqueueShots, type ShotPoint } from '../outbox/shots';
import { pmTransitionsInTransaction } from '../pm/service';
import type { PmTransition } from '../pm/schema';
import { parse } from '../validate';
import { countReading, counterMax, DEFAULT_COUNTER_CONFIG, type CounterConfig, type CounterState, type Outcome } from './counter';
import { shotReadingsInput, type ShotReading } from './schema';

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
}

export interface RecordResult {
  /** One per reading, in the order given. */
  readings: ReadingResult[];
  /** PM plans of the counted tools that became more urgent: each announced once. */
  transitions: PmTransition[];
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

type Work = { index: number; reading: ShotReading; subject: Subject; toolId: number | null };

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

/**
 * The tool on each press at each reading's time, by core/mounts' toolMountedAt. A batch usually
 * spans seconds on one press: when the same tool is mounted at its first and last reading and no
 * mount began or ended in between, that one answer holds for all of them.
 */
async function attribute(trx: Knex.Transaction, work: Work[]): Promise<void> {
  const byPress = new Map<number, Work[]>();
  for (const w of work) {
    if (w.subject.pressId === null) w.toolId = w.subject.toolId;
    else byPress.set(w.subject.pressId, [...(byPress.get(w.subject.pressId) ?? []), w]);
  }
  for (const [pressId, list] of byPress) {
    const times = list.map((w) => w.reading.at.getTime());
    const first = new Date(Math.min(...times));
    const last = new Date(Math.max(...times));
    const atFirst = await toolMountedAt(trx, pressId, first);
    let uniform = first.getTime() === last.getTime();
    if (!uniform && atFirst === (await toolMountedAt(trx, pressId, last))) {
      const change = await trx('tool_mounts')
        .where('press_id', pressId)
        .andWhere((w) => w.whereBetween('mounted_at', [first, last]).orWhereBetween('unmounted_at', [first, last]))
        .first('id');
      uniform = !change;
    }
    if (uniform) for (const w of list) w.toolId = atFirst;
    else {
      const memo = new Map<number, number | null>();
      for (const w of list) {
        const t = w.reading.at.getTime();
        if (!memo.has(t)) memo.set(t, await toolMountedAt(trx, pressId, w.reading.at));
        w.toolId = memo.get(t)!;
      }
    }
  }
}

interface StateRow {
  source: string;
  last_counter: string | null;
  last_at: Date | string | null;
  held_counter: string | null;
}

/** Create missing counter states and lock them all, in source order (every runtime locks in the same order). */
async function lockStates(trx: Knex.Transaction, sources: Map<string, number | null>): Promise<Map<string, CounterState>> {
  const names = [...sources.keys()].sort();
  if (!names.length) return new Map();
  await trx('counter_states')
    .insert(names.map((source) => ({ source, press_id: sources.get(source) })))
    .onConflict('source')
    .ignore();
  const rows = (await trx('counter_states')
    .whereIn('source', names)
    .orderBy('source')
    .forUpdate()
    // As text: a UInt64 counter must not pass through a float on the way out.
    .select('source', trx.raw('last_counter::text AS last_counter'), 'last_at', trx.raw('held_counter::text AS held_counter'))) as StateRow[];
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

/**
 * Record a batch of shot readings (issue 4) in one transaction: each reading is stored once
 * (idempotent by source and time), turned into shots by the counter semantics (core/shots/counter.ts)
 * against its source's state, attributed to the tool mounted on its press at its time, and added to
 * the tool's and its active cavities' lifetime shots, with one outbox row per counted reading for
 * InfluxDB. Then the tools' PM plans that became more urgent are announced (once each).
 * A bad reading rejects the batch, naming it by index, and nothing is written.
 */
export async function recordReadings(db: Knex, actor: Actor, input: unknown, options: RecordOptions = {}): Promise<RecordResult> {
  authorize(actor, 'shot.record');
  const readings = parse(shotReadingsInput, input);
  const config = options.counter ?? DEFAULT_COUNTER_CONFIG;
  const max = counterMax(config.width);
  const problems: FieldProblem[] = [];
  readings.forEach((r, i) => {
    if (r.counter !== null && r.counter > max) problems.push({ field: `${i}.counter`, rule: 'within_width', message: `must not exceed the counter's maximum ${max}` });
  });
  if (problems.length) throw validationError(problems);

  return inTransaction(db, async (trx) => {
    const subjects = await resolveSubjects(trx, readings);
    const work: Work[] = readings.map((reading, index) => ({ index, reading, subject: subjects[index], toolId: null }));
    // Time order per source, whatever order the batch came in; the results keep the given order.
    work.sort((a, b) => a.reading.at.getTime() - b.reading.at.getTime() || a.index - b.index);

    const counterSources = new Map<string, number | null>();
    for (const w of work) if (w.reading.counter !== null) counterSources.set(w.reading.source, w.subject.pressId);
    const states = await lockStates(trx, counterSources);

    // Stored before? Under the state locks nobody else writes these counter sources meanwhile;
    // a manual source is guarded by the unique (source, at) at insert time instead.
    const seen = new Set<string>();
    const sources = [...new Set(readings.map((r) => r.source))];
    const times = readings.map((r) => r.at.getTime());
    const stored = (await trx('shot_readings')
      .whereIn('source', sources)
      .whereBetween('at', [new Date(Math.min(...times)), new Date(Math.max(...times))])
      .select('source', 'at')) as { source: string; at: Date | string }[];
    for (const s of stored) seen.add(keyOf(s.source, new Date(s.at)));

    await attribute(trx, work);

    const results: ReadingResult[] = new Array(readings.length);
    const rows: Record<string, unknown>[] = [];
    for (const w of work) {
      const r = w.reading;
      const key = keyOf(r.source, r.at);
      const base = { source: r.source, at: r.at.toISOString(), pressId: w.subject.pressId, toolId: w.toolId, assetNumber: null, lifetimeShots: null };
      if (seen.has(key)) {
        results[w.index] = { ...base, outcome: 'duplicate', delta: 0, pending: null };
        continue;
      }
      seen.add(key);
      const state = states.get(r.source) ?? { lastCounter: null, lastAt: null, held: null };
      const c = countReading(state, r.counter !== null ? { counter: r.counter, at: r.at } : { shots: r.shots!, at: r.at }, config);
      if (r.counter !== null) states.set(r.source, c.nextState);
      // Shots made while no tool was mounted go to no tool; the reading keeps them, so they can be assigned later.
      const unattributed = w.toolId === null && c.delta > 0n;
      const outcome: Outcome = unattributed ? 'unattributed' : c.outcome;
      const delta = Number(c.delta);
      results[w.index] = { ...base, outcome, delta: unattributed ? 0 : delta, pending: c.pending === null ? null : Number(c.pending) };
      rows.push({
        source: r.source,
        press_id: w.subject.pressId,
        tool_id: w.toolId,
        at: r.at,
        counter: r.counter === null ? null : r.counter.toString(),
        delta,
        outcome,
        cycle_time_ms: r.cycleTimeMs,
        mould_id: r.mouldId,
      });
    }

    // Insert; what the unique (source, at) turned away was stored by someone else meanwhile: a duplicate.
    const inserted = new Set<string>();
    for (let i = 0; i < rows.length; i += 1000) {
      const back = (await trx('shot_readings').insert(rows.slice(i, i + 1000)).onConflict(['source', 'at']).ignore().returning(['source', 'at'])) as { source: string; at: Date | string }[];
      for (const b of back) inserted.add(keyOf(b.source, new Date(b.at)));
    }
    for (const res of results) {
      if (res.outcome !== 'duplicate' && !inserted.has(keyOf(res.source, new Date(res.at)))) Object.assign(res, { outcome: 'duplicate', delta: 0, pending: null });
    }

    // Lifetime per tool, in tool id order (the lock order of every writer of tools).
    const perTool = new Map<number, number>();
    for (const w of work) {
      const res = results[w.index];
      if (res.delta > 0 && w.toolId !== null) perTool.set(w.toolId, (perTool.get(w.toolId) ?? 0) + res.delta);
    }
    const lifetime = new Map<number, { assetNumber: string; now: number }>();
    if (perTool.size) {
      const adds = JSON.stringify([...perTool].map(([id, add]) => ({ id, add })));
      // Lock in id order first (the order of every writer of tools), then add in one statement each.
      // NO KEY UPDATE, the lock an UPDATE of a non-key column takes: FOR UPDATE would wait on the key-share
      // locks that inserting readings (foreign key to tools) leaves, and two such writers would deadlock.
      await trx('tools').whereIn('id', [...perTool.keys()]).orderBy('id').forNoKeyUpdate().select('id');
      // Counting is not an edit: version and updated_at stay, so nobody's open form goes stale.
      const { rows } = (await trx.raw(
        `UPDATE tools t SET lifetime_shots = t.lifetime_shots + v.add FROM jsonb_to_recordset(?::jsonb) AS v(id int, add bigint)
         WHERE t.id = v.id RETURNING t.id, t.asset_number, t.lifetime_shots`,
        [adds],
      )) as { rows: { id: number; asset_number: string; lifetime_shots: number | string }[] };
      await trx.raw(
        `UPDATE tool_cavities c SET lifetime_shots = c.lifetime_shots + v.add FROM jsonb_to_recordset(?::jsonb) AS v(id int, add bigint)
         WHERE c.tool_id = v.id AND c.state = 'active'`,
        [adds],
      );
      for (const r of rows) lifetime.set(r.id, { assetNumber: r.asset_number, now: Number(r.lifetime_shots) - perTool.get(r.id)! });
    }
    const others = [...new Set(work.map((w) => w.toolId).filter((id): id is number => id !== null && !lifetime.has(id)))];
    if (others.length) {
      const rows = (await trx('tools').whereIn('id', others).select('id', 'asset_number', 'lifetime_shots')) as { id: number; asset_number: string; lifetime_shots: number | string }[];
      for (const t of rows) lifetime.set(t.id, { assetNumber: t.asset_number, now: Number(t.lifetime_shots) });
    }

    // Each reading's lifetime is the tool's count right after it, in time order.
    const points: ShotPoint[] = [];
    for (const w of work) {
      const res = results[w.index];
      const tool = w.toolId === null ? undefined : lifetime.get(w.toolId);
      if (!tool) continue;
      tool.now += res.delta;
      res.assetNumber = tool.assetNumber;
      res.lifetimeShots = tool.now;
      if (res.delta > 0) {
        points.push({ tool: tool.assetNumber, press: w.subject.pressCode, source: res.source, delta: res.delta, lifetime: tool.now, cycleTimeMs: w.reading.cycleTimeMs, at: w.reading.at });
      }
    }
    await enqueueShots(trx, points);

    if (states.size) {
      const next = [...states].map(([source, st]) => ({
        source,
        last_counter: st.lastCounter?.toString() ?? null,
        last_at: st.lastAt?.toISOString() ?? null,
        held_counter: st.held?.toString() ?? null,
        press_id: counterSources.get(source) ?? null,
      }));
      await trx.raw(
        `UPDATE counter_states c SET last_counter = v.last_counter, last_at = v.last_at, held_counter = v.held_counter,
           press_id = v.press_id, updated_at = now()
         FROM jsonb_to_recordset(?::jsonb) AS v(source text, last_counter numeric, last_at timestamptz, held_counter numeric, press_id int)
         WHERE c.source = v.source`,
        [JSON.stringify(next)],
      );
    }

    // One audit event per batch: the readings themselves are the detailed trail.
    const tally: Record<string, number> = {};
    for (const res of results) tally[res.outcome] = (tally[res.outcome] ?? 0) + 1;
    await recordAudit(trx, actor, {
      action: 'shots.record',
      entity: 'shot_readings',
      entityId: sources.length === 1 ? sources[0] : `${sources.length} sources`,
      after: {
        readings: readings.length,
        outcomes: tally,
        shotsByTool: Object.fromEntries([...perTool].map(([id, n]) => [lifetime.get(id)!.assetNumber, n])),
        held: results.filter((r) => r.outcome === 'held').map((r) => ({ source: r.source, at: r.at, pending: r.pending })),
      },
    });

    const transitions = await pmTransitionsInTransaction(trx, actor, { toolIds: [...perTool.keys()] });
    return { readings: results, transitions };
  });
}
