import type { Knex } from 'knex';
import { systemActor, type Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { recordAudit } from '../audit/record';
import { inTransaction } from '../db/transaction';
import { forbidden, locked, notFound, validationError } from '../errors';
import { findUser } from '../users/repository';
import { DEFAULT_EDITOR_ACCESS, type User } from '../users/schema';
import { parse } from '../validate';
import { beginAttempt, finishAttempt } from './attempts';
import { withDefaults, type AccessPolicy } from './policy';
import { findCredentials } from './repository';
import { revokeUserAccess } from './revoke';
import { changeOwnPasswordInput, ensureAdminInput, resetPasswordInput, setPasswordInput, setPinInput, type PasswordReset } from './schema';
import { ownUserId } from './sessions';
import { checkPassword, checkPin, generatePassword, hashSecret, normalizeSecret, passwordProblems, verifySecret } from './secrets';

/**
 * An admin sets (resets) a user's password. It is temporary unless `mustChange: false`; every
 * session of that user ends, since a reset usually means the old password got out.
 */
export async function setPassword(db: Knex, actor: Actor, input: unknown, now = new Date()): Promise<User> {
  authorize(actor, 'user.manage');
  const v = parse(setPasswordInput, input);
  const target = await findCredentials(db, { id: v.userId });
  if (!target) throw notFound('user', v.userId, 'userId');
  const passwordHash = await hashSecret(checkPassword(v.password, target.username));
  return inTransaction(db, async (trx) => {
    await trx('users').where('id', v.userId).update({
      password_hash: passwordHash,
      password_changed_at: now,
      must_change_password: v.mustChange,
      updated_at: now,
    });
    const revoked = await revokeUserAccess(trx, v.userId, 'password_reset', actor.id, now);
    await recordAudit(trx, actor, {
      action: 'user.password.set',
      entity: 'user',
      entityId: v.userId,
      after: { username: target.username, mustChange: v.mustChange, ...revoked },
    });
    return (await findUser(trx, { id: v.userId }))!;
  });
}

/** A generated password that passes the password rules for `username`. */
function temporaryPassword(username: string): string {
  let password: string;
  do password = generatePassword();
  while (passwordProblems(password, username).length);
  return password;
}

/**
 * An admin resets a user's password to a generated temporary one, to be changed at the next
 * login (setPassword's rules: their sessions end). The answer carries it, once.
 */
export async function resetPassword(db: Knex, actor: Actor, input: unknown, now = new Date()): Promise<PasswordReset> {
  authorize(actor, 'user.manage');
  const { userId } = parse(resetPasswordInput, input);
  const target = await findCredentials(db, { id: userId });
  if (!target) throw notFound('user', userId, 'userId');
  const password = temporaryPassword(target.username);
  const user = await setPassword(db, actor, { userId, password, mustChange: true }, now);
  return { user, temporaryPassword: password };
}

/** An admin sets a user's shop-floor PIN (4 to 8 digits), or removes it with `pin: null`. */
export async function setPin(db: Knex, actor: Actor, input: unknown, now = new Date()): Promise<User> {
  authorize(actor, 'user.manage');
  const v = parse(setPinInput, input);
  const target = await findCredentials(db, { id: v.userId });
  if (!target) throw notFound('user', v.userId, 'userId');
  const pinHash = v.pin === null ? null : await hashSecret(checkPin(v.pin));
  return inTransaction(db, async (trx) => {
    await trx('users').where('id', v.userId).update({ pin_hash: pinHash, updated_at: now });
    await recordAudit(trx, actor, {
      action: pinHash ? 'user.pin.set' : 'user.pin.clear',
      entity: 'user',
      entityId: v.userId,
      after: { username: target.username },
    });
    return (await findUser(trx, { id: v.userId }))!;
  });
}

/**
 * A user changes their own password, proving the current one. Needs no operation in the table:
 * it only ever acts on the actor's own account. A wrong current password counts as a failed login
 * (a stolen session must not become a way to guess it); the user's other sessions end.
 */
export async function changeOwnPassword(
  db: Knex,
  actor: Actor,
  input: unknown,
  context: { sessionId?: number; address?: string; now?: Date; policy?: Partial<AccessPolicy> } = {},
): Promise<User> {
  const userId = ownUserId(actor);
  if (userId === undefined) throw forbidden('only a logged-in user has a password to change');
  const v = parse(changeOwnPasswordInput, input);
  if (normalizeSecret(v.password) === normalizeSecret(v.currentPassword)) {
    throw validationError([{ field: 'password', rule: 'same_as_current', message: 'must differ from the current password' }]);
  }
  const now = context.now ?? new Date();
  const me = await findCredentials(db, { id: userId });
  if (!me?.active) throw forbidden('no active user behind this actor');
  const password = checkPassword(v.password, me.username);
  const attempt = await beginAttempt(db, { username: me.username, address: context.address ?? 'session', method: 'password' }, now, withDefaults(context.policy));
  const audit = (trx: Knex.Transaction, action: string, after: Record<string, unknown>) =>
    recordAudit(trx, actor, { action, entity: 'user', entityId: userId, after: { username: me.username, ...after } });
  if (attempt.lockedUntil) {
    await inTransaction(db, async (trx) => {
      await finishAttempt(trx, attempt.id, 'locked', userId);
      await audit(trx, 'user.password.change_refused', { reason: 'too_many_failures', attemptId: attempt.id });
    });
    throw locked(attempt.lockedUntil, 'currentPassword');
  }
  if (!(await verifySecret(me.password_hash, v.currentPassword))) {
    await inTransaction(db, async (trx) => {
      await finishAttempt(trx, attempt.id, 'failed', userId);
      await audit(trx, 'user.password.change_refused', { reason: 'wrong_password', attemptId: attempt.id });
    });
    throw validationError([{ field: 'currentPassword', rule: 'wrong_password', message: 'is not your current password' }]);
  }
  const passwordHash = await hashSecret(password);
  return inTransaction(db, async (trx) => {
    await trx('users').where('id', userId).update({
      password_hash: passwordHash,
      password_changed_at: now,
      must_change_password: false,
      updated_at: now,
    });
    await finishAttempt(trx, attempt.id, 'succeeded', userId);
    const revoked = await revokeUserAccess(trx, userId, 'password_changed', actor.id, now, context.sessionId);
    await audit(trx, 'user.password.change', { ...revoked, attemptId: attempt.id });
    return (await findUser(trx, { id: userId }))!;
  });
}

export const FIRST_ADMIN = 'admin';

async function adminCanLogIn(db: Knex | Knex.Transaction): Promise<boolean> {
  return (await db('users').where({ role: 'admin', active: true }).whereNotNull('password_hash').first('id')) !== undefined;
}

/**
 * First start: unless an active admin who can log in exists, make user `admin` one (created, or
 * the existing `admin` restored to an active admin with full editor access) with the given
 * password (TOOLROOM_ADMIN_PASSWORD) or a generated one, returned once for printing and to be
 * changed at first login. Returns null when nothing was needed. Safe for runtimes starting together.
 */
export async function ensureAdmin(
  db: Knex,
  input: unknown = {},
  now = new Date(),
): Promise<{ user: User; generatedPassword: string | null } | null> {
  const v = parse(ensureAdminInput, input);
  if (await adminCanLogIn(db)) return null;
  const generatedPassword = v.password === undefined ? temporaryPassword(FIRST_ADMIN) : null;
  const passwordHash = await hashSecret(checkPassword(v.password ?? generatedPassword!, FIRST_ADMIN));
  const actor = systemActor('first-start');
  return inTransaction(db, async (trx) => {
    // Two runtimes starting at once: the second waits here, then finds the first one's admin.
    await trx.raw('LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE');
    if (await adminCanLogIn(trx)) return null;
    const before = await findUser(trx, { username: FIRST_ADMIN });
    const fields = {
      role: 'admin',
      editor_access: DEFAULT_EDITOR_ACCESS.admin,
      active: true,
      password_hash: passwordHash,
      password_changed_at: now,
      must_change_password: generatedPassword !== null,
      updated_at: now,
    };
    let id: number;
    if (before) {
      id = before.id;
      await trx('users').where('id', id).update(fields);
    } else {
      [{ id }] = await trx('users').insert({ username: FIRST_ADMIN, display_name: 'Administrator', ...fields }).returning('id');
    }
    const user = (await findUser(trx, { id }))!;
    await recordAudit(trx, actor, before
      ? { action: 'user.update', entity: 'user', entityId: id, before, after: user }
      : { action: 'user.create', entity: 'user', entityId: id, after: user });
    await recordAudit(trx, actor, {
      action: 'user.password.set',
      entity: 'user',
      entityId: id,
      after: { username: FIRST_ADMIN, mustChange: generatedPassword !== null, generated: generatedPassword !== null },
    });
    return { user, generatedPassword };
  });
}
