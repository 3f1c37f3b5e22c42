import type { Knex } from 'knex';

// Users, tools (moulds) with their cavities, presses and the mount history that attributes shots.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.increments('id');
    t.text('username').notNullable().unique();
    t.text('display_name').notNullable();
    t.text('role').notNullable();
    t.text('editor_access').notNullable().defaultTo('none');
    t.boolean('active').notNullable().defaultTo(true);
    t.text('password_hash');
    t.text('pin_hash');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE users
    ADD CONSTRAINT users_role_check CHECK (role IN ('technician','engineer','admin')),
    ADD CONSTRAINT users_editor_access_check CHECK (editor_access IN ('none','read','full'))`);

  await knex.schema.createTable('tools', (t) => {
    t.increments('id');
    t.text('asset_number').notNullable();
    t.text('name').notNullable();
    t.jsonb('part_numbers').notNullable().defaultTo('[]');
    t.text('customer');
    t.text('owner');
    t.text('toolmaker');
    t.integer('year');
    t.integer('spi_class');
    t.integer('cavity_count').notNullable();
    t.integer('hot_runner_zones').notNullable().defaultTo(0);
    t.bigInteger('expected_lifetime_shots');
    t.bigInteger('lifetime_shots').notNullable().defaultTo(0);
    t.text('status').notNullable().defaultTo('in_store');
    t.text('location');
    t.text('notes');
    t.timestamp('retired_at', { useTz: true });
    t.text('retired_reason');
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE tools
    ADD CONSTRAINT tools_asset_number_unique UNIQUE (asset_number),
    ADD CONSTRAINT tools_status_check CHECK (status IN ('in_press','in_store','in_maintenance','at_toolmaker','retired')),
    ADD CONSTRAINT tools_spi_class_check CHECK (spi_class IS NULL OR spi_class BETWEEN 101 AND 105),
    ADD CONSTRAINT tools_cavity_count_check CHECK (cavity_count BETWEEN 1 AND 512),
    ADD CONSTRAINT tools_hot_runner_zones_check CHECK (hot_runner_zones >= 0),
    ADD CONSTRAINT tools_lifetime_shots_check CHECK (lifetime_shots >= 0),
    ADD CONSTRAINT tools_expected_lifetime_shots_check CHECK (expected_lifetime_shots IS NULL OR expected_lifetime_shots > 0),
    ADD CONSTRAINT tools_year_check CHECK (year IS NULL OR year BETWEEN 1900 AND 2100),
    ADD CONSTRAINT tools_retired_check CHECK ((status = 'retired') = (retired_at IS NOT NULL))`);
  await knex.raw('CREATE INDEX tools_status_idx ON tools (status)');
  await knex.raw('CREATE INDEX tools_customer_idx ON tools (lower(customer))');

  await knex.schema.createTable('tool_cavities', (t) => {
    t.integer('tool_id').notNullable().references('tools.id').onDelete('CASCADE');
    t.integer('number').notNullable();
    t.text('state').notNullable().defaultTo('active');
    t.text('blocked_reason');
    t.bigInteger('lifetime_shots').notNullable().defaultTo(0);
    t.primary(['tool_id', 'number']);
  });
  await knex.raw(`ALTER TABLE tool_cavities
    ADD CONSTRAINT tool_cavities_number_check CHECK (number >= 1),
    ADD CONSTRAINT tool_cavities_state_check CHECK (state IN ('active','blocked')),
    ADD CONSTRAINT tool_cavities_blocked_reason_check CHECK (state = 'active' OR blocked_reason IS NOT NULL),
    ADD CONSTRAINT tool_cavities_lifetime_shots_check CHECK (lifetime_shots >= 0)`);

  await knex.schema.createTable('presses', (t) => {
    t.increments('id');
    t.text('code').notNullable().unique();
    t.text('name').notNullable();
    t.integer('tonnage');
    t.text('opcua_endpoint');
    t.text('location');
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('ALTER TABLE presses ADD CONSTRAINT presses_tonnage_check CHECK (tonnage IS NULL OR tonnage > 0)');

  await knex.schema.createTable('tool_mounts', (t) => {
    t.increments('id');
    t.integer('tool_id').notNullable().references('tools.id');
    t.integer('press_id').notNullable().references('presses.id');
    t.timestamp('mounted_at', { useTz: true }).notNullable();
    t.timestamp('unmounted_at', { useTz: true });
    t.text('mounted_by').notNullable();
    t.text('unmounted_by');
    t.text('note');
  });
  await knex.raw(`ALTER TABLE tool_mounts
    ADD CONSTRAINT tool_mounts_span_check CHECK (unmounted_at IS NULL OR unmounted_at >= mounted_at)`);
  // A tool is on at most one press, and a press holds at most one tool, at a time.
  await knex.raw('CREATE UNIQUE INDEX tool_mounts_one_open_per_tool ON tool_mounts (tool_id) WHERE unmounted_at IS NULL');
  await knex.raw('CREATE UNIQUE INDEX tool_mounts_one_open_per_press ON tool_mounts (press_id) WHERE unmounted_at IS NULL');
  await knex.raw('CREATE INDEX tool_mounts_press_time_idx ON tool_mounts (press_id, mounted_at)');
  await knex.raw('CREATE INDEX tool_mounts_tool_time_idx ON tool_mounts (tool_id, mounted_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('tool_mounts');
  await knex.schema.dropTable('presses');
  await knex.schema.dropTable('tool_cavities');
  await knex.schema.dropTable('tools');
  await knex.schema.dropTable('users');
}
