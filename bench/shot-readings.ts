/**
 * Shot readings per second into PostgreSQL through core's recordReadings, as toolroom-shot-count
 * batches them: 10 presses, 500 readings a transaction (50 a press), each with its MouldId and cycle
 * time, sustained for at least 20 s and 100,000 readings; against the naive path, one transaction per
 * reading (recordReadings with one reading), measured in the same run before and after.
 * Targets (issue 4): batched ≥ 5,000 readings/s sustained, and ≥ 10× naive.
 * Against the database's own limit (issue 16): the raw cost of what a batch must at least do — the
 * same readings written with one multi-row INSERT into shot_readings and one UPDATE of the presses'
 * counter states, a transaction per 500 — in the same run on the same database. Target ≥ 50 % of raw.
 * On the PostgreSQL server (BENCH_DATABASE_URL) and on embedded PGlite in memory.
 * BENCH_SHOT_SECONDS / BENCH_SHOT_READINGS / BENCH_SHOT_NAIVE_SECONDS change the run lengths.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { systemActor } from '../core/auth/actor';
import { openDatabase, migrateLatest, type Db } from '../core/db/connect';
import { recordReadings } from '../core/shots/service';
import type { CounterConfig } from '../core/shots/counter';
import type { ShotReadingInput } from '../core/shots/schema';

const PRESSES = 10;
const BATCH = 500;
const MIN_SECONDS = Number(process.env.BENCH_SHOT_SECONDS ?? 20);
const MIN_READINGS = Number(process.env.BENCH_SHOT_READINGS ?? 100_000);
/** However slow a backend is, a run ends after this long. */
const MAX_SECONDS = Math.max(MIN_SECONDS, 90);
const NAIVE_SECONDS = Number(process.env.BENCH_SHOT_NAIVE_SECONDS ?? 5);
const WINDOW_S = 5;
const TARGET_PER_S = 5_000;
const TARGET_RATIO = 10;
const TARGET_OF_RAW = 0.5;
const counter: CounterConfig = { width: 'uint32', jumpLimit: 10_000 };
const actor = systemActor('bench-shot-count');

async function fill(db: Db): Promise<void> {
  const { rows } = await db.raw<{ rows: { tablename: string }[] }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'knex_%'",
  );
  await db.raw(`TRUNCATE ${rows.map((r) => `"${r.tablename}"`).join(', ')} RESTART IDENTITY CASCADE`);
  const since = new Date(Date.now() - 40 * 24 * 3600_000);
  await db.raw(`INSERT INTO presses (code, name) SELECT 'P-' || lpad(i::text, 2, '0'), 'Press ' || i FROM generate_series(1, ${PRESSES}) AS i`);
  await db.raw(`INSERT INTO tools (asset_number, name, cavity_count, status) SELECT 'M-' || (1000 + i), 'Mould ' || i, 4, 'in_press' FROM generate_series(1, ${PRESSES}) AS i`);
  await db.raw(`INSERT INTO tool_cavities (tool_id, number) SELECT t.id, n FROM tools t, generate_series(1, t.cavity_count) AS n`);
  await db.raw(`INSERT INTO tool_mounts (tool_id, press_id, mounted_at, mounted_by) SELECT i, i, ?, 'bench' FROM generate_series(1, ${PRESSES}) AS i`, [since]);
  // A PM plan on every tool, so each batch also checks for PM transitions, as in the plant.
  await db.raw(`INSERT INTO pm_plans (tool_id, name, interval_shots, last_pm_at) SELECT i, 'PM', 10000000, ? FROM generate_series(1, ${PRESSES}) AS i`, [since]);
  await db.raw('ANALYZE');
}

/** The plant: every press cycles once a second from a month ago; `next(n)` = the next n readings, presses in turn. */
function plant() {
  const start = Date.now() - 30 * 24 * 3600_000;
  const cycles = new Array<number>(PRESSES).fill(0);
  let turn = 0;
  return (n: number): ShotReadingInput[] => {
    const out: ShotReadingInput[] = [];
    for (let j = 0; j < n; j++) {
      const p = turn++ % PRESSES;
      const i = cycles[p]++;
      out.push({
        press: `P-${String(p + 1).padStart(2, '0')}`,
        source: `ns=2;s=P${p + 1}.MachineCycleCounter`,
        counter: 1000 + i,
        at: new Date(start + i * 1000).toISOString(),
        cycleTimeMs: 11_800 + (i % 400),
        mouldId: `M-${1001 + p}`,
      });
    }
    return out;
  };
}

interface Run {
  readings: number;
  seconds: number;
  perS: number;
  /** The slowest WINDOW_S-second window: what "sustained" means. */
  slowestWindow: number | null;
}

async function drive(next: (n: number) => ShotReadingInput[], perCall: number, minSeconds: number, minReadings: number): Promise<Run> {
  const t0 = performance.now();
  let readings = 0;
  let windowStart = t0;
  let windowReadings = 0;
  const windows: number[] = [];
  for (;;) {
    const batch = next(perCall);
    const r = await recordReadings(db!, actor, batch, { counter });
    if (r.readings.some((x) => x.outcome !== 'counted' && x.outcome !== 'baseline')) {
      throw new Error(`unexpected outcomes: ${[...new Set(r.readings.map((x) => x.outcome))].join(', ')}`);
    }
    readings += batch.length;
    windowReadings += batch.length;
    const now = performance.now();
    if (now - windowStart >= WINDOW_S * 1000) {
      windows.push(windowReadings / ((now - windowStart) / 1000));
      windowStart = now;
      windowReadings = 0;
    }
    const seconds = (now - t0) / 1000;
    if ((seconds >= minSeconds && readings >= minReadings) || seconds >= MAX_SECONDS) {
      return { readings, seconds, perS: readings / seconds, slowestWindow: windows.length ? Math.min(...windows) : null };
    }
  }
}

