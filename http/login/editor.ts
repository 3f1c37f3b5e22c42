/**
 * The Node-RED editor's `adminAuth`, backed by Toolroom's users (issue 5): the same passwords,
 * every attempt made through core's login (so it is rate-limited, locked out and audited like any
 * other), and each user's editor access: `full` → permissions '*', `read` → 'read', `none` → no
 * login. Node-RED asks for the user again on every admin request (its token names the username):
 * a disabled user, an editor access changed since the login, or a password that must be changed
 * ends the token at once (a 2 s cache keeps a busy editor from a query per request).
 *
 * Node-RED calls `authenticate(username, password)` without the request: `editorAddress` (an
 * express middleware before Node-RED's admin routes) keeps the client's address in an
 * AsyncLocalStorage so the lockout per address and the audit trail name it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Knex } from 'knex';
import { findCredentials } from '../../core/accounts/repository';
import type { AccessPolicy } from '../../core/accounts/policy';
import { withDefaults } from '../../core/accounts/policy';
import { actorOf, login, logout } from '../../core/accounts/sessions';
import { recordAudit } from '../../core/audit/record';
import { inTransaction } from '../../core/db/transaction';
import { ToolroomError } from '../../core/errors';
import { findUser } from '../../core/users/repository';
import type { EditorAccess } from '../../core/users/schema';
import { clientAddress } from '../auth';

export interface EditorUser {
  username: string;
  permissions: '*' | 'read';
}

export const EDITOR_PERMISSIONS: Record<EditorAccess, EditorUser['permissions'] | null> = { full: '*', read: 'read', none: null };

const requestContext = new AsyncLocalStorage<{ address: string; userAgent?: string }>();

/** Keep the client's address for `authenticate` (mount before Node-RED's admin app). */
export function editorAddress(req: IncomingMessage, _res: ServerResponse, next: (err?: unknown) => void): void {
  const ua = req.headers['user-agent'];
  requestContext.run({ address: clientAddress(req), ...(ua ? { userAgent: ua.slice(0, 1000) } : {}) }, () => next());
}

export interface EditorAuthOptions {
  database: () => Promise<Knex>;
  policy?: Partial<AccessPolicy>;
  /** How long a user lookup is reused (default 2000 ms). */
  cacheMs?: number;
  log?: (message: string) => void;
}

/** Node-RED's `adminAuth` setting (type "credentials" with custom users/authenticate). */
export function editorAdminAuth(options: EditorAuthOptions) {
  const cacheMs = options.cacheMs ?? 2000;
  const cache = new Map<string, { at: number; user: EditorUser | null }>();
  // Node-RED checks a request against the scope its token got at login, not the user's permissions
  // now: a token is only good while the user still has what it was granted here (in this process;
  // after a restart, editors log in again).
  const granted = new Map<string, EditorUser['permissions']>();
  const log = options.log ?? ((m: string) => console.warn(`Toolroom: ${m}`));

  /** The editor user for a username, or null (unknown, disabled, no editor access, password to change). */
  async function lookup(username: unknown): Promise<EditorUser | null> {
    if (typeof username !== 'string' || !username) return null;
    const key = username.trim().toLowerCase();
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < cacheMs) return hit.user;
    const db = await options.database();
    const user = await findUser(db, { username: key });
    let out: EditorUser | null = null;
    if (user?.active) {
      const creds = await findCredentials(db, { id: user.id });
      const permissions = EDITOR_PERMISSIONS[user.editorAccess];
      if (permissions && !creds?.must_change_password) out = { username: user.username, permissions };
    }
    if (cache.size > 1000) cache.clear();
    cache.set(key, { at: Date.now(), user: out });
    return out;
  }

  return {
    type: 'credentials' as const,
    // Node-RED's editor token lives as long as a Toolroom session may (its idle timeout does not apply:
    // the editor has no session of ours; disabling the user or removing editor access ends it at once).
    sessionExpiryTime: Math.floor(withDefaults(options.policy).sessionLifetimeMs / 1000),
    async users(username: string): Promise<EditorUser | null> {
      const user = await lookup(username);
      if (!user || granted.get(user.username) !== user.permissions) {
        if (typeof username === 'string') granted.delete(username.trim().toLowerCase());
        return null;
      }
      return user;
    },
    async authenticate(username: unknown, password: unknown): Promise<EditorUser | null> {
      if (typeof username !== 'string' || typeof password !== 'string') return null;
      const context = requestContext.getStore();
      const db = await options.database();
      try {
        const result = await login(
          db,
          { username, password, address: context?.address ?? 'editor', ...(context?.userAgent ? { userAgent: context.userAgent } : {}) },
          new Date(),
          options.policy,
        );
        // The editor keeps Node-RED's own token: the session core opened for this login is not needed.
        await logout(db, result.token);
        cache.delete(result.user.username);
        const permissions = EDITOR_PERMISSIONS[result.user.editorAccess];
        const refused = !permissions ? 'no_editor_access' : result.mustChangePassword ? 'must_change_password' : null;
        if (refused) {
          // The password was right (core audited the login): the trail also says the editor said no, and why.
          await inTransaction(db, (trx) =>
            recordAudit(trx, actorOf(result.user, 'editor'), {
              action: 'editor.login_refused',
              entity: 'user',
              entityId: result.user.id,
              after: { username: result.user.username, reason: refused, editorAccess: result.user.editorAccess },
            }),
          );
          log(`editor login refused for ${result.user.username}: ${refused === 'no_editor_access' ? 'no editor access' : 'the password must be changed first (/toolroom/password)'}`);
          return null;
        }
        granted.set(result.user.username, permissions!);
        return { username: result.user.username, permissions: permissions! };
      } catch (err) {
        if (err instanceof ToolroomError) return null;
        throw err;
      }
    },
  };
}
