import type { Knex } from 'knex';
import { backoffMs } from '../outbox/loop';
import { iso } from '../db/transaction';
import type { Channel } from './events';
import { eventFields, type EventColumns, type EventFields } from './event-row';

/**
 * The delivery outbox: notification rows waiting on a channel (e-mail, MQTT, a flow) are claimed,
 * sent and marked. A claim is a lease (claimed_until) taken with FOR UPDATE SKIP LOCKED: two runtimes
 * on one database claim disjoint rows and each notification goes once. The lease, not an open
 * transaction, holds the row while it travels: on PGlite one connection serves the whole process,
 * and a transaction held across an SMTP round trip would stall every other write. A runtime that
 * dies mid-send leaves its lease to expire and the row is sent again then (at least once).
 */

export interface DeliveryEvent extends EventFields {
  id: number;
  createdAt: string;
}

/** One message to send: a notification, or a person's digest of several. */
export interface Delivery {
  ids: number[];
  channel: Channel;
  /** The person, for e-mail (site channels: null). */
  to: { id: number; username: string; displayName: string; email: string | null; timeZone: string } | null;
  digest: boolean;
  /** Escalation level of the notification (0 = as raised). */
  level: number;
  events: DeliveryEvent[];
}

/** A channel's sender: resolves when the message was accepted, throws when not. */
export interface Transport {
  send(delivery: Delivery): Promise<void>;
  close?(): Promise<void>;
}

/** A refusal that retrying will not cure (a mailbox that does not exist): parked as failed at once. */
export class PermanentDeliveryError extends Error {}

export interface DeliverOptions {
  now: Date;
  /** Rows claimed per pass. */
  batchSize?: number;
  /** Messages in flight at once. */
  concurrency?: number;
  /** How long a claim holds before another runtime may take the row. */
  leaseMs?: number;
  /** Tries before a row is parked as failed. */
  maxAttempts?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface DeliverResult {
  sent: number;
  failed: number;
  /** The first error of the pass, if any (the rows stay for a retry). */
  error: Error | null;
}

interface ClaimedRow extends EventColumns {
  id: number | string;
  channel: Channel;
  user_id: number | null;
  digest: boolean;
  level: number;
  attempts: number;
  event_id: number | string;
  event_at: Date | string;
  username: string | null;
  display_name: string | null;
  email: string | null;
  time_zone: string | null;
}

/** Claim due rows of some channels for a lease; returns them with their events and people. */
async function claim(db: Knex, channels: Channel[], opts: Required<Pick<DeliverOptions, 'now' | 'batchSize' | 'leaseMs'>>): Promise<ClaimedRow[]> {
  const until = new Date(opts.now.getTime() + opts.leaseMs);
  const { rows } = (await db.raw(
    `WITH c AS (
       SELECT id FROM notifications
       WHERE status = 'pending' AND channel = ANY(?::text[]) AND due_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)
       ORDER BY due_at, id LIMIT ? FOR UPDATE SKIP LOCKED),
     u AS (UPDATE notifications n SET claimed_until = ? FROM c WHERE n.id = c.id RETURNING n.*)
     SELECT u.id, u.channel, u.user_id, u.digest, u.level, u.attempts, e.id AS event_id, e.type, e.severity, e.title, e.entity, e.entity_id,
            e.link, e.data, e.created_at AS event_at, p.username, p.display_name, s.email, s.time_zone
     FROM u JOIN notification_events e ON e.id = u.event_id
     LEFT JOIN users p ON p.id = u.user_id LEFT JOIN notification_settings s ON s.user_id = u.user_id
     ORDER BY u.id`,
    [channels, opts.now, opts.now, opts.batchSize, until],
  )) as { rows: ClaimedRow[] };
  return rows;
}

/** Group claimed rows into messages: a person's digest rows on one channel become one message. */
export function deliveriesOf(rows: ClaimedRow[]): { delivery: Delivery; attempts: number }[] {
  const out: { delivery: Delivery; attempts: number }[] = [];
  const digests = new Map<string, { delivery: Delivery; attempts: number }>();
  for (const r of rows) {
    const event: DeliveryEvent = { id: Number(r.event_id), ...eventFields(r), createdAt: iso(r.event_at)! };
    const key = `${r.channel}:${r.user_id}`;
    const existing = r.digest ? digests.get(key) : undefined;
    if (existing) {
      existing.delivery.ids.push(Number(r.id));
      existing.delivery.events.push(event);
      existing.attempts = Math.max(existing.attempts, r.attempts);
      continue;
    }
    const to = r.user_id === null ? null : { id: r.user_id, username: r.username ?? '', displayName: r.display_name ?? '', email: r.email, timeZone: r.time_zone ?? 'UTC' };
    const item = { delivery: { ids: [Number(r.id)], channel: r.channel, to, digest: r.digest, level: r.level, events: [event] }, attempts: r.attempts };
    if (r.digest) digests.set(key, item);
    out.push(item);
  }
  return out;
}

/** Run `work` over items, at most `limit` at once. */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(lanes);
}