let db: Db | undefined;

/**
 * The floor: the same readings (same columns, values Toolroom would store) as one multi-row INSERT
 * plus one UPDATE of the counter states per batch, no counting, attribution, outbox, audit or PM.
 */
async function driveRaw(next: (n: number) => ShotReadingInput[], minSeconds: number, minReadings: number): Promise<Run> {
  const pressIds = new Map((await db!('presses').select('id', 'code')).map((p: { id: number; code: string }) => [p.code, p.id]));
  const t0 = performance.now();
  let readings = 0;
  for (;;) {
    const batch = next(BATCH);
    await db!.transaction(async (trx) => {
      await trx('shot_readings').insert(
        batch.map((r, i) => ({
          source: `raw:${r.source}`,
          press_id: pressIds.get(String(r.press)),
          tool_id: pressIds.get(String(r.press)),
          at: r.at,
          counter: r.counter,
          delta: i === 0 ? 0 : 1,
          outcome: 'counted',
          cycle_time_ms: r.cycleTimeMs,
          mould_id: r.mouldId,
        })),
      );
      const last = new Map(batch.map((r) => [`raw:${r.source}`, r]));
      await trx.raw(
        `INSERT INTO counter_states (source, press_id, last_counter, last_at)
         SELECT source, press_id, last_counter, last_at FROM jsonb_to_recordset(?::jsonb) AS s(source text, press_id int, last_counter numeric, last_at timestamptz)
         ON CONFLICT (source) DO UPDATE SET last_counter = excluded.last_counter, last_at = excluded.last_at, updated_at = now()`,
        [JSON.stringify([...last].map(([source, r]) => ({ source, press_id: pressIds.get(String(r.press)), last_counter: r.counter, last_at: r.at })))],
      );
    });
    readings += batch.length;
    const seconds = (performance.now() - t0) / 1000;
    if ((seconds >= minSeconds && readings >= minReadings) || seconds >= MAX_SECONDS) return { readings, seconds, perS: readings / seconds, slowestWindow: null };
  }
}

async function measure(name: string, database: Db): Promise<void> {
  db = database;
  await migrateLatest(db);
  await fill(db);
  const next = plant();
  // Warm-up: JIT, connections, plans.
  await drive(next, BATCH, 0, 5 * BATCH);
  await drive(next, 1, 0, 200);
  const load = os.loadavg()[0];
  const naive1 = await drive(next, 1, NAIVE_SECONDS, 0);
  const batched = await drive(next, BATCH, MIN_SECONDS, MIN_READINGS);
  const naive2 = await drive(next, 1, NAIVE_SECONDS, 0);
  const raw = await driveRaw(plant(), Math.min(MIN_SECONDS, 10), BATCH * 20);
  const naive = (naive1.readings + naive2.readings) / (naive1.seconds + naive2.seconds);
  const ratio = batched.perS / naive;
  const sustained = batched.slowestWindow ?? batched.perS;
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(8);
  const [count] = (await db('shot_readings').count({ n: '*' })) as { n: string | number }[];
  console.log(`\n${name}: ${PRESSES} presses, ${BATCH} readings a transaction; load average ${load.toFixed(2)} → ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} CPUs`);
  console.log(`  batched  ${fmt(batched.perS)} readings/s over ${batched.seconds.toFixed(1)} s, ${batched.readings.toLocaleString('en-US')} readings (slowest ${WINDOW_S} s window ${fmt(sustained).trim()}/s)`);
  console.log(`  naive    ${fmt(naive)} readings/s, one transaction a reading (${fmt(naive1.perS).trim()} before, ${fmt(naive2.perS).trim()} after)`);
  console.log(`  batched vs target ${TARGET_PER_S.toLocaleString('en-US')}/s sustained: ${sustained >= TARGET_PER_S ? 'ok' : 'UNDER'};` +
    ` batched/naive ${ratio.toFixed(1)}× vs target ${TARGET_RATIO}×: ${ratio >= TARGET_RATIO ? 'ok' : 'UNDER'}`);
  const ofRaw = batched.perS / raw.perS;
  console.log(`  raw      ${fmt(raw.perS)} readings/s: the same rows as one multi-row INSERT + one counter-state UPDATE a batch (the database's floor)`);
  console.log(`  batched / raw ${(ofRaw * 100).toFixed(0)} % vs target ${TARGET_OF_RAW * 100} %: ${ofRaw >= TARGET_OF_RAW ? 'ok' : 'UNDER'}`);
  console.log(`  (${Number(count.n).toLocaleString('en-US')} readings stored in all)`);
}

async function main(): Promise<void> {
  if (process.env.BENCH_DATABASE_URL) {
    const server = openDatabase({ url: process.env.BENCH_DATABASE_URL });
    try {
      await measure('PostgreSQL server', server);
    } finally {
      await server.destroy();
    }
  }
  const lite = openDatabase({ dataDir: ':memory:' });
  try {
    await measure('PGlite (embedded, in memory)', lite);
  } finally {
    await lite.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
