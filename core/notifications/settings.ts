import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { recordAudit } from '../audit/record';
import { inTransaction } from '../db/transaction';
import type { NotificationSettingsTable, NotificationSubscriptionTable } from '../db/tables';
import { notFound, validationError } from '../errors';
import { parse } from '../validate';
import { EVENT_TYPES, EVENT_TYPE_NAMES, PERSONAL_CHANNELS } from './events';
import { getSettingsInput, setSubscriptionsInput, updateSettingsInput, type NotificationSettings } from './schema';

/**
 * A person's notification settings: where e-mail goes, quiet hours, digest, and which events they
 * get on which channel. Each person edits their own (the account page); admins anyone's.
 */

type Queryable = Knex | Knex.Transaction;

type SettingsRow = Pick<NotificationSettingsTable, 'email' | 'quiet_from' | 'quiet_until' | 'time_zone' | 'digest' | 'digest_at'>;

/** Whose settings: the caller's own unless an admin (or a flow) names someone. */
function targetOf(actor: Actor, userId: number | undefined): number {
  const target = userId ?? (/^\d+$/.test(actor.id) ? Number(actor.id) : undefined);
  if (target === undefined) throw validationError([{ field: 'userId', rule: 'required', message: 'name the user whose settings these are' }]);
  authorize(actor, 'notification.settings', { ownerId: String(target) });
  return target;
}

async function read(db: Queryable, userId: number): Promise<NotificationSettings> {
  const user: { role: keyof (typeof EVENT_TYPES)['pm.due']['defaults'] } | undefined = await db('users').where('id', userId).first('role');
  if (!user) throw notFound('user', userId, 'userId');
  const row: SettingsRow | undefined = await db('notification_settings').where('user_id', userId).first();
  const chosen = (await db('notification_subscriptions').where('user_id', userId).select('event_type', 'channel', 'enabled')) as Pick<NotificationSubscriptionTable, 'event_type' | 'channel' | 'enabled'>[];
  const subscriptions = EVENT_TYPE_NAMES.flatMap((eventType) =>
    PERSONAL_CHANNELS.map((channel) => {
      const own = chosen.find((c) => c.event_type === eventType && c.channel === channel);
      // 'own_tools' counts as on: the person gets the events of the tools they work on.
      const roleDefault = EVENT_TYPES[eventType].defaults[user.role] !== false;
      return own ? { eventType, channel, enabled: own.enabled, byDefault: false, roleDefault } : { eventType, channel, enabled: roleDefault, byDefault: true, roleDefault };
    }),
  );
  return {
    userId,
    email: row?.email ?? null,
    quietFrom: row?.quiet_from ?? null,
    quietUntil: row?.quiet_until ?? null,
    timeZone: row?.time_zone ?? 'UTC',
    digest: row?.digest ?? false,
    digestAt: row?.digest_at ?? '07:00',
    subscriptions,
  };
}

export async function getNotificationSettings(db: Knex, actor: Actor, input?: unknown): Promise<NotificationSettings> {
  const v = parse(getSettingsInput, input);
  return read(db, targetOf(actor, v.userId));
}

/** Change delivery settings (fields left out stay); audited with before and after. */
export async function updateNotificationSettings(db: Knex, actor: Actor, input: unknown): Promise<NotificationSettings> {
  const v = parse(updateSettingsInput, input);
  const userId = targetOf(actor, v.userId);
  return inTransaction(db, async (trx) => {
    const before = await read(trx, userId);
    const next = {
      email: v.email === undefined ? before.email : v.email,
      quiet_from: v.quietFrom === undefined ? before.quietFrom : v.quietFrom,
      quiet_until: v.quietUntil === undefined ? before.quietUntil : v.quietUntil,
      time_zone: v.timeZone ?? before.timeZone,
      digest: v.digest ?? before.digest,
      digest_at: v.digestAt ?? before.digestAt,
    };
    if ((next.quiet_from === null) !== (next.quiet_until === null)) {
      const field = next.quiet_from === null ? 'quietFrom' : 'quietUntil';
      throw validationError([{ field, rule: 'both', message: 'quiet hours need both quietFrom and quietUntil' }]);
    }
    await trx('notification_settings')
      .insert({ user_id: userId, ...next, updated_at: trx.fn.now() })
      .onConflict('user_id')
      .merge({ ...next, updated_at: trx.fn.now(), version: trx.raw('notification_settings.version + 1') });
    const after = await read(trx, userId);
    const withoutSubscriptions = (s: NotificationSettings) => ({ ...s, subscriptions: undefined });
    await recordAudit(trx, actor, { action: 'notification.settings', entity: 'user', entityId: userId, before: withoutSubscriptions(before), after: withoutSubscriptions(after) });
    return after;
  });
}

/** Turn events on or off per channel (enabled null = back to the role's default); audited. */
export async function setSubscriptions(db: Knex, actor: Actor, input: unknown): Promise<NotificationSettings> {
  const v = parse(setSubscriptionsInput, input);
  const userId = targetOf(actor, v.userId);
  return inTransaction(db, async (trx) => {
    const before = await read(trx, userId);
    for (const s of v.subscriptions) {
      const where = { user_id: userId, event_type: s.eventType, channel: s.channel };
      if (s.enabled === null) await trx('notification_subscriptions').where(where).delete();
      else await trx('notification_subscriptions').insert({ ...where, enabled: s.enabled }).onConflict(['user_id', 'event_type', 'channel']).merge({ enabled: s.enabled });
    }
    const after = await read(trx, userId);
    await recordAudit(trx, actor, { action: 'notification.subscriptions', entity: 'user', entityId: userId, before: before.subscriptions, after: after.subscriptions });
    return after;
  });
}
