import assert from 'node:assert/strict';
import type { Db } from '../../core/db/connect';
import { createAction } from '../../core/actions/service';
import { mountTool } from '../../core/mounts/service';
import { createPlan } from '../../core/pm/service';
import { createPress } from '../../core/presses/service';
import { recordReadings } from '../../core/shots/service';
import { createTool } from '../../core/tools/service';
import { setSubscriptions } from '../../core/notifications/settings';
import { deliverOnce, type Transport } from '../../core/notifications/delivery';
import { emailTransport } from '../../core/notifications/email';
import { mqttTransport } from '../../core/notifications/mqtt';
import { startNotifier } from '../../core/notifications/notifier';
import { raiseBackupFailed } from '../../core/notifications/system';
import { listInbox } from '../../core/notifications/inbox';
import { backends, resetData, type Backend } from '../support/db';
import { engineer, system } from '../support/actors';
import { createPerson, type Person } from '../support/people';
import { headerOf, startSmtp, type TestSmtp } from '../support/smtp';
import { subscribe, TEST_MQTT_URL, uniqueSite } from '../support/mqtt';
import { ownBroker } from '../support/mosquitto';

const MIN = 60_000;
const T0 = new Date(Math.floor((Date.now() - 2 * 24 * 60 * MIN) / MIN) * MIN);
const t = (minutes: number) => new Date(T0.getTime() + minutes * MIN);
const counter = { width: 'uint32' as const, jumpLimit: 100_000 };
const smtpOf = (smtp: TestSmtp) => ({ host: '127.0.0.1', port: smtp.port, tls: 'none' as const, from: 'toolroom@plant.example' });
const subjectOf = (raw: string) => headerOf(raw, 'Subject');
/** Wait (real time) until `check` holds, for what a real server does in its own time (a broker's delivery, a reconnect). */
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const backend of backends) {
  describe(`notification channels: real SMTP and MQTT [${backend.name}]`, function () {
    this.timeout(60_000);
    let db: Db;
    let smtp: TestSmtp;
    let tina: Person;
    let tom: Person;
    let erik: Person;
    let ada: Person;

    before(async () => {
      db = await (backend as Backend).db();
      smtp = await startSmtp();
    });
    after(async () => smtp?.stop());

    beforeEach(async () => {
      await resetData(db);
      smtp.received.length = 0;
      smtp.refuse = null;
      smtp.unknownMailboxes.clear();
      tina = await createPerson(db, 'tina', 'technician');
      tom = await createPerson(db, 'tom', 'technician');
      erik = await createPerson(db, 'erik', 'engineer');
      ada = await createPerson(db, 'ada', 'admin');
    });

    it('a PM crossing WARNING → DUE → OVERDUE over recorded shots delivers one notification per user and channel per transition', async () => {
      const tool = await createTool(db, tina.actor, { assetNumber: 'M-100', name: 'Bezel', cavityCount: 2 });
      await createPress(db, engineer, { code: 'P-01', name: 'Engel 200' });
      await mountTool(db, tina.actor, { assetNumber: 'M-100', pressCode: 'P-01', at: t(-10) });
      await createPlan(db, engineer, { toolId: tool.id, intervalShots: 1000, warningPercent: 90 });
      await createAction(db, engineer, { title: 'Watch the vents', toolId: tool.id, assigneeId: tina.id }); // tina works on the tool
      await setSubscriptions(db, erik.actor, { subscriptions: ['pm.warning', 'pm.due', 'pm.overdue'].flatMap((eventType) => ['inbox', 'email'].map((channel) => ({ eventType, channel, enabled: true }))) });
      const site = uniqueSite();
      const sub = await subscribe(`toolroom/${site}/events/#`);
      const notifier = startNotifier({ db, settings: { smtp: smtpOf(smtp), mqtt: { url: TEST_MQTT_URL, site, topicPrefix: 'toolroom' }, escalateAfterMinutes: 30, baseUrl: 'http://toolroom.plant:1880' }, pollMs: 3_600_000 });
      // A pass that sent everything due; MQTT's first connection is the broker's time, not a timed assertion.
      const cleanPass = () => until(() => notifier.runOnce().then(() => true, () => false), 'a pass without errors');
      try {
        // 0 → 900 → 950 (still WARNING) → 1000 (DUE) → 1050 (still) → 1100 (OVERDUE) → 1200 (still), each batch its own transaction.
        const steps = [0, 900, 950, 1000, 1050, 1100, 1200];
        for (const [i, c] of steps.entries()) {
          await recordReadings(db, system, [{ press: 'P-01', counter: c, at: t(i).toISOString() }], { counter });
          await cleanPass();
        }
        const subjects = smtp.received.map((m) => `${m.to[0]} ${subjectOf(m.raw)}`).filter((m) => / PM /.test(m)).sort();
        const pm = (state: string) => `Toolroom: PM "PM every 1000 shots" on tool M-100 is ${state}`;
        assert.deepEqual(subjects, ['coming due', 'due', 'overdue'].flatMap((state) => [tina, erik].map((p) => `${p.email} ${pm(state)}`)).sort());
        const mail = smtp.received.find((m) => / PM /.test(subjectOf(m.raw)))!.raw;
        assert.match(mail, /Content-Type: text\/plain/);
        assert.match(mail, /Content-Type: text\/html/);
        assert.match(mail, /http:\/\/toolroom\.plant:1880\/dashboard\/pm-plans\?asset=M-100/);
        for (const p of [tina, erik]) assert.deepEqual((await listInbox(db, p.actor)).items.map((i) => i.type).filter((x) => x.startsWith('pm.')).sort(), ['pm.due', 'pm.overdue', 'pm.warning']);
        assert.equal((await listInbox(db, tom.actor)).items.length, 0, 'tom works on other tools');
        const pmMessages = () => sub.messages.filter((m) => /\/events\/pm\./.test(m.topic));
        await until(() => pmMessages().length >= 3, 'three MQTT messages');
        await new Promise((r) => setTimeout(r, 200)); // a fourth, were there one, would have arrived by now
        assert.deepEqual(pmMessages().map((m) => m.topic), ['pm.warning', 'pm.due', 'pm.overdue'].map((type) => `toolroom/${site}/events/${type}`));
        assert.equal(pmMessages()[0].payload.link, 'http://toolroom.plant:1880/dashboard/pm-plans?asset=M-100');
        assert.deepEqual(pmMessages()[2].payload.data, { assetNumber: 'M-100', plan: 'PM every 1000 shots', from: 'DUE', to: 'OVERDUE', percent: 110 });
      } finally {
        await sub.close();
        await notifier.stop();
      }
    });

    it('an SMTP and MQTT outage delays notifications; after recovery each arrives once', async () => {
      const broker = await ownBroker();
      const site = uniqueSite();
      const transports: Record<'email' | 'mqtt', Transport> = { email: emailTransport(smtpOf(smtp)), mqtt: mqttTransport({ url: broker.url, site, topicPrefix: 'toolroom' }) };
      let now = new Date();
      let smtpDown = false;
      try {
        await smtp.stop();
        smtpDown = true;
        for (let i = 0; i < 12; i++) await raiseBackupFailed(db, system, { archive: `nightly-${i}`, error: 'share offline' });
        now = new Date();
        const down = await deliverOnce(db, transports, { now, minBackoffMs: 1000, maxBackoffMs: 60_000 });
        assert.equal(down.sent, 0);
        assert.ok(down.error, 'the outage is reported');
        const pending = await db('notifications').whereIn('channel', ['email', 'mqtt']).select('status', 'attempts');
        assert.equal(pending.length, 24);
        assert.ok(pending.every((r) => r.status === 'pending' && r.attempts === 1), JSON.stringify(pending));

        await smtp.start();
        smtpDown = false;
        await broker.start();
        const listener = await (await import('mqtt')).default.connectAsync(broker.url);
        const got: string[] = [];
        listener.on('message', (_topic, payload) => got.push(String(JSON.parse(payload.toString()).id)));
        await listener.subscribeAsync(`toolroom/${site}/events/#`, { qos: 1 });
        // The sender's client reconnects in its own time; each try moves the clock past the backoff.
        await until(async () => {
          now = new Date(now.getTime() + 10 * MIN);
          await deliverOnce(db, transports, { now });
          const left = await db('notifications').whereIn('channel', ['email', 'mqtt']).where('status', 'pending').count('* as n').first();
          return Number((left as { n: string }).n) === 0;
        }, 'every notification sent');
        await until(() => got.length >= 12, 'twelve MQTT messages');
        assert.equal(smtp.received.length, 12);
        assert.deepEqual(smtp.received.map((m) => m.to[0]), Array(12).fill(ada.email));
        assert.equal(new Set(smtp.received.map((m) => subjectOf(m.raw))).size, 12, 'no e-mail twice');
        assert.equal(new Set(got).size, 12);
        assert.equal((await deliverOnce(db, transports, { now: new Date(now.getTime() + 60 * MIN) })).sent, 0, 'nothing left to send again');
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(got.length, 12, 'no MQTT message twice');
        await listener.endAsync(true);
      } finally {
        await Promise.all(Object.values(transports).map((x) => x.close?.()));
        await broker.stop();
        if (smtpDown) await smtp.start();
      }
    });

    it('a mail relay that is down does not hold MQTT back', async () => {
      const site = uniqueSite();
      const sub = await subscribe(`toolroom/${site}/events/#`);
      let now = new Date();
      const notifier = startNotifier({ db, settings: { smtp: smtpOf(smtp), mqtt: { url: TEST_MQTT_URL, site, topicPrefix: 'toolroom' }, escalateAfterMinutes: 30 }, now: () => now, pollMs: 3_600_000 });
      await smtp.stop();
      try {
        await raiseBackupFailed(db, system, { archive: 'a-1', error: 'disk full' });
        // The first pass may find MQTT still connecting (the broker's time, not a timed assertion): each try
        // moves the clock past the row's backoff.
        await until(async () => {
          now = new Date(now.getTime() + 10 * MIN);
          await notifier.runOnce().catch(() => null);
          return (await db('notifications').where({ channel: 'mqtt', status: 'sent' })).length === 1;
        }, 'MQTT sent');
        await until(() => sub.messages.length === 1, 'the MQTT message');
        const mail = await db('notifications').where({ channel: 'email' }).first();
        assert.deepEqual([mail.status, mail.attempts > 0], ['pending', true], 'the e-mail waits for the relay');
      } finally {
        await smtp.start();
        await sub.close();
        await notifier.stop();
      }
    });

    it('a refusing SMTP server: a temporary refusal is retried, an unknown mailbox is parked as failed', async () => {
      const transport = { email: emailTransport(smtpOf(smtp)) };
      try {
        smtp.unknownMailboxes.add(ada.email);
        smtp.refuse = { code: 451, message: 'try again later' };
        await raiseBackupFailed(db, system, { archive: 'a-1', error: 'disk full' });
        await setSubscriptions(db, erik.actor, { subscriptions: [{ eventType: 'backup.failed', channel: 'email', enabled: true }] });
        await raiseBackupFailed(db, system, { archive: 'a-2', error: 'disk full' });
        const now = new Date();
        const first = await deliverOnce(db, transport, { now, minBackoffMs: 1000, maxBackoffMs: 1000 });
        assert.equal(first.sent, 0);
        assert.equal(first.failed, 2, 'ada has no mailbox there: both of hers are parked');
        const rows = await db('notifications as n').join('users as u', 'u.id', 'n.user_id').where('n.channel', 'email').orderBy(['u.username', 'n.id']).select('u.username', 'n.status', 'n.last_error');
        assert.deepEqual(rows.map((r) => [r.username, r.status]), [['ada', 'failed'], ['ada', 'failed'], ['erik', 'pending']]);
        assert.match(rows[2].last_error, /451/);
        smtp.refuse = null;
        const second = await deliverOnce(db, transport, { now: new Date(now.getTime() + 5000) });
        assert.equal(second.sent, 1);
        assert.deepEqual(smtp.received.map((m) => m.to[0]), [erik.email]);
      } finally {
        await transport.email.close?.();
      }
    });
  });
}
