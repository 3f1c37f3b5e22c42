import type { Knex } from 'knex';
import type { Actor, Role } from '../auth/actor';
import { grantFor, OPERATIONS, type Operation } from '../auth/permissions';
import { findUser } from '../users/repository';

/**
 * Who is acting and what their role may do, from the one permission table: dashboard pages show
 * only the buttons of `operations` (the services refuse the rest anyway). `own` lists the
 * operations allowed only on records assigned to the actor (or to nobody).
 */
export interface Me {
  user: { id: string; username: string; displayName: string; role: Role } | null;
  role: Role;
  operations: Operation[];
  own: Operation[];
}

export async function me(db: Knex, actor: Actor, _input?: unknown): Promise<Me> {
  const operations = OPERATIONS.filter((op) => grantFor(actor.role, op) !== false);
  const own = OPERATIONS.filter((op) => grantFor(actor.role, op) === 'own');
  if (actor.role === 'system' || !/^\d+$/.test(actor.id)) return { user: null, role: actor.role, operations, own };
  const user = await findUser(db, { id: Number(actor.id) });
  return {
    user: { id: actor.id, username: user?.username ?? actor.name, displayName: user?.displayName ?? actor.name, role: actor.role },
    role: actor.role,
    operations,
    own,
  };
}
