import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { grantFor } from '../auth/permissions';
import { recordAudit } from '../audit/record';
import { audited } from '../audit/audited';
import { fetchPage } from '../db/page';
import { inTransaction } from '../db/transaction';
import { conflict, notFound, unauthenticated, validationError } from '../errors';
import { findUser } from '../users/repository';
import type { User } from '../users/schema';
import { parse, type Page } from '../validate';
import { withDefaults, type AccessPolicy } from './policy';
import { apiTokenQuery, findApiToken, toApiToken, type ApiTokenRow } from './repository';
import { createApiTokenInput, listApiTokensInput, revokeApiTokenInput, type ApiToken } from './schema';
import { authorizeSome, targetUserId } from './sessions';
import { randomToken, sha256 } from './secrets';

/** API tokens start with this, so a leaked one is recognisable (secret scanners, logs). */
export const API_TOKEN_PREFIX = 'toolroom_';
const API_TOKEN = /^toolroom_[A-Za-z0-9_-]{43}$/;

/**
 * A new API token for an MES/ERP integration, acting as `userId` (default: the actor) with that
 * user's role. The secret is returned once, here; only its SHA-256 and a short prefix are stored.
 */
export async function createApiToken(
  db: Knex,
  actor: Actor,
  input: unknown,
  now = new Date(),
): Promise<{ token: ApiToken; secret: string }> {
  authorizeSome(actor, 'token.manage');
  const v = parse(createApiTokenInput, input);
  const userId = targetUserId(actor, 'token.manage', v.userId);
  if (v.expiresAt && v.expiresAt <= now) {
    throw validationError([{ field: 'expiresAt', rule: 'in_future', message: 'must be in the future' }]);
  }
  const secret = API_TOKEN_PREFIX + randomToken();
  return inTransaction(db, async (trx) => {
    const user = await findUser(trx, { id: userId });
    if (!user) throw notFound('user', userId, 'userId');
    if (!user.active) throw conflict(`user ${user.username} is not active`, 'userId', 'active');
    const [{ id }] = await trx('api_tokens')
      .insert({
        user_id: userId,
        name: v.name,
        prefix: secret.slice(0, API_TOKEN_PREFIX.length + 6),
        token_hash: sha256(secret),
        created_at: now,
        created_by: actor.id,
        expires_at: v.expiresAt ?? null,
      })
      .returning('id');
    const token = (await findApiToken(trx, { id }))!;
    await recordAudit(trx, actor, { action: 'token.create', entity: 'api_token', entityId: id, after: token });
    return { token, secret };
  });
}

/** API tokens, newest first: one's own, a given user's (admins), or everyone's (admins, no userId). */
export async function listApiTokens(db: Knex, actor: Actor, input: unknown): Promise<Page<ApiToken>> {
  authorizeSome(actor, 'token.manage');
  const v = parse(listApiTokensInput, input);
  const everyone = v.userId === undefined && grantFor(actor.role, 'token.manage') === true;
  const userId = everyone ? undefined : targetUserId(actor, 'token.manage', v.userId);
  const filter = (q: Knex.QueryBuilder) => {
    if (userId !== undefined) q.where('user_id', userId);
    if (!v.includeRevoked) q.whereNull('revoked_at');
    return q;
  };
  return fetchPage(filter(apiTokenQuery(db)).orderBy('id', 'desc'), filter(db('api_tokens')), v, (rows: ApiTokenRow[]) =>
    rows.map(toApiToken),
  );
}

/** Revoke an API token (one's own, or anyone's for admins): it stops working at once. Revoking twice changes nothing. */
export async function revokeApiToken(db: Knex, actor: Actor, input: unknown, now = new Date()): Promise<ApiToken> {
  authorizeSome(actor, 'token.manage');
  const v = parse(revokeApiTokenInput, input);
  return inTransaction(db, async (trx) => {
    const before = await findApiToken(trx, { id: v.id }, true);
    if (!before) throw notFound('API token', v.id);
    targetUserId(actor, 'token.manage', before.userId);
    if (before.revokedAt) return before;
    await trx('api_tokens').where('id', v.id).update({ revoked_at: now, revoked_by: actor.id });
    return audited(trx, actor, { action: 'token.revoke', entity: 'api_token', entityId: v.id, before }, findApiToken(trx, { id: v.id }));
  });
}

/**
 * The user and token behind an API token, or `forbidden` with rule `invalid_token`, `revoked`,
 * `expired` or `disabled` (the user is). Notes the use at most once per touch interval.
 */
export async function authenticateApiToken(
  db: Knex,
  secret: unknown,
  now = new Date(),
  policy?: Partial<AccessPolicy>,
): Promise<{ user: User; token: ApiToken }> {
  if (typeof secret !== 'string' || !API_TOKEN.test(secret)) throw unauthenticated('invalid_token', 'not an API token', 'token');
  const token = await findApiToken(db, { token_hash: sha256(secret) });
  if (!token) throw unauthenticated('invalid_token', 'no such API token', 'token');
  if (token.revokedAt) throw unauthenticated('revoked', 'this API token was revoked', 'token');
  if (token.expiresAt && now.getTime() >= Date.parse(token.expiresAt)) throw unauthenticated('expired', 'this API token has expired', 'token');
  const user = await findUser(db, { id: token.userId });
  if (!user?.active) throw unauthenticated('disabled', "the token's user is disabled", 'token');
  const { touchIntervalMs } = withDefaults(policy);
  if (!token.lastUsedAt || now.getTime() - Date.parse(token.lastUsedAt) >= touchIntervalMs) {
    await db('api_tokens').where('id', token.id).update({ last_used_at: now });
    token.lastUsedAt = now.toISOString();
  }
  return { user, token };
}
