import type { Knex } from 'knex';
import { eventPayload } from './channels';
import type { Delivery, Transport } from './delivery';

/**
 * The `flow` channel: each event handed to one runtime's flows (a toolroom-event node), to wire to an
 * e-mail node, `mqtt out`, a Teams or SMS webhook. The message names who Toolroom notified in the
 * inbox (with their addresses), so a flow can mail or text the same people.
 */

export interface FlowMessage {
  topic: string;
  payload: ReturnType<typeof eventPayload>;
  recipients: { username: string; displayName: string; email: string | null }[];
}

export async function flowMessage(db: Knex, d: Delivery, baseUrl?: string, site?: string): Promise<FlowMessage> {
  const e = d.events[0];
  const people = (await db('notifications as n')
    .join('users as u', 'u.id', 'n.user_id')
    .leftJoin('notification_settings as s', 's.user_id', 'u.id')
    .where({ 'n.event_id': e.id, 'n.channel': 'inbox' })
    .orderBy('u.username')
    .select('u.username', 'u.display_name', 's.email')) as { username: string; display_name: string; email: string | null }[];
  return {
    topic: e.type,
    payload: eventPayload(e, baseUrl, site),
    recipients: people.map((p) => ({ username: p.username, displayName: p.display_name, email: p.email })),
  };
}

/** A transport that hands each event to `emit` (the node's send). */
export function flowTransport(db: Knex, emit: (msg: FlowMessage) => void, baseUrl?: string, site?: string): Transport {
  return {
    async send(d: Delivery) {
      emit(await flowMessage(db, d, baseUrl, site));
    },
  };
}
