import assert from 'node:assert/strict';
import net from 'node:net';
import { systemActor } from '../../core/auth/actor';
import type { Db } from '../../core/db/connect';
import { mountTool } from '../../core/mounts/service';
import { createPlan } from '../../core/pm/service';
import { createPress } from '../../core/presses/service';
import { createTool } from '../../core/tools/service';
import type { NodeMessage } from '../../nodes/lib/red';
import { shotCountSettings } from '../../nodes/lib/shot-batcher';
import { ToolroomError } from '../../core/errors';
import { resetData, tableCounts } from '../support/db';
import { assertCaught, catchTo, configNode, helper, holdDatabase, nodeBackends, statuses, statusUntil, type TestNode } from '../support/nodes';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const shotCountNode = require('../../nodes/toolroom-shot-count');

const system = systemActor('test');
const t0 = Date.now() - 3_600_000;
/** A reading time: `s` seconds after t0 (an hour ago). */
const at = (s: number) => new Date(t0 + s * 1000).toISOString();

/** Every message a helper node receives, and waits for them. */
function recorder(node: TestNode) {
  const seen: NodeMessage[] = [];
  node.on('input', (msg) => seen.push(msg));
  return {
    seen,
    async count(n: number, ms = 10000): Promise<NodeMessage[]> {
      const end = Date.now() + ms;
      while (seen.length < n) {
        if (Date.now() > end) throw new Error(`${node.id} got ${seen.length} messages, expected ${n}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return seen.slice(0, n);
    },
  };
}

interface Result {
  source: string;
  outcome: string;
  delta: number;
  assetNumber: string | null;
  lifetimeShots: number | null;
}

describe('toolroom-shot-count settings', () => {
  it("defaults to the press's counter type (no width fixed), jumps over 10 000 held, batches of 100 ms or 1 000 readings", () => {
    assert.deepEqual(shotCountSettings({ id: 'n', type: 't' }), { counter: { jumpLimit: 10000 }, maxWaitMs: 100, maxReadings: 1000 });
    assert.deepEqual(shotCountSettings({ id: 'n', type: 't', width: 'auto' }).counter, { jumpLimit: 10000 });
    assert.deepEqual(shotCountSettings({ id: 'n', type: 't', width: 'uint16' }).counter, { width: 'uint16', jumpLimit: 10000 });
    assert.deepEqual(shotCountSettings({ id: 'n', type: 't', width: 'decimal', decimalMax: '999999', jumpLimit: '500', batchMs: '0', batchSize: '10000' }), {
      counter: { width: { decimal: 999999 }, jumpLimit: 500 },
      maxWaitMs: 0,
      maxReadings: 10000,
    });
  });

  it('names every setting that cannot work', () => {
    try {
      shotCountSettings({ id: 'n', type: 't', width: 'int8', jumpLimit: 0, batchMs: -1, batchSize: 20000 });
      assert.fail('expected a validation error');
    } catch (err) {
      assert.ok(err instanceof ToolroomError);
      assert.deepEqual(err.cause.details.map((d) => `${d.field}:${d.rule}`).sort(), ['batchMs:range', 'batchSize:range', 'jumpLimit:range', 'width:one_of']);
    }
    assert.throws(() => shotCountSettings({ id: 'n', type: 't', width: 'decimal', decimalMax: 'lots' }), /decimalMax/);
  });
});

for (const backend of nodeBackends) {
  describe(`toolroom-shot-count node [${backend.name}]`, function () {
    this.timeout(30000);
    const held = holdDatabase(backend);
    let db: Db;

    /** cfg + one shot-count node → results / transitions helpers; a Catch node → errors. */
    async function deploy(settings: object = {}, cfg = backend.config('cfg')) {
      await helper.load(
        [configNode, shotCountNode],
        [
          { id: 'flow', type: 'tab' },
          cfg.node,
          { id: 'count', type: 'toolroom-shot-count', z: 'flow', config: 'cfg', batchMs: 20, ...settings, wires: [['results'], ['transitions']] },
          { id: 'results', type: 'helper', z: 'flow' },
          { id: 'transitions', type: 'helper', z: 'flow' },
          ...catchTo('errors'),
        ],
        cfg.credentials,
      );
      const count = helper.getNode('count');
      const n = { count, results: recorder(helper.getNode('results')), transitions: recorder(helper.getNode('transitions')), errors: recorder(helper.getNode('errors')) };
      await statusUntil(count, (s) => s.fill === 'grey');
      return n;
    }

    const lifetime = async (asset: string) => Number((await db('tools').where('asset_number', asset).first('lifetime_shots')).lifetime_shots);

    beforeEach(async function () {
      db = held.db();
      await resetData(db);
      for (const code of ['P01', 'P02']) await createPress(db, system, { code, name: `Press ${code}` });
      await createTool(db, system, { assetNumber: 'M-1001', name: 'Door handle', cavityCount: 4 });
      await createTool(db, system, { assetNumber: 'M-1002', name: 'Clip', cavityCount: 2 });
      await mountTool(db, system, { assetNumber: 'M-1001', pressCode: 'P01', at: at(0) });
      await mountTool(db, system, { assetNumber: 'M-1002', pressCode: 'P02', at: at(0) });
      await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
    });
    afterEach(function (done) {
      helper.unload().then(() => helper.stopServer(done), done);
    });

    it('counts a press counter: baseline, counted, reset; one message out per message in, the rest of it kept', async () => {
      const n = await deploy();
      const opcua = { endpoint: 'opc.tcp://press:4840', numCavities: 4, cause: 'change' };
      // What toolroom-press-opcua sends, as it sends it.
      const reading = (counter: number | string, s: number) => ({ press: 'P01', counter, at: at(s), source: 'opc.tcp://press:4840#ns=1;s=MachineCycleCounter', cycleTimeMs: 12000, mouldId: 'M-1001' });
      n.count.receive({ payload: reading(120000, 10), opcua });
      await n.results.count(1);
      n.count.receive({ payload: reading('120007', 20), opcua });
      await n.results.count(2);
      n.count.receive({ payload: [reading(120010, 30), reading(5, 40), reading(5, 40)] });
      const [first, second, third] = await n.results.count(3);
      assert.deepEqual(first.opcua, opcua, 'the rest of the message passes through');
      const r1 = first.payload as Result;
      assert.deepEqual([r1.outcome, r1.delta, r1.assetNumber, r1.lifetimeShots], ['baseline', 0, 'M-1001', 0]);
      assert.deepEqual([(second.payload as Result).outcome, (second.payload as Result).delta], ['counted', 7]);
      const r3 = third.payload as Result[];
      assert.deepEqual(r3.map((r) => [r.outcome, r.delta]), [['counted', 3], ['reset', 5], ['duplicate', 0]]);
      assert.equal(await lifetime('M-1001'), 15);
      const cavities = await db('tool_cavities').join('tools', 'tools.id', 'tool_cavities.tool_id').where('asset_number', 'M-1001').select('tool_cavities.lifetime_shots');
      assert.deepEqual(cavities.map((c) => Number(c.lifetime_shots)), [15, 15, 15, 15]);
      assert.equal(n.errors.seen.length, 0);
      // (The test helper's messages are their keys.)
      await statusUntil(n.count, (s) => s.fill === 'green' && s.text === 'toolroom-shot-count.status.counted');
    });

    it('writes readings arriving together in few transactions, in the order they came', async () => {
      const n = await deploy({ batchMs: 300, batchSize: 1000 });
      for (let i = 0; i < 60; i++) n.count.receive({ payload: { press: i % 2 ? 'P02' : 'P01', counter: 1000 + i, at: at(100 + i) } });
      const out = await n.results.count(60);
      const batches = await db('audit_events').where('action', 'shots.record').count<{ n: string }[]>({ n: '*' });
      assert.equal(Number(batches[0].n), 1, '60 messages within the window: one transaction');
      // Each press: a baseline, then 29 steps of 2.
      assert.deepEqual([await lifetime('M-1001'), await lifetime('M-1002')], [58, 58]);
      assert.deepEqual(out.map((m) => (m.payload as Result).outcome).slice(0, 4), ['baseline', 'baseline', 'counted', 'counted']);
    });

    it('sends a full batch at once, without waiting for the window', async () => {
      const n = await deploy({ batchMs: 60000, batchSize: 10 });
      for (let i = 0; i < 25; i++) n.count.receive({ payload: { tool: 'M-1002', shots: 1, source: 'manual:test', at: at(200 + i) } });
      await n.results.count(20, 5000);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(n.results.seen.length, 20, 'the last 5 wait for the window');
      assert.equal(await lifetime('M-1002'), 20, 'two full batches stored');
      const batches = await db('audit_events').where('action', 'shots.record').count<{ n: string }[]>({ n: '*' });
      assert.equal(Number(batches[0].n), 2);
    });

    it('fails a bad message alone, naming its field; nothing of it is stored, the rest of the batch is', async () => {
      const n = await deploy({ batchMs: 200 });
      const before = await tableCounts(db);
      n.count.receive({ _msgid: 'good1', payload: { press: 'P01', counter: 10, at: at(1) } });
      n.count.receive({ _msgid: 'bad-counter', payload: { press: 'P01', counter: -4, at: at(2) } });
      n.count.receive({ _msgid: 'bad-array', payload: [{ press: 'P02', counter: 1, at: at(3) }, { press: 'P02', at: at(4) }] });
      n.count.receive({ _msgid: 'unknown-press', payload: { press: 'P99', counter: 1, at: at(5) } });
      n.count.receive({ _msgid: 'good2', payload: { press: 'P01', counter: 15, at: at(6) } });
      await n.errors.count(3);
      await n.results.count(2);
      const byId = (id: string) => n.errors.seen.find((m) => m._msgid === id)!;
      assertCaught({ error: byId('bad-counter') }, 'validation', 'counter', 'non_negative_integer');
      const arrayErr = assertCaught({ error: byId('bad-array') }, 'validation', '1.counter', 'required');
      assert.equal(arrayErr.cause.details.length, 1, 'only its own problems');
      assertCaught({ error: byId('unknown-press') }, 'not_found', 'press');
      assert.deepEqual(n.results.seen.map((m) => m._msgid), ['good1', 'good2']);
      assert.equal(await lifetime('M-1001'), 5);
      const after = await tableCounts(db);
      assert.equal(after.shot_readings - before.shot_readings, 2, 'the two good readings, nothing of the bad messages');
      assert.equal((await db('shot_readings').where('source', 'press:P02')).length, 0, 'the array with a bad reading stored nothing');
      assert.ok(statuses(n.count).some((s) => s.fill === 'red' && s.text === 'toolroom-shot-count.status.error'), 'red ring on error');

      // A user the permission table does not know is refused before anything is queued.
      n.count.receive({ _msgid: 'bad-user', payload: { press: 'P01', counter: 20 }, user: { id: 5, role: 'janitor' } });
      await n.errors.count(4);
      assertCaught({ error: n.errors.seen[3] }, 'validation', 'user.role');
    });

    it('sends each PM transition once on the second output', async () => {
      await createPlan(db, system, { assetNumber: 'M-1001', intervalShots: 100, warningPercent: 90 });
      const n = await deploy();
      const send = async (counter: number, s: number, expect: number) => {
        n.count.receive({ payload: { press: 'P01', counter, at: at(s) } });
        await n.results.count(expect);
      };
      await send(0, 1, 1);
      await send(50, 2, 2);
      await send(91, 3, 3);
      await send(95, 4, 4);
      await send(101, 5, 5);
      await new Promise((r) => setTimeout(r, 100));
      const seen = n.transitions.seen.map((m) => `${(m.payload as { assetNumber: string }).assetNumber} ${(m.payload as { from: string }).from}→${(m.payload as { to: string }).to}`);
      assert.deepEqual(seen, ['M-1001 NOT_DUE→WARNING', 'M-1001 WARNING→DUE']);
      assert.equal(n.transitions.seen[0].topic, 'transitions');
    });

    it('stores the queued batch before letting the database go on redeploy', async () => {
      const n = await deploy({ batchMs: 60000 });
      n.count.receive({ payload: { press: 'P02', counter: 100, at: at(1) } });
      n.count.receive({ payload: { press: 'P02', counter: 140, at: at(2) } });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(await lifetime('M-1002'), 0, 'still waiting for the window');
      await helper.unload();
      assert.equal(await lifetime('M-1002'), 40, 'stored on close');
    });

    it('refuses messages with invalid settings and shows it', async () => {
      const n = await helper.load(
        [configNode, shotCountNode],
        [
          { id: 'flow', type: 'tab' },
          backend.config('cfg').node,
          { id: 'count', type: 'toolroom-shot-count', z: 'flow', config: 'cfg', width: 'int8', wires: [[], []] },
          ...catchTo('errors'),
        ],
        backend.config('cfg').credentials,
      ).then(() => ({ count: helper.getNode('count'), errors: recorder(helper.getNode('errors')) }));
      await statusUntil(n.count, (s) => s.fill === 'red' && s.text === 'toolroom-shot-count.status.invalid');
      n.count.receive({ payload: { press: 'P01', counter: 1 } });
      const [caught] = await n.errors.count(1);
      assertCaught({ error: caught }, 'validation', 'width', 'one_of');
    });

    if (backend.name === 'postgres') {
      it('keeps readings while the database is unreachable and stores each once when it is back', async function () {
        this.timeout(60000);
        const proxy = await tcpProxy(new URL(process.env.TEST_DATABASE_URL!));
        try {
          const u = new URL(process.env.TEST_DATABASE_URL!);
          u.host = `127.0.0.1:${proxy.port}`;
          const n = await deploy({ batchMs: 10 }, backend.config('cfg', { url: u.toString() }));
          n.count.receive({ payload: { press: 'P01', counter: 1000, at: at(1) } });
          await n.results.count(1);

          proxy.cut();
          for (let i = 1; i <= 5; i++) n.count.receive({ payload: { press: 'P01', counter: 1000 + 10 * i, at: at(1 + i) } });
          n.count.receive({ payload: { tool: 'M-1002', shots: 7 } });
          await statusUntil(n.count, (s) => s.fill === 'red' && s.text === 'toolroom-shot-count.status.waiting', 15000);
          await new Promise((r) => setTimeout(r, 1200));
          assert.equal(n.results.seen.length, 1, 'nothing completes while the database is away');
          assert.equal(n.errors.seen.length, 0, 'and nothing is refused');

          proxy.restore();
          await n.results.count(7, 40000);
          assert.equal(await lifetime('M-1001'), 50, 'every step counted once');
          assert.equal(await lifetime('M-1002'), 7, 'the manual entry once, at the time it arrived');
          assert.equal(n.errors.seen.length, 0);
          await statusUntil(n.count, (s) => s.fill === 'green');
        } finally {
          proxy.close();
        }
      });
    }
  });
}

/** A TCP relay to the PostgreSQL server that can be cut (every connection dropped, new ones refused) and restored. */
async function tcpProxy(target: URL): Promise<{ port: number; cut(): void; restore(): void; close(): void }> {
  const sockets = new Set<net.Socket>();
  let up = true;
  const server = net.createServer((client) => {
    if (!up) return client.destroy();
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      up = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      up = true;
    },
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
