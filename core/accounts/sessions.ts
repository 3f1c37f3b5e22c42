import type { Knex } from 'knex';
import { systemActor, type Actor } from '../auth/actor';
import { authorize, can, type Operation } from '../auth/permissions';
import { recordAudit } from '../audit/record';
import { inTransaction } from '../db/transaction';
import { locked, notFound, unauthenticated, validationError } from '../errors';
import { findUser } from '../users/repository';
import type { User } from '../users/schema';
import { parse } from '../validate';
import { beginAttempt, finishAttempt, pruneAttempts, type LockScope } from './attempts';
import { withDefaults, type AccessPolicy } from './policy';
import { findCredentials, findSession, revokeUserSessions, sessionQuery, toSession, type SessionRow } from './repository';
import { loginInput, userSessionsInput, type LoginResult, type Session } from './schema';
import { randomToken, sha256, verifySecret } from './secrets';

/** The actor a logged-in user acts as. */
export function actorOf(user: Pick<User, 'id' | 'username' | 'role'>, via?: string): Actor {
  return { id: String(user.id), name: user.username, role: user.role, via };
}

/** The user's own id when the actor is a person (not a flow). */
export function ownUserId(actor: Actor): number | undefined {
  return /^[1-9]\d{0,9}$/.test(actor.id) ? Number(actor.id) : undefined;
}

/** For 'own'-granted operations: refuse a role without any grant before reading the input. */
export function authorizeSome(actor: Actor, operation: Operation): void {
  if (!can(actor, operation)) authorize(actor, operation);
}

/**
 * The user an 'own'-granted operation is about: the given one, or the actor themself. Refuses
 * someone else's unless the actor's role may act on everyone's.
 */
export function targetUserId(actor: Actor, operation: Operation, userId: number | undefined): number {
  const id = userId ?? ownUserId(actor);
  if (id === undefined) throw validationError([{ field: 'userId', rule: 'required', message: 'name the user' }]);
  authorize(actor, operation, { ownerId: String(id) });
  return id;
}

// Audit events of a login come from the login service itself: a failed attempt has no person to
// name (the username typed is in the event), and the person's own events follow once logged in.
const loginService = systemActor('login');

const INVALID = 'unknown username or wrong password';

/**
 * A locked attempt costs no hash, so it must not cost an audit event either (else anyone could
 * flood the trail): the first one of a lock (per username and address) is audited, later ones are
 * only counted in login_attempts and reported as `lockedAttempts` with the next successful login.
 * A lock on the username everywhere (guesses from many addresses) is also audited once as
 * `security.account_attacked`, the admins' notice.
 */
async function concludeLocked(
  db: Knex,
  attempt: { id: number; lockedUntil: Date | null; lockedBy: LockScope | null },
  event: { username: string; address: string; method: string; userAgent: string | null },
  now: Date,
  policy: AccessPolicy,
): Promise<void> {
  const lockStart = new Date(attempt.lockedUntil!.getTime() - policy.lockoutWindowMs);
  await inTransaction(db, async (trx) => {
    await finishAttempt(trx, attempt.id, 'locked', null);
    // The same lock: the username and address, the username anywhere, or the address for any username.
    const scope = attempt.lockedBy === 'address' ? { address: event.address } : attempt.lockedBy === 'username' ? { username: event.username } : { username: event.username, address: event.address };
    const earlier = await trx('login_attempts')
      .where({ ...scope, outcome: 'locked' })
      .where('at', '>=', lockStart)
      .where('at', '<=', now)
      .whereNot('id', attempt.id)
      .first('id');
    if (earlier) return;
    await recordAudit(trx, loginService, {
      action: 'login.locked',
      entity: 'login_attempt',
      entityId: attempt.id,
      after: { ...event, userId: null, reason: 'too_many_failures', lockedBy: attempt.lockedBy, lockedUntil: attempt.lockedUntil!.toISOString() },
    });
    if (attempt.lockedBy === 'username') {
      await recordAudit(trx, loginService, {
        action: 'security.account_attacked',
        entity: 'user',
        entityId: event.username,
        after: { username: event.username, lockedUntil: attempt.lockedUntil!.toISOString(), lastAddress: event.address },
      });
    }
  });
}

