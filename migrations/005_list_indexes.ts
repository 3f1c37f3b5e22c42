import type { Knex } from 'knex';

// What the working lists need at plant scale (bench/core-list.ts: 10k tools, 100k inspections and failures):
// newest-first lists, and one lower-cased search text per tool so free text is a single LIKE per word.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE tools ADD COLUMN search_text text GENERATED ALWAYS AS
    (lower(asset_number || ' ' || name || ' ' || part_numbers::text)) STORED`);
  await knex.raw('CREATE INDEX inspections_newest_idx ON inspections (performed_at DESC, id DESC)');
  await knex.raw('CREATE INDEX inspections_outcome_newest_idx ON inspections (outcome, performed_at DESC, id DESC)');
  await knex.raw('CREATE INDEX failure_reports_newest_idx ON failure_reports (reported_at DESC, id DESC)');
  await knex.raw('CREATE INDEX actions_inspection_idx ON actions (inspection_id) WHERE inspection_id IS NOT NULL');
  await knex.raw('CREATE INDEX actions_failure_report_idx ON actions (failure_report_id) WHERE failure_report_id IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX actions_failure_report_idx');
  await knex.raw('DROP INDEX actions_inspection_idx');
  await knex.raw('DROP INDEX failure_reports_newest_idx');
  await knex.raw('DROP INDEX inspections_outcome_newest_idx');
  await knex.raw('DROP INDEX inspections_newest_idx');
  await knex.raw('ALTER TABLE tools DROP COLUMN search_text');
}
