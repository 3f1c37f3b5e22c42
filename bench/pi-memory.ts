/**
 * A Pi's memory (issue 16), two parts, each the real start command (test/support/app.ts startApp):
 *
 * 1. Under load, with the V8 heap held to what a Pi gives (NODE_OPTIONS=--max-old-space-size=256),
 *    on a PostgreSQL database of its own (BENCH_DATABASE_URL) and InfluxDB (TEST_INFLUX_URL, which
 *    `npm run bench` starts): for BENCH_PI_SECONDS (60) at once
 *      - shot readings through the REST API: 10 presses at 1 reading/s each (one POST a reading, as
 *        an integration sends them), and every BENCH_PI_BURST_S (10) s a backlog of 1,000 readings
 *        from one of two more presses (a press back after an outage) in one POST;
 *      - ten dashboard sessions (Chromium contexts logged in as a technician), on the tool list or a
 *        tool's page, one of them navigating to the next page every second;
 *      - the outbox drain into InfluxDB (INFLUX_URL), as the application flow runs it.
 *    The runtime's RSS from /proc/<pid>/status every second (VmRSS; peak = VmHWM) and its heap from
 *    process.memoryUsage() in the runtime itself (a preload script this bench writes, loaded with
 *    --require, logs it every second). Target: the process stays up within the 256 MB old space.
 * 2. The first start on embedded PGlite (no DATABASE_URL, an empty data dir), `--no-seed` and with
 *    the demo seed, as `npm start` runs it: VmHWM once it is up. Target < 600 MB peak RSS; baseline
 *    1217 / 1487 MB before the first start stopped running initdb and TurboFan (this bench, load 9).
 * BENCH_PI_PART=load|first-start runs one part only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemActor } from '../core/auth/actor';
import { createApiToken } from '../core/accounts/tokens';
import { createPress } from '../core/presses/service';
import { createTool } from '../core/tools/service';
import { mountTool } from '../core/mounts/service';
import { query } from '../core/outbox/influx';
import { ownInflux } from '../test/support/e2e';
import { startApp } from '../test/support/app';
import { launchBrowser, login, roleUsers, startDashboardApp, ADMIN_PASSWORD, VIEWPORTS, type Browser, type BrowserContext, type Page } from '../test/support/browser';
import { procStatusMb } from './lib';

const SECONDS = Number(process.env.BENCH_PI_SECONDS ?? 60);
const BURST_S = Number(process.env.BENCH_PI_BURST_S ?? 10);
const SESSIONS = Number(process.env.BENCH_PI_SESSIONS ?? 10);
const STEADY_PRESSES = 10;
const BURST_READINGS = 1000;
const OLD_SPACE_MB = 256;
const FIRST_START_TARGET_MB = 600;
const PART = process.env.BENCH_PI_PART ?? 'all';
const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function load(): string {
  const [l1, l5, l15] = os.loadavg();
  return `load average ${l1.toFixed(2)} ${l5.toFixed(2)} ${l15.toFixed(2)} on ${os.cpus().length} CPUs`;
}

/** The preload: in the app's process only (not in the shell scripts' node calls), memory every second as JSON lines. */
function writePreload(dir: string): string {
  const file = path.join(dir, 'memlog.js');
  fs.writeFileSync(
    file,
    `'use strict';
if ((process.argv[1] || '').endsWith(${JSON.stringify(path.join('dist', 'app', 'start.js'))}) && process.env.BENCH_PI_MEMLOG) {
  const fs = require('node:fs');
  const v8 = require('node:v8');
  const out = process.env.BENCH_PI_MEMLOG;
  fs.writeFileSync(out, JSON.stringify({ limit: v8.getHeapStatistics().heap_size_limit }) + '\\n');
  setInterval(() => fs.appendFileSync(out, JSON.stringify({ t: Date.now(), ...process.memoryUsage() }) + '\\n'), 1000).unref();
}
`,
  );
  return file;
}

