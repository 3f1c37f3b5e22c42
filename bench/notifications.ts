/**
 * Notifications: 10,000 events to 200 users over three channels (inbox, e-mail, MQTT), raised as the
 * domain raises them (raiseEvent, 100 per transaction), then drained from the outbox by the sender
 * (deliverOnce, as the notifier runs it) against a real SMTP server (smtp-server, in this process)
 * and the test MQTT broker (TEST_MQTT_URL, or 127.0.0.1:1883). Prints time to raise, time to drain,
 * messages per second and this process's peak memory while draining; the baseline is the same SMTP and
 * MQTT clients sending the same number of messages straight, without the database.
 * Each event is personal (an action assigned), round robin over the users: one inbox row, one e-mail
 * and one MQTT message each — 30,000 deliveries. PostgreSQL from BENCH_DATABASE_URL, and PGlite.
 * BENCH_NOTIFY_EVENTS, BENCH_NOTIFY_USERS change the size.
 */
import { performance } from 'node:perf_hooks';
import { openDatabase, migrateLatest, type Db } from '../core/db/connect';
import { systemActor } from '../core/auth/actor';
import { createUser } from '../core/users/service';
import { raiseEvent } from '../core/notifications/raise';
import { deliverOnce, type Delivery, type Transport } from '../core/notifications/delivery';
import { emailTransport } from '../core/notifications/email';
import { mqttTransport } from '../core/notifications/mqtt';
import { startSmtp } from '../test/support/smtp';

const EVENTS = Number(process.env.BENCH_NOTIFY_EVENTS ?? 10_000);
const USERS = Number(process.env.BENCH_NOTIFY_USERS ?? 200);
const MQTT_URL = process.env.TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const admin = systemActor('bench');
/** Messages in flight at once, drain and baseline alike. */
const LANES = 32;
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;

async function setUp(db: Db): Promise<number[]> {
  const { rows } = await db.raw<{ rows: { tablename: string }[] }>("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'knex_%'");
  await db.raw(`TRUNCATE ${rows.map((r) => `"${r.tablename}"`).join(', ')} RESTART IDENTITY CASCADE`);
  const ids: number[] = [];
  for (let i = 0; i < USERS; i++) {
    const u = await createUser(db, admin, { username: `user${i}`, displayName: `User ${i}`, role: 'technician' });
    ids.push(u.id);
  }
  await db('notification_settings').insert(ids.map((id, i) => ({ user_id: id, email: `user${i}@plant.example` })));
  return ids;
}

async function raise(db: Db, users: number[]): Promise<number> {
  const t0 = performance.now();
  for (let from = 0; from < EVENTS; from += 100) {
    await db.transaction(async (trx) => {
      for (let i = from; i < Math.min(EVENTS, from + 100); i++) {
        await raiseEvent(trx, admin, {
          type: 'action.assigned', key: `bench:${i}`, title: `Action ${i} on tool M-${1000 + (i % 50)} is assigned to you`,
          entity: 'action', entityId: i, link: '/dashboard/actions', userId: users[i % users.length], data: { n: i },
        });
      }
    });
  }
  // The bench has no toolroom-event node: its site rows are not part of the drain.
  await db('notifications').where('channel', 'flow').delete();
  return performance.now() - t0;
}

/** Drain everything due, sampling memory; returns ms, deliveries and peak RSS / heap. */
async function drain(db: Db, transports: Record<string, Transport>) {
  let rss = 0;
  let heap = 0;
  const sample = () => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  };
  const timer = setInterval(sample, 50);
  const t0 = performance.now();
  let sent = 0;
  try {
    for (;;) {
      const r = await deliverOnce(db, transports, { now: new Date(), batchSize: 500, concurrency: LANES });
      if (r.error) throw r.error;
      if (!r.sent) break;
      sent += r.sent;
    }
  } finally {
    clearInterval(timer);
  }
  sample();
  return { ms: performance.now() - t0, sent, rss, heap };
}

/** The same clients without the database, the same messages in the same lanes: the baseline. */
async function straight(transports: Record<string, Transport>, n: number): Promise<number> {
  const one = (i: number): Delivery => ({
    ids: [i], channel: i % 2 ? 'mqtt' : 'email', digest: false, level: 0,
    to: i % 2 ? null : { id: 1, username: 'u', displayName: 'U', email: 'u@plant.example', timeZone: 'UTC' },
    events: [{ id: i, type: 'action.assigned', severity: 'info', title: `Action ${i}`, entity: 'action', entityId: String(i), link: '/dashboard/actions', data: null, createdAt: new Date().toISOString() }],
  });
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: LANES }, async () => {
    while (next < 2 * n) {
      const d = one(next++);
      await transports[d.channel].send(d);
    }
  }));
  return performance.now() - t0;
}

async function main() {
  const smtp = await startSmtp();
  const site = `bench-${process.pid}`;
  const backends: [string, () => Db][] = [['pglite', () => openDatabase({ dataDir: ':memory:' })]];
  if (process.env.BENCH_DATABASE_URL) backends.unshift(['postgres', () => openDatabase({ url: process.env.BENCH_DATABASE_URL! })]);
  console.log(`notifications: ${EVENTS} events to ${USERS} users over inbox, e-mail (smtp-server in process) and MQTT (${MQTT_URL}); node ${process.version}`);
  for (const [name, open] of backends) {
    const db = open();
    await migrateLatest(db);
    const transports = { email: emailTransport({ host: '127.0.0.1', port: smtp.port, tls: 'none', from: 'toolroom@plant.example' }, {}, { maxConnections: 8 }), mqtt: mqttTransport({ url: MQTT_URL, site, topicPrefix: 'toolroom' }) };
    try {
      const users = await setUp(db);
      await new Promise((r) => setTimeout(r, 500)); // MQTT's connection
      const raised = await raise(db, users);
      const rows = Number(((await db('notifications').count('* as n').first()) as { n: string }).n);
      smtp.received.length = 0;
      const d = await drain(db, transports);
      const mails = smtp.received.length;
      smtp.received.length = 0;
      const raw = await straight(transports, EVENTS);
      console.log(`  [${name}] raise: ${EVENTS} events, ${rows} notification rows in ${(raised / 1000).toFixed(1)} s (${Math.round(EVENTS / (raised / 1000))} events/s)`);
      console.log(`  [${name}] drain: ${d.sent} deliveries (${mails} e-mails, ${d.sent - mails} MQTT) in ${(d.ms / 1000).toFixed(1)} s = ${Math.round(d.sent / (d.ms / 1000))}/s; peak RSS ${mb(d.rss)}, heap ${mb(d.heap)}`);
      console.log(`  [${name}] baseline, same clients without the database: ${EVENTS} e-mails + ${EVENTS} MQTT in ${(raw / 1000).toFixed(1)} s = ${Math.round((2 * EVENTS) / (raw / 1000))}/s; drain reaches ${Math.round((100 * (d.sent / d.ms)) / ((2 * EVENTS) / raw))} % of it`);
    } finally {
      await Promise.all(Object.values(transports).map((t) => t.close?.()));
      await db.destroy();
    }
  }
  await smtp.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
