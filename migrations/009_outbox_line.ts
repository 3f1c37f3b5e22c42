import type { Knex } from 'knex';

// The outbox drain at InfluxDB's pace (issue 4, bench/outbox-drain.ts):
// - shots points travel as a ready line-protocol `line` (text) instead of jsonb {line}: nothing to
//   parse on insert or on read. payload stays for other topics and points written without a line.
// - the drainer deletes a row once InfluxDB took it: rows the old drainer marked sent are already in
//   InfluxDB (and their readings in shot_readings), so they go now.
// - unsent rows are read by (topic, id): an ordered index scan even without table statistics, which
//   PGlite never gathers (no autovacuum); on (id) alone the planner sorted every unsent row per batch.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`DELETE FROM outbox WHERE topic = 'shots' AND sent_at IS NOT NULL`);
  await knex.raw(`ALTER TABLE outbox
    ADD COLUMN line text,
    ALTER COLUMN payload DROP NOT NULL`);
  await knex.raw(`UPDATE outbox SET line = payload->>'line', payload = NULL
    WHERE topic IN ('shots', 'shots:rejected') AND payload->>'line' IS NOT NULL`);
  await knex.raw('ALTER TABLE outbox ADD CONSTRAINT outbox_payload_check CHECK (payload IS NOT NULL OR line IS NOT NULL)');
  await knex.raw('DROP INDEX outbox_unsent_idx');
  await knex.raw('CREATE INDEX outbox_unsent_idx ON outbox (topic, id) WHERE sent_at IS NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX outbox_unsent_idx');
  await knex.raw('CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL');
  await knex.raw('ALTER TABLE outbox DROP CONSTRAINT outbox_payload_check');
  await knex.raw(`UPDATE outbox SET payload = jsonb_build_object('line', line) WHERE payload IS NULL`);
  await knex.raw(`ALTER TABLE outbox
    ALTER COLUMN payload SET NOT NULL,
    DROP COLUMN line`);
}
