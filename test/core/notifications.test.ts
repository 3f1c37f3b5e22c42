import assert from 'node:assert/strict';
import type { Db } from '../../core/db/connect';
import { inTransaction } from '../../core/db/transaction';
import { createCode } from '../../core/failures/catalog';
import { reportFailure } from '../../core/failures/service';
import { assignAction, createAction } from '../../core/actions/service';
import { createTool } from '../../core/tools/service';
import type { Tool } from '../../core/tools/schema';
import { acknowledge, listInbox, unreadCount } from '../../core/notifications/inbox';
import { raiseEvent } from '../../core/notifications/raise';
import { getNotificationSettings, setSubscriptions, updateNotificationSettings } from '../../core/notifications/settings';
import { deliverOnce, type Delivery, type Transport } from '../../core/notifications/delivery';
import { sweep } from '../../core/notifications/sweep';
import { raiseBackupFailed } from '../../core/notifications/system';
import { parseChannelSettings } from '../../core/notifications/channels';
import { emailTiming } from '../../core/notifications/timing';
import { openDatabase } from '../../core/db/connect';
import { createPress } from '../../core/presses/service';
import { mountTool } from '../../core/mounts/service';
import { recordReadings } from '../../core/shots/service';
import { backends, countRows, resetData, type Backend } from '../support/db';
import { rejects } from '../support/expect';
import { engineer, system } from '../support/actors';
import { collecting, createPerson, type Person } from '../support/people';

const MIN = 60_000;

