import type { Knex } from 'knex';

// Notifications (issue 13): events raised in the transaction of the write that causes them, each
// fanned out to one row per person and channel (and one per event for the site's MQTT), which is
// at once the delivery outbox and the inbox. The unique keys make "one event, one notification per
// user and channel" a database rule, not a hope: a second runtime raising the same event, or a
// sweep finding it again, inserts nothing.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE TABLE notification_events (
    id bigserial PRIMARY KEY,
    type text NOT NULL,
    key text NOT NULL CONSTRAINT notification_events_key_unique UNIQUE,
    severity text NOT NULL CONSTRAINT notification_events_severity_check CHECK (severity IN ('info','warning','critical')),
    title text NOT NULL,
    entity text NOT NULL,
    entity_id text NOT NULL,
    link text NOT NULL,
    tool_id integer REFERENCES tools(id),
    user_id integer REFERENCES users(id),
    data jsonb,
    raised_by text NOT NULL,
    created_at timestamptz NOT NULL,
    acknowledged_at timestamptz,
    acknowledged_by integer REFERENCES users(id),
    escalation_level integer NOT NULL DEFAULT 0
  )`);
  await knex.raw(`CREATE INDEX notification_events_unacknowledged_idx ON notification_events (created_at) WHERE severity = 'critical' AND acknowledged_at IS NULL`);

  await knex.raw(`CREATE TABLE notification_settings (
    user_id integer PRIMARY KEY REFERENCES users(id),
    email text,
    quiet_from text,
    quiet_until text,
    time_zone text NOT NULL DEFAULT 'UTC',
    digest boolean NOT NULL DEFAULT false,
    digest_at text NOT NULL DEFAULT '07:00',
    version integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
  )`);

  await knex.raw(`CREATE TABLE notification_subscriptions (
    user_id integer NOT NULL REFERENCES users(id),
    event_type text NOT NULL,
    channel text NOT NULL CONSTRAINT notification_subscriptions_channel_check CHECK (channel IN ('inbox','email')),
    enabled boolean NOT NULL,
    PRIMARY KEY (user_id, event_type, channel)
  )`);

  await knex.raw(`CREATE TABLE notifications (
    id bigserial PRIMARY KEY,
    event_id bigint NOT NULL REFERENCES notification_events(id) ON DELETE CASCADE,
    user_id integer REFERENCES users(id),
    channel text NOT NULL CONSTRAINT notifications_channel_check CHECK (channel IN ('inbox','email','mqtt','flow')),
    level integer NOT NULL DEFAULT 0,
    digest boolean NOT NULL DEFAULT false,
    status text NOT NULL DEFAULT 'pending' CONSTRAINT notifications_status_check CHECK (status IN ('pending','sent','failed')),
    due_at timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    claimed_until timestamptz,
    sent_at timestamptz,
    read_at timestamptz,
    created_at timestamptz NOT NULL
  )`);
  await knex.raw('CREATE UNIQUE INDEX notifications_once ON notifications (event_id, channel, coalesce(user_id, 0))');
  await knex.raw(`CREATE INDEX notifications_pending_idx ON notifications (channel, due_at, id) WHERE status = 'pending'`);
  await knex.raw(`CREATE INDEX notifications_inbox_idx ON notifications (user_id, id) WHERE channel = 'inbox'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE notifications');
  await knex.raw('DROP TABLE notification_subscriptions');
  await knex.raw('DROP TABLE notification_settings');
  await knex.raw('DROP TABLE notification_events');
}
