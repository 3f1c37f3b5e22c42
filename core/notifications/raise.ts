import type { Knex } from 'knex';
import type { Actor, UserRole } from '../auth/actor';
import { EVENT_TYPES, SITE_CHANNELS, type NotificationEventInput, type PersonalChannel } from './events';
import type { RaisedEvent } from './schema';
import { emailTiming } from './timing';

/**
 * Raise an event inside the transaction of the write that causes it (a PM transition, an
 * assignment, a failure report): the event and its notifications commit or vanish with that write.
 * An event whose key was raised before inserts nothing (ON CONFLICT on the unique key) and returns
 * null: one event, one set of notifications, however many runtimes or sweeps find it.
 */

type Queryable = Knex | Knex.Transaction;

interface Recipient {
  id: number;
  role: UserRole;
  email: string | null;
  quiet_from: string | null;
  quiet_until: string | null;
  time_zone: string | null;
  digest: boolean | null;
  digest_at: string | null;
  inbox: boolean | null;
  mail: boolean | null;
  works_on: boolean;
}

/** Active users who may get an event, with their settings and explicit subscriptions to its type. */
function recipients(db: Queryable, type: string, toolId: number | null, only: { userId?: number; role?: UserRole }): Promise<Recipient[]> {
  const q = db('users as u')
    .leftJoin('notification_settings as ns', 'ns.user_id', 'u.id')
    .leftJoin('notification_subscriptions as si', (j) => j.on('si.user_id', 'u.id').andOnVal('si.event_type', type).andOnVal('si.channel', 'inbox'))
    .leftJoin('notification_subscriptions as se', (j) => j.on('se.user_id', 'u.id').andOnVal('se.event_type', type).andOnVal('se.channel', 'email'))
    .where('u.active', true)
    .select('u.id', 'u.role', 'ns.email', 'ns.quiet_from', 'ns.quiet_until', 'ns.time_zone', 'ns.digest', 'ns.digest_at', 'si.enabled as inbox', 'se.enabled as mail')
    .select(
      toolId === null
        ? db.raw('false AS works_on')
        : db.raw(`EXISTS (SELECT 1 FROM actions a WHERE a.assignee_id = u.id AND a.tool_id = ? AND a.status IN ('open', 'in_progress')) AS works_on`, [toolId]),
    );
  if (only.userId !== undefined) q.where('u.id', only.userId);
  if (only.role !== undefined) q.where('u.role', only.role);
  return q as unknown as Promise<Recipient[]>;
}

/** Whether a person gets an event on a channel: their own choice, else their role's default. */
function wants(r: Recipient, channel: PersonalChannel, type: keyof typeof EVENT_TYPES): boolean {
  const chosen = channel === 'inbox' ? r.inbox : r.mail;
  if (chosen !== null) return chosen;
  const audience = EVENT_TYPES[type].defaults[r.role];
  return audience === true || (audience === 'own_tools' && r.works_on);
}

/** The rows for these people: inbox delivered at once, e-mail when their quiet hours and digest allow. */
function rowsFor(eventId: number, people: Recipient[], channels: (r: Recipient) => PersonalChannel[], critical: boolean, level: number, now: Date) {
  const rows: Record<string, unknown>[] = [];
  for (const r of people) {
    for (const channel of channels(r)) {
      if (channel === 'inbox') {
        rows.push({ event_id: eventId, user_id: r.id, channel, level, status: 'sent', due_at: now, sent_at: now, created_at: now });
      } else if (r.email) {
        const prefs = { quietFrom: r.quiet_from, quietUntil: r.quiet_until, timeZone: r.time_zone ?? 'UTC', digest: r.digest ?? false, digestAt: r.digest_at ?? '07:00' };
        const { dueAt, digest } = emailTiming(now, prefs, critical);
        rows.push({ event_id: eventId, user_id: r.id, channel, level, digest, status: 'pending', due_at: dueAt, created_at: now });
      }
    }
  }
  return rows;
}

/** Insert notification rows; a row someone already has (same event, person, channel) is skipped. Returns how many were new. */
export async function insertNotifications(trx: Knex.Transaction, rows: Record<string, unknown>[]): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < rows.length; i += 1000) {
    const batch = rows.slice(i, i + 1000);
    const out = await trx('notifications').insert(batch).onConflict().ignore().returning('id');
    inserted += out.length;
  }
  return inserted;
}

/** Raise an event (see the file's comment); `now` is the clock of the write. */
export async function raiseEvent(trx: Knex.Transaction, actor: Actor, input: NotificationEventInput, now = new Date()): Promise<RaisedEvent | null> {
  const type = EVENT_TYPES[input.type];
  const severity = input.severity ?? type.severity;
  const rows = (await trx('notification_events')
      .insert({
        type: input.type,
        key: input.key,
        severity,
        title: input.title,
        entity: input.entity,
        entity_id: String(input.entityId),
        link: input.link,
        tool_id: input.toolId ?? null,
        user_id: input.userId ?? null,
        data: input.data === undefined ? null : JSON.stringify(input.data),
        raised_by: actor.id,
        created_at: now,
      })
      .onConflict('key')
      .ignore()
      .returning('id')) as { id: number | string }[];
  if (!rows.length) return null;
  const id = Number(rows[0].id);
  const only = type.personal ? { userId: input.userId ?? -1 } : {};
  const people = await recipients(trx, input.type, input.toolId ?? null, only);
  const personal = rowsFor(id, people, (r) => (['inbox', 'email'] as const).filter((c) => wants(r, c, input.type)), severity === 'critical', 0, now);
  const site = SITE_CHANNELS.map((channel) => ({ event_id: id, user_id: null, channel, status: 'pending', due_at: now, created_at: now }));
  await insertNotifications(trx, [...personal, ...site]);
  return { id, type: input.type, severity };
}

/**
 * Escalation: everyone of a role gets the event in their inbox and by e-mail, whatever they
 * subscribed to (an unacknowledged tool-down is not optional). Returns how many rows were new.
 */
export async function notifyRole(trx: Knex.Transaction, event: { id: number; type: keyof typeof EVENT_TYPES }, role: UserRole, level: number, now: Date): Promise<number> {
  const people = await recipients(trx, event.type, null, { role });
  return insertNotifications(trx, rowsFor(event.id, people, () => ['inbox', 'email'], true, level, now));
}