for (const backend of backends) {
  describe(`notifications [${backend.name}]`, function () {
    this.timeout(30000);
    let db: Db;
    let tool: Tool;
    let tina: Person; // technician working on the tool
    let tom: Person; // technician not working on it
    let erik: Person; // engineer
    let ada: Person; // admin

    before(async () => {
      db = await (backend as Backend).db();
    });

    beforeEach(async () => {
      await resetData(db);
      tina = await createPerson(db, 'tina', 'technician');
      tom = await createPerson(db, 'tom', 'technician');
      erik = await createPerson(db, 'erik', 'engineer');
      ada = await createPerson(db, 'ada', 'admin');
      tool = await createTool(db, tina.actor, { assetNumber: 'M-100', name: 'Bezel', cavityCount: 2 });
      await createCode(db, engineer, { code: 'HR-ZONE', title: 'Hot-runner zone failed', component: 'hot_runner', defaultSeverity: 'critical' });
    });

    /** Notification rows of an event type: [username or channel-only, channel]. */
    const rowsOf = async (type: string) =>
      (
        (await db('notifications as n')
          .join('notification_events as e', 'e.id', 'n.event_id')
          .leftJoin('users as u', 'u.id', 'n.user_id')
          .where('e.type', type)
          .orderBy(['u.username', 'n.channel'])
          .select('u.username', 'n.channel')) as { username: string | null; channel: string }[]
      ).map((r) => `${r.username ?? 'site'}:${r.channel}`);

    it('a critical failure reaches engineers and the technicians working on the tool, each once per channel', async () => {
      await createAction(db, engineer, { title: 'Check heater bands', toolId: tool.id, assigneeId: tina.id });
      const report = await reportFailure(db, tom.actor, { toolId: tool.id, failureCode: 'HR-ZONE' });
      assert.deepEqual(await rowsOf('failure.critical'), ['erik:email', 'erik:inbox', 'tina:email', 'tina:inbox', 'site:flow', 'site:mqtt']);
      const [event] = await db('notification_events').where('type', 'failure.critical');
      assert.equal(event.link, `/dashboard/triage?id=${report.id}`);
      assert.equal(event.entity, 'failure_report');
      assert.match(event.title, /M-100 is down/);
    });

    it('an assignment reaches only the assignee; handing it to someone else tells them', async () => {
      const action = await createAction(db, engineer, { title: 'Replace pin', toolId: tool.id, assigneeId: tina.id });
      assert.deepEqual((await rowsOf('action.assigned')).filter((r) => !r.startsWith('site')), ['tina:email', 'tina:inbox']);
      await assignAction(db, engineer, { id: action.id, assigneeId: tom.id });
      assert.deepEqual((await rowsOf('action.assigned')).filter((r) => !r.startsWith('site')), ['tina:email', 'tina:inbox', 'tom:email', 'tom:inbox']);
    });

    it('one event, one notification per user and channel: a key raised twice and a duplicate row are refused', async () => {
      const input = { type: 'backup.failed' as const, key: 'backup.failed:2026-12-04', title: 'Backup failed', entity: 'backup', entityId: '2026-12-04', link: '/dashboard/home' };
      const first = await inTransaction(db, (trx) => raiseEvent(trx, system, input));
      const again = await inTransaction(db, (trx) => raiseEvent(trx, system, input));
      assert.ok(first);
      assert.equal(again, null);
      assert.deepEqual(await rowsOf('backup.failed'), ['ada:email', 'ada:inbox', 'site:flow', 'site:mqtt']);
      const row = await db('notifications').where({ event_id: first.id, user_id: ada.id, channel: 'inbox' }).first();
      await assert.rejects(db('notifications').insert({ event_id: first.id, user_id: ada.id, channel: 'inbox', due_at: new Date(), created_at: new Date() }), /notifications_once/);
      assert.ok(row);
    });

    it('backup.failed is raised by admins and flows, once per archive, to admins', async () => {
      await rejects(raiseBackupFailed(db, erik.actor, { archive: 'a-1', error: 'share offline' }), 'forbidden');
      await rejects(raiseBackupFailed(db, system, { archive: '' }), 'validation', 'archive');
      assert.ok(await raiseBackupFailed(db, system, { archive: 'a-1', error: 'share offline' }));
      assert.equal(await raiseBackupFailed(db, ada.actor, { archive: 'a-1', error: 'share offline' }), null);
      assert.deepEqual((await rowsOf('backup.failed')).filter((r) => !r.startsWith('site')), ['ada:email', 'ada:inbox']);
    });

    it('an event is raised in the transaction of its write: rolled back with it', async () => {
      const input = { type: 'backup.failed' as const, key: 'backup.failed:x', title: 'Backup failed', entity: 'backup', entityId: 'x', link: '/dashboard/home' };
      await assert.rejects(
        inTransaction(db, async (trx) => {
          await raiseEvent(trx, system, input);
          throw new Error('the write failed');
        }),
        /the write failed/,
      );
      assert.equal(await countRows(db, 'notification_events'), 0);
      assert.equal(await countRows(db, 'notifications'), 0);
    });

    it('subscriptions override the role default per channel; null goes back to it; changes are audited', async () => {
      await setSubscriptions(db, erik.actor, { subscriptions: [{ eventType: 'failure.critical', channel: 'email', enabled: false }, { eventType: 'pm.due', channel: 'inbox', enabled: true }] });
      const settings = await getNotificationSettings(db, erik.actor);
      const sub = (t: string, c: string) => settings.subscriptions.find((s) => s.eventType === t && s.channel === c)!;
      assert.deepEqual([sub('failure.critical', 'email').enabled, sub('failure.critical', 'email').byDefault, sub('failure.critical', 'inbox').byDefault], [false, false, true]);
      await reportFailure(db, tom.actor, { toolId: tool.id, failureCode: 'HR-ZONE' });
      assert.deepEqual((await rowsOf('failure.critical')).filter((r) => r.startsWith('erik')), ['erik:inbox']);
      await setSubscriptions(db, erik.actor, { subscriptions: [{ eventType: 'failure.critical', channel: 'email', enabled: null }] });
      assert.equal((await getNotificationSettings(db, erik.actor)).subscriptions.find((s) => s.eventType === 'failure.critical' && s.channel === 'email')!.byDefault, true);
      const audits = await db('audit_events').where('action', 'notification.subscriptions').orderBy('id');
      assert.equal(audits.length, 2);
      assert.equal(audits[0].actor_id, String(erik.id));
    });

    it('people edit their own settings; admins anyone’s; others are refused', async () => {
      await rejects(updateNotificationSettings(db, tom.actor, { userId: erik.id, digest: true }), 'forbidden');
      await rejects(setSubscriptions(db, tom.actor, { userId: erik.id, subscriptions: [{ eventType: 'pm.due', channel: 'inbox', enabled: false }] }), 'forbidden');
      const changed = await updateNotificationSettings(db, ada.actor, { userId: erik.id, quietFrom: '22:00', quietUntil: '06:00', timeZone: 'Europe/Berlin' });
      assert.deepEqual([changed.quietFrom, changed.quietUntil, changed.timeZone], ['22:00', '06:00', 'Europe/Berlin']);
      const audit = await db('audit_events').where('action', 'notification.settings').orderBy('id', 'desc').first();
      assert.equal(audit.entity_id, String(erik.id));
      assert.equal(audit.actor_id, String(ada.id));
    });

    it('bad settings are refused naming the field, and nothing is written', async () => {
      const before = await countRows(db, 'audit_events');
      await rejects(setSubscriptions(db, erik.actor, { subscriptions: [{ eventType: 'pm.due', channel: 'sms', enabled: true }] }), 'validation', 'subscriptions.0.channel');
      await rejects(setSubscriptions(db, erik.actor, { subscriptions: [{ eventType: 'pm.someday', channel: 'inbox', enabled: true }] }), 'validation', 'subscriptions.0.eventType');
      await rejects(updateNotificationSettings(db, erik.actor, { email: 'erik at plant' }), 'validation', 'email');
      await rejects(updateNotificationSettings(db, erik.actor, { quietFrom: '25:00', quietUntil: '06:00' }), 'validation', 'quietFrom');
      await rejects(updateNotificationSettings(db, erik.actor, { quietFrom: '22:00' }), 'validation', 'quietUntil', 'both');
      await rejects(updateNotificationSettings(db, erik.actor, { timeZone: 'Mars/Olympus' }), 'validation', 'timeZone', 'time_zone');
      assert.equal(await countRows(db, 'audit_events'), before);
      assert.throws(() => parseChannelSettings({ mqtt: { url: 'mqtt://127.0.0.1:1883', site: 'hall/#' } }), (e: Error & { cause: { details: { field: string; rule: string }[] } }) =>
        e.cause.details.some((d) => d.field === 'mqtt.site' && d.rule === 'no_wildcards'));
      assert.throws(() => parseChannelSettings({ mqtt: { url: 'mqtt://127.0.0.1:1883', site: 'hall-1', topicPrefix: 'plant/+' } }), /mqtt\.topicPrefix/);
      assert.throws(() => parseChannelSettings({ smtp: { host: 'mail', from: 'toolroom' } }), /smtp\.from/);
      assert.throws(() => parseChannelSettings({ telegram: {} }), /unrecognized|unknown field/);
    });

    it('quiet hours hold an e-mail until they end, a digest gathers them, a critical event goes at once', () => {
      const prefs = { quietFrom: '22:00', quietUntil: '06:00', timeZone: 'Europe/Berlin', digest: false, digestAt: '07:00' };
      const night = new Date('2026-12-04T23:30:00Z'); // 00:30 in Berlin
      assert.deepEqual(emailTiming(night, prefs, false), { dueAt: new Date('2026-12-05T05:00:00Z'), digest: false });
      assert.deepEqual(emailTiming(night, prefs, true), { dueAt: night, digest: false });
      const day = new Date('2026-12-04T10:15:30Z');
      assert.deepEqual(emailTiming(day, prefs, false), { dueAt: day, digest: false });
      assert.deepEqual(emailTiming(day, { ...prefs, digest: true }, false), { dueAt: new Date('2026-12-05T06:00:00Z'), digest: true });
    });

    it('an e-mail raised in quiet hours is due when they end; a critical one at once; the inbox has both now', async () => {
      await updateNotificationSettings(db, erik.actor, { quietFrom: '22:00', quietUntil: '06:00', timeZone: 'UTC' });
      const night = new Date('2026-12-04T23:00:00Z');
      await inTransaction(db, (trx) => raiseEvent(trx, system, { type: 'shots.held', key: 'held:q', title: 'held', entity: 'shot_reading', entityId: 1, link: '/dashboard/home' }, night));
      await inTransaction(db, (trx) => raiseEvent(trx, system, { type: 'failure.critical', key: 'down:q', title: 'down', entity: 'failure_report', entityId: 1, link: '/dashboard/triage?id=1' }, night));
      const rows = await db('notifications as n').join('notification_events as e', 'e.id', 'n.event_id').where('n.user_id', erik.id).orderBy(['e.type', 'n.channel']).select('e.type', 'n.channel', 'n.due_at', 'n.status');
      assert.deepEqual(
        rows.map((r) => [r.type, r.channel, new Date(r.due_at).toISOString(), r.status]),
        [
          ['failure.critical', 'email', night.toISOString(), 'pending'],
          ['failure.critical', 'inbox', night.toISOString(), 'sent'],
          ['shots.held', 'email', '2026-12-05T06:00:00.000Z', 'pending'],
          ['shots.held', 'inbox', night.toISOString(), 'sent'],
        ],
      );
    });

    it('digest e-mails go as one message per person at the digest time', async () => {
      await updateNotificationSettings(db, erik.actor, { digest: true, digestAt: '07:00', timeZone: 'UTC' });
      await setSubscriptions(db, erik.actor, { subscriptions: [{ eventType: 'shots.held', channel: 'email', enabled: true }] });
      const at = new Date('2026-12-04T10:00:00Z');
      for (const n of [1, 2, 3]) {
        await inTransaction(db, (trx) => raiseEvent(trx, system, { type: 'shots.held', key: `held:${n}`, title: `held ${n}`, entity: 'shot_reading', entityId: n, link: '/dashboard/home' }, at));
      }
      const mail = collecting();
      assert.equal((await deliverOnce(db, { email: mail }, { now: new Date('2026-12-05T06:59:00Z') })).sent, 0, 'not before the digest time');
      assert.equal((await deliverOnce(db, { email: mail }, { now: new Date('2026-12-05T07:00:00Z') })).sent, 3);
      assert.equal(mail.got.length, 1);
      assert.deepEqual([mail.got[0].digest, mail.got[0].events.map((e) => e.title)], [true, ['held 1', 'held 2', 'held 3']]);
    });

    it('a failed send is retried after a backoff and then delivered once', async () => {
      const at = new Date();
      await inTransaction(db, (trx) => raiseEvent(trx, system, { type: 'backup.failed', key: 'b1', title: 'Backup failed', entity: 'backup', entityId: 1, link: '/dashboard/home' }, at));
      const mail = collecting();
      mail.failing = new Error('connection refused');
      const r = await deliverOnce(db, { email: mail }, { now: at, minBackoffMs: 60_000, maxBackoffMs: 60_000 });
      assert.equal(r.error?.message, 'connection refused');
      const row = await db('notifications').where({ channel: 'email' }).first();
      assert.deepEqual([row.status, row.attempts, row.last_error], ['pending', 1, 'connection refused']);
      assert.ok(new Date(row.due_at).getTime() >= at.getTime() + 48_000, 'due again after the backoff');
      mail.failing = null;
      assert.equal((await deliverOnce(db, { email: mail }, { now: new Date(at.getTime() + 30_000) })).sent, 0, 'not during the backoff');
      assert.equal((await deliverOnce(db, { email: mail }, { now: new Date(at.getTime() + 73_000) })).sent, 1);
      assert.equal((await deliverOnce(db, { email: mail }, { now: new Date(at.getTime() + 999_000) })).sent, 0);
      assert.equal(mail.got.length, 1);
    });

    it('two runtimes on one database send each notification once', async () => {
      const at = new Date();
      await inTransaction(db, async (trx) => {
        for (let i = 0; i < 60; i++) await raiseEvent(trx, system, { type: 'backup.failed', key: `b${i}`, title: `Backup ${i} failed`, entity: 'backup', entityId: i, link: '/dashboard/home' }, at);
      });
      const second = backend.name === 'postgres' ? openDatabase({ url: process.env.TEST_DATABASE_URL! }) : db;
      try {
        // Runtime A holds its first claim until B has sent something: B must work around A's claimed rows.
        let open!: () => void;
        const gate = new Promise<void>((resolve) => (open = resolve));
        const a = collecting();
        const b = collecting();
        let claimedA!: () => void;
        const aClaimed = new Promise<void>((resolve) => (claimedA = resolve));
        const heldA = { send: async (d: Delivery) => (claimedA(), await gate, a.send(d)) };
        const releasingB = { send: async (d: Delivery) => (open(), b.send(d)) };
        const run = async (d: Db, t: Transport) => {
          let n = 0;
          for (;;) {
            const r = await deliverOnce(d, { mqtt: t }, { now: at, batchSize: 7 });
            if (!r.sent) return n;
            n += r.sent;
          }
        };
        const [na, nb] = await Promise.all([run(db, heldA), aClaimed.then(() => run(second, releasingB))]);
        assert.equal(na + nb, 60);
        const ids = [...a.got, ...b.got].map((d) => d.events[0].id);
        assert.equal(new Set(ids).size, 60, 'no event twice');
        assert.ok(na > 0 && nb > 0, `both runtimes sent (${na}, ${nb})`);
      } finally {
        if (second !== db) await second.destroy();
      }
    });

    it('the inbox is the user’s own: list, unread count, acknowledge; another’s is not found', async () => {
      await reportFailure(db, tom.actor, { toolId: tool.id, failureCode: 'HR-ZONE' });
      const inbox = await listInbox(db, erik.actor);
      assert.equal(inbox.items.length, 1);
      assert.equal(inbox.items[0].link.startsWith('/dashboard/triage?id='), true);
      assert.deepEqual(await unreadCount(db, erik.actor), { unread: 1 });
      assert.deepEqual(await unreadCount(db, tom.actor), { unread: 0 });
      assert.equal((await listInbox(db, ada.actor)).items.length, 0);
      await rejects(acknowledge(db, ada.actor, { id: inbox.items[0].id }), 'not_found');
      const read = await acknowledge(db, erik.actor, { id: inbox.items[0].id });
      assert.ok(read.readAt);
      assert.deepEqual(await unreadCount(db, erik.actor), { unread: 0 });
      assert.equal((await listInbox(db, erik.actor, { unreadOnly: true })).items.length, 0);
      await rejects(listInbox(db, system), 'validation', 'user', 'user_required');
    });

    it('an unacknowledged critical event escalates after its time, not before; acknowledged, it does not', async () => {
      const t0 = new Date();
      await reportFailure(db, tom.actor, { toolId: tool.id, failureCode: 'HR-ZONE', reportedAt: t0 });
      const escalateAfterMs = 30 * MIN;
      const adaRows = () => db('notifications').where({ user_id: ada.id }).orderBy('channel').select('channel', 'level');
      const created = new Date((await db('notification_events').first('created_at')).created_at).getTime();
      assert.equal((await sweep(db, system, { now: new Date(created + escalateAfterMs - 1000), escalateAfterMs })).escalated, 0);
      assert.deepEqual(await adaRows(), [], 'not before its time');
      assert.equal((await sweep(db, system, { now: new Date(created + escalateAfterMs), escalateAfterMs })).escalated, 1);
      // Engineers had it already (their default), so it went on to the admins.
      assert.deepEqual(await adaRows(), [{ channel: 'email', level: 2 }, { channel: 'inbox', level: 2 }]);
      assert.equal((await sweep(db, system, { now: new Date(created + 10 * escalateAfterMs), escalateAfterMs })).escalated, 0, 'once');

      await reportFailure(db, tom.actor, { toolId: tool.id, failureCode: 'HR-ZONE' });
      const [item] = (await listInbox(db, erik.actor, { unreadOnly: true })).items;
      await acknowledge(db, erik.actor, { id: item.id });
      assert.equal((await sweep(db, system, { now: new Date(Date.now() + 10 * escalateAfterMs), escalateAfterMs })).escalated, 0);
    });

    it('counting shots raises a tool near its end of life once, and a held reading for the engineers', async () => {
      await db('tools').where('id', tool.id).update({ expected_lifetime_shots: 1000 });
      await createPress(db, engineer, { code: 'P-01', name: 'Engel 200' });
      const at = (m: number) => new Date(Date.now() - 60 * MIN + m * MIN).toISOString();
      await mountTool(db, tina.actor, { assetNumber: 'M-100', pressCode: 'P-01', at: at(-1) });
      const count = (counter: number, m: number) => recordReadings(db, system, [{ press: 'P-01', counter, at: at(m) }], { counter: { width: 'uint32', jumpLimit: 500 } });
      for (const [i, c] of [0, 400, 850, 899, 900, 950, 1200].entries()) await count(c, i);
      const events = await db('notification_events').where('type', 'tool.end_of_life');
      assert.equal(events.length, 1, 'once, when it crossed 90 %');
      assert.deepEqual([events[0].link, events[0].data.lifetimeShots], ['/dashboard/tool?asset=M-100', 900]);
      assert.deepEqual(await rowsOf('tool.end_of_life'), ['erik:email', 'erik:inbox', 'site:flow', 'site:mqtt']);
      await count(9000, 10); // a jump beyond the limit: held for review
      assert.deepEqual(await rowsOf('shots.held'), ['erik:email', 'erik:inbox', 'site:flow', 'site:mqtt']);
    });

    it('actions due tomorrow and overdue are raised once for their assignee', async () => {
      const now = new Date('2026-12-04T12:00:00Z');
      const a1 = await createAction(db, engineer, { title: 'Polish', toolId: tool.id, assigneeId: tina.id, dueDate: '2099-12-05' });
      await db('actions').where('id', a1.id).update({ due_date: '2026-12-05' });
      const a2 = await createAction(db, engineer, { title: 'Vent', toolId: tool.id, assigneeId: tom.id, dueDate: '2099-12-01' });
      await db('actions').where('id', a2.id).update({ due_date: '2026-12-01' });
      const first = await sweep(db, system, { now, escalateAfterMs: 30 * MIN });
      assert.deepEqual([first.dueTomorrow, first.overdue], [1, 1]);
      const again = await sweep(db, system, { now, escalateAfterMs: 30 * MIN });
      assert.deepEqual([again.dueTomorrow, again.overdue], [0, 0]);
      assert.deepEqual((await rowsOf('action.due_tomorrow')).filter((r) => !r.startsWith('site')), ['tina:email', 'tina:inbox']);
      assert.deepEqual((await rowsOf('action.overdue')).filter((r) => !r.startsWith('site')), ['tom:email', 'tom:inbox']);
    });
  });
}
