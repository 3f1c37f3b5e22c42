import assert from 'node:assert/strict';
import { systemActor } from '../../core/auth/actor';
import type { Db } from '../../core/db/connect';
import { mountTool } from '../../core/mounts/service';
import { parseInfluxUrl, query } from '../../core/outbox/influx';
import { createPress } from '../../core/presses/service';
import { createTool } from '../../core/tools/service';
import { influxOf } from '../../nodes/lib/config';
import { databaseKey } from '../../app/databases';
import { runningDrainers } from '../../nodes/lib/drainers';
import { resetData } from '../support/db';
import { configNode, helper, holdDatabase, nodeBackends, statusUntil } from '../support/nodes';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const shotCountNode = require('../../nodes/toolroom-shot-count');

/**
 * toolroom-config as the owner of the InfluxDB outbox drainer: started by the first node using it,
 * one per database however many configs name it, stopped with the last user; nothing without InfluxDB.
 * Against the real influxd the test command starts (TEST_INFLUX_URL).
 */

const system = systemActor('test');
let influxCounter = 0;
/** A fresh InfluxDB database on the test server. */
function influxUrl(): string {
  const u = new URL(process.env.TEST_INFLUX_URL!);
  u.pathname = `/config_${process.pid}_${++influxCounter}`;
  return u.toString();
}

async function until<T>(what: string, check: () => Promise<T | undefined | false>, ms = 15000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('toolroom-config InfluxDB setting', () => {
  it('is the setting (${NAME} expanded), else INFLUX_URL, else none; credentials from the store', () => {
    const def = (influxUrl?: string) => ({ id: 'c', type: 'toolroom-config', influxUrl });
    assert.equal(influxOf(def(''), {}, {}), null);
    assert.equal(influxOf(def(undefined), {}, {}), null);
    assert.deepEqual(influxOf(def(''), {}, { INFLUX_URL: 'http://i:8086/plant' }), { url: 'http://i:8086/plant', username: undefined, password: undefined });
    assert.equal(influxOf(def('${MY_INFLUX}'), {}, { MY_INFLUX: 'http://x:1/db', INFLUX_URL: 'http://i:8086/plant' })!.url, 'http://x:1/db');
    assert.deepEqual(influxOf(def('http://h:8086/t'), { influxUsername: 'u', influxPassword: 'p' }, {}), { url: 'http://h:8086/t', username: 'u', password: 'p' });
  });
});

for (const backend of nodeBackends) {
  describe(`toolroom-config InfluxDB drainer [${backend.name}]`, function () {
    this.timeout(30000);
    const held = holdDatabase(backend);
    let db: Db;
    before(function () {
      if (!process.env.TEST_INFLUX_URL) {
        if (process.env.CI || process.env.TOOLROOM_REQUIRE_SERVER) throw new Error('TEST_INFLUX_URL is not set');
        this.skip();
      }
    });
    beforeEach(async function () {
      db = held.db();
      await resetData(db);
      await createPress(db, system, { code: 'P01', name: 'Press 1' });
      await createTool(db, system, { assetNumber: 'M-1001', name: 'Door handle', cavityCount: 4 });
      await mountTool(db, system, { assetNumber: 'M-1001', pressCode: 'P01', at: new Date(Date.now() - 600_000).toISOString() });
      await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
    });
    afterEach(function (done) {
      helper.unload().then(() => helper.stopServer(done), done);
    });

    /** Configs (each with its InfluxDB URL, '' for none) and a shot counter on each. */
    async function deploy(influx: string[]) {
      const flow: object[] = [{ id: 'flow', type: 'tab' }];
      const credentials: Record<string, object> = {};
      influx.forEach((url, i) => {
        const cfg = backend.config(`cfg${i}`);
        flow.push({ ...cfg.node, influxUrl: url }, { id: `count${i}`, type: 'toolroom-shot-count', z: 'flow', config: `cfg${i}`, batchMs: 10, wires: [[], []] });
        Object.assign(credentials, cfg.credentials);
      });
      await helper.load([configNode, shotCountNode], flow, credentials);
      for (let i = 0; i < influx.length; i++) await statusUntil(helper.getNode(`count${i}`), (s) => s.fill === 'grey');
    }

    it('sends counted shots to InfluxDB while a node uses it, and stops with the last one', async () => {
      const url = influxUrl();
      await deploy([url]);
      const key = databaseKey(backend.target);
      assert.deepEqual([...runningDrainers().keys()], [key]);
      const count = helper.getNode('count0');
      const base = Date.now() - 60_000;
      for (let i = 0; i <= 5; i++) count.receive({ payload: { press: 'P01', counter: 100 + i * 3, at: new Date(base + i * 1000).toISOString() } });
      const target = parseInfluxUrl(url);
      const sum = await until('points in InfluxDB', async () => {
        const r = await query(target, 'SELECT sum("delta"), count("delta") FROM "shots" GROUP BY "tool"').catch(() => []);
        const series = r[0]?.series?.[0];
        // influxd 1.6 may answer a query racing the write with a count and a null sum: ask again.
        return series && series.values[0][2] === 5 && series.values[0][1] !== null ? series : undefined;
      });
      assert.deepEqual(sum.tags, { tool: 'M-1001' });
      assert.deepEqual(sum.values[0].slice(1), [15, 5], 'five counted readings, 15 shots (the baseline is no point)');
      await until('the outbox marked sent', async () => Number((await db('outbox').whereNull('sent_at').count<{ n: string }[]>({ n: '*' }))[0].n) === 0);

      await helper.unload();
      assert.equal(runningDrainers().size, 0, 'stopped on redeploy');
    });

    it('runs one drainer per database, however many configs name it', async () => {
      const url = influxUrl();
      await deploy([url, url, '']);
      const running = runningDrainers();
      assert.equal(running.size, 1);
      assert.deepEqual(running.get(databaseKey(backend.target)), { url, leases: 2, state: running.get(databaseKey(backend.target))!.state });
    });

    it('runs none without an InfluxDB, and counting goes on', async () => {
      const saved = process.env.INFLUX_URL;
      delete process.env.INFLUX_URL;
      try {
        await deploy(['']);
        assert.equal(runningDrainers().size, 0);
        helper.getNode('count0').receive({ payload: { press: 'P01', counter: 7 } });
        await until('the reading stored', async () => Number((await db('shot_readings').count<{ n: string }[]>({ n: '*' }))[0].n) === 1);
      } finally {
        if (saved !== undefined) process.env.INFLUX_URL = saved;
      }
    });
  });
}
