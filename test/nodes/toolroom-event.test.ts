import assert from 'node:assert/strict';
import { systemActor } from '../../core/auth/actor';
import { reportFailure } from '../../core/failures/service';
import { createCode } from '../../core/failures/catalog';
import { createTool } from '../../core/tools/service';
import type { Db } from '../../core/db/connect';
import { resetData } from '../support/db';
import { configNode, helper, holdDatabase, nodeBackends, statusUntil, type TestNode } from '../support/nodes';
import { createPerson } from '../support/people';
import type { NodeMessage } from '../../nodes/lib/red';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const eventNode = require('../../nodes/toolroom-event');

for (const backend of nodeBackends) {
  describe(`toolroom-event node [${backend.name}]`, function () {
    this.timeout(30000);
    const held = holdDatabase(backend);
    let db: Db;

    async function deploy(ids: string[]) {
      const cfg = backend.config('cfg');
      await helper.load(
        [configNode, eventNode],
        [
          { id: 'flow', type: 'tab' },
          cfg.node,
          ...ids.map((id) => ({ id, type: 'toolroom-event', z: 'flow', config: 'cfg', site: 'hall-1', baseUrl: 'http://toolroom.plant:1880', wires: [[`${id}-out`]] })),
          ...ids.map((id) => ({ id: `${id}-out`, type: 'helper', z: 'flow' })),
        ],
        cfg.credentials,
      );
      const got: NodeMessage[] = [];
      for (const id of ids) {
        await statusUntil(helper.getNode(id), (s) => s.fill === 'grey' || s.fill === 'green');
        (helper.getNode(`${id}-out`) as TestNode).on('input', (m: NodeMessage) => got.push(m));
      }
      return got;
    }

    beforeEach(async function () {
      db = held.db();
      await resetData(db);
      await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
    });
    afterEach(function (done) {
      helper.unload().then(() => helper.stopServer(done), done);
    });

    it('emits each event once, with its record, link and the people notified, however many nodes run', async () => {
      const got = await deploy(['ev1', 'ev2']);
      const erik = await createPerson(db, 'erik', 'engineer');
      const sys = systemActor('test');
      const tool = await createTool(db, sys, { assetNumber: 'M-100', name: 'Bezel', cavityCount: 2 });
      await createCode(db, sys, { code: 'HR-ZONE', title: 'Hot-runner zone failed', component: 'hot_runner', defaultSeverity: 'critical' });
      for (let i = 0; i < 5; i++) await reportFailure(db, sys, { toolId: tool.id, failureCode: 'HR-ZONE' });
      const end = Date.now() + 10_000;
      while (got.length < 5 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 2500)); // a poll more: a duplicate would have come by now
      assert.equal(got.length, 5);
      assert.equal(new Set(got.map((m) => (m.payload as { id: number }).id)).size, 5, 'each event once');
      const first = got[0] as NodeMessage & { recipients: { username: string; email: string }[] };
      assert.equal(first.topic, 'failure.critical');
      const payload = first.payload as { severity: string; link: string; site: string; data: { assetNumber: string } };
      assert.deepEqual([payload.severity, payload.site, payload.data.assetNumber], ['critical', 'hall-1', 'M-100']);
      assert.match(payload.link, /^http:\/\/toolroom\.plant:1880\/dashboard\/triage\?id=\d+$/);
      assert.deepEqual(first.recipients.map((r) => [r.username, r.email]), [['erik', erik.email]]);
    });

    it('refuses settings it cannot use, naming the problem in its status', async () => {
      const cfg = backend.config('cfg');
      await helper.load([configNode, eventNode], [{ id: 'flow', type: 'tab' }, cfg.node, { id: 'ev', type: 'toolroom-event', z: 'flow', config: 'cfg', baseUrl: 'not a url', wires: [[]] }], cfg.credentials);
      const s = await statusUntil(helper.getNode('ev'), (x) => x.fill === 'red');
      assert.equal(s.text, 'toolroom-event.status.invalid');
    });
  });
}
