import type { Actor, UserRole } from '../../core/auth/actor';
import type { Db } from '../../core/db/connect';
import { updateNotificationSettings } from '../../core/notifications/settings';
import type { Delivery, Transport } from '../../core/notifications/delivery';
import { createUser } from '../../core/users/service';
import { admin } from './actors';

/** Users who receive notifications: real rows (the fan-out reads the users table), with actors for their calls. */
export interface Person {
  id: number;
  username: string;
  email: string;
  actor: Actor;
}

export async function createPerson(db: Db, username: string, role: UserRole, settings: Record<string, unknown> = {}): Promise<Person> {
  const user = await createUser(db, admin, { username, displayName: username, role });
  const actor: Actor = { id: String(user.id), name: username, role, via: 'test' };
  const email = `${username}@plant.example`;
  await updateNotificationSettings(db, actor, { email, ...settings });
  return { id: user.id, username, email, actor };
}

/** A transport that keeps what it was given (and fails while `failing` is set). */
export function collecting(): Transport & { got: Delivery[]; failing: Error | null } {
  const t = {
    got: [] as Delivery[],
    failing: null as Error | null,
    async send(d: Delivery) {
      if (t.failing) throw t.failing;
      t.got.push(d);
    },
  };
  return t;
}
