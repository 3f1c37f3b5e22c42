import assert from 'node:assert/strict';
import { systemActor } from '../../core/auth/actor';
import { createTool } from '../../core/tools/service';
import { login } from '../../core/accounts/sessions';
import { resetData, tableCounts } from '../support/db';
import { assertCaught, catchTo, configNode, exchange, helper, holdDatabase, nodeBackends, statusUntil } from '../support/nodes';
import type { Db } from '../../core/db/connect';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pressNode = require('../../nodes/toolroom-press');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const accountNode = require('../../nodes/toolroom-account');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const inspectionNode = require('../../nodes/toolroom-inspection');

/**
 * What the admin pages (issue 14) ask for, in a Node-RED runtime: toolroom-press, toolroom-account
 * and toolroom-inspection's template upkeep, as the admin or engineer in msg.user; a technician
 * (or an engineer, for accounts) is refused at the Catch node and nothing is written.
 */
for (const backend of nodeBackends) {
  describe(`toolroom-press, -account and template upkeep [${backend.name}]`, function () {
    this.timeout(30000);
    const held = holdDatabase(backend);
    let db: Db;
    const ada = { id: '1', username: 'ada', role: 'admin' };
    const erik = { id: '2', username: 'erik', role: 'engineer' };
    const tina = { id: '3', username: 'tina', role: 'technician' };

    async function deploy() {
      const cfg = backend.config('cfg');
      await helper.load(
        [configNode, pressNode, accountNode, inspectionNode],
        [
          { id: 'flow', type: 'tab' },
          cfg.node,
          { id: 'press', type: 'toolroom-press', z: 'flow', config: 'cfg', wires: [['out']] },
          { id: 'account', type: 'toolroom-account', z: 'flow', config: 'cfg', wires: [['out']] },
          { id: 'inspection', type: 'toolroom-inspection', z: 'flow', config: 'cfg', wires: [['out']] },
          { id: 'out', type: 'helper', z: 'flow' },
          ...catchTo('errors'),
        ],
        cfg.credentials,
      );
      for (const id of ['press', 'account', 'inspection']) await statusUntil(helper.getNode(id), (s) => s.fill === 'grey');
      return (node: 'press' | 'account' | 'inspection', topic: string, payload: unknown, user: object) =>
        exchange(helper.getNode(node), { topic, payload, user }, helper.getNode('out'), helper.getNode('errors'));
    }

    beforeEach(async function () {
      db = held.db();
      await resetData(db);
      for (const u of [ada, erik, tina]) await db('users').insert({ username: u.username, display_name: u.username, role: u.role });
      await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
    });
    afterEach(function (done) {
      helper.unload().then(() => helper.stopServer(done), done);
    });

    it('adds, changes and deactivates a press; a technician is refused', async () => {
      const call = await deploy();
      const press = (await call('press', 'create', { code: 'p-9', name: 'Engel', opcuaEndpoint: 'opc.tcp://10.1.1.9:4840' }, erik)).output!.payload as { id: number; code: string };
      assert.equal(press.code, 'P-9');
      assert.equal(((await call('press', 'update', { id: press.id, tonnage: 250 }, erik)).output!.payload as { tonnage: number }).tonnage, 250);
      const before = await tableCounts(db);
      assertCaught(await call('press', 'deactivate', { id: press.id }, tina), 'forbidden', '', 'permission');
      assertCaught(await call('press', 'create', { code: 'P-10', name: 'x', opcuaEndpoint: 'http://x' }, ada), 'validation', 'opcuaEndpoint');
      assert.deepEqual(await tableCounts(db), before);
      assert.equal(((await call('press', 'deactivate', { id: press.id }, ada)).output!.payload as { active: boolean }).active, false);
      assert.equal(((await call('press', 'list', { includeInactive: true }, tina)).output!.payload as { total: number }).total, 1);
    });

    it('adds a user with a PIN and resets the password; engineers and technicians are refused', async () => {
      const call = await deploy();
      const theo = (await call('account', 'create', { username: 'theo', displayName: 'Theo', role: 'technician' }, ada)).output!.payload as { id: number };
      await call('account', 'setpin', { userId: theo.id, pin: '2468' }, ada);
      assert.equal((await login(db, { username: 'theo', pin: '2468', address: '10.0.0.1' })).user.id, theo.id);
      const reset = (await call('account', 'resetpassword', { userId: theo.id }, ada)).output!.payload as { temporaryPassword: string };
      assert.equal((await login(db, { username: 'theo', password: reset.temporaryPassword, address: '10.0.0.1' })).mustChangePassword, true);
      const before = await tableCounts(db);
      for (const who of [erik, tina]) {
        assertCaught(await call('account', 'create', { username: 'mallory', displayName: 'M', role: 'admin' }, who), 'forbidden', '', 'permission');
        assertCaught(await call('account', 'resetpassword', { userId: theo.id }, who), 'forbidden', '', 'permission');
        assertCaught(await call('account', 'list', {}, who), 'forbidden', '', 'permission');
      }
      assert.deepEqual(await tableCounts(db), before);
      assert.equal(((await call('account', 'disable', { id: theo.id }, ada)).output!.payload as { active: boolean }).active, false);
      assert.equal(((await call('account', 'enable', { id: theo.id }, ada)).output!.payload as { active: boolean }).active, true);
    });

    it('creates and edits a template for one tool; a technician may read but not edit it', async () => {
      const call = await deploy();
      const tool = await createTool(db, systemActor('test'), { assetNumber: 'M-7', name: 'Cap', cavityCount: 1 });
      const t = (await call('inspection', 'newtemplate', { code: 'cap', name: 'Cap check', kind: 'post_run', items: [{ key: 'a', label: 'A' }], toolIds: [tool.id] }, erik)).output!
        .payload as { id: number; version: number; tools: { assetNumber: string }[] };
      assert.deepEqual([t.version, t.tools.map((x) => x.assetNumber)], [1, ['M-7']]);
      assertCaught(await call('inspection', 'edittemplate', { id: t.id, name: 'x' }, tina), 'forbidden', '', 'permission');
      const edited = (await call('inspection', 'edittemplate', { id: t.id, items: [{ key: 'b', label: 'B' }] }, ada)).output!.payload as { version: number };
      assert.equal(edited.version, 1, 'no inspection yet: edited in place');
      const listed = (await call('inspection', 'templates', { toolId: tool.id }, tina)).output!.payload as { code: string }[];
      assert.deepEqual(listed.map((x) => x.code), ['cap']);
    });
  });
}
