import { parseChannelSettings } from '../core/notifications/channels';
import { flowTransport } from '../core/notifications/flow';
import { startNotifier, type Notifier } from '../core/notifications/notifier';
import type { ToolroomConfigNode } from './lib/config';
import type { Node, NodeAPI, NodeDef } from './lib/red';

/**
 * toolroom-event: Toolroom's notification events (PM due, action assigned, tool down, ...) into any
 * flow, one message per event, to wire to an e-mail node, `mqtt out` or a webhook. Each event comes
 * out of one runtime only: the node takes its events from the outbox (core/notifications) like the
 * e-mail and MQTT senders do. Given SMTP and MQTT settings (passwords in Node-RED's credentials), it
 * sends e-mail and MQTT too, and it sweeps for due actions and escalations: a palette install without
 * `npm start` notifies people all the same.
 */

interface EventDef extends NodeDef {
  config?: string;
  site?: string;
  baseUrl?: string;
  escalateAfterMinutes?: string | number;
  /** Optional: this runtime sends e-mail and MQTT itself (a palette install without `npm start`'s settings). */
  smtpHost?: string;
  smtpPort?: string | number;
  smtpTls?: string;
  smtpUser?: string;
  smtpFrom?: string;
  mqttUrl?: string;
  mqttTopicPrefix?: string;
}

type EventCredentials = {
  smtpPassword?: string;
  mqttUsername?: string;
  mqttPassword?: string;
};

interface EventNode extends Node<EventCredentials> {
  config: ToolroomConfigNode | null;
}

const given = (v: string | number | undefined) => (v === undefined || String(v).trim() === '' ? undefined : String(v).trim());
const numberOr = (v: string | number | undefined) => (given(v) !== undefined && /^\d+$/.test(String(v).trim()) ? Number(v) : given(v));

/** The node's settings as core validates them; passwords only from Node-RED's credential store. */
function settingsOf(def: EventDef, credentials: EventCredentials): unknown {
  const site = given(def.site) ?? 'plant';
  return JSON.parse(
    JSON.stringify({
      baseUrl: given(def.baseUrl),
      escalateAfterMinutes: numberOr(def.escalateAfterMinutes),
      smtp: given(def.smtpHost)
        ? { host: given(def.smtpHost), port: numberOr(def.smtpPort), tls: given(def.smtpTls), user: given(def.smtpUser), password: credentials.smtpPassword || undefined, from: def.smtpFrom ?? '' }
        : undefined,
      mqtt: given(def.mqttUrl)
        ? { url: given(def.mqttUrl), site, topicPrefix: given(def.mqttTopicPrefix), username: given(credentials.mqttUsername), password: credentials.mqttPassword || undefined }
        : undefined,
    }),
  );
}

const POLL_MS = 2000;

export = function (RED: NodeAPI) {
  const t = (key: string, subs?: Record<string, unknown>) => RED._(`toolroom-event.status.${key}`, subs);

  function ToolroomEvent(this: EventNode, def: EventDef) {
    RED.nodes.createNode(this, def);
    start(this, def);
  }

  function start(node: EventNode, def: EventDef) {
    node.config = (def.config ? (RED.nodes.getNode(def.config) as ToolroomConfigNode | null) : null) ?? null;
    let notifier: Notifier | null = null;
    let closed = false;
    const config = node.config;
    if (!config) {
      node.status({ fill: 'red', shape: 'ring', text: t('noConfig') });
      node.on('close', (_removed, done) => done());
      return;
    }
    let settings: ReturnType<typeof parseChannelSettings>;
    try {
      settings = parseChannelSettings(settingsOf(def, node.credentials ?? {}));
    } catch (err) {
      node.status({ fill: 'red', shape: 'ring', text: t('invalid') });
      node.error(err);
      node.on('close', (_removed, done) => done());
      return;
    }
    const site = def.site?.trim() || undefined;
    config.register(node);
    node.status({ fill: 'yellow', shape: 'ring', text: t('connecting') });
    let emitted = 0;
    config.database().then(
      (db) => {
        if (closed) return;
        notifier = startNotifier({
          db,
          settings,
          transports: {
            flow: flowTransport(
              db,
              (msg) => {
                emitted++;
                node.send({ ...msg });
              },
              settings.baseUrl,
              site,
            ),
          },
          pollMs: POLL_MS,
          onStatus(s) {
            if (s.state === 'error') node.status({ fill: 'red', shape: 'ring', text: t('error', { message: s.lastError }) });
            else if (s.state === 'idle') node.status(emitted ? { fill: 'green', shape: 'dot', text: t('sent', { count: emitted }) } : { fill: 'grey', shape: 'dot', text: t('ready') });
          },
        });
      },
      () => node.status({ fill: 'red', shape: 'ring', text: t('unavailable') }),
    );

    node.on('close', (_removed, done) => {
      closed = true;
      const n = notifier;
      notifier = null;
      (n ? n.stop() : Promise.resolve())
        .catch((err: Error) => node.error(err))
        .finally(() => config.deregister(node, done));
    });
  }

  RED.nodes.registerType('toolroom-event', ToolroomEvent, {
    credentials: {
      smtpPassword: { type: 'password' },
      mqttUsername: { type: 'text' },
      mqttPassword: { type: 'password' },
    },
  });
};