/**
 * Log in with username and password (or PIN): a new session whose random token the caller keeps
 * (as an HttpOnly cookie); only its SHA-256 is stored. Every attempt is audited, never the secret.
 * Unknown user, wrong secret and no secret set give one answer in one time; too many failures for
 * the username or from the address give `locked` until they leave the window; a disabled user
 * with the right secret is told so.
 */
export async function login(db: Knex, input: unknown, now = new Date(), policy?: Partial<AccessPolicy>): Promise<LoginResult> {
  const p = withDefaults(policy);
  const v = parse(loginInput, input);
  const method = v.pin !== undefined ? 'pin' : 'password';
  const secret = (v.pin ?? v.password)!;
  const attempt = await beginAttempt(db, { username: v.username, address: v.address, method }, now, p);
  const event = { username: v.username, method, address: v.address, userAgent: v.userAgent ?? null };

  const conclude = async (outcome: 'failed' | 'locked' | 'refused', userId: number | null, reason: string) =>
    inTransaction(db, async (trx) => {
      await finishAttempt(trx, attempt.id, outcome, userId);
      await recordAudit(trx, loginService, {
        action: `login.${outcome}`,
        entity: 'login_attempt',
        entityId: attempt.id,
        after: { ...event, userId, reason },
      });
    });

  if (attempt.lockedUntil) {
    await concludeLocked(db, attempt, event, now, p);
    throw locked(attempt.lockedUntil);
  }
  const creds = await findCredentials(db, { username: v.username });
  const ok = await verifySecret(method === 'pin' ? creds?.pin_hash : creds?.password_hash, secret);
  if (!creds || !ok) {
    await conclude('failed', creds?.id ?? null, !creds ? 'unknown_user' : method === 'pin' && !creds.pin_hash ? 'no_pin' : `wrong_${method}`);
    throw unauthenticated('invalid_credentials', method === 'pin' ? 'unknown username or wrong PIN' : INVALID);
  }
  if (!creds.active) {
    await conclude('refused', creds.id, 'disabled');
    throw unauthenticated('disabled', 'this account is disabled: ask an admin');
  }

  const token = randomToken();
  return inTransaction(db, async (trx) => {
    const [{ id }] = await trx('sessions')
      .insert({
        user_id: creds.id,
        token_hash: sha256(token),
        method,
        created_at: now,
        last_seen_at: now,
        expires_at: new Date(now.getTime() + p.sessionLifetimeMs),
        address: v.address,
        user_agent: v.userAgent ?? null,
      })
      .returning('id');
    const session = (await findSession(trx, { id: Number(id) }))!;
    const user = (await findUser(trx, { id: creds.id }))!;
    await finishAttempt(trx, attempt.id, 'succeeded', creds.id);
    // Locked attempts since the username's last success were counted, not each audited: say how many.
    const previous = await trx('login_attempts').where({ username: v.username, outcome: 'succeeded' }).whereNot('id', attempt.id).max({ id: 'id' }).first();
    const locked = await trx('login_attempts')
      .where({ username: v.username, outcome: 'locked' })
      .where('id', '>', Number(previous?.id ?? 0))
      .count<{ n: string }[]>({ n: '*' });
    await recordAudit(trx, actorOf(user, 'login'), {
      action: 'login.succeeded',
      entity: 'login_attempt',
      entityId: attempt.id,
      after: { ...event, userId: user.id, sessionId: session.id, expiresAt: session.expiresAt, lockedAttempts: Number(locked[0].n) },
    });
    await pruneAttempts(trx, now);
    return { token, user, session, expiresAt: session.expiresAt, mustChangePassword: creds.must_change_password };
  });
}

/** A session token's shape (43 base64url characters), checked before it reaches the database. */
const SESSION_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The user and session behind a session token, or `forbidden` with rule `invalid_token`, `expired`
 * (unused for the idle timeout, or past the absolute lifetime), `revoked` or `disabled`. Re-reads
 * the user every time, so a role change or a disabled account takes effect at the next request.
 * Notes the use at most once per touch interval.
 */
