import mqtt from 'mqtt';
import { eventPayload, topicOf, type ChannelSettings, type MqttSettings } from './channels';
import { EVENT_TYPES, type EventTypeName } from './events';
import type { Delivery, Transport } from './delivery';

/**
 * MQTT: each event as JSON to `<prefix>/<site>/events/<type>`, QoS 1 (the broker acknowledges),
 * retained where a type is a site-wide state (events.ts: the last backup failure). While the broker is
 * down a publish fails at once and the row waits in the outbox; mqtt.js reconnects by itself.
 */

const PUBLISH_TIMEOUT_MS = 10_000;

export function mqttTransport(s: MqttSettings, settings: Pick<ChannelSettings, 'baseUrl'> = {}): Transport {
  const client = mqtt.connect(s.url, {
    username: s.username,
    password: s.password,
    clientId: `toolroom-${s.site}-${Math.random().toString(16).slice(2, 10)}`,
    reconnectPeriod: 1000,
    connectTimeout: 5000,
    // Nothing queued in memory while offline: the outbox is the queue.
    queueQoSZero: false,
  });
  // Errors surface through publish; an unhandled 'error' event would end the process.
  client.on('error', () => undefined);
  return {
    async send(d: Delivery) {
      if (!client.connected) throw new Error(`MQTT broker ${s.url} is not connected`);
      const e = d.events[0];
      const retain = EVENT_TYPES[e.type as EventTypeName]?.retain ?? false;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          client.publishAsync(topicOf(s, e.type), JSON.stringify(eventPayload(d.events[0], settings.baseUrl, s.site)), { qos: 1, retain }),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`MQTT broker ${s.url} did not acknowledge within ${PUBLISH_TIMEOUT_MS} ms`)), PUBLISH_TIMEOUT_MS))),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await client.endAsync(true);
    },
  };
}