interface Sample {
  t: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

function readMemlog(file: string): { limitMb: number; samples: Sample[] } {
  const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  const parsed = lines.map((l) => JSON.parse(l) as { limit?: number } & Sample);
  return { limitMb: (parsed[0]?.limit ?? 0) / MB, samples: parsed.filter((p) => p.t !== undefined) };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};
const f0 = (n: number) => n.toFixed(0);

async function underLoad(tmp: string): Promise<void> {
  process.env.TEST_DATABASE_URL ??= process.env.BENCH_DATABASE_URL;
  if (!process.env.TEST_DATABASE_URL) throw new Error('pi-memory: set BENCH_DATABASE_URL (a PostgreSQL server)');
  if (!process.env.TEST_INFLUX_URL) throw new Error('pi-memory: set TEST_INFLUX_URL (npm run bench starts InfluxDB)');
  const memlog = path.join(tmp, 'memory.jsonl');
  const influx = ownInflux('bench_pi');
  const dash = await startDashboardApp('bench_pi', {
    seed: true,
    env: { INFLUX_URL: influx.url, NODE_OPTIONS: `--max-old-space-size=${OLD_SPACE_MB} --require ${writePreload(tmp)}`, BENCH_PI_MEMLOG: memlog },
  });
  const pid = dash.app.proc.pid!;
  let browser: Browser | null = null;
  try {
    // The demo plant has P01–P06; four more steady presses and two that send backlogs, each with a new tool mounted.
    const system = systemActor('bench');
    const since = new Date(Date.now() - 24 * 3600_000);
    for (let p = 7; p <= STEADY_PRESSES + 2; p++) {
      const code = `P${String(p).padStart(2, '0')}`;
      await createPress(dash.db, system, { code, name: `Bench press ${p}` });
      await createTool(dash.db, system, { assetNumber: `B-PI-${p}`, name: `Bench mould ${p}`, cavityCount: 4 });
      await mountTool(dash.db, system, { assetNumber: `B-PI-${p}`, pressCode: code, at: p > STEADY_PRESSES ? since : undefined });
    }
    const users = await roleUsers(dash.db);
    const { secret } = await createApiToken(dash.db, system, { name: 'bench press line', userId: Number(users.technician.id) });
    const assets = (await dash.db('tools').select('asset_number').orderBy('asset_number').limit(20)).map((r: { asset_number: string }) => r.asset_number);
    const targets = [
      { path: '/dashboard/tools', selector: '[data-asset]' },
      ...assets.map((a) => ({ path: `/dashboard/tool?asset=${encodeURIComponent(a)}`, selector: '[data-test=cavities]' })),
    ];

    browser = await launchBrowser();
    const sessions: { context: BrowserContext; page: Page }[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const context = await browser.newContext({ viewport: VIEWPORTS.tablet, baseURL: dash.base });
      const page = await context.newPage();
      await login(page, dash.base, users.technician);
      const t = targets[i % targets.length];
      await page.goto(`${dash.base}${t.path}`);
      await page.waitForSelector(t.selector, { timeout: 60000 });
      sessions.push({ context, page });
    }
    console.log(`  ${SESSIONS} dashboard sessions open; ${load()}`);

    const api = `${dash.base}/toolroom/api/v1/shot-readings`;
    const headers = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' };
    const errors: string[] = [];
    const slowPages: string[] = [];
    const busy = new Set<Page>();
    let sent = 0;
    const post = async (readings: object[]) => {
      const res = await fetch(api, { method: 'POST', headers, body: JSON.stringify(readings) }).catch((err: Error) => ({ ok: false, status: 0, text: async () => err.message }));
      if (!res.ok) errors.push(`${res.status} ${(await res.text()).slice(0, 200)}`);
      else sent += readings.length;
    };
    const counters = new Array<number>(STEADY_PRESSES + 3).fill(1000);
    const backlogClock = [0, 0];
    const inFlight = new Set<Promise<void>>();
    const track = (p: Promise<void>) => {
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    };
    const navigations: number[] = [];
    const rss: number[] = [];
    const t0 = Date.now();
    for (let s = 0; s < SECONDS && dash.app.proc.exitCode === null; s++) {
      const tick = Date.now();
      for (let p = 1; p <= STEADY_PRESSES; p++) {
        const press = `P${String(p).padStart(2, '0')}`;
        track(post([{ press, source: `ns=2;s=${press}.MachineCycleCounter`, counter: counters[p]++, at: new Date().toISOString(), cycleTimeMs: 11_800 + (s % 400) }]));
      }
      if (s % BURST_S === BURST_S - 1) {
        const b = (s / BURST_S) % 2 | 0;
        const press = `P${STEADY_PRESSES + 1 + b}`;
        const readings = Array.from({ length: BURST_READINGS }, () => {
          const i = backlogClock[b]++;
          return { press, source: `ns=2;s=${press}.MachineCycleCounter`, counter: 1000 + i, at: new Date(since.getTime() + 60_000 + i * 1000).toISOString(), cycleTimeMs: 11_800 };
        });
        track(post(readings));
      }
      // One session moves on each second (all ten every ten seconds), unless its last page is still loading.
      const session = sessions[s % sessions.length];
      const target = targets[(s + 1) % targets.length];
      if (!busy.has(session.page)) track(
        (async () => {
          busy.add(session.page);
          const n0 = Date.now();
          await session.page.goto(`${dash.base}${target.path}`);
          await session.page.waitForSelector(target.selector, { timeout: 30000 });
          navigations.push(Date.now() - n0);
        })()
          .catch((err: Error) => void slowPages.push(`${target.path}: ${err.message.split('\n')[0]}`))
          .finally(() => busy.delete(session.page)),
      );
      try {
        rss.push(procStatusMb(pid, 'VmRSS'));
      } catch {
        break;
      }
      await sleep(Math.max(0, 1000 - (Date.now() - tick)));
    }
    await Promise.all(inFlight);
    const elapsed = (Date.now() - t0) / 1000;
    const up = dash.app.proc.exitCode === null && dash.app.proc.signalCode === null;
    const peak = up ? procStatusMb(pid, 'VmHWM') : NaN;
    const { limitMb, samples } = readMemlog(memlog);
    const during = samples.filter((x) => x.t >= t0);
    const heapUsed = during.map((x) => x.heapUsed / MB);
    const heapTotal = during.map((x) => x.heapTotal / MB);
    const external = during.map((x) => (x.external + x.arrayBuffers) / MB);
    const outboxLeft = Number((await dash.db('outbox').count<{ count: string }[]>('* as count'))[0].count);
    const [r] = await query(influx.target, 'SELECT count(delta) FROM shots').catch(() => [{ series: [] }]);
    const points = Number(r?.series?.[0]?.values[0][1] ?? 0);

    console.log(`\nUnder load for ${elapsed.toFixed(0)} s: ${STEADY_PRESSES} presses at 1 reading/s (one POST each) + a ${BURST_READINGS}-reading backlog every ${BURST_S} s, ${SESSIONS} dashboard sessions (one navigation/s), outbox → InfluxDB`);
    console.log(`  NODE_OPTIONS=--max-old-space-size=${OLD_SPACE_MB} (V8 heap_size_limit ${f0(limitMb)} MB with the young generation); PostgreSQL server; ${load()}`);
    console.log(`  readings accepted ${sent} (${(sent / elapsed).toFixed(0)}/s), refused or failed API requests ${errors.length}; points in InfluxDB ${points}, outbox rows left ${outboxLeft}`);
    console.log(`  page loads ${navigations.length}, median ${f0(median(navigations))} ms; not shown within 30 s: ${slowPages.length}`);
    console.log('  (MB)'.padEnd(30) + 'median'.padStart(9) + 'peak'.padStart(9));
    console.log('  RSS (VmRSS; peak VmHWM)'.padEnd(30) + f0(median(rss)).padStart(9) + f0(peak).padStart(9));
    console.log('  heap used'.padEnd(30) + f0(median(heapUsed)).padStart(9) + f0(Math.max(...heapUsed)).padStart(9));
    console.log('  heap total'.padEnd(30) + f0(median(heapTotal)).padStart(9) + f0(Math.max(...heapTotal)).padStart(9));
    console.log('  external + array buffers'.padEnd(30) + f0(median(external)).padStart(9) + f0(Math.max(...external)).padStart(9));
    const within = up && Math.max(...heapTotal) < OLD_SPACE_MB;
    console.log(`  process ${up ? 'stayed up' : `EXITED (${dash.app.proc.exitCode ?? dash.app.proc.signalCode})`}; heap against the ${OLD_SPACE_MB} MB old space: ${within ? 'ok' : 'OVER'}`);
    for (const e of [...errors, ...slowPages].slice(0, 5)) console.log(`    ${e}`);
    if (!up) console.log(dash.app.output().slice(-2000));
  } finally {
    await browser?.close();
    await dash.stop();
    await influx.drop();
  }
}

/** `npm start`'s command on an empty data dir, embedded PGlite: the peak RSS of its first start. */
async function firstStart(tmp: string, seed: boolean): Promise<{ peakMb: number; rssMb: number; seconds: number; heapLimitMb: number }> {
  const dataDir = path.join(tmp, `first-${seed ? 'seed' : 'noseed'}`);
  const memlog = path.join(tmp, `first-${seed}.jsonl`);
  const t0 = Date.now();
  const app = await startApp(
    { DATABASE_URL: '', INFLUX_URL: '', TOOLROOM_ADMIN_PASSWORD: ADMIN_PASSWORD, NODE_OPTIONS: `--require ${writePreload(tmp)}`, BENCH_PI_MEMLOG: memlog },
    seed ? [] : ['--no-seed'],
    { dataDir },
  );
  try {
    const seconds = (Date.now() - t0) / 1000;
    return { peakMb: procStatusMb(app.proc.pid!, 'VmHWM'), rssMb: procStatusMb(app.proc.pid!, 'VmRSS'), seconds, heapLimitMb: readMemlog(memlog).limitMb };
  } finally {
    await app.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function firstStarts(tmp: string): Promise<void> {
  const rows: [string, Awaited<ReturnType<typeof firstStart>>, string][] = [];
  for (const seed of [false, true]) {
    const before = load();
    rows.push([seed ? 'with the demo seed' : '--no-seed', await firstStart(tmp, seed), before]);
  }
  console.log(`\nFirst start on embedded PGlite (empty data dir, no DATABASE_URL), as npm start runs it; shared_buffers ${process.env.TOOLROOM_PGLITE_SHARED_BUFFERS ?? '16MB (default)'}`);
  console.log(`  target peak < ${FIRST_START_TARGET_MB} MB; baseline (initdb in the process, TurboFan): 1217 MB --no-seed, 1487 MB with the seed (this bench, load 9 on 2 CPUs)`);
  console.log('  start'.padEnd(24) + 'peak (VmHWM)'.padStart(14) + 'RSS when up'.padStart(13) + 'up after'.padStart(10) + '  vs target');
  for (const [label, r, before] of rows) {
    console.log(
      `  ${label}`.padEnd(24) + `${f0(r.peakMb)} MB`.padStart(14) + `${f0(r.rssMb)} MB`.padStart(13) + `${r.seconds.toFixed(0)} s`.padStart(10) +
        (r.peakMb < FIRST_START_TARGET_MB ? '  ok' : '  OVER') + `   (${before} at its start)`,
    );
  }
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-bench-pi-'));
  try {
    if (PART === 'all' || PART === 'first-start') await firstStarts(tmp);
    if (PART === 'all' || PART === 'load') await underLoad(tmp);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
