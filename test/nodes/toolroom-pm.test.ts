import assert from 'node:assert/strict';
import { createTool } from '../../core/tools/service';
import { systemActor } from '../../core/auth/actor';
import { resetData, tableCounts } from '../support/db';
import { assertCaught, catchTo, configNode, exchange, helper, holdDatabase, nodeBackends, statuses, statusUntil, type TestNode } from '../support/nodes';
import type { NodeMessage } from '../../nodes/lib/red';
import type { Db } from '../../core/db/connect';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pmNode = require('../../nodes/toolroom-pm');

const engineer = { id: 21, username: 'erik.eng', role: 'engineer' };
const technician = { id: 11, username: 'tina.tech', role: 'technician' };

/** Messages reaching `out` within `ms` after `into` receives `msg` (transitions may be none). */
async function collect(into: TestNode, msg: NodeMessage, out: TestNode, ms = 400): Promise<NodeMessage[]> {
  const got: NodeMessage[] = [];
  const on = (m: NodeMessage) => got.push(m);
  out.on('input', on);
  into.receive(msg);
  await new Promise((r) => setTimeout(r, ms));
  out.removeListener('input', on);
  return got;
}

for (const backend of nodeBackends) {
  describe(`toolroom-pm node [${backend.name}]`, function () {
    this.timeout(30000);
    const held = holdDatabase(backend);
    let db: Db;
    let toolId: number;

    async function deploy(extra: object[] = []) {
      const cfg = backend.config('cfg');
      await helper.load(
        [configNode, pmNode],
        [
          { id: 'flow', type: 'tab' },
          cfg.node,
          { id: 'pm', type: 'toolroom-pm', z: 'flow', config: 'cfg', wires: [['out']] },
          ...extra,
          { id: 'out', type: 'helper', z: 'flow' },
          ...catchTo('errors'),
        ],
        cfg.credentials,
      );
      const n = { pm: helper.getNode('pm'), out: helper.getNode('out'), errors: helper.getNode('errors') };
      await statusUntil(n.pm, (s) => s.fill === 'grey');
      return { ...n, call: (topic: string, payload: unknown, more: object = {}) => exchange(n.pm, { topic, payload, ...more }, n.out, n.errors) };
    }

    /** What the shot counter does to a tool: more lifetime shots. */
    const runTo = (shots: number) => db('tools').where('id', toolId).update({ lifetime_shots: shots });

    beforeEach(async function () {
      db = held.db();
      await resetData(db);
      toolId = (await createTool(db, systemActor('test'), { assetNumber: 'M-1001', name: 'Door handle', cavityCount: 4 })).id;
      await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
    });
    afterEach(function (done) {
      helper.unload().then(() => helper.stopServer(done), done);
    });

    it('creates, updates, gets and lists plans and records a PM', async () => {
      const n = await deploy();
      const plan = (await n.call('create', { assetNumber: 'm-1001', intervalShots: 1000, intervalDays: 90 }, { user: engineer })).output!.payload as {
        id: number;
        version: number;
        status: { state: string };
      };
      assert.equal(plan.status.state, 'NOT_DUE');
      const updated = (await n.call('update', { id: plan.id, version: plan.version, warningPercent: 80 }, { user: engineer })).output!.payload as { warningPercent: number };
      assert.equal(updated.warningPercent, 80);
      await runTo(850);
      const got = (await n.call('get', { id: plan.id })).output!.payload as { status: { state: string; shotsSince: number } };
      assert.deepEqual([got.status.state, got.status.shotsSince], ['WARNING', 850]);
      const warned = (await n.call('list', { state: 'WARNING' })).output!.payload as { items: { id: number }[]; total: number };
      assert.deepEqual(warned.items.map((p) => p.id), [plan.id]);
      const event = (await n.call('record', { planId: plan.id, notes: 'vents cleaned' }, { user: technician })).output!.payload as {
        lifetimeShots: number;
        performedBy: string;
        plan: { status: { state: string } };
      };
      assert.deepEqual([event.lifetimeShots, event.plan.status.state], [850, 'NOT_DUE']);
      assert.equal(await db('pm_events').count({ n: '*' }).first().then((r) => Number(r!.n)), 1);
    });

    it('emits each PM state transition once, one message per plan, when triggered by an inject timestamp', async () => {
      const n = await deploy();
      const a = ((await n.call('create', { toolId, intervalShots: 1000 })).output!.payload as { id: number }).id;
      const b = ((await n.call('create', { toolId, intervalShots: 2000, name: 'slides' })).output!.payload as { id: number }).id;
      const trigger = { topic: 'transitions', payload: Date.now() };

      assert.deepEqual(await collect(n.pm, trigger, n.out), [], 'nothing is due yet');
      assert.deepEqual(statuses(n.pm).at(-1), { fill: 'green', shape: 'dot', text: 'toolroom-pm.status.sent' });

      await runTo(1900); // plan a: 190 % → OVERDUE (one jump, one transition); plan b: 95 % → WARNING
      const first = await collect(n.pm, trigger, n.out);
      const seen = first.map((m) => m.payload as { plan: { id: number }; assetNumber: string; from: string; to: string });
      assert.deepEqual(
        seen.map((t) => [t.plan.id, t.assetNumber, t.from, t.to]).sort(),
        [[a, 'M-1001', 'NOT_DUE', 'OVERDUE'], [b, 'M-1001', 'NOT_DUE', 'WARNING']].sort(),
      );
      assert.ok(first.every((m) => m.topic === 'transitions'));

      assert.deepEqual(await collect(n.pm, trigger, n.out), [], 'announced once: asking again finds nothing');
      await runTo(2100); // plan b: DUE
      const second = await collect(n.pm, trigger, n.out);
      assert.deepEqual(second.map((m) => { const t = m.payload as { plan: { id: number }; from: string; to: string }; return [t.plan.id, t.from, t.to]; }), [[b, 'WARNING', 'DUE']]);
    });

    it('two nodes triggered together announce each transition once between them', async () => {
      const n = await deploy([{ id: 'pm2', type: 'toolroom-pm', z: 'flow', config: 'cfg', operation: 'transitions', wires: [['out']] }]);
      await n.call('create', { toolId, intervalShots: 1000 });
      await runTo(1000);
      const got: NodeMessage[] = [];
      n.out.on('input', (m: NodeMessage) => got.push(m));
      n.pm.receive({ topic: 'transitions' });
      helper.getNode('pm2').receive({ payload: '' });
      await new Promise((r) => setTimeout(r, 800));
      assert.equal(got.length, 1, 'one message for one transition');
      assert.equal((got[0].payload as { to: string }).to, 'DUE');
    });

    it('sends forbidden, validation and not_found to the Catch node, writing nothing', async () => {
      const n = await deploy();
      const before = await tableCounts(db);
      assertCaught(await n.call('create', { toolId, intervalShots: 1000 }, { user: technician }), 'forbidden', '', 'permission');
      assertCaught(await n.call('create', { toolId }), 'validation', 'intervalShots', 'interval_required');
      assertCaught(await n.call('record', { planId: 999, notes: 'PM done' }), 'not_found');
      assertCaught(await n.call('transitions', { now: 'yesterday-ish' }), 'validation', 'now');
      assert.deepEqual(await tableCounts(db), before);
    });
  });
}
