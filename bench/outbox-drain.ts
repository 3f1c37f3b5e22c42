/**
 * Outbox drain into InfluxDB: points per second from unsent outbox rows to a 204 and the rows deleted,
 * against raw line-protocol POSTs of the same points (pre-formatted, 5,000 lines per POST, no
 * database) to the same influxd. Targets: ≥ 50,000 points/s and ≥ 80 % of raw.
 * Both share the machine with influxd (and whatever else runs): raw and drain of the same
 * BENCH_OUTBOX_POINTS (default 100,000) run back to back, BENCH_OUTBOX_ROUNDS times (default 9),
 * alternating which goes first; the result is the medians (of drain/raw: per round), with the load
 * average beside them.
 * PostgreSQL server from BENCH_DATABASE_URL (and embedded PGlite); InfluxDB from BENCH_INFLUX_URL /
 * TEST_INFLUX_URL, or one started here through scripts/influx-services.sh.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase, migrateLatest, type Db } from '../core/db/connect';
import { drainOnce, MAX_BATCH_LINES } from '../core/outbox/drainer';
import { createDatabase, parseInfluxUrl, query, writeLines, type InfluxTarget } from '../core/outbox/influx';
import { enqueueShots, type ShotPoint } from '../core/outbox/shots';

const POINTS = Number(process.env.BENCH_OUTBOX_POINTS ?? 100_000);
const ROUNDS = Math.max(1, Number(process.env.BENCH_OUTBOX_ROUNDS ?? 9));
const TARGET_PER_S = 50_000;
const TARGET_SHARE = 0.8;
const script = path.resolve(__dirname, '../../scripts/influx-services.sh');

function influx(fn: string): string {
  return execFileSync('bash', ['-c', `source "${script}" && ${fn}`], { env: process.env, stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim();
}

let run = 0;
async function freshTarget(label: string): Promise<InfluxTarget> {
  const u = new URL(process.env.BENCH_INFLUX_URL!);
  u.pathname = `/bench_${label}_${process.pid}_${++run}`;
  const target = parseInfluxUrl(u.toString());
  await createDatabase(target);
  return target;
}

/** Fill the outbox with `POINTS` unsent shots rows as recording writes them: 20 presses, one reading each per 10 s. */
async function fill(db: Db): Promise<void> {
  await db.raw('TRUNCATE outbox RESTART IDENTITY');
  const t0 = Date.parse('2026-03-01T00:00:00Z');
  for (let from = 0; from < POINTS; from += 10_000) {
    const points: ShotPoint[] = [];
    for (let i = from; i < Math.min(POINTS, from + 10_000); i++) {
      const p = i % 20;
      points.push({
        tool: `M-${1000 + p}`, press: `P-${String(p).padStart(2, '0')}`, source: `ns=2;s=P${p}.MachineCycleCounter`,
        delta: 1 + (i % 5), lifetime: 100_000 + i, cycleTimeMs: 11_000 + (i % 900), at: new Date(t0 + Math.floor(i / 20) * 10_000).toISOString(),
      });
    }
    await db.transaction((trx) => enqueueShots(trx, points));
  }
}

/** Points InfluxDB holds; the database is dropped after, so rounds do not pile up shards in influxd. */
async function count(target: InfluxTarget): Promise<number> {
  const [r] = await query(target, 'SELECT count(delta) FROM shots');
  await query(target, `DROP DATABASE "${target.database}"`);
  return Number(r.series?.[0]?.values[0][1] ?? 0);
}

/** The same points as pre-formatted 5,000-line bodies. */
async function bodies(db: Db): Promise<string[]> {
  const rows = (await db('outbox').select('line').orderBy('id')) as { line: string }[];
  const out: string[] = [];
  for (let i = 0; i < rows.length; i += MAX_BATCH_LINES) out.push(rows.slice(i, i + MAX_BATCH_LINES).map((r) => r.line).join('\n'));
  return out;
}

