import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { freePort } from '../../lib/net';
import path from 'node:path';
import { migrateLatest, openDatabase, type Db } from '../../core/db/connect';
import { parseInfluxUrl, query, type InfluxTarget } from '../../core/outbox/influx';
import { defaultNodeIds, readingSource } from '../../nodes/lib/opcua-press-client';
import { startPressSimulator, type PressSimulator } from '../../sim/press-simulator';
import { systemActor } from '../../core/auth/actor';
import { mountTool } from '../../core/mounts/service';
import { createPress } from '../../core/presses/service';
import { createTool } from '../../core/tools/service';

/**
 * What the end-to-end suites share: a PostgreSQL database and an InfluxDB database of their own,
 * the real start command as a child process (so it can be killed with SIGKILL and started again),
 * InfluxDB stopped and started through scripts/influx-services.sh, and polling with timeouts.
 */

export { freePort };

export const root = path.resolve(__dirname, '../../..');

/** Skip (or, under the test command, fail) a suite that needs servers the environment does not give. */
export function requireServers(ctx: Mocha.Context, needs: ('postgres' | 'influx')[]): void {
  const missing = needs.filter((n) => (n === 'postgres' ? !process.env.TEST_DATABASE_URL : !process.env.TEST_INFLUX_URL || !process.env.TEST_INFLUX_DIR));
  if (!missing.length) return;
  if (process.env.CI || process.env.TOOLROOM_REQUIRE_SERVER) throw new Error(`end-to-end suite needs ${missing.join(' and ')} (TEST_DATABASE_URL, TEST_INFLUX_URL, TEST_INFLUX_DIR)`);
  ctx.skip();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `check` until it returns something truthy; on timeout the error says what and shows the last value. */
export async function until<T>(what: string, check: () => Promise<T | undefined | null | false>, ms = 20000, every = 100): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await sleep(every);
  }
}


