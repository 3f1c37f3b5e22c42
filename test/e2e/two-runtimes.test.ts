import assert from 'node:assert/strict';
import path from 'node:path';
import type { Db } from '../../core/db/connect';
import { countingPlant, CycleLedger, influxShots, pressFlows, requireServers, sleep, startApp, until, writeFlows, type App, type CountingPlant, type PlantPress } from '../support/e2e';

/**
 * DESIGN.md's "scale beyond one Pi": two Node-RED runtimes (two start commands, each with its own
 * data dir) watch the same presses and count into one PostgreSQL and one InfluxDB. Every reading
 * reaches the database twice; each tool must still get its cycles exactly once, also with one
 * runtime killed mid-stream.
 */

const PRESSES: PlantPress[] = [
  { press: 'D01', counter: 'MachineCycleCounter', tool: 'T-201', cycleTimeMs: 25 },
  { press: 'D02', counter: 'JobCycleCounter', tool: 'T-202', cycleTimeMs: 25 },
  { press: 'D03', counter: 'MachineCycleCounter', tool: 'T-203', cycleTimeMs: 0 },
];

const count = async (q: Promise<{ n: string | number }[]>) => Number((await q)[0].n);

describe('end to end: two Node-RED runtimes counting the same presses into one database', function () {
  this.timeout(300_000);
  let plant: CountingPlant;
  let db: Db;
  const apps: App[] = [];
  let ledger: CycleLedger;

  before(async function () {
    requireServers(this, ['postgres', 'influx']);
    plant = await countingPlant('two', PRESSES, 1, (i) => 4_000_000_000 + i);
    db = plant.db;
    ledger = new CycleLedger(plant.sim, db, PRESSES, [], () => apps.map((a, i) => `--- runtime ${i} ---\n${a.output().slice(-2000)}`).join('\n'));
  });

  after(async function () {
    this.timeout(60_000);
    for (const a of apps) await a.stop();
    await plant?.stop();
  });

  /** A runtime with its own data dir; its nodes' ids start with `prefix`, so its batches are told apart in the audit trail. */
  async function runtime(prefix: string): Promise<App> {
    const dataDir = path.join(plant.work, prefix);
    writeFlows(dataDir, pressFlows(plant.sim.endpoint, PRESSES, path.join(plant.work, `${prefix}-pki`), {}, prefix));
    const app = await startApp({ DATABASE_URL: plant.url, INFLUX_URL: plant.timeSeries.url }, ['--no-seed'], { dataDir });
    apps.push(app);
    return app;
  }
  const batchesBy = (prefix: string) => count(db('audit_events').where({ action: 'shots.record', via: `${prefix}count0000001` }).count({ n: '*' }));

  it('counts each cycle once with both runtimes storing every reading', async () => {
    // One after the other: each start copies the node assets the other is loading.
    await runtime('rtA0');
    await ledger.caughtUp('runtime A');
    await runtime('rtB0');
    await until('runtime B connected and storing', async () => (await batchesBy('rtB0')) > 0);
    ledger.book();

    await ledger.rounds(6);
    await ledger.jobChange('D02');
    await ledger.rounds(6);
    // And a stream: both runtimes race to store the same readings.
    for (const p of PRESSES.filter((p) => p.cycleTimeMs > 0)) plant.sim.press(p.press).resume();
    await sleep(2500);
    for (const p of PRESSES) plant.sim.press(p.press).pause();
    await ledger.exact('two runtimes');
    const [a, b] = [await batchesBy('rtA0'), await batchesBy('rtB0')];
    assert.ok(a > 3 && b > 3, `both runtimes stored batches (A ${a}, B ${b})`);
  });

  it('stays exact when one runtime is killed mid-stream and the other carries on', async () => {
    for (const p of PRESSES.filter((p) => p.cycleTimeMs > 0)) plant.sim.press(p.press).resume();
    await sleep(800);
    await apps[0].kill9();
    const bBefore = await batchesBy('rtB0');
    await ledger.rounds(4, PRESSES.filter((p) => p.cycleTimeMs === 0));
    await sleep(1500);
    for (const p of PRESSES) plant.sim.press(p.press).pause();
    await ledger.exact('runtime A killed');
    assert.ok((await batchesBy('rtB0')) > bBefore, 'runtime B stored what came after');
  });

  it('holds the same shots in InfluxDB, each once, with both runtimes draining one outbox', async () => {
    await until('outbox drained', async () => (await count(db('outbox').where('topic', 'shots').whereNull('sent_at').count({ n: '*' }))) === 0, 60_000);
    const points = await influxShots(plant.timeSeries.target);
    const lifetimes = await ledger.lifetimes();
    const readings = (await db('shot_readings as r')
      .join('tools as t', 't.id', 'r.tool_id')
      .where('r.delta', '>', 0)
      .groupBy('t.asset_number')
      .select('t.asset_number', db.raw('count(*)::int AS n'))) as { asset_number: string; n: number }[];
    for (const p of PRESSES) {
      assert.deepEqual(points.get(p.tool), { sum: lifetimes.get(p.tool), points: readings.find((r) => r.asset_number === p.tool)!.n }, p.tool);
    }
  });
});
