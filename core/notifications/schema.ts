import { z } from 'zod';
import { id, instant, pagination, recordId } from '../validate';
import { EVENT_TYPE_NAMES, PERSONAL_CHANNELS, SEVERITIES } from './events';
import { eventFieldsRecord } from './event-row';

/** 'HH:MM', 24-hour. */
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day as HH:MM (24-hour)');

const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone, e.g. Europe/Berlin', params: { rule: 'time_zone' } },
);

/** A person's delivery settings; `userId` only for admins setting someone else's. */
export const updateSettingsInput = z
  .object({
    userId: id.optional(),
    email: z.email({ error: 'must be an e-mail address (name@example.com)' }).max(254).nullable().optional(),
    quietFrom: clockTime.nullable().optional(),
    quietUntil: clockTime.nullable().optional(),
    timeZone: timeZone.optional(),
    digest: z.boolean().optional(),
    digestAt: clockTime.optional(),
  })
  .strict();

export const getSettingsInput = z.object({ userId: id.optional() }).strict();

export const subscriptionInput = z
  .object({
    eventType: z.enum(EVENT_TYPE_NAMES),
    channel: z.enum(PERSONAL_CHANNELS),
    /** null goes back to the role's default. */
    enabled: z.boolean().nullable(),
  })
  .strict();

export const setSubscriptionsInput = z
  .object({
    userId: id.optional(),
    subscriptions: z.array(subscriptionInput).min(1).max(EVENT_TYPE_NAMES.length * PERSONAL_CHANNELS.length),
  })
  .strict();

export const listInboxInput = z.object({ unreadOnly: z.boolean().default(false), ...pagination }).strict();
export const acknowledgeInput = z.object({ id }).strict();

export const raiseBackupFailedInput = z.object({ archive: z.string().trim().min(1).max(500), error: z.string().trim().min(1).max(2000) }).strict();

/** One event type on one channel for a person: on or off, and whether that is the role's default. */
export const subscriptionRecord = z.object({
  eventType: z.enum(EVENT_TYPE_NAMES),
  channel: z.enum(PERSONAL_CHANNELS),
  enabled: z.boolean(),
  byDefault: z.boolean(),
  /** What the person's role gets unless they chose (the account page shows it beside the choice). */
  roleDefault: z.boolean(),
}).meta({ id: 'NotificationSubscription' });

export const notificationSettingsRecord = z.object({
  userId: recordId,
  email: z.string().nullable(),
  quietFrom: clockTime.nullable(),
  quietUntil: clockTime.nullable(),
  timeZone: z.string(),
  digest: z.boolean(),
  digestAt: clockTime,
  /** Every event type on every personal channel. */
  subscriptions: z.array(subscriptionRecord),
}).meta({ id: 'NotificationSettings' });
export type NotificationSettings = z.infer<typeof notificationSettingsRecord>;

/** A notification in a person's inbox, with its event. */
export const inboxItemRecord = eventFieldsRecord.extend({
  id: recordId,
  eventId: recordId,
  /** Escalation level it was sent at (0 first). */
  level: z.number().int().min(0),
  createdAt: instant,
  readAt: instant.nullable(),
}).meta({ id: 'InboxNotification' });
export type InboxItem = z.infer<typeof inboxItemRecord>;

export const unreadCountRecord = z.object({ unread: z.number().int().min(0) }).meta({ id: 'UnreadNotificationCount' });
export type UnreadCount = z.infer<typeof unreadCountRecord>;

/** An event just raised; none (null) when its key was raised before. */
export const raisedEventRecord = z.object({ id: recordId, type: z.string(), severity: z.enum(SEVERITIES) }).meta({ id: 'RaisedEvent' });
export type RaisedEvent = z.infer<typeof raisedEventRecord>;
