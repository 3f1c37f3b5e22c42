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
import { raiseBackupFailed } from '../../core/notifications/system';
import { startSmtp } from '../support/smtp';
import { subscribe, TEST_MQTT_URL, uniqueSite } from '../support/mqtt';

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

    it('sends e-mail and MQTT itself when given their settings, the SMTP password from its credentials', async () => {
      const smtp = await startSmtp({ user: 'toolroom', pass: 'relay secret' });
      const site = uniqueSite();
      const sub = await subscribe(`toolroom/${site}/events/#`);
      try {
        const cfg = backend.config('cfg');
        await helper.load(
          [configNode, eventNode],
          [
            { id: 'flow', type: 'tab' },
            cfg.node,
            { id: 'ev', type: 'toolroom-event', z: 'flow', config: 'cfg', site, smtpHost: '127.0.0.1', smtpPort: smtp.port, smtpTls: 'none', smtpUser: 'toolroom', smtpFrom: 'toolroom@plant.example', mqttUrl: TEST_MQTT_URL, mqttTopicPrefix: 'toolroom', wires: [[]] },
          ],
          { ...cfg.credentials, ev: { smtpPassword: 'relay secret' } },
        );
        await statusUntil(helper.getNode('ev'), (s) => s.fill === 'grey' || s.fill === 'green' || s.fill === 'red');
        const ada = await createPerson(db, 'ada', 'admin');
        await raiseBackupFailed(db, systemActor('test'), { archive: 'nightly-1', error: 'share offline' });
        const end = Date.now() + 15_000;
        while ((smtp.received.length < 1 || sub.messages.length < 1) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
        assert.deepEqual(smtp.received.map((m) => m.to[0]), [ada.email], 'sent with the password from the credentials');
        assert.deepEqual(sub.messages.map((m) => [m.topic, m.payload.type, m.retain]), [[`toolroom/${site}/events/backup.failed`, 'backup.failed', false]]);
      } finally {
        await sub.close();
        await smtp.stop();
      }
    });

    it('refuses settings it cannot use, naming the problem in its status', async () => {
      const cfg = backend.config('cfg');
      const bad = [
        { baseUrl: 'not a url' },
        { mqttUrl: 'mqtt://127.0.0.1:1883', site: 'hall/#' },
        { mqttUrl: 'mqtt://127.0.0.1:1883', mqttTopicPrefix: 'plant/+' },
        { smtpHost: 'mail', smtpFrom: 'toolroom' },
      ];
      await helper.load(
        [configNode, eventNode],
        [{ id: 'flow', type: 'tab' }, cfg.node, ...bad.map((b, i) => ({ id: `ev${i}`, type: 'toolroom-event', z: 'flow', config: 'cfg', wires: [[]], ...b }))],
        cfg.credentials,
      );
      const fields = ['baseUrl', 'mqtt.site', 'mqtt.topicPrefix', 'smtp.from'];
      for (const [i, field] of fields.entries()) {
        const node = helper.getNode(`ev${i}`);
        const s = await statusUntil(node, (x) => x.fill === 'red');
        assert.equal(s.text, 'toolroom-event.status.invalid');
        const logged = (node as unknown as { error: { args: unknown[][] } }).error.args.map((a) => String((a[0] as Error).message ?? a[0]));
        assert.ok(logged.some((m) => m.includes(field)), `${field} named in ${JSON.stringify(logged)}`);
      }
    });
  });
}
