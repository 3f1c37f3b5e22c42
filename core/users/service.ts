import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { recordAudit } from '../audit/record';
import { audited } from '../audit/audited';
import { inTransaction } from '../db/transaction';
import { conflict, notFound } from '../errors';
import { getByKey } from '../records/lookup';
import { parse, type Page } from '../validate';
import { findUser, userQuery, toUser, type UserRow } from './repository';
import { DEFAULT_EDITOR_ACCESS, createUserInput, getUserInput, listUsersInput, updateUserInput, userIdInput, type User } from './schema';
import { containsPattern, listPage } from '../db/page';
import { revokeUserAccess } from '../accounts/revoke';

/** Create a user; editor access follows the role unless given. The password is set with setPassword (core/accounts). */
export async function createUser(db: Knex, actor: Actor, input: unknown): Promise<User> {
  authorize(actor, 'user.manage');
  const v = parse(createUserInput, input);
  return inTransaction(db, async (trx) => {
    const [{ id }] = await trx('users')
      .insert({
        username: v.username,
        display_name: v.displayName,
        role: v.role,
        editor_access: v.editorAccess ?? DEFAULT_EDITOR_ACCESS[v.role],
        active: v.active,
      })
      .returning('id');
    return audited(trx, actor, { action: 'user.create', entity: 'user', entityId: id }, findUser(trx, { id }));
  });
}

/**
 * Change a user's display name, role, editor access or whether they are active.
 * Editor access that was the old role's default follows a role change; a deliberate choice stays.
 * The last active admin can be neither demoted nor deactivated: nobody could manage users after.
 * Deactivating a user ends all their login sessions in the same transaction.
 */
export async function updateUser(db: Knex, actor: Actor, input: unknown): Promise<User> {
  authorize(actor, 'user.manage');
  const v = parse(updateUserInput, input);
  return inTransaction(db, async (trx) => {
    // Lock the active admins first, in one order, so two admins demoting each other at once
    // serialise (and do not deadlock) and cannot both succeed.
    const admins =
      v.role !== undefined || v.active !== undefined
        ? await trx('users').where({ role: 'admin', active: true }).orderBy('id').forUpdate().select('id')
        : [];
    const before = await findUser(trx, { id: v.id }, true);
    if (!before) throw notFound('user', v.id);
    const role = v.role ?? before.role;
    const active = v.active ?? before.active;
    if (before.role === 'admin' && before.active && (role !== 'admin' || !active)) {
      if (admins.length <= 1) {
        const field = role !== 'admin' ? 'role' : 'active';
        throw conflict(`${before.username} is the last active admin`, field, 'keeps_an_admin');
      }
    }
    const editorAccess =
      v.editorAccess ??
      (role !== before.role && before.editorAccess === DEFAULT_EDITOR_ACCESS[before.role]
        ? DEFAULT_EDITOR_ACCESS[role]
        : before.editorAccess);
    await trx('users').where('id', v.id).update({
      display_name: v.displayName ?? before.displayName,
      role,
      editor_access: editorAccess,
      active,
      updated_at: trx.fn.now(),
    });
    const after = (await findUser(trx, { id: v.id }))!;
    await recordAudit(trx, actor, { action: 'user.update', entity: 'user', entityId: v.id, before, after });
    // Disabling a user ends their sessions with the same commit: no request gets through after it.
    if (before.active && !active) {
      const { revokedSessions, revokedTokens } = await revokeUserAccess(trx, v.id, 'user_disabled', actor.id, new Date());
      if (revokedSessions || revokedTokens) {
        await recordAudit(trx, actor, { action: 'session.revoke_all', entity: 'user', entityId: v.id, after: { revoked: revokedSessions, revokedTokens } });
      }
    }
    return after;
  });
}

/** Disable a user: their sessions and API tokens stop at once (updateUser's rules: never the last admin). */
export async function disableUser(db: Knex, actor: Actor, input: unknown): Promise<User> {
  return updateUser(db, actor, { id: parse(userIdInput, input).id, active: false });
}

/** Enable a disabled user again. */
export async function enableUser(db: Knex, actor: Actor, input: unknown): Promise<User> {
  return updateUser(db, actor, { id: parse(userIdInput, input).id, active: true });
}

/** A user by `id` or `username` (case does not matter). */
export async function getUser(db: Knex, actor: Actor, input: unknown): Promise<User> {
  return getByKey(actor, 'user.read', getUserInput, input, 'user', (key) => findUser(db, key));
}

/** Users by role and free text (username, display name), by username; inactive ones only when asked for. */
export async function listUsers(db: Knex, actor: Actor, input: unknown): Promise<Page<User>> {
  return listPage(db, actor, 'user.read', listUsersInput, input, {
    rows: (db) => userQuery(db).orderBy('username'),
    count: (db) => db('users'),
    filter: (q, v) => {
      if (v.role) q.where('role', v.role);
      if (!v.includeInactive) q.where('active', true);
      if (v.q) {
        const pattern = containsPattern(v.q);
        q.where((w) => w.whereRaw('username ILIKE ?', [pattern]).orWhereRaw('display_name ILIKE ?', [pattern]));
      }
    },
    toItems: (list: UserRow[]) => list.map(toUser),
  });
}
