import assert from 'node:assert/strict';
import { createTool } from '../../core/tools/service';
import { createPress } from '../../core/presses/service';
import { systemActor } from '../../core/auth/actor';
import { resetData, tableCounts } from '../support/db';
import { assertCaught, catchTo, configNode, exchange, helper, holdDatabase, nodeBackends, statuses, statusUntil } from '../support/nodes';
import type { Db } from '../../core/db/connect';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const mountNode = require('../../nodes/toolroom-mount');

const technician = { id: 11, username: 'tina.tech', role: 'technician' };

for (const backend of nodeBackends) {
  describe(`toolroom-mount node [${backend.name}]`, function () {
    this.timeout(30000);
    const held = holdDatabase(backend);
    let db: Db;

    async function deploy() {
      const cfg = backend.config('cfg');
      await helper.load(
        [configNode, mountNode],
        [
          { id: 'flow', type: 'tab' },
          cfg.node,
          { id: 'mount', type: 'toolroom-mount', z: 'flow', config: 'cfg', wires: [['out']] },
          { id: 'out', type: 'helper', z: 'flow' },
          ...catchTo('errors'),
        ],
        cfg.credentials,
      );
      const n = { mount: helper.getNode('mount'), out: helper.getNode('out'), errors: helper.getNode('errors') };
      await statusUntil(n.mount, (s) => s.fill === 'grey');
      return (topic: string, payload: unknown, extra: object = {}) => exchange(n.mount, { topic, payload, ...extra }, n.out, n.errors);
    }

    beforeEach(async function () {
      db = held.db();
      await resetData(db);
      await createTool(db, systemActor('test'), { assetNumber: 'M-1001', name: 'Door handle', cavityCount: 4 });
      await createPress(db, systemActor('test'), { code: 'P-01', name: 'Engel 200' });
      await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
    });
    afterEach(function (done) {
      helper.unload().then(() => helper.stopServer(done), done);
    });

    it('mounts, lists presses with the tool on them, unmounts and reads the history', async () => {
      const call = await deploy();
      const mounted = await call('mount', { assetNumber: 'm-1001', pressCode: 'p-01', note: 'job 4711' }, { user: technician });
      const span = mounted.output!.payload as { id: number; tool: { status: string }; press: { code: string }; unmountedAt: string | null; mountedBy: string };
      assert.deepEqual([span.tool.status, span.press.code, span.unmountedAt], ['in_press', 'P-01', null]);
      assert.equal((await db('tools').where('asset_number', 'M-1001').first()).status, 'in_press');
      const audit = await db('audit_events').where('action', 'mount.mount').first();
      assert.deepEqual([audit.actor_id, audit.via], ['11', 'mount']);

      const presses = (await call('presses', {})).output!.payload as { items: { code: string; tool: { assetNumber: string } | null }[] };
      assert.equal(presses.items[0].tool?.assetNumber, 'M-1001');

      const off = (await call('unmount', { pressCode: 'P-01', status: 'in_maintenance' })).output!.payload as { id: number; unmountedAt: string | null };
      assert.equal(off.id, span.id);
      assert.ok(off.unmountedAt);
      assert.equal((await db('tools').where('asset_number', 'M-1001').first()).status, 'in_maintenance');

      const history = (await call('history', { assetNumber: 'M-1001' })).output!.payload as { items: { id: number }[]; total: number };
      assert.deepEqual([history.total, history.items[0].id], [1, span.id]);
      assert.deepEqual(statuses(helper.getNode('mount')).at(-1), { fill: 'green', shape: 'dot', text: 'toolroom-mount.status.listed' });
    });

    it('sends conflict, not_found and validation errors to the Catch node, writing nothing', async () => {
      const call = await deploy();
      await call('mount', { assetNumber: 'M-1001', pressCode: 'P-01' });
      const before = await tableCounts(db);
      assertCaught(await call('mount', { assetNumber: 'M-1001', pressCode: 'P-01' }), 'conflict');
      assertCaught(await call('mount', { assetNumber: 'M-1001', pressCode: 'P-99' }), 'not_found', 'pressCode', 'exists');
      assertCaught(await call('mount', { pressCode: 'P-01' }), 'validation', 'toolId', 'required');
      assertCaught(await call('mount', { assetNumber: 'M-1001', pressCode: 'P-01', at: '2999-01-01T00:00:00Z' }), 'validation', 'at', 'not_in_future');
      assertCaught(await call('remount', {}), 'validation', 'topic', 'operation');
      assert.deepEqual(await tableCounts(db), before);
      assert.deepEqual(statuses(helper.getNode('mount')).at(-1), { fill: 'red', shape: 'ring', text: 'toolroom-mount.status.error' });
    });
  });
}
