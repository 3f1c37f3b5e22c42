import type { Knex } from 'knex';

// Free-text tool search is a LIKE '%word%' per word on tools.search_text (migration 005): a sequential
// scan, ~20 ms at 10k tools on the Pi-class server. A trigram index answers words of 3+ characters
// from the index. pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it;
// PGlite loads it in core/db/connect.ts. Rollback keeps the extension: something else may use it.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE EXTENSION IF NOT EXISTS pg_trgm');
  await knex.raw('CREATE INDEX tools_search_trgm_idx ON tools USING gin (search_text gin_trgm_ops)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX tools_search_trgm_idx');
}
