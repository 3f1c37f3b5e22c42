import type { Knex } from 'knex';

// Inspection templates and logs, the failure catalog and reports, and the actions that follow them.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('inspection_templates', (t) => {
    t.increments('id');
    t.text('code').notNullable().unique();
    t.text('name').notNullable();
    t.text('kind').notNullable();
    // [{ key, label, failureCode? }]: items keep stable keys so results stay readable after edits.
    t.jsonb('items').notNullable();
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE inspection_templates
    ADD CONSTRAINT inspection_templates_kind_check CHECK (kind IN ('post_run','preventive'))`);
  await knex.raw('ALTER TABLE pm_plans ADD CONSTRAINT pm_plans_template_fk FOREIGN KEY (template_id) REFERENCES inspection_templates(id)');

  await knex.schema.createTable('inspections', (t) => {
    t.increments('id');
    t.integer('tool_id').notNullable().references('tools.id');
    t.integer('template_id').notNullable().references('inspection_templates.id');
    t.integer('pm_plan_id').references('pm_plans.id');
    t.text('kind').notNullable();
    t.text('outcome').notNullable();
    t.timestamp('performed_at', { useTz: true }).notNullable();
    t.text('performed_by').notNullable();
    t.bigInteger('lifetime_shots').notNullable();
    t.text('findings');
    t.jsonb('spare_parts').notNullable().defaultTo('[]');
    t.integer('minutes_spent');
    t.decimal('cost', 12, 2);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE inspections
    ADD CONSTRAINT inspections_kind_check CHECK (kind IN ('post_run','preventive')),
    ADD CONSTRAINT inspections_outcome_check CHECK (outcome IN ('pass','fail')),
    ADD CONSTRAINT inspections_minutes_check CHECK (minutes_spent IS NULL OR minutes_spent >= 0),
    ADD CONSTRAINT inspections_cost_check CHECK (cost IS NULL OR cost >= 0),
    ADD CONSTRAINT inspections_lifetime_shots_check CHECK (lifetime_shots >= 0)`);
  await knex.raw('CREATE INDEX inspections_tool_idx ON inspections (tool_id, performed_at DESC)');
  await knex.raw('ALTER TABLE pm_events ADD CONSTRAINT pm_events_inspection_fk FOREIGN KEY (inspection_id) REFERENCES inspections(id)');

  await knex.schema.createTable('failure_codes', (t) => {
    t.increments('id');
    t.text('code').notNullable().unique();
    t.text('title').notNullable();
    t.text('component').notNullable();
    t.text('description');
    t.text('default_severity').notNullable().defaultTo('major');
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE failure_codes
    ADD CONSTRAINT failure_codes_default_severity_check CHECK (default_severity IN ('minor','major','critical'))`);

  await knex.schema.createTable('failure_reports', (t) => {
    t.increments('id');
    t.integer('tool_id').notNullable().references('tools.id');
    t.integer('failure_code_id').notNullable().references('failure_codes.id');
    t.integer('inspection_id').references('inspections.id');
    t.text('severity').notNullable();
    t.text('component').notNullable();
    t.integer('cavity');
    t.bigInteger('shot_count').notNullable();
    t.text('description');
    t.text('root_cause');
    t.text('status').notNullable().defaultTo('open');
    t.text('reported_by').notNullable();
    t.timestamp('reported_at', { useTz: true }).notNullable();
    t.timestamp('closed_at', { useTz: true });
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE failure_reports
    ADD CONSTRAINT failure_reports_severity_check CHECK (severity IN ('minor','major','critical')),
    ADD CONSTRAINT failure_reports_status_check CHECK (status IN ('open','investigating','resolved','closed')),
    ADD CONSTRAINT failure_reports_cavity_check CHECK (cavity IS NULL OR cavity >= 1),
    ADD CONSTRAINT failure_reports_shot_count_check CHECK (shot_count >= 0)`);
  await knex.raw('CREATE INDEX failure_reports_tool_idx ON failure_reports (tool_id, reported_at DESC)');
  await knex.raw('CREATE INDEX failure_reports_status_idx ON failure_reports (status, reported_at DESC)');

  await knex.schema.createTable('inspection_results', (t) => {
    t.integer('inspection_id').notNullable().references('inspections.id').onDelete('CASCADE');
    t.text('item_key').notNullable();
    t.text('label').notNullable();
    t.text('result').notNullable();
    t.text('note');
    t.integer('failure_report_id').references('failure_reports.id');
    t.primary(['inspection_id', 'item_key']);
  });
  await knex.raw(`ALTER TABLE inspection_results
    ADD CONSTRAINT inspection_results_result_check CHECK (result IN ('pass','fail','na'))`);

  await knex.schema.createTable('actions', (t) => {
    t.increments('id');
    t.text('kind').notNullable();
    t.text('title').notNullable();
    t.text('description');
    t.integer('tool_id').notNullable().references('tools.id');
    t.integer('failure_report_id').references('failure_reports.id');
    t.integer('inspection_id').references('inspections.id');
    t.integer('assignee_id').references('users.id');
    t.date('due_date');
    t.text('status').notNullable().defaultTo('open');
    t.text('created_by').notNullable();
    t.timestamp('started_at', { useTz: true });
    t.timestamp('completed_at', { useTz: true });
    t.text('completed_by');
    t.text('resolution');
    t.timestamp('verified_at', { useTz: true });
    t.text('verified_by');
    t.text('cancelled_reason');
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE actions
    ADD CONSTRAINT actions_kind_check CHECK (kind IN ('corrective','preventive')),
    ADD CONSTRAINT actions_status_check CHECK (status IN ('open','in_progress','done','verified','cancelled'))`);
  await knex.raw('CREATE INDEX actions_assignee_idx ON actions (assignee_id, status)');
  await knex.raw('CREATE INDEX actions_status_due_idx ON actions (status, due_date)');
  await knex.raw('CREATE INDEX actions_tool_idx ON actions (tool_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('actions');
  await knex.schema.dropTable('inspection_results');
  await knex.schema.dropTable('failure_reports');
  await knex.schema.dropTable('failure_codes');
  await knex.raw('ALTER TABLE pm_events DROP CONSTRAINT pm_events_inspection_fk');
  await knex.schema.dropTable('inspections');
  await knex.raw('ALTER TABLE pm_plans DROP CONSTRAINT pm_plans_template_fk');
  await knex.schema.dropTable('inspection_templates');
}
