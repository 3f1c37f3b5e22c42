import type { Knex } from 'knex';
import { at, atOrNull, count, recordMapper } from '../db/record';
import type { ApiTokenTable, SessionTable, UserTable } from '../db/tables';
import type { ApiToken, Session } from './schema';

type Queryable = Knex | Knex.Transaction;

/** What login needs of a user, hashes included: read here only, never handed out. */
export type Credentials = Pick<UserTable, 'id' | 'username' | 'role' | 'active' | 'password_hash' | 'pin_hash' | 'must_change_password'>;

export async function findCredentials(db: Queryable, where: { id: number } | { username: string }): Promise<Credentials | undefined> {
  return db('users')
    .where(where)
    .first('id', 'username', 'role', 'active', 'password_hash', 'pin_hash', 'must_change_password');
}

/** What a session row holds but core never hands out. */
type SessionRow = Omit<SessionTable, 'token_hash'>;

const session = recordMapper<SessionRow, Session>({
  id: count('id'),
  userId: 'user_id',
  method: 'method',
  createdAt: at('created_at'),
  lastSeenAt: at('last_seen_at'),
  expiresAt: at('expires_at'),
  address: 'address',
  userAgent: 'user_agent',
  revokedAt: atOrNull('revoked_at'),
  revokedReason: 'revoked_reason',
});

export function sessionQuery(db: Queryable) {
  return db('sessions').select(session.columns);
}

export const toSession = session.toRecord;

export async function findSession(db: Queryable, where: { id: number } | { token_hash: string }): Promise<Session | undefined> {
  const row = (await sessionQuery(db).where(where).first()) as SessionRow | undefined;
  return row ? toSession(row) : undefined;
}

/**
 * End every open session of a user (disabled, password reset, "log out everywhere"), except
 * `keep` (the session that changed its own password). Returns how many ended.
 */
export async function revokeUserSessions(
  trx: Queryable,
  userId: number,
  reason: string,
  now: Date,
  keep?: number,
): Promise<number> {
  const q = trx('sessions').where('user_id', userId).whereNull('revoked_at');
  if (keep !== undefined) q.whereNot('id', keep);
  return q.update({ revoked_at: now, revoked_reason: reason });
}

/** What a token row holds but core never hands out. */
type ApiTokenRow = Omit<ApiTokenTable, 'token_hash'>;

const apiToken = recordMapper<ApiTokenRow, ApiToken>({
  id: 'id',
  userId: 'user_id',
  name: 'name',
  prefix: 'prefix',
  createdAt: at('created_at'),
  createdBy: 'created_by',
  expiresAt: atOrNull('expires_at'),
  lastUsedAt: atOrNull('last_used_at'),
  revokedAt: atOrNull('revoked_at'),
  revokedBy: 'revoked_by',
});

export function apiTokenQuery(db: Queryable) {
  return db('api_tokens').select(apiToken.columns);
}

export const toApiToken = apiToken.toRecord;

export async function findApiToken(db: Queryable, where: { id: number } | { token_hash: string }, lock = false): Promise<ApiToken | undefined> {
  const q = apiTokenQuery(db).where(where);
  if (lock) q.forUpdate();
  const row = (await q.first()) as ApiTokenRow | undefined;
  return row ? toApiToken(row) : undefined;
}

export type { ApiTokenRow, SessionRow };
