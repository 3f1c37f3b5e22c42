import type { Knex } from 'knex';
import { iso } from '../db/transaction';
import type { UserRole } from '../auth/actor';
import type { ApiToken, LoginMethod, Session } from './schema';

type Queryable = Knex | Knex.Transaction;

/** What login needs of a user, hashes included: read here only, never handed out. */
export interface Credentials {
  id: number;
  username: string;
  role: UserRole;
  active: boolean;
  password_hash: string | null;
  pin_hash: string | null;
  must_change_password: boolean;
}

export async function findCredentials(db: Queryable, where: { id: number } | { username: string }): Promise<Credentials | undefined> {
  return db('users')
    .where(where)
    .first('id', 'username', 'role', 'active', 'password_hash', 'pin_hash', 'must_change_password');
}

interface SessionRow {
  id: number;
  user_id: number;
  method: LoginMethod;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  address: string;
  user_agent: string | null;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

const SESSION_COLUMNS = ['id', 'user_id', 'method', 'created_at', 'last_seen_at', 'expires_at', 'address', 'user_agent', 'revoked_at', 'revoked_reason'];

export function sessionQuery(db: Queryable) {
  return db('sessions').select(SESSION_COLUMNS);
}

export function toSession(row: SessionRow): Session {
  return {
    id: Number(row.id),
    userId: row.user_id,
    method: row.method,
    createdAt: iso(row.created_at)!,
    lastSeenAt: iso(row.last_seen_at)!,
    expiresAt: iso(row.expires_at)!,
    address: row.address,
    userAgent: row.user_agent,
    revokedAt: iso(row.revoked_at),
    revokedReason: row.revoked_reason,
  };
}

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

interface ApiTokenRow {
  id: number;
  user_id: number;
  name: string;
  prefix: string;
  created_at: Date;
  created_by: string;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
}

const TOKEN_COLUMNS = ['id', 'user_id', 'name', 'prefix', 'created_at', 'created_by', 'expires_at', 'last_used_at', 'revoked_at', 'revoked_by'];

export function apiTokenQuery(db: Queryable) {
  return db('api_tokens').select(TOKEN_COLUMNS);
}

export function toApiToken(row: ApiTokenRow): ApiToken {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    prefix: row.prefix,
    createdAt: iso(row.created_at)!,
    createdBy: row.created_by,
    expiresAt: iso(row.expires_at),
    lastUsedAt: iso(row.last_used_at),
    revokedAt: iso(row.revoked_at),
    revokedBy: row.revoked_by,
  };
}

export async function findApiToken(db: Queryable, where: { id: number } | { token_hash: string }, lock = false): Promise<ApiToken | undefined> {
  const q = apiTokenQuery(db).where(where);
  if (lock) q.forUpdate();
  const row = (await q.first()) as ApiTokenRow | undefined;
  return row ? toApiToken(row) : undefined;
}

export type { ApiTokenRow, SessionRow };
