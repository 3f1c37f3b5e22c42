import { z } from 'zod';
import { parse } from '../validate';

export const ROLES = ['technician', 'engineer', 'admin'] as const;
export type UserRole = (typeof ROLES)[number];
/** `system` is a flow acting without a logged-in user: it may do what the flow's author could. */
export type Role = UserRole | 'system';

export interface Actor {
  /** users.id as text, or 'system'. */
  id: string;
  name: string;
  role: Role;
  /** Where the call came from (a Node-RED node id, 'api', 'seed', ...), kept in the audit trail. */
  via?: string;
}

export function systemActor(via?: string): Actor {
  return { id: 'system', name: 'system', role: 'system', via };
}

const userShape = z.object({
  id: z.union([z.string().min(1), z.number().int()]).transform(String),
  username: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
  role: z.enum(ROLES),
});

/**
 * The actor for a user object as adapters receive it (Dashboard 2's `msg._client.user`,
 * `msg.user`, an API session). Anything malformed is a validation error, never a silent system actor.
 */
export function actorFromUser(user: unknown, via?: string): Actor {
  const u = parse(userShape, user);
  return { id: u.id, name: u.username ?? u.name ?? u.id, role: u.role, via };
}
