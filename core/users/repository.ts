import type { Knex } from 'knex';
import type { UserRole } from '../auth/actor';
import { iso } from '../db/transaction';
import type { EditorAccess, User } from './schema';

type Queryable = Knex | Knex.Transaction;

interface UserRow {
  id: number;
  username: string;
  display_name: string;
  role: UserRole;
  editor_access: EditorAccess;
  active: boolean;
  created_at: Date;
  updated_at: Date;
}

// Named columns, never `*`: the hashes stay in the database.
const COLUMNS = ['id', 'username', 'display_name', 'role', 'editor_access', 'active', 'created_at', 'updated_at'];

export function userQuery(db: Queryable) {
  return db('users').select(COLUMNS);
}

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    role: row.role,
    editorAccess: row.editor_access,
    active: row.active,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
  };
}

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