async function raw(payloads: string[]): Promise<number> {
  const target = await freshTarget('raw');
  const t = performance.now();
  for (const body of payloads) await writeLines(target, body);
  const perS = POINTS / ((performance.now() - t) / 1000);
  if ((await count(target)) !== POINTS) throw new Error('raw: InfluxDB does not hold every point');
  return perS;
}

async function drain(db: Db): Promise<number> {
  const target = await freshTarget('drain');
  const t = performance.now();
  const r = await drainOnce(db, target);
  const perS = POINTS / ((performance.now() - t) / 1000);
  if (r.sent !== POINTS || (await count(target)) !== POINTS) throw new Error(`drain: sent ${r.sent}, expected ${POINTS}`);
  const [{ left }] = (await db('outbox').where('topic', 'shots').count({ left: '*' })) as { left: string | number }[];
  if (Number(left) !== 0) throw new Error(`drain: ${left} rows left unsent`);
  return perS;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');

async function measure(name: string, db: Db): Promise<void> {
  await migrateLatest(db);
  // Warm-up (JIT, connections, InfluxDB's first shard).
  await fill(db);
  await raw(await bodies(db));
  await drain(db);
  const loadBefore = load();
  const raws: number[] = [];
  const drains: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    await fill(db);
    const payloads = await bodies(db);
    if (i % 2 === 0) {
      raws.push(await raw(payloads));
      drains.push(await drain(db));
    } else {
      drains.push(await drain(db));
      raws.push(await raw(payloads));
    }
  }
  const shares = drains.map((d, i) => d / raws[i]);
  const share = median(shares);
  const drainPerS = median(drains);
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(10);
  const list = (xs: number[]) => xs.map((x) => Math.round(x)).join(', ');
  console.log(`\n${name}: ${POINTS.toLocaleString('en-US')} points, batches of ${MAX_BATCH_LINES}, ${ROUNDS} interleaved rounds (medians)`);
  console.log(`  machine: ${os.cpus().length} cores, load average ${loadBefore} before, ${load()} after`);
  console.log(`  raw line-protocol POSTs    ${fmt(median(raws))} points/s   (rounds: ${list(raws)})`);
  console.log(`  outbox drain               ${fmt(drainPerS)} points/s   (rounds: ${list(drains)})`);
  console.log(`  drain/raw per round: ${shares.map((x) => `${(x * 100).toFixed(0)} %`).join(', ')}`);
  console.log(`  drain vs target ${TARGET_PER_S.toLocaleString('en-US')}/s: ${drainPerS >= TARGET_PER_S ? 'ok' : 'UNDER'};` +
    ` drain/raw ${(share * 100).toFixed(0)} % vs target ${TARGET_SHARE * 100} %: ${share >= TARGET_SHARE ? 'ok' : 'UNDER'}`);
}

async function main(): Promise<void> {
  let startedHere = false;
  // process.env turns undefined into 'undefined': assign only what is there.
  if (!process.env.BENCH_INFLUX_URL && process.env.TEST_INFLUX_URL) process.env.BENCH_INFLUX_URL = process.env.TEST_INFLUX_URL;
  if (!process.env.BENCH_INFLUX_URL) {
    const [url, dir] = influx('influx_up && echo "$TEST_INFLUX_URL $TEST_INFLUX_DIR"').split(' ');
    Object.assign(process.env, { BENCH_INFLUX_URL: url, TEST_INFLUX_URL: url, TEST_INFLUX_DIR: dir });
    startedHere = true;
  }
  try {
    if (process.env.BENCH_DATABASE_URL) {
      const db = openDatabase({ url: process.env.BENCH_DATABASE_URL });
      try {
        await measure('PostgreSQL server', db);
      } finally {
        await db.destroy();
      }
    }
    const lite = openDatabase({ dataDir: ':memory:' });
    try {
      await measure('PGlite (embedded)', lite);
    } finally {
      await lite.destroy();
    }
  } finally {
    if (startedHere) influx('influx_down');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
