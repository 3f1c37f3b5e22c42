import type { Knex } from 'knex';

// A photo upload may carry an idempotency key (the dashboard makes one per chosen file): a retry of
// an upload whose answer was lost finds the photo the first attempt made instead of adding a second.
// Unique per person, so two people's keys never meet; the database, not a check before the insert,
// makes "one key, one photo" hold when two attempts race.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE photos ADD COLUMN upload_key text');
  await knex.raw('CREATE UNIQUE INDEX photos_upload_key_unique ON photos (taken_by, upload_key) WHERE upload_key IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX photos_upload_key_unique');
  await knex.raw('ALTER TABLE photos DROP COLUMN upload_key');
}
