import type { Knex } from 'knex';
import { at, recordMapper } from '../db/record';
import type { UserTable } from '../db/tables';
import type { User } from './schema';

type Queryable = Knex | Knex.Transaction;

/** What a user row holds but core never hands out. */
type UserRow = Omit<UserTable, 'password_hash' | 'pin_hash' | 'password_changed_at' | 'must_change_password'>;

const user = recordMapper<UserRow, User>({
  id: 'id',
  username: 'username',
  displayName: 'display_name',
  role: 'role',
  editorAccess: 'editor_access',
  active: 'active',
  createdAt: at('created_at'),
  updatedAt: at('updated_at'),
});

// Named columns, never `*`: the hashes stay in the database.
export function userQuery(db: Queryable) {
  return db('users').select(user.columns);
}

export const toUser = user.toRecord;

export async function findUser(db: Queryable, where: { id: number } | { username: string }, lock = false): Promise<User | undefined> {
  const q = userQuery(db);
  if ('id' in where) q.where('id', where.id);
  else q.where('username', where.username.toLowerCase());
  if (lock) q.forUpdate();
  const row = (await q.first()) as UserRow | undefined;
  return row ? toUser(row) : undefined;
}

/**
 * Whether a user with this id exists (and, with `activeOnly`, may still be given work):
 * for other modules that reference users, e.g. action assignees. Takes an actor-style text id too.
 */
export async function userExists(db: Queryable, id: number | string, opts: { activeOnly?: boolean } = {}): Promise<boolean> {
  const n = typeof id === 'number' ? id : /^\d{1,9}$/.test(id) ? Number(id) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) return false;
  const q = db('users').where('id', n);
  if (opts.activeOnly) q.andWhere('active', true);
  return (await q.first('id')) !== undefined;
}

export type { UserRow };
