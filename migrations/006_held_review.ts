import type { Knex } from 'knex';

// Review of held shot readings (issue 4: a jump above the limit waits for an engineer): the shots
// accepting would add (numeric, like the counters: a UInt64 glitch can jump past bigint), who reviewed
// it, when and why; and the review queue as a small partial index.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE shot_readings
    ADD COLUMN pending numeric(20,0),
    ADD COLUMN reviewed_at timestamptz,
    ADD COLUMN reviewed_by text,
    ADD COLUMN review_note text,
    ADD CONSTRAINT shot_readings_pending_check CHECK (pending IS NULL OR pending > 0)`);
  await knex.raw(`CREATE INDEX shot_readings_held_idx ON shot_readings (at, id) WHERE outcome = 'held'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX shot_readings_held_idx');
  await knex.raw(`ALTER TABLE shot_readings
    DROP CONSTRAINT shot_readings_pending_check,
    DROP COLUMN review_note,
    DROP COLUMN reviewed_by,
    DROP COLUMN reviewed_at,
    DROP COLUMN pending`);
}