/** A PostgreSQL database of the suite's own on the TEST_DATABASE_URL server, migrated; `drop()` removes it. */
export async function ownDatabase(name: string): Promise<{ url: string; db: Db; drop(): Promise<void> }> {
  const server = process.env.TEST_DATABASE_URL!;
  const dbName = `toolroom_e2e_${name}_${process.pid}`;
  const admin = openDatabase({ url: server, poolMax: 1 });
  await admin.raw(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.raw(`CREATE DATABASE ${dbName}`);
  const u = new URL(server);
  u.pathname = `/${dbName}`;
  const db = openDatabase({ url: u.toString(), poolMax: 4 });
  await migrateLatest(db);
  return {
    url: u.toString(),
    db,
    async drop() {
      await db.destroy();
      await admin.raw(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.destroy();
    },
  };
}

/** An InfluxDB database of the suite's own on the TEST_INFLUX_URL server (the drainer creates it). */
export function ownInflux(name: string): { url: string; target: InfluxTarget; drop(): Promise<void> } {
  const u = new URL(process.env.TEST_INFLUX_URL!);
  u.pathname = `/e2e_${name}_${process.pid}`;
  const target = parseInfluxUrl(u.toString());
  return {
    url: u.toString(),
    target,
    async drop() {
      await query(target, `DROP DATABASE "${target.database}"`).catch(() => undefined);
    },
  };
}

/** Stop or start the test command's influxd (scripts/influx-services.sh, TEST_INFLUX_DIR). */
export function influx(fn: 'influx_stop' | 'influx_start'): void {
  execFileSync('bash', ['-c', `source "${path.join(root, 'scripts/influx-services.sh')}" && ${fn}`], { env: process.env, stdio: ['ignore', 'ignore', 'inherit'], timeout: 60000 });
}

/** Sum of `delta` and number of points of the shots measurement, per tool. */
export async function influxShots(target: InfluxTarget): Promise<Map<string, { sum: number; points: number }>> {
  const out = new Map<string, { sum: number; points: number }>();
  const results = await query(target, 'SELECT sum("delta"), count("delta") FROM "shots" GROUP BY "tool"');
  for (const s of results[0]?.series ?? []) out.set(s.tags!.tool, { sum: Number(s.values[0][1]), points: Number(s.values[0][2]) });
  return out;
}

export { startApp, type App } from './app';

/** Write the flows a data dir's Node-RED starts with (start.ts deploys flows/ only when there are none). */
export function writeFlows(dataDir: string, flows: object[]): void {
  fs.mkdirSync(path.join(dataDir, 'node-red'), { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'node-red', 'flows.json'), JSON.stringify(flows, null, 2));
}

export interface PressWiring {
  press: string;
  counter: 'MachineCycleCounter' | 'JobCycleCounter';
}

/**
 * One tab: a press node per press on `endpoint` → one toolroom-shot-count; the config from the
 * environment (DATABASE_URL, INFLUX_URL), as the application flows have it. Node ids start with
 * `prefix` (4 characters): the shot counter's id is the `via` of its batches' audit events.
 */
export function pressFlows(endpoint: string, presses: PressWiring[], pkiDir: string, shotCount: object = {}, prefix = 'e2e0'): object[] {
  const tab = `${prefix}tab000000001`;
  const cfg = `${prefix}cfg000000001`;
  const count = `${prefix}count0000001`;
  return [
    { id: tab, type: 'tab', label: 'presses' },
    { id: cfg, type: 'toolroom-config', name: 'from env', backend: 'env', influxUrl: '' },
    ...presses.map((p, i) => ({
      id: `${prefix}press0000${String(i).padStart(3, '0')}`,
      type: 'toolroom-press-opcua',
      z: tab,
      endpoint,
      press: p.press,
      counter: p.counter,
      pkiDir,
      samplingInterval: 50,
      x: 200,
      y: 100 + 40 * i,
      wires: [[count]],
    })),
    { id: count, type: 'toolroom-shot-count', z: tab, config: cfg, width: 'uint64', jumpLimit: 100000, batchMs: 100, batchSize: 1000, x: 500, y: 100, wires: [[], []], ...shotCount },
  ];
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A press of a suite's plant: how it is wired, the tool on it at first, its simulator cycle time (0 = step() only). */
export interface PlantPress extends PressWiring {
  tool: string;
  cycleTimeMs: number;
}

/**
 * The suite's book of what Toolroom must have counted: the cycles each press ran (the simulator's
 * own count) booked to the tool on it at the time, from the press's first reading on.
 */
export class CycleLedger {
  /** Shots each tool should have. */
  readonly expected = new Map<string, number>();
  /** The tool on each press, as the simulator (and so Toolroom) has it. */
  readonly on = new Map<string, string>();
  /** Each press's cycles() when last booked. */
  private readonly booked = new Map<string, number>();

  constructor(
    private readonly sim: PressSimulator,
    private readonly db: Db,
    readonly presses: PlantPress[],
    tools: string[],
    /** Where to look for the app's output when a wait fails. */
    private readonly output: () => string = () => '',
  ) {
    for (const t of tools) this.expected.set(t, 0);
    for (const p of presses) {
      this.on.set(p.press, p.tool);
      this.expected.set(p.tool, 0);
    }
  }

  sourceOf(p: PressWiring): string {
    return readingSource(this.sim.endpoint, defaultNodeIds(p.press, p.counter).counter);
  }

  /** The counter the press node reads, as the press shows it now. */
  shown(p: PressWiring): string {
    const v = this.sim.press(p.press).values();
    return (p.counter === 'MachineCycleCounter' ? v.machineCycleCounter : v.jobCycleCounter).toString();
  }

  /** Book the cycles each press ran since last time to the tool on it (the first call only marks). */
  book(): void {
    for (const p of this.presses) {
      const now = this.sim.press(p.press).cycles();
      const tool = this.on.get(p.press)!;
      this.expected.set(tool, this.expected.get(tool)! + now - (this.booked.get(p.press) ?? now));
      this.booked.set(p.press, now);
    }
  }

  /**
   * A job change: JobCycleCounter back to 0. Only once the last cycles were seen: cycles the press
   * ran within one sampling interval before the reset cannot be told from the reset itself (on a
   * real press a job change comes minutes after the last cycle).
   */
  async jobChange(...presses: string[]): Promise<void> {
    await this.caughtUp('before the job change');
    for (const p of presses) this.sim.press(p).jobChange();
    await this.caughtUp('job change seen');
  }

  /** Put another mould on a press (a new job too), booking what ran before to the mould coming off. */
  async mouldChange(press: string, tool: string, cavities?: number): Promise<void> {
    await this.caughtUp('before the mould change');
    this.book();
    this.sim.press(press).mouldChange(tool, cavities);
    this.on.set(press, tool);
    if (!this.expected.has(tool)) this.expected.set(tool, 0);
  }

  async lifetimes(): Promise<Map<string, number>> {
    const rows = (await this.db('tools').select('asset_number', 'lifetime_shots')) as { asset_number: string; lifetime_shots: number | string }[];
    return new Map(rows.map((r) => [r.asset_number, Number(r.lifetime_shots)]));
  }

  /** Wait until Toolroom has seen every press's counter as it is now (its counter state holds that value). */
  async caughtUp(what: string, ms = 30_000): Promise<void> {
    let behind: string[] = [];
    try {
      await until(`${what}: every counter seen`, async () => {
        const states = (await this.db('counter_states').select('source', this.db.raw('last_counter::text AS last'))) as { source: string; last: string | null }[];
        behind = this.presses
          .map((p) => [p, states.find((s) => s.source === this.sourceOf(p))?.last] as const)
          .filter(([p, last]) => last !== this.shown(p))
          .map(([p, last]) => `${p.press} at ${last ?? 'none'}, press shows ${this.shown(p)}`);
        return behind.length === 0;
      }, ms);
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${behind.join('; ')}\n--- app output ---\n${this.output().slice(-4000)}`);
    }
  }

  /** Every tool's lifetime equals the cycles booked to it, exactly. */
  async exact(what: string, ms = 30_000): Promise<void> {
    this.book();
    await this.caughtUp(what, ms);
    // The counter state and the lifetime commit together; a moment for a remount's readings to land.
    const matches = (l: Map<string, number>) => [...this.expected].every(([t, n]) => l.get(t) === n);
    const counted = await until(`${what}: lifetimes`, async () => {
      const l = await this.lifetimes();
      return matches(l) && l;
    }, 5_000).catch(() => this.lifetimes());
    const actual = Object.fromEntries([...counted].filter(([t]) => this.expected.has(t)));
    if (!matches(counted)) {
      // What the readings say, for whoever reads the failure.
      const tally = await this.db('shot_readings').groupBy('source', 'outcome').select('source', 'outcome', this.db.raw('count(*)::int AS n'), this.db.raw('sum(delta)::int AS shots'));
      assert.deepEqual(actual, Object.fromEntries(this.expected), `${what}: counted lifetime = simulator cycles, per tool; readings ${JSON.stringify(tally)}`);
    }
  }

  /** n rounds of a few cycles on every press (stepped), each round apart by more than the sampling. */
  async rounds(n: number, presses = this.presses): Promise<void> {
    for (let r = 0; r < n; r++) {
      for (const p of presses) this.sim.press(p.press).step(1 + ((r * 7 + p.press.charCodeAt(p.press.length - 1)) % 13));
      // Sampling is 50 ms: a change may be conflated with the next (the counter is absolute), never lost.
      await sleep(30);
    }
  }
}

/** A counting plant of a suite's own (see countingPlant). */
export interface CountingPlant {
  /** A temp dir for data dirs and certificates; removed by stop(). */
  work: string;
  /** The PostgreSQL database's URL, for the app's DATABASE_URL. */
  url: string;
  db: Db;
  timeSeries: ReturnType<typeof ownInflux>;
  sim: PressSimulator;
  /** Stops the simulator, drops the InfluxDB and PostgreSQL databases, removes the work dir. */
  stop(): Promise<void>;
}

/**
 * The shot-counting suites' plant: a database and an InfluxDB database of its own, each press with its
 * tool (`cavities` each) mounted an hour ago, and the press simulator with every press paused, so that
 * cycles run only when a test says (step, or resume for a stream). `machineCycleCounter(i)` is the
 * i-th press's MachineCycleCounter at the start.
 */
export async function countingPlant(name: string, presses: PlantPress[], cavities: number, machineCycleCounter: (i: number) => number): Promise<CountingPlant> {
  const system = systemActor('e2e');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `toolroom-e2e-${name}-`));
  const database = await ownDatabase(name);
  const db = database.db;
  const timeSeries = ownInflux(name);
  const past = new Date(Date.now() - 3_600_000).toISOString();
  for (const p of presses) {
    await createPress(db, system, { code: p.press, name: `Press ${p.press}` });
    await createTool(db, system, { assetNumber: p.tool, name: `Mould ${p.tool}`, cavityCount: cavities });
    await mountTool(db, system, { assetNumber: p.tool, pressCode: p.press, at: past });
  }
  const sim = await startPressSimulator({
    port: 0,
    certificateRoot: path.join(work, 'simulator-pki'),
    presses: presses.map((p, i) => ({ name: p.press, mouldId: p.tool, cavities, cycleTimeMs: p.cycleTimeMs, machineCycleCounter: machineCycleCounter(i) })),
  });
  for (const p of presses) sim.press(p.press).pause();
  return {
    work,
    url: database.url,
    db,
    timeSeries,
    sim,
    async stop() {
      await sim.stop();
      await timeSeries.drop();
      await database.drop();
      removeDir(work);
    },
  };
}
