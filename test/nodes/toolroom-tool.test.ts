import assert from 'node:assert/strict';
import fs from 'node:fs';
import { openDatabases, databaseKey } from '../../app/databases';
import { resetData, tableCounts } from '../support/db';
import {
  assertCaught,
  catchTo,
  configNode,
  exchange,
  helper,
  holdDatabase,
  nodeBackends,
  statuses,
  statusUntil,
  type TestNode,
} from '../support/nodes';
import type { Db } from '../../core/db/connect';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const toolNode = require('../../nodes/toolroom-tool');

const mould = { assetNumber: 'm-2001', name: 'Bezel 2-cav', cavityCount: 2, customer: 'Acme Auto' };
const engineer = { id: 21, username: 'erik.eng', role: 'engineer' };
const technician = { id: 11, username: 'tina.tech', role: 'technician' };

for (const backend of nodeBackends) {
  describe(`toolroom-tool node [${backend.name}]`, function () {
    this.timeout(30000);
    const held = holdDatabase(backend);
    let db: Db;

    /** cfg + one tool node (operation from msg.topic unless given) → out; a Catch node → errors. */
    async function deploy(operation = '') {
      const cfg = backend.config('cfg');
      await helper.load(
        [configNode, toolNode],
        [
          { id: 'flow', type: 'tab' },
          cfg.node,
          { id: 'tool', type: 'toolroom-tool', z: 'flow', config: 'cfg', operation, wires: [['out']] },
          { id: 'out', type: 'helper', z: 'flow' },
          ...catchTo('errors'),
        ],
        cfg.credentials,
      );
      const nodes = { tool: helper.getNode('tool'), out: helper.getNode('out'), errors: helper.getNode('errors') };
      await statusUntil(nodes.tool, (s) => s.fill === 'grey');
      return nodes;
    }

    function call(n: { tool: TestNode; out: TestNode; errors: TestNode }, topic: string, payload: unknown, extra: object = {}) {
      return exchange(n.tool, { topic, payload, ...extra }, n.out, n.errors);
    }

    beforeEach(function (done) {
      db = held.db();
      resetData(db).then(() => helper.startServer(done), done);
    });
    afterEach(function (done) {
      helper.unload().then(() => helper.stopServer(done), done);
    });

    it('creates a tool from msg.topic, as the system actor audited with the node id', async () => {
      const n = await deploy();
      const { output } = await call(n, 'create', mould);
      assert.ok(output, 'the created tool is sent on');
      const tool = output.payload as { id: number; assetNumber: string; cavities: unknown[] };
      assert.equal(tool.assetNumber, 'M-2001');
      assert.equal(tool.cavities.length, 2);
      assert.equal(output.topic, 'create', 'the rest of the message passes through');
      const row = await db('tools').where('id', tool.id).first();
      assert.equal(row.name, 'Bezel 2-cav');
      const audit = await db('audit_events').where({ entity: 'tool', entity_id: String(tool.id) }).first();
      assert.deepEqual([audit.actor_id, audit.actor_role, audit.via, audit.action], ['system', 'system', 'tool', 'tool.create']);
    });

    it('updates, retires, gets and lists, acting as msg.user or msg._client.user', async () => {
      const n = await deploy();
      const created = (await call(n, 'create', mould)).output!.payload as { id: number; version: number };
      await call(n, 'create', { ...mould, assetNumber: 'M-2002', name: 'Clip 8-cav', cavityCount: 8, customer: 'Other' });

      const updated = await call(n, 'update', { id: created.id, version: created.version, location: 'Rack B1' }, { user: technician });
      assert.equal((updated.output!.payload as { location: string }).location, 'Rack B1');
      const updAudit = await db('audit_events').where({ action: 'tool.update' }).first();
      assert.deepEqual([updAudit.actor_id, updAudit.actor_role, updAudit.via], ['11', 'technician', 'tool']);

      const got = await call(n, 'get', { assetNumber: 'm-2001' });
      assert.equal((got.output!.payload as { id: number }).id, created.id);

      const listed = await call(n, 'list', { customer: 'acme auto' });
      const page = listed.output!.payload as { items: { assetNumber: string }[]; total: number };
      assert.deepEqual(page.items.map((t) => t.assetNumber), ['M-2001']);
      assert.equal(page.total, 1);

      const retired = await call(n, 'retire', { id: created.id, reason: 'worn out' }, { _client: { user: engineer }, user: technician });
      assert.equal((retired.output!.payload as { status: string }).status, 'retired');
      const retAudit = await db('audit_events').where({ action: 'tool.retire' }).first();
      assert.deepEqual([retAudit.actor_id, retAudit.actor_role], ['21', 'engineer'], 'Dashboard 2\'s _client.user wins over msg.user');

      const all = await call(n, 'list', {});
      assert.deepEqual((all.output!.payload as { items: { assetNumber: string }[] }).items.map((t) => t.assetNumber), ['M-2002']);
    });

    it('runs the operation fixed in its settings, whatever msg.topic says', async () => {
      const n = await deploy('list');
      await db('tools').insert({ asset_number: 'M-1', name: 'x', cavity_count: 1 });
      const { output } = await call(n, 'create', {});
      assert.equal((output!.payload as { total: number }).total, 1);
      assert.equal(await db('tools').count({ c: '*' }).first().then((r) => Number(r!.c)), 1, 'nothing was created');
    });

    describe('errors reach a Catch node with code, message and cause.details, and nothing is written', () => {
      it('validation: a missing name and a bad SPI class', async () => {
        const n = await deploy();
        const before = await tableCounts(db);
        const caught = await call(n, 'create', { assetNumber: 'M-9', cavityCount: 1, spiClass: 99 });
        const err = assertCaught(caught, 'validation', 'name', /invalid_type/);
        assert.ok(err.cause.details.some((d) => d.field === 'spiClass'), 'every broken field is listed');
        assert.deepEqual(await tableCounts(db), before);
        assert.equal(caught.error!.topic, 'create', 'the Catch node gets the original message');
      });

      it('validation: an unknown or missing msg.topic names the field topic', async () => {
        const n = await deploy();
        assertCaught(await call(n, 'delete', { id: 1 }), 'validation', 'topic', 'operation');
        assertCaught(await call(n, undefined as unknown as string, {}), 'validation', 'topic', 'operation');
      });

      it('validation: a malformed user names the message property, never acting as system', async () => {
        const n = await deploy();
        const before = await tableCounts(db);
        assertCaught(await call(n, 'create', mould, { user: { id: 5, role: 'boss' } }), 'validation', 'user.role');
        assertCaught(await call(n, 'create', mould, { _client: { user: { username: 'x' } } }), 'validation', '_client.user.role');
        assert.deepEqual(await tableCounts(db), before);
      });

      it('not_found: getting a tool that does not exist', async () => {
        const n = await deploy();
        assertCaught(await call(n, 'get', { id: 4711 }), 'not_found', 'id', 'exists');
        assertCaught(await call(n, 'get', { assetNumber: 'NOPE' }), 'not_found', 'assetNumber', 'exists');
      });

      it('conflict: a duplicate asset number', async () => {
        const n = await deploy();
        await call(n, 'create', mould);
        const before = await tableCounts(db);
        assertCaught(await call(n, 'create', { ...mould, name: 'Other' }), 'conflict', 'assetNumber', 'unique');
        assert.deepEqual(await tableCounts(db), before);
      });

      it('forbidden: a technician (msg.user) retiring a tool', async () => {
        const n = await deploy();
        const tool = (await call(n, 'create', mould)).output!.payload as { id: number };
        const before = await tableCounts(db);
        assertCaught(await call(n, 'retire', { id: tool.id, reason: 'x' }, { user: technician }), 'forbidden', '', 'permission');
        assert.equal((await db('tools').where('id', tool.id).first()).status, 'in_store');
        assert.deepEqual(await tableCounts(db), before);
      });
    });

    it('shows its state: yellow while opening, grey when ready, green on success, red ring with the code on error', async () => {
      const n = await deploy();
      const seen = statuses(n.tool);
      assert.deepEqual(seen[0], { fill: 'yellow', shape: 'ring', text: 'toolroom-tool.status.connecting' });
      assert.deepEqual(seen[seen.length - 1], { fill: 'grey', shape: 'dot', text: 'toolroom-tool.status.ready' });
      await call(n, 'create', mould);
      assert.deepEqual(statuses(n.tool).at(-1), { fill: 'green', shape: 'dot', text: 'toolroom-tool.status.done' });
      await call(n, 'get', { id: 999 });
      assert.deepEqual(statuses(n.tool).at(-1), { fill: 'red', shape: 'ring', text: 'toolroom-tool.status.error' });
      await call(n, 'list', {});
      assert.deepEqual(statuses(n.tool).at(-1), { fill: 'green', shape: 'dot', text: 'toolroom-tool.status.listed' });
    });

    it('shows a red ring and reports the config when none is set', async () => {
      await helper.load(
        [configNode, toolNode],
        [{ id: 'flow', type: 'tab' }, { id: 'tool', type: 'toolroom-tool', z: 'flow', config: '', wires: [['out']] }, { id: 'out', type: 'helper', z: 'flow' }, ...catchTo('errors')],
      );
      const tool = helper.getNode('tool');
      assert.deepEqual(statuses(tool).at(-1), { fill: 'red', shape: 'ring', text: 'toolroom-tool.status.noConfig' });
      assertCaught(await exchange(tool, { topic: 'list', payload: {} }, helper.getNode('out'), helper.getNode('errors')), 'validation', 'config');
    });

    it('shares one config and one database among several nodes and config nodes naming the same database', async () => {
      const a = backend.config('cfg-a');
      const b = backend.config('cfg-b');
      await helper.load(
        [configNode, toolNode],
        [
          { id: 'flow', type: 'tab' },
          a.node,
          b.node,
          { id: 't1', type: 'toolroom-tool', z: 'flow', config: 'cfg-a', operation: 'create', wires: [['out']] },
          { id: 't2', type: 'toolroom-tool', z: 'flow', config: 'cfg-a', operation: 'list', wires: [['out']] },
          { id: 't3', type: 'toolroom-tool', z: 'flow', config: 'cfg-b', operation: 'get', wires: [['out']] },
          { id: 'out', type: 'helper', z: 'flow' },
          ...catchTo('errors'),
        ],
        { ...a.credentials, ...b.credentials },
      );
      const cfgA = helper.getNode('cfg-a') as TestNode & { users: Record<string, unknown>; database(): Promise<Db> };
      const cfgB = helper.getNode('cfg-b') as TestNode & { users: Record<string, unknown>; database(): Promise<Db> };
      assert.deepEqual(Object.keys(cfgA.users).sort(), ['t1', 't2']);
      assert.deepEqual(Object.keys(cfgB.users), ['t3']);
      const [dbA, dbB] = await Promise.all([cfgA.database(), cfgB.database()]);
      assert.equal(dbA, dbB, 'both config nodes got the same database instance');
      assert.equal(dbA, db, 'and it is the one this suite holds');
      // The suite's lease, cfg-a's and cfg-b's: one per holder, not one per node.
      assert.equal(openDatabases().get(databaseKey(backend.target))?.leases, 3);
      const out = helper.getNode('out');
      const errors = helper.getNode('errors');
      const created = (await exchange(helper.getNode('t1'), { payload: mould }, out, errors)).output!.payload as { id: number };
      const got = await exchange(helper.getNode('t3'), { payload: { id: created.id } }, out, errors);
      assert.equal((got.output!.payload as { assetNumber: string }).assetNumber, 'M-2001');
    });

    it('releases the database when redeployed without its users, and opens it again for new ones', async function () {
      this.timeout(60000);
      // A database only this test uses, so the release really closes it.
      const own = 'url' in backend.target
        ? { url: `${backend.target.url}${backend.target.url.includes('?') ? '&' : '?'}application_name=toolroom_release_test` }
        : { dataDir: `/tmp/toolroom-release-test-${process.pid}` };
      const key = databaseKey(own);
      const cfg = backend.config('cfg', own);
      const flow = [
        { id: 'flow', type: 'tab' },
        cfg.node,
        { id: 't1', type: 'toolroom-tool', z: 'flow', config: 'cfg', operation: 'list', wires: [['out']] },
        { id: 't2', type: 'toolroom-tool', z: 'flow', config: 'cfg', operation: 'list', wires: [['out']] },
        { id: 'out', type: 'helper', z: 'flow' },
        ...catchTo('errors'),
      ];
      // Node-RED keeps (and later cleans) the credentials object it is given: pass copies.
      await helper.load([configNode, toolNode], flow, structuredClone(cfg.credentials));
      const first = await (helper.getNode('cfg') as unknown as { database(): Promise<Db> }).database();
      const r = await exchange(helper.getNode('t1'), { payload: {} }, helper.getNode('out'), helper.getNode('errors'));
      assert.ok(r.output);
      assert.equal(openDatabases().get(key)?.leases, 1);
      const connections = async () => {
        const { rows } = await db.raw("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'toolroom_release_test'");
        return rows[0].n as number;
      };
      if ('url' in own) assert.ok((await connections()) > 0, 'the pool holds a connection');

      // Redeploy: the tool nodes and the config go away.
      await helper.setFlows([{ id: 'flow', type: 'tab' }, { id: 'out', type: 'helper', z: 'flow' }], 'full');
      assert.equal(openDatabases().has(key), false, 'nothing holds the database any more');
      assert.equal((first.client as { pool?: unknown }).pool, undefined, 'its pool is destroyed');
      if ('url' in own) assert.equal(await connections(), 0, 'no connection is left open on the server');

      // Deploy again: a new instance opens.
      await helper.setFlows(flow, "full", structuredClone(cfg.credentials));
      const second = await (helper.getNode('cfg') as unknown as { database(): Promise<Db> }).database();
      assert.notEqual(second, first);
      const again = await exchange(helper.getNode('t2'), { payload: {} }, helper.getNode('out'), helper.getNode('errors'));
      assert.ok(again.output, 'works after reopening');
      await helper.unload();
      assert.equal(openDatabases().has(key), false, 'stop releases it too');
      if ('dataDir' in own) fs.rmSync(String(own.dataDir), { recursive: true, force: true });
    });
  });
}
