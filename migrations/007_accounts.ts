import type { Knex } from 'knex';

// Login: sessions, the attempts that rate-limit it, and API tokens for integrations. Secrets are
// stored only as hashes (argon2id for passwords and PINs in users, SHA-256 for random tokens).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.timestamp('password_changed_at', { useTz: true });
    // Set by an admin's reset and a generated first-start password: the adapters ask for a new one.
    t.boolean('must_change_password').notNullable().defaultTo(false);
  });

  await knex.schema.createTable('sessions', (t) => {
    t.bigIncrements('id');
    t.integer('user_id').notNullable().references('users.id');
    t.text('token_hash').notNullable();
    t.text('method').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('last_seen_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.text('address').notNullable();
    t.text('user_agent');
    t.timestamp('revoked_at', { useTz: true });
    t.text('revoked_reason');
  });
  await knex.raw(`ALTER TABLE sessions
    ADD CONSTRAINT sessions_token_hash_unique UNIQUE (token_hash),
    ADD CONSTRAINT sessions_method_check CHECK (method IN ('password','pin')),
    ADD CONSTRAINT sessions_revoked_check CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL)),
    ADD CONSTRAINT sessions_span_check CHECK (expires_at > created_at)`);
  await knex.raw('CREATE INDEX sessions_user_open_idx ON sessions (user_id) WHERE revoked_at IS NULL');
  await knex.raw('CREATE INDEX sessions_expires_idx ON sessions (expires_at)');

  // One row per attempt, in the database so that every runtime sharing it sees the same count.
  await knex.schema.createTable('login_attempts', (t) => {
    t.bigIncrements('id');
    t.timestamp('at', { useTz: true }).notNullable();
    t.text('username').notNullable();
    t.text('address').notNullable();
    t.text('method').notNullable();
    t.integer('user_id').references('users.id');
    t.text('outcome').notNullable().defaultTo('pending');
  });
  await knex.raw(`ALTER TABLE login_attempts
    ADD CONSTRAINT login_attempts_method_check CHECK (method IN ('password','pin')),
    ADD CONSTRAINT login_attempts_outcome_check CHECK (outcome IN ('pending','succeeded','failed','locked','refused'))`);
  await knex.raw('CREATE INDEX login_attempts_username_idx ON login_attempts (username, at)');
  await knex.raw('CREATE INDEX login_attempts_address_idx ON login_attempts (address, at)');
  await knex.raw('CREATE INDEX login_attempts_at_idx ON login_attempts (at)');

  await knex.schema.createTable('api_tokens', (t) => {
    t.increments('id');
    t.integer('user_id').notNullable().references('users.id');
    t.text('name').notNullable();
    t.text('prefix').notNullable();
    t.text('token_hash').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.text('created_by').notNullable();
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('last_used_at', { useTz: true });
    t.timestamp('revoked_at', { useTz: true });
    t.text('revoked_by');
  });
  await knex.raw(`ALTER TABLE api_tokens
    ADD CONSTRAINT api_tokens_token_hash_unique UNIQUE (token_hash),
    ADD CONSTRAINT api_tokens_revoked_check CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))`);
  await knex.raw('CREATE INDEX api_tokens_user_idx ON api_tokens (user_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('api_tokens');
  await knex.schema.dropTable('login_attempts');
  await knex.schema.dropTable('sessions');
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('must_change_password');
    t.dropColumn('password_changed_at');
  });
}
