import assert from 'node:assert/strict';
import path from 'node:path';
import { systemActor } from '../../core/auth/actor';
import type { Db } from '../../core/db/connect';
import { createTool } from '../../core/tools/service';
import { countingPlant, CycleLedger, influx, influxShots, pressFlows, requireServers, sleep, startApp, until, writeFlows, type App, type CountingPlant, type PlantPress } from '../support/e2e';

/**
 * Shot counting end to end, all of it real: the EUROMAP 77 press simulator (in this process),
 * Toolroom's start command as a child process (Node-RED with the press and shot-count nodes),
 * PostgreSQL and InfluxDB. The counted lifetime of every tool must equal the cycles the simulator
 * ran while it was on a press, exactly, through job changes, an OPC-UA server restart, a kill -9
 * of Node-RED mid-stream, InfluxDB stopped and started again, and mould changes; and InfluxDB
 * must hold the same shots, each once.
 */

const system = systemActor('e2e');

const PRESSES: PlantPress[] = [
  { press: 'E01', counter: 'MachineCycleCounter', tool: 'T-101', cycleTimeMs: 30 },
  { press: 'E02', counter: 'MachineCycleCounter', tool: 'T-102', cycleTimeMs: 30 },
  { press: 'E03', counter: 'JobCycleCounter', tool: 'T-103', cycleTimeMs: 30 },
  { press: 'E04', counter: 'JobCycleCounter', tool: 'T-104', cycleTimeMs: 0 },
];
const SPARE_TOOLS = ['T-105', 'T-106'];

const count = async (q: Promise<{ n: string | number }[]>) => Number((await q)[0].n);

describe('end to end: shot counts from the press simulator through Node-RED into PostgreSQL and InfluxDB', function () {
  this.timeout(300_000);
  let plant: CountingPlant;
  let db: Db;
  let dataDir: string;
  let app: App | null = null;
  let ledger: CycleLedger;

  before(async function () {
    requireServers(this, ['postgres', 'influx']);
    plant = await countingPlant('shots', PRESSES, 2, (i) => 1_000_000 * (i + 1));
    db = plant.db;
    dataDir = path.join(plant.work, 'app');
    for (const t of SPARE_TOOLS) await createTool(db, system, { assetNumber: t, name: `Mould ${t}`, cavityCount: 4 });
    ledger = new CycleLedger(plant.sim, db, PRESSES, SPARE_TOOLS, () => app?.output() ?? '');
    writeFlows(dataDir, pressFlows(plant.sim.endpoint, PRESSES, path.join(plant.work, 'client-pki')));
  });

  after(async function () {
    this.timeout(60_000);
    await app?.stop();
    await plant?.stop();
  });

  const start = () => startApp({ DATABASE_URL: plant.url, INFLUX_URL: plant.timeSeries.url }, ['--no-seed'], { dataDir });

  it('counts exactly from the first reading on, through job changes', async () => {
    app = await start();
    await ledger.caughtUp('first readings');
    ledger.book();
    assert.equal(await count(db('shot_readings').where('outcome', 'baseline').count({ n: '*' })), PRESSES.length, 'one baseline per counter');

    await ledger.rounds(8);
    await ledger.exact('steady cycles');

    // Job changes: JobCycleCounter back to 0 (a reset, counted from zero), MachineCycleCounter unmoved.
    await ledger.jobChange(...PRESSES.map((p) => p.press));
    await ledger.rounds(6);
    await ledger.exact('after job changes');
    const resets = (await db('shot_readings').where('outcome', 'reset').select('source')) as { source: string }[];
    assert.deepEqual(resets.map((r) => r.source).sort(), PRESSES.filter((p) => p.counter === 'JobCycleCounter').map((p) => ledger.sourceOf(p)).sort());
  });

  it('misses no cycle while the OPC-UA server restarts (counters moved meanwhile)', async () => {
    const restarting = plant.sim.restart({ downMs: 2500 });
    await sleep(300);
    await ledger.rounds(3);
    await restarting;
    await ledger.rounds(3);
    await ledger.exact('after the OPC-UA server restart', 60_000);
  });

  it('loses and doubles nothing when Node-RED is killed with SIGKILL mid-stream and started again', async () => {
    const running = PRESSES.filter((p) => p.cycleTimeMs > 0);
    for (const p of running) plant.sim.press(p.press).resume();
    // Readings flowing (the batch window is 100 ms): some of them stored, then the kill.
    const before = await count(db('shot_readings').count({ n: '*' }));
    await until('readings flowing', async () => (await count(db('shot_readings').count({ n: '*' }))) > before + 20);
    const atKill = running.map((p) => plant.sim.press(p.press).cycles());
    await app!.kill9();
    assert.equal(app!.proc.signalCode, 'SIGKILL');
    await sleep(500);
    for (const p of running) plant.sim.press(p.press).pause();
    running.forEach((p, i) => assert.ok(plant.sim.press(p.press).cycles() - atKill[i] >= 5, `${p.press} ran on while Node-RED was down`));
    app = await start();
    await ledger.exact('after kill -9 and a restart', 60_000);
  });

  it('keeps the shots for InfluxDB while it is stopped and sends each once when it is back', async () => {
    const unsent = () => count(db('outbox').where('topic', 'shots').whereNull('sent_at').count({ n: '*' }));
    await until('outbox drained before', async () => (await unsent()) === 0);
    influx('influx_stop');
    try {
      await ledger.rounds(5);
      await ledger.exact('while InfluxDB is down');
      assert.ok((await unsent()) > 0, 'the shots wait in the outbox');
      await sleep(1500);
    } finally {
      influx('influx_start');
    }
    await until('outbox drained after', async () => (await unsent()) === 0, 90_000);
    const points = await influxShots(plant.timeSeries.target);
    const counted = (await db('shot_readings as r')
      .join('tools as t', 't.id', 'r.tool_id')
      .where('r.delta', '>', 0)
      .groupBy('t.asset_number')
      .select('t.asset_number', db.raw('sum(r.delta)::int AS shots'), db.raw('count(*)::int AS readings'))) as { asset_number: string; shots: number; readings: number }[];
    assert.deepEqual(
      Object.fromEntries(points),
      Object.fromEntries(counted.map((c) => [c.asset_number, { sum: c.shots, points: c.readings }])),
      'InfluxDB: the same shots per tool, one point per counted reading',
    );
    const lifetimes = await ledger.lifetimes();
    for (const [tool, v] of points) assert.equal(v.sum, lifetimes.get(tool), `${tool}: InfluxDB sum = PostgreSQL lifetime`);
  });

  it('remounts on a MouldId change and counts the new mould from its first cycle', async () => {
    // E02 (machine counter) and E04 (job counter, reset by the change) get the spare moulds.
    await ledger.mouldChange('E02', 'T-105', 4);
    await ledger.mouldChange('E04', 'T-106', 4);
    await until('remounted', async () => {
      const open = (await db('tool_mounts as m')
        .join('presses as p', 'p.id', 'm.press_id')
        .join('tools as t', 't.id', 'm.tool_id')
        .whereNull('m.unmounted_at')
        .whereIn('p.code', ['E02', 'E04'])
        .select('p.code', 't.asset_number')) as { code: string; asset_number: string }[];
      return open.length === 2 && open.every((o) => o.asset_number === ledger.on.get(o.code));
    });
    await ledger.rounds(6);
    await ledger.exact('after mould changes');
    for (const [tool, n] of ledger.expected) assert.ok(n > 0, `${tool} ran (${n} shots)`);
  });
});
