import { z } from 'zod';
import { id, pagination } from '../validate';
import { EVENT_TYPE_NAMES, PERSONAL_CHANNELS } from './events';
import type { EventFields } from './event-row';

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

export interface NotificationSettings {
  userId: number;
  email: string | null;
  quietFrom: string | null;
  quietUntil: string | null;
  timeZone: string;
  digest: boolean;
  digestAt: string;
  /** Per event type and channel: on or off, and whether that is the role's default. */
  subscriptions: { eventType: string; channel: string; enabled: boolean; byDefault: boolean }[];
}

export interface InboxItem extends EventFields {
  id: number;
  eventId: number;
  level: number;
  createdAt: string;
  readAt: string | null;
}
