import type { Knex } from 'knex';

// Photos of any record, the audit trail of every write, and the outbox that feeds InfluxDB.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('photos', (t) => {
    t.increments('id');
    t.text('entity').notNullable();
    t.integer('entity_id').notNullable();
    t.integer('tool_id').references('tools.id');
    t.text('path').notNullable();
    t.text('thumbnail_path');
    t.text('mime_type').notNullable();
    t.integer('width');
    t.integer('height');
    t.integer('bytes').notNullable();
    t.text('sha256').notNullable();
    t.text('caption');
    t.jsonb('annotations').notNullable().defaultTo('[]');
    t.text('taken_by').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE photos
    ADD CONSTRAINT photos_entity_check CHECK (entity IN ('tool','inspection','failure','action')),
    ADD CONSTRAINT photos_bytes_check CHECK (bytes >= 0)`);
  await knex.raw('CREATE INDEX photos_entity_idx ON photos (entity, entity_id)');

  await knex.schema.createTable('audit_events', (t) => {
    t.bigIncrements('id');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('actor_id').notNullable();
    t.text('actor_name').notNullable();
    t.text('actor_role').notNullable();
    t.text('via');
    t.text('action').notNullable();
    t.text('entity').notNullable();
    t.text('entity_id').notNullable();
    t.jsonb('before');
    t.jsonb('after');
    t.text('prev_hash');
    t.text('hash');
  });
  await knex.raw('CREATE INDEX audit_events_entity_idx ON audit_events (entity, entity_id)');

  await knex.schema.createTable('outbox', (t) => {
    t.bigIncrements('id');
    t.text('topic').notNullable();
    t.jsonb('payload').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('sent_at', { useTz: true });
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error');
  });
  await knex.raw('CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('outbox');
  await knex.schema.dropTable('audit_events');
  await knex.schema.dropTable('photos');
}
