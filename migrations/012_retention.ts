import type { Knex } from 'knex';

// Retention (issue 12): how long each kind of record is kept, set by admins (core/retention/policy.ts;
// a type without a row keeps its default), and legal holds: a tool under hold has nothing of it purged.
// Number 012: 011 belongs to another change being written at the same time.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('retention_policies', (t) => {
    t.text('record_type').primary();
    t.integer('keep_days').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.text('updated_by').notNullable();
  });
  await knex.raw(`ALTER TABLE retention_policies
    ADD CONSTRAINT retention_policies_keep_days_check CHECK (keep_days BETWEEN 1 AND 36500)`);

  await knex.schema.createTable('legal_holds', (t) => {
    t.increments('id');
    t.integer('tool_id').notNullable().references('tools.id');
    t.text('reason').notNullable();
    t.timestamp('placed_at', { useTz: true }).notNullable();
    t.text('placed_by').notNullable();
    t.timestamp('released_at', { useTz: true });
    t.text('released_by');
  });
  await knex.raw('CREATE UNIQUE INDEX legal_holds_one_open_per_tool ON legal_holds (tool_id) WHERE released_at IS NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('legal_holds');
  await knex.schema.dropTable('retention_policies');
}
