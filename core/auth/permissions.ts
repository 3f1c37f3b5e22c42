import { forbidden } from '../errors';
import type { Actor, Role } from './actor';

/**
 * Who may do what: the one permission table. Every entry point (Node-RED nodes, the REST API,
 * dashboard pages) reaches it through the core services, which call `authorize` first.
 *
 * `true` = allowed, `'own'` = allowed on records assigned to the actor (or not yet assigned to anyone).
 * Admins and the `system` actor (a flow, written by an editor user) may do everything.
 */
type Grant = boolean | 'own';

const T = true;
const F = false;

export const PERMISSIONS = {
  //                      technician  engineer  admin
  'tool.read':            [T,         T,        T],
  'tool.create':          [T,         T,        T],
  'tool.update':          [T,         T,        T],
  'tool.retire':          [F,         T,        T],
  'press.read':           [T,         T,        T],
  'press.create':         [F,         T,        T],
  'press.update':         [F,         T,        T],
  'mount.read':           [T,         T,        T],
  'mount.mount':          [T,         T,        T],
  'mount.unmount':        [T,         T,        T],
  'pm.read':              [T,         T,        T],
  'pm.plan.create':       [F,         T,        T],
  'pm.plan.update':       [F,         T,        T],
  'pm.record':            [T,         T,        T],
  'inspection.read':      [T,         T,        T],
  'inspection.record':    [T,         T,        T],
  'template.manage':      [F,         T,        T],
  'failure.read':         [T,         T,        T],
  'failure.report':       [T,         T,        T],
  'failure.triage':       [F,         T,        T],
  'catalog.manage':       [F,         T,        T],
  'action.read':          [T,         T,        T],
  'action.create':        [F,         T,        T],
  'action.assign':        [F,         T,        T],
  'action.start':         ['own',     T,        T],
  'action.complete':      ['own',     T,        T],
  'action.verify':        [F,         T,        T],
  'action.cancel':        [F,         T,        T],
  // Photos are evidence: everyone adds and annotates them; withdrawing one (soft, with the reason) is a judgement.
  'photo.read':           [T,         T,        T],
  'photo.add':            [T,         T,        T],
  'photo.annotate':       [T,         T,        T],
  'photo.withdraw':       [F,         T,        T],
  'shot.record':          [T,         T,        T],
  'shot.review':          [F,         T,        T],
  'user.read':            [F,         F,        T],
  'user.manage':          [F,         F,        T],
  'audit.read':           [F,         F,        T],
  'backup.create':        [F,         F,        T],
  'retention.manage':     [F,         F,        T],
  // Analytics (issue 11): KPIs and table exports for engineers; a tool's history and QR labels for everyone.
  'kpi.read':             [F,         T,        T],
  'report.export':        [F,         T,        T],
  'report.tool':          [T,         T,        T],
  // Everyone manages their own API tokens and logged-in sessions; admins everyone's.
  'token.manage':         ['own',     'own',    T],
  'session.manage':       ['own',     'own',    T],
  // Notifications (issue 13): one's own settings (admins anyone's) and inbox (only ever the caller's own,
  // admins included: core/notifications/inbox.ts); admins (and flows) raise system events such as backup.failed.
  'notification.read':    ['own',     'own',    T],
  'notification.settings': ['own',    'own',    T],
  'notification.raise':   [F,         F,        T],
} as const satisfies Record<string, readonly [Grant, Grant, Grant]>;

export type Operation = keyof typeof PERMISSIONS;
export const OPERATIONS = Object.keys(PERMISSIONS) as Operation[];

export function grantFor(role: Role, operation: Operation): Grant {
  if (role === 'system') return true;
  const row: readonly Grant[] = PERMISSIONS[operation];
  return row[role === 'technician' ? 0 : role === 'engineer' ? 1 : 2];
}

export function can(actor: Actor, operation: Operation): boolean {
  return grantFor(actor.role, operation) !== false;
}

/**
 * Throw `forbidden` unless the actor may do the operation. For `'own'` grants pass the record's
 * owner (assignee user id, or null when unassigned); without it an `'own'` grant is refused.
 */
export function authorize(actor: Actor, operation: Operation, owner?: { ownerId: string | null }): void {
  const grant = grantFor(actor.role, operation);
  if (grant === true) return;
  if (grant === 'own' && owner && (owner.ownerId === null || owner.ownerId === actor.id)) return;
  const what = grant === 'own' ? `${operation} on a record assigned to someone else` : operation;
  throw forbidden(`role ${actor.role} may not ${what}`);
}
