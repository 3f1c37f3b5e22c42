import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { recordAudit } from '../audit/record';
import { inTransaction } from '../db/transaction';
import { at, atOrNull, count, recordMapper } from '../db/record';
import type { NotificationTable } from '../db/tables';
import { notFound, validationError } from '../errors';
import { parse, type Page } from '../validate';
import { fetchPage } from '../db/page';
import { acknowledgeInput, listInboxInput, type InboxItem, type UnreadCount } from './schema';
import { eventColumnMap, type EventColumns } from './event-row';

/**
 * A person's inbox: the notifications on the `inbox` channel addressed to them, and only to them;
 * nobody (admins included) reads another's. Acknowledging a critical event stops its escalation.
 */

/** The caller's user id; a flow acting as `system` has no inbox (it may act as a user: msg.user). */
function ownerOf(actor: Actor): number {
  authorize(actor, 'notification.read', { ownerId: actor.id });
  if (!/^\d+$/.test(actor.id)) throw validationError([{ field: 'user', rule: 'user_required', message: `${actor.name} has no inbox: act as a user` }]);
  return Number(actor.id);
}

/** A notification with its event, as COLUMNS selects it. */
type InboxRow = Pick<NotificationTable, 'id' | 'event_id' | 'level' | 'created_at' | 'read_at'> & EventColumns;

const item = recordMapper<InboxRow, InboxItem>({
  id: count('id'),
  eventId: count('event_id'),
  ...eventColumnMap,
  level: 'level',
  createdAt: at('created_at'),
  readAt: atOrNull('read_at'),
});
const toItem = item.toRecord;

const mine = (db: Knex | Knex.Transaction, userId: number) =>
  db('notifications as n').join('notification_events as e', 'e.id', 'n.event_id').where({ 'n.user_id': userId, 'n.channel': 'inbox' });

const COLUMNS = ['n.id', 'n.event_id', 'e.type', 'e.severity', 'e.title', 'e.entity', 'e.entity_id', 'e.link', 'e.data', 'n.level', 'n.created_at', 'n.read_at'];

/** The caller's notifications, newest first. */
export async function listInbox(db: Knex, actor: Actor, input?: unknown): Promise<Page<InboxItem>> {
  const userId = ownerOf(actor);
  const v = parse(listInboxInput, input);
  const filter = (q: Knex.QueryBuilder) => (v.unreadOnly ? q.whereNull('n.read_at') : q);
  const rows = filter(mine(db, userId))
    .select(COLUMNS)
    .orderBy('n.id', 'desc');
  return fetchPage(rows, filter(mine(db, userId)), v, (list: InboxRow[]) => list.map(toItem));
}

/** How many of the caller's notifications are unread (every page's header shows it). */
export async function unreadCount(db: Knex, actor: Actor): Promise<UnreadCount> {
  const userId = ownerOf(actor);
  const row = (await db('notifications').where({ user_id: userId, channel: 'inbox' }).whereNull('read_at').count('* as n').first()) as { n: string | number };
  return { unread: Number(row.n) };
}

/** Mark one of the caller's notifications read; a critical event is acknowledged for everyone (no more escalation). */
export async function acknowledge(db: Knex, actor: Actor, input: unknown, now = new Date()): Promise<InboxItem> {
  const userId = ownerOf(actor);
  const v = parse(acknowledgeInput, input);
  return inTransaction(db, async (trx) => {
    // Someone else's notification is "not found": its existence is not the caller's business.
    const row = (await mine(trx, userId).where('n.id', v.id).first('n.id', 'n.event_id', 'n.read_at', 'e.severity')) as
      | { id: number; event_id: number | string; read_at: Date | null; severity: string }
      | undefined;
    if (!row) throw notFound('notification', v.id);
    if (row.read_at === null) {
      await trx('notifications').where('id', v.id).update({ read_at: now });
      if (row.severity === 'critical') {
        await trx('notification_events').where('id', row.event_id).whereNull('acknowledged_at').update({ acknowledged_at: now, acknowledged_by: userId });
      }
      await recordAudit(trx, actor, { action: 'notification.acknowledge', entity: 'notification', entityId: v.id, after: { eventId: Number(row.event_id) } });
    }
    const after = (await mine(trx, userId)
      .where('n.id', v.id)
      .first(COLUMNS)) as InboxRow;
    return toItem(after);
  });
}
