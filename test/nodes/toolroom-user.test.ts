import assert from 'node:assert/strict';
import { grantFor, OPERATIONS } from '../../core/auth/permissions';
import { createTool } from '../../core/tools/service';
import { createAction } from '../../core/actions/service';
import { createPerson } from '../support/people';
import { systemActor } from '../../core/auth/actor';
import { resetData, tableCounts } from '../support/db';
import { assertCaught, catchTo, configNode, exchange, helper, holdDatabase, nodeBackends, statusUntil, type TestNode } from '../support/nodes';
import type { Db } from '../../core/db/connect';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const userNode = require('../../nodes/toolroom-user');

const technician = { id: 11, username: 'tina.tech', role: 'technician', displayName: 'Tina' };

/** toolroom-user in a real Node-RED: the dashboard's me / home / tool, the user from msg._client.user. */
for (const backend of nodeBackends) {
  describe(`toolroom-user node [${backend.name}]`, function () {
    this.timeout(30000);
    const held = holdDatabase(backend);
    let db: Db;
    let n: { user: TestNode; out: TestNode; errors: TestNode };

    beforeEach(function (done) {
      db = held.db();
      resetData(db).then(() => helper.startServer(done), done);
    });
    afterEach(function (done) {
      helper.unload().then(() => helper.stopServer(done), done);
    });

    async function deploy() {
      const cfg = backend.config('cfg');
      await helper.load(
        [configNode, userNode],
        [
          { id: 'flow', type: 'tab' },
          cfg.node,
          { id: 'user', type: 'toolroom-user', z: 'flow', config: 'cfg', operation: '', wires: [['out']] },
          { id: 'out', type: 'helper', z: 'flow' },
          ...catchTo('errors'),
        ],
        cfg.credentials,
      );
      n = { user: helper.getNode('user'), out: helper.getNode('out'), errors: helper.getNode('errors') };
      await statusUntil(n.user, (s) => s.fill === 'grey');
    }
    const call = (topic: string, payload: unknown, extra: object = {}) => exchange(n.user, { topic, payload, ...extra }, n.out, n.errors);

    it("me: the dashboard user's role and its operations, the rest of the message (the browser's socket) kept", async () => {
      await deploy();
      const r = await call('me', {}, { _client: { user: technician, socketId: 'sock-1' } });
      assert.ok(r.output, JSON.stringify(r.error?.error));
      const me = r.output.payload as { role: string; operations: string[]; user: { id: string } };
      assert.equal(me.role, 'technician');
      assert.equal(me.user.id, '11');
      assert.deepEqual(me.operations, OPERATIONS.filter((op) => grantFor('technician', op) !== false));
      assert.equal((r.output._client as { socketId: string }).socketId, 'sock-1');
    });

    it("tool: a tool's page by asset number; a missing tool and a malformed user name the field", async () => {
      await deploy();
      await createTool(db, systemActor(), { assetNumber: 'U-1', name: 'Mould U-1', cavityCount: 2 });
      const r = await call('tool', { assetNumber: 'u-1' }, { _client: { user: technician } });
      assert.equal((r.output!.payload as { tool: { name: string } }).tool.name, 'Mould U-1');
      const before = await tableCounts(db);
      assertCaught(await call('tool', { assetNumber: 'NOPE' }, { _client: { user: technician } }), 'not_found', 'assetNumber', 'exists');
      assertCaught(await call('me', {}, { _client: { user: { id: 1, role: 'boss' } } }), 'validation', '_client.user.role');
      assertCaught(await call('retire', { id: 1 }, { _client: { user: technician } }), 'validation', 'topic', 'operation');
      assert.deepEqual(await tableCounts(db), before);
    });

    it('KPIs for engineers (technicians refused) and a tool’s trend for everyone', async () => {
      await deploy();
      await createTool(db, systemActor(), { assetNumber: 'U-2', name: 'Mould U-2', cavityCount: 1 });
      const engineer = { id: 21, username: 'erik.eng', role: 'engineer' };
      const r = await call('reliability', { by: 'tool' }, { _client: { user: engineer } });
      assert.ok(r.output, JSON.stringify(r.error?.error));
      assert.deepEqual(r.output.payload, []);
      assertCaught(await call('pareto', {}, { _client: { user: technician } }), 'forbidden');
      const t = await call('trend', { assetNumber: 'U-2', days: 7 }, { _client: { user: technician } });
      assert.equal((t.output!.payload as { shotsPerDay: unknown[] }).shotsPerDay.length, 7);
    });

    it('home: triggered by an inject (a timestamp payload), it answers for the flow', async () => {
      await deploy();
      const r = await call('home', Date.now());
      assert.ok(r.output, JSON.stringify(r.error?.error));
      const h = r.output.payload as { myActions: { total: number }; presses: unknown[] };
      assert.equal(h.myActions.total, 0);
      assert.deepEqual(h.presses, []);
    });
    it("inbox / unread / acknowledge: only the user's own notifications", async () => {
      await deploy();
      const anna = await createPerson(db, 'anna.inbox', 'technician');
      const ben = await createPerson(db, 'ben.inbox', 'technician');
      const as = (p: { id: number; username: string }) => ({ _client: { user: { id: p.id, username: p.username, role: 'technician' } } });
      const tool = await createTool(db, systemActor(), { assetNumber: 'U-3', name: 'Mould U-3', cavityCount: 1 });
      await createAction(db, systemActor(), { toolId: tool.id, title: 'Polish cavity 1', assigneeId: anna.id });
      assert.deepEqual((await call('unread', {}, as(anna))).output?.payload, { unread: 1 });
      assert.deepEqual((await call('unread', {}, as(ben))).output?.payload, { unread: 0 });
      const list = (await call('inbox', {}, as(anna))).output!.payload as { items: { id: number; title: string; readAt: string | null }[]; total: number };
      assert.equal(list.total, 1);
      assert.match(list.items[0].title, /Polish cavity 1/);
      assert.equal(((await call('inbox', {}, as(ben))).output!.payload as { total: number }).total, 0);
      assertCaught(await call('acknowledge', { id: list.items[0].id }, as(ben)), 'not_found');
      const acked = (await call('acknowledge', { id: list.items[0].id }, as(anna))).output!.payload as { readAt: string | null };
      assert.ok(acked.readAt);
      assert.deepEqual((await call('unread', {}, as(anna))).output?.payload, { unread: 0 });
    });
  });
}
