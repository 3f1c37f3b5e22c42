import type { Knex } from 'knex';

// PM plans and their history; shot readings and the per-source counter state that turns
// absolute press counters into deltas (kept in the database so several runtimes agree).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('pm_plans', (t) => {
    t.increments('id');
    t.integer('tool_id').notNullable().references('tools.id');
    t.text('name').notNullable();
    t.bigInteger('interval_shots');
    t.integer('interval_days');
    t.integer('warning_percent').notNullable().defaultTo(90);
    t.integer('template_id');
    t.boolean('active').notNullable().defaultTo(true);
    // Tool lifetime shots and time at the last recorded PM (plan creation counts as the start).
    t.bigInteger('last_pm_lifetime_shots').notNullable().defaultTo(0);
    t.timestamp('last_pm_at', { useTz: true }).notNullable();
    // The state last announced, so each transition is emitted once.
    t.text('notified_state').notNullable().defaultTo('NOT_DUE');
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE pm_plans
    ADD CONSTRAINT pm_plans_interval_present CHECK (interval_shots IS NOT NULL OR interval_days IS NOT NULL),
    ADD CONSTRAINT pm_plans_interval_shots_check CHECK (interval_shots IS NULL OR interval_shots > 0),
    ADD CONSTRAINT pm_plans_interval_days_check CHECK (interval_days IS NULL OR interval_days > 0),
    ADD CONSTRAINT pm_plans_warning_percent_check CHECK (warning_percent BETWEEN 1 AND 100),
    ADD CONSTRAINT pm_plans_last_pm_lifetime_shots_check CHECK (last_pm_lifetime_shots >= 0),
    ADD CONSTRAINT pm_plans_notified_state_check CHECK (notified_state IN ('NOT_DUE','WARNING','DUE','OVERDUE'))`);
  await knex.raw('CREATE INDEX pm_plans_tool_idx ON pm_plans (tool_id)');

  await knex.schema.createTable('pm_events', (t) => {
    t.increments('id');
    t.integer('pm_plan_id').notNullable().references('pm_plans.id');
    t.integer('tool_id').notNullable().references('tools.id');
    t.timestamp('performed_at', { useTz: true }).notNullable();
    t.text('performed_by').notNullable();
    t.bigInteger('lifetime_shots').notNullable();
    t.integer('inspection_id');
    t.text('notes');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('ALTER TABLE pm_events ADD CONSTRAINT pm_events_lifetime_shots_check CHECK (lifetime_shots >= 0)');
  await knex.raw('CREATE INDEX pm_events_plan_idx ON pm_events (pm_plan_id, performed_at)');

  await knex.schema.createTable('counter_states', (t) => {
    t.text('source').primary();
    t.integer('press_id').references('presses.id');
    t.decimal('last_counter', 20, 0);
    t.timestamp('last_at', { useTz: true });
    t.decimal('held_counter', 20, 0);
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('shot_readings', (t) => {
    t.bigIncrements('id');
    t.text('source').notNullable();
    t.integer('press_id').references('presses.id');
    t.integer('tool_id').references('tools.id');
    t.timestamp('at', { useTz: true }).notNullable();
    t.decimal('counter', 20, 0);
    t.bigInteger('delta').notNullable().defaultTo(0);
    t.text('outcome').notNullable();
    t.integer('cycle_time_ms');
    t.text('mould_id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE shot_readings
    ADD CONSTRAINT shot_readings_source_at_unique UNIQUE (source, at),
    ADD CONSTRAINT shot_readings_delta_check CHECK (delta >= 0),
    ADD CONSTRAINT shot_readings_counter_check CHECK (counter IS NULL OR counter >= 0),
    ADD CONSTRAINT shot_readings_outcome_check CHECK (outcome IN
      ('baseline','counted','reset','rollover','repeat','out_of_order','held','accepted','rejected','manual','unattributed'))`);
  await knex.raw('CREATE INDEX shot_readings_tool_at_idx ON shot_readings (tool_id, at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('shot_readings');
  await knex.schema.dropTable('counter_states');
  await knex.schema.dropTable('pm_events');
  await knex.schema.dropTable('pm_plans');
}
