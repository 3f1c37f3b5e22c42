import type { Knex } from 'knex';

// Signed anchors of the audit chain's purged prefixes (issue 12, core/audit/anchor.ts): before the purge
// deletes the oldest events up to a cut point, it records the last purged link (its number, id, time
// and hash) and how many went, signed with the Ed25519 audit key (kept in a file outside the database).
// The public key is stored with each anchor, so checking needs no secret; each anchor also names the one
// before it, so removing or slipping in an anchor shows. Verification starts from the newest anchor.
// Number 017: 015 and 016 belong to other changes written at the same time.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_anchors', (t) => {
    t.increments('id');
    t.bigInteger('seq').notNullable();
    t.bigInteger('event_id').notNullable();
    t.timestamp('event_at', { useTz: true }).notNullable();
    t.text('hash').notNullable();
    t.bigInteger('first_seq').notNullable();
    t.bigInteger('purged').notNullable();
    t.integer('previous_id');
    t.text('previous_signature');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.text('created_by').notNullable();
    t.text('public_key').notNullable();
    t.text('signature').notNullable();
  });
  await knex.raw(`ALTER TABLE audit_anchors
    ADD CONSTRAINT audit_anchors_seq_unique UNIQUE (seq),
    ADD CONSTRAINT audit_anchors_range_check CHECK (first_seq >= 1 AND first_seq <= seq AND purged >= 1)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_anchors');
}