export async function authenticateSession(
  db: Knex,
  token: unknown,
  now = new Date(),
  policy?: Partial<AccessPolicy>,
): Promise<{ user: User; session: Session }> {
  const p = withDefaults(policy);
  if (typeof token !== 'string' || !SESSION_TOKEN.test(token)) throw unauthenticated('invalid_token', 'not a session token', 'token');
  const session = await findSession(db, { token_hash: sha256(token) });
  if (!session) throw unauthenticated('invalid_token', 'no such session: log in', 'token');
  if (session.revokedAt) throw unauthenticated('revoked', `the session ended (${session.revokedReason}): log in again`, 'token');
  if (now.getTime() >= Date.parse(session.expiresAt)) throw unauthenticated('expired', 'the session reached its lifetime: log in again', 'token');
  const lastSeen = Date.parse(session.lastSeenAt);
  if (now.getTime() - lastSeen >= p.idleTimeoutMs) {
    // Ended for good: a later request within a longer idle setting must not bring it back.
    await db('sessions').where('id', session.id).whereNull('revoked_at').update({ revoked_at: now, revoked_reason: 'idle_timeout' });
    throw unauthenticated('expired', 'the session was unused for too long: log in again', 'token');
  }
  const user = await findUser(db, { id: session.userId });
  if (!user?.active) throw unauthenticated('disabled', 'this account is disabled', 'token');
  if (now.getTime() - lastSeen >= p.touchIntervalMs) {
    await db('sessions').where('id', session.id).where('last_seen_at', '<', now).update({ last_seen_at: now });
    session.lastSeenAt = now.toISOString();
  }
  return { user, session };
}

/** End the session of this token (logout). An unknown or already ended session is not an error. */
export async function logout(db: Knex, token: unknown, now = new Date()): Promise<void> {
  if (typeof token !== 'string' || !SESSION_TOKEN.test(token)) return;
  await inTransaction(db, async (trx) => {
    const ended = await trx('sessions')
      .where('token_hash', sha256(token))
      .whereNull('revoked_at')
      .update({ revoked_at: now, revoked_reason: 'logout' })
      .returning(['id', 'user_id']);
    if (!ended.length) return;
    const user = await findUser(trx, { id: ended[0].user_id });
    const actor = user ? actorOf(user, 'logout') : systemActor('logout');
    await recordAudit(trx, actor, { action: 'session.logout', entity: 'session', entityId: Number(ended[0].id) });
  });
}

/** A user's open sessions (not ended, within their lifetime), newest first: one's own, or anyone's for admins. */
export async function listSessions(db: Knex, actor: Actor, input: unknown, now = new Date()): Promise<Session[]> {
  authorizeSome(actor, 'session.manage');
  const v = parse(userSessionsInput, input);
  const userId = targetUserId(actor, 'session.manage', v.userId);
  const rows = (await sessionQuery(db)
    .where('user_id', userId)
    .whereNull('revoked_at')
    .where('expires_at', '>', now)
    .orderBy('id', 'desc')) as SessionRow[];
  return rows.map(toSession);
}

/** Log a user out everywhere: one's own sessions, or anyone's for admins. Returns how many ended. */
export async function revokeAllSessions(db: Knex, actor: Actor, input: unknown, now = new Date()): Promise<{ revoked: number }> {
  authorizeSome(actor, 'session.manage');
  const v = parse(userSessionsInput, input);
  const userId = targetUserId(actor, 'session.manage', v.userId);
  return inTransaction(db, async (trx) => {
    if (!(await findCredentials(trx, { id: userId }))) throw notFound('user', userId, 'userId');
    const revoked = await revokeUserSessions(trx, userId, 'revoked', now);
    await recordAudit(trx, actor, { action: 'session.revoke_all', entity: 'user', entityId: userId, after: { revoked } });
    return { revoked };
  });
}
