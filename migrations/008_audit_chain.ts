import type { Knex } from 'knex';
import { contentHash, linkHash, LINK_HASH_SQL, type AuditContent } from '../core/audit/chain';

// Hash-chained audit events (core/audit/chain.ts): each event's content hash, its number in the chain
// (`seq`, gap-free, in commit order) and the link to the event before; a one-row head holding the last
// number and hash, so deleting the newest events shows too. A deferred trigger links each event at
// commit (why at commit: core/audit/record.ts). Events recorded before this migration are chained in id order.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('LOCK TABLE audit_events IN SHARE ROW EXCLUSIVE MODE');
  await knex.raw('ALTER TABLE audit_events ADD COLUMN seq bigint, ADD COLUMN content_hash text');
  await knex.schema.createTable('audit_chain_head', (t) => {
    t.smallint('id').primary();
    t.bigInteger('seq').notNullable();
    t.text('hash');
  });
  await knex.raw('ALTER TABLE audit_chain_head ADD CONSTRAINT audit_chain_head_one_row CHECK (id = 1)');

  let seq = 0;
  let prev: string | null = null;
  for (let lastId = 0; ; ) {
    // Hashed as stored from now on: to the millisecond, which a JS Date holds exactly.
    const rows = (await knex('audit_events')
      .where('id', '>', lastId)
      .orderBy('id')
      .limit(2000)
      .select('id', knex.raw("date_trunc('milliseconds', at) AS at"), 'actor_id', 'actor_name', 'actor_role', 'via', 'action', 'entity', 'entity_id', 'before', 'after')) as (AuditContent & { id: number })[];
    if (!rows.length) break;
    const links = rows.map((r) => {
      const content = contentHash(r);
      const hash = linkHash(prev, content);
      const link = { id: Number(r.id), seq: ++seq, prev_hash: prev, hash, content_hash: content };
      prev = hash;
      return link;
    });
    await knex.raw(
      `UPDATE audit_events a SET at = date_trunc('milliseconds', a.at), seq = v.seq, prev_hash = v.prev_hash, hash = v.hash, content_hash = v.content_hash
       FROM jsonb_to_recordset(?::jsonb) AS v(id bigint, seq bigint, prev_hash text, hash text, content_hash text) WHERE a.id = v.id`,
      [JSON.stringify(links)],
    );
    lastId = links[links.length - 1].id;
  }
  await knex('audit_chain_head').insert({ id: 1, seq, hash: prev });

  await knex.raw('ALTER TABLE audit_events ALTER COLUMN content_hash SET NOT NULL');
  await knex.raw('CREATE UNIQUE INDEX audit_events_seq_unique ON audit_events (seq)');
  // The head row's lock orders committers; when the head is gone (an emptied table) the chain goes on
  // from the last numbered event.
  await knex.raw(`CREATE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      head_seq bigint;
      head_hash text;
      next_hash text;
    BEGIN
      SELECT seq, hash INTO head_seq, head_hash FROM audit_chain_head WHERE id = 1 FOR UPDATE;
      IF NOT FOUND THEN
        INSERT INTO audit_chain_head (id, seq, hash)
          SELECT 1, coalesce(max(seq), 0), (SELECT hash FROM audit_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1)
          FROM audit_events
        ON CONFLICT (id) DO NOTHING;
        SELECT seq, hash INTO head_seq, head_hash FROM audit_chain_head WHERE id = 1 FOR UPDATE;
      END IF;
      next_hash := ${LINK_HASH_SQL('head_hash', 'NEW.content_hash')};
      UPDATE audit_events SET seq = head_seq + 1, prev_hash = head_hash, hash = next_hash WHERE id = NEW.id;
      UPDATE audit_chain_head SET seq = head_seq + 1, hash = next_hash WHERE id = 1;
      RETURN NULL;
    END $$`);
  await knex.raw(`CREATE CONSTRAINT TRIGGER audit_events_chain AFTER INSERT ON audit_events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_events_chain()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER audit_events_chain ON audit_events');
  await knex.raw('DROP FUNCTION audit_events_chain()');
  await knex.raw('DROP INDEX audit_events_seq_unique');
  await knex.schema.dropTable('audit_chain_head');
  await knex.raw('ALTER TABLE audit_events DROP COLUMN seq, DROP COLUMN content_hash');
  await knex.raw('UPDATE audit_events SET prev_hash = NULL, hash = NULL');
}
