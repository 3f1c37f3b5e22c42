import { z } from 'zod';
import { parse } from '../validate';
import type { DeliveryEvent } from './delivery';

/**
 * The site's channel settings (the app's environment, or a toolroom-event node's), validated
 * naming the field: a bad setting is refused at start, not discovered at the first failure.
 * Passwords come from secret files or Node-RED credentials, never from the database.
 */

/** A topic level: MQTT's wildcards (+ #) and separators have no place in a name we publish under. */
const topicLevel = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .refine((s) => !/[+#]/.test(s), { message: 'must not contain the MQTT wildcards + or #', params: { rule: 'no_wildcards' } })
  .refine((s) => !s.includes('\u0000'), { message: 'must not contain NUL', params: { rule: 'no_nul' } });

export const smtpSettings = z
  .object({
    host: z.string().trim().min(1).max(255),
    port: z.number().int().min(1).max(65535).default(587),
    /** implicit: TLS from the start (465); starttls: upgrade, required; none: plain (a relay on loopback). */
    tls: z.enum(['implicit', 'starttls', 'none']).default('starttls'),
    user: z.string().max(255).optional(),
    password: z.string().max(1000).optional(),
    from: z.email({ error: 'must be an e-mail address (toolroom@example.com)' }),
  })
  .strict();
export type SmtpSettings = z.output<typeof smtpSettings>;

export const mqttSettings = z
  .object({
    url: z
      .string()
      .trim()
      .refine((u) => /^(mqtts?|wss?):\/\/[^/]+/.test(u), { message: 'must be an mqtt://, mqtts://, ws:// or wss:// URL', params: { rule: 'url' } }),
    site: topicLevel.refine((s) => !s.includes('/'), { message: 'must be one topic level (no /)', params: { rule: 'one_level' } }),
    topicPrefix: topicLevel.default('toolroom'),
    username: z.string().max(255).optional(),
    password: z.string().max(1000).optional(),
  })
  .strict();
export type MqttSettings = z.output<typeof mqttSettings>;

export const channelSettings = z
  .object({
    smtp: smtpSettings.optional(),
    mqtt: mqttSettings.optional(),
    /** The site's address, so links in e-mails and MQTT messages open the page (http://host:1880). */
    baseUrl: z.url().optional(),
    /** Minutes an unacknowledged critical event waits before it goes to the next level. */
    escalateAfterMinutes: z.number().int().min(1).max(7 * 24 * 60).default(30),
  })
  .strict();
export type ChannelSettings = z.output<typeof channelSettings>;

export function parseChannelSettings(input: unknown): ChannelSettings {
  return parse(channelSettings, input);
}

/** The topic an event type is published to. */
export const topicOf = (s: MqttSettings, type: string) => `${s.topicPrefix}/${s.site}/events/${type}`;

/** A link as a full URL when the site's address is known. */
export const absolute = (link: string, baseUrl?: string) => (baseUrl ? new URL(link, baseUrl).toString() : link);

/** An event as the site's channels carry it (MQTT's JSON, a toolroom-event node's msg.payload). */
export function eventPayload(e: DeliveryEvent, baseUrl?: string, site?: string) {
  return { id: e.id, type: e.type, severity: e.severity, title: e.title, entity: e.entity, entityId: e.entityId, link: absolute(e.link, baseUrl), data: e.data, at: e.createdAt, site };
}