/**
 * One pass: claim what is due on the given channels, send it, and mark each row sent or, on failure,
 * due again after a backoff that doubles with its attempts (parked as failed after maxAttempts, or at
 * once on a permanent refusal). Returns when the claimed rows are settled.
 */
export async function deliverOnce(db: Knex, transports: Partial<Record<Channel, Transport>>, options: DeliverOptions): Promise<DeliverResult> {
  const channels = Object.keys(transports) as Channel[];
  const result: DeliverResult = { sent: 0, failed: 0, error: null };
  if (!channels.length) return result;
  const opts = { batchSize: 500, concurrency: 8, leaseMs: 5 * 60_000, maxAttempts: 25, minBackoffMs: 5_000, maxBackoffMs: 30 * 60_000, ...options };
  const rows = await claim(db, channels, opts);
  const sent: number[] = [];
  const failures: { ids: number[]; attempts: number; error: string; permanent: boolean }[] = [];
  await inParallel(deliveriesOf(rows), opts.concurrency, async ({ delivery, attempts }) => {
    try {
      await transports[delivery.channel]!.send(delivery);
      sent.push(...delivery.ids);
    } catch (err) {
      result.error ??= err as Error;
      failures.push({ ids: delivery.ids, attempts: attempts + 1, error: (err as Error).message, permanent: err instanceof PermanentDeliveryError });
    }
  });
  if (sent.length) {
    await db('notifications').whereIn('id', sent).update({ status: 'sent', sent_at: opts.now, claimed_until: null });
    result.sent = sent.length;
  }
  for (const f of failures) {
    const parked = f.permanent || f.attempts >= opts.maxAttempts;
    await db('notifications')
      .whereIn('id', f.ids)
      .update({
        attempts: f.attempts,
        last_error: f.error.slice(0, 1000),
        claimed_until: null,
        status: parked ? 'failed' : 'pending',
        due_at: new Date(opts.now.getTime() + backoffMs(f.attempts, opts.minBackoffMs, opts.maxBackoffMs)),
      });
    if (parked) result.failed += f.ids.length;
  }
  return result;
}

/** Days an unsent row of a site channel nobody sends (no MQTT configured, no toolroom-event node) is kept. */
export const SITE_ROWS_KEPT_DAYS = 7;

/** Delete what nobody will send or read again: site-channel rows older than SITE_ROWS_KEPT_DAYS, sent ones included. */
export async function purgeSiteRows(db: Knex, now: Date): Promise<number> {
  return db('notifications')
    .whereIn('channel', ['mqtt', 'flow'])
    .where('created_at', '<', new Date(now.getTime() - SITE_ROWS_KEPT_DAYS * 86_400_000))
    .delete();
}
