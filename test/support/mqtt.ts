import mqtt, { type MqttClient } from 'mqtt';

/**
 * The MQTT broker the tests talk to: the test command's Mosquitto (TEST_MQTT_URL, scripts/mqtt-services.sh),
 * else the machine's at 127.0.0.1:1883. A subscriber collects what arrives on a topic filter.
 */
export const TEST_MQTT_URL = process.env.TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

export interface Subscriber {
  messages: { topic: string; payload: Record<string, unknown>; retain: boolean }[];
  close(): Promise<void>;
}

export async function subscribe(filter: string): Promise<Subscriber> {
  const client: MqttClient = await mqtt.connectAsync(TEST_MQTT_URL, { clientId: `toolroom-test-${Math.random().toString(16).slice(2, 10)}` });
  const messages: Subscriber['messages'] = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, payload: JSON.parse(payload.toString()) as Record<string, unknown>, retain: packet.retain }));
  await client.subscribeAsync(filter, { qos: 1 });
  return { messages, close: () => client.endAsync(true) };
}

/** A site name no other run uses, so tests running at once (and retained messages) do not meet. */
export const uniqueSite = () => `test-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
