import fs from 'node:fs';
import { ToolroomError } from '../core/errors';
import { parseChannelSettings, type ChannelSettings } from '../core/notifications/channels';

/**
 * The notification channels `npm start` sends on, from the environment (README's table): SMTP and
 * MQTT when their host / URL is set, passwords from secret files (Docker secrets), never from the
 * database or a flow. A bad setting is one sentence naming the variable, at start.
 */

/** Which variable a settings field comes from, so an error names what the admin set. */
const VARIABLES: Record<string, string> = {
  'smtp.host': 'TOOLROOM_SMTP_HOST',
  'smtp.port': 'TOOLROOM_SMTP_PORT',
  'smtp.tls': 'TOOLROOM_SMTP_TLS',
  'smtp.user': 'TOOLROOM_SMTP_USER',
  'smtp.password': 'TOOLROOM_SMTP_PASSWORD_FILE',
  'smtp.from': 'TOOLROOM_SMTP_FROM',
  'mqtt.url': 'TOOLROOM_MQTT_URL',
  'mqtt.site': 'TOOLROOM_SITE',
  'mqtt.topicPrefix': 'TOOLROOM_MQTT_TOPIC_PREFIX',
  'mqtt.username': 'TOOLROOM_MQTT_USER',
  'mqtt.password': 'TOOLROOM_MQTT_PASSWORD_FILE',
  baseUrl: 'TOOLROOM_PUBLIC_URL',
  escalateAfterMinutes: 'TOOLROOM_ESCALATE_AFTER_MINUTES',
};

/** A secret from the file a *_FILE variable names (trailing newline dropped), or undefined when unset. */
function secretFile(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const file = env[name]?.trim();
  if (!file) return undefined;
  try {
    return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new Error(`${name}: cannot read ${file}: ${(err as Error).message}`);
  }
}

const numberOr = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : /^\d+$/.test(v.trim()) ? Number(v) : v);

/** The channel settings in the environment; throws an Error whose message names each variable and rule. */
export function channelSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ChannelSettings {
  const input: Record<string, unknown> = {};
  if (env.TOOLROOM_SMTP_HOST?.trim()) {
    input.smtp = {
      host: env.TOOLROOM_SMTP_HOST,
      port: numberOr(env.TOOLROOM_SMTP_PORT),
      tls: env.TOOLROOM_SMTP_TLS?.trim() || undefined,
      user: env.TOOLROOM_SMTP_USER?.trim() || undefined,
      password: secretFile(env, 'TOOLROOM_SMTP_PASSWORD_FILE'),
      from: env.TOOLROOM_SMTP_FROM ?? '',
    };
  }
  if (env.TOOLROOM_MQTT_URL?.trim()) {
    input.mqtt = {
      url: env.TOOLROOM_MQTT_URL,
      site: env.TOOLROOM_SITE?.trim() || 'plant',
      topicPrefix: env.TOOLROOM_MQTT_TOPIC_PREFIX?.trim() || undefined,
      username: env.TOOLROOM_MQTT_USER?.trim() || undefined,
      password: secretFile(env, 'TOOLROOM_MQTT_PASSWORD_FILE'),
    };
  }
  if (env.TOOLROOM_PUBLIC_URL?.trim()) input.baseUrl = env.TOOLROOM_PUBLIC_URL.trim();
  if (env.TOOLROOM_ESCALATE_AFTER_MINUTES?.trim()) input.escalateAfterMinutes = numberOr(env.TOOLROOM_ESCALATE_AFTER_MINUTES);
  // Drop fields left unset, so the schema's defaults apply.
  const settings = JSON.parse(JSON.stringify(input)) as Record<string, unknown>;
  try {
    return parseChannelSettings(settings);
  } catch (err) {
    if (!(err instanceof ToolroomError)) throw err;
    throw new Error(err.cause.details.map((d) => `${VARIABLES[d.field] ?? d.field}: ${d.message}`).join('; '));
  }
}
