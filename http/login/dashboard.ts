/**
 * Login for Dashboard 2 (issue 5): its `dashboard.middleware` (pages need a session, else the
 * login page), its `dashboard.ioMiddleware` (a socket needs a session, else it is refused) and the
 * hooks of the Toolroom Dashboard 2 plugin (nodes/toolroom-dashboard-auth.ts), which put the
 * socket's user into every message as msg._client.user — whatever the browser sent.
 *
 * A socket's session is re-checked at most every `checkIntervalMs` (default 5 s) by one sweep over
 * the open sockets (a query per session, not per message): a session that ended (logout, a
 * disabled user, the idle timeout or lifetime, a password reset) stops the socket's messages at
 * once where this process knows of it (logout here), else at the next sweep, and the socket is
 * disconnected. A socket whose last good check is older than three intervals (the database is
 * unreachable) has its messages dropped too: it fails closed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Knex } from 'knex';
import { authenticateSession } from '../../core/accounts/sessions';
import { findCredentials } from '../../core/accounts/repository';
import type { AccessPolicy } from '../../core/accounts/policy';
import { recordAudit } from '../../core/audit/record';
import { inTransaction } from '../../core/db/transaction';
import { actorOf } from '../../core/accounts/sessions';
import { ToolroomError, unauthenticated } from '../../core/errors';
import type { User } from '../../core/users/schema';
import { callerOf, cookieValue, SESSION_COOKIE } from '../auth';
import { LOGIN_PATH, PASSWORD_PATH } from './login';
import { sendProblem } from '../problem';

/** What a message's msg._client.user is: who the socket's session belongs to. */
export interface ClientUser {
  id: string;
  username: string;
  role: User['role'];
  displayName: string;
}

/** The parts of a socket.io socket used here. */
export interface SocketLike {
  id: string;
  request: IncomingMessage;
  disconnect(close?: boolean): unknown;
  emit(event: string, ...args: unknown[]): unknown;
}

interface SocketState {
  socket: SocketLike;
  token: string;
  sessionId: number;
  user: ClientUser;
  /** Last time the session was found valid. */
  checkedAt: number;
  ended: boolean;
  /** A message came from this socket since the last check (the session was in use). */
  active: boolean;
}

export interface DashboardAuthOptions {
  database: () => Promise<Knex>;
  policy?: Partial<AccessPolicy>;
  /** How often open sockets' sessions are re-checked (default 5000 ms). */
  checkIntervalMs?: number;
  /** The dashboard's path (default /dashboard). */
  dashboardPath?: string;
  log?: (message: string) => void;
}

export interface DashboardHooks {
  onAddConnectionCredentials(conn: SocketLike, msg: Record<string, unknown>): Record<string, unknown>;
  onIsValidConnection(conn: SocketLike, msg: Record<string, unknown>): boolean;
  onInput(msg: Record<string, unknown>): Record<string, unknown> | null;
  onAction(conn: SocketLike, id: string, msg: unknown): unknown;
  onChange(conn: SocketLike, id: string, msg: unknown): unknown;
  onSend(conn: SocketLike, id: string, msg: unknown): unknown;
  onLoad(conn: SocketLike, id: string, msg: unknown, state?: unknown): unknown;
}

export interface DashboardAuth {
  middleware: (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: (err?: unknown) => void) => void;
  ioMiddleware: (socket: SocketLike, next: (err?: Error) => void) => void;
  hooks: DashboardHooks;
  /** End every socket on this session now (logout in this process). */
  endSession(sessionToken: string): void;
  /** Re-check every open socket's session now (also run every checkIntervalMs). */
  sweep(): Promise<void>;
  /** How many sockets hold a live session. */
  openSockets(): number;
  close(): void;
}

/**
 * The identity a browser claimed in a message (msg._client.user or msg.user) when it is not the
 * session's user: undefined when it named none or itself (a page re-sending a message it got).
 */
function forgedIdentity(msg: unknown, userId: string): unknown {
  if (typeof msg !== 'object' || msg === null) return undefined;
  const m = msg as Record<string, unknown>;
  const client = m._client as Record<string, unknown> | undefined;
  for (const claimed of [typeof client === 'object' && client !== null ? client.user : undefined, m.user]) {
    if (claimed === undefined) continue;
    const id = typeof claimed === 'object' && claimed !== null ? (claimed as { id?: unknown }).id : undefined;
    if (id === undefined || String(id) !== userId) return claimed;
  }
  return undefined;
}

export function clientUser(user: Pick<User, 'id' | 'username' | 'role' | 'displayName'>): ClientUser {
  return { id: String(user.id), username: user.username, role: user.role, displayName: user.displayName };
}

/** Dashboard 2's `/_debug/...` routes, in whatever case or percent-encoding a request spells them. */
export function isDebugPath(url: string): boolean {
  const pathname = url.split('?')[0];
  let decoded = pathname;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    // A malformed escape is no route of Dashboard 2's; the raw form is checked below.
  }
  return [pathname, decoded].some((p) => /\/_debug(\/|$)/i.test(p));
}

/**
 * A socket's handshake comes from a page of this site: its Origin (always sent on a WebSocket, and on
 * cross-site requests) names the host the request came to; no Origin is a same-origin polling request.
 * This is what keeps another site's page from opening a socket with the user's cookie (cross-site
 * WebSocket hijacking): socket.io's own `xdomain` is true for every WebSocket, so it cannot tell.
 */
export function sameOriginSocket(headers: IncomingMessage['headers']): boolean {
  const origin = headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === headers.host;
  } catch {
    return false;
  }
}

export function createDashboardAuth(options: DashboardAuthOptions): DashboardAuth {
  const interval = options.checkIntervalMs ?? 5000;
  const dashboardPath = options.dashboardPath ?? '/dashboard';
  const log = options.log ?? ((m: string) => console.warn(`Toolroom: ${m}`));
  const sockets = new Map<string, SocketState>();
  /** Forged identities audited per socket, at most one event a minute each. */
  const forgeryAudited = new Map<string, number>();

  const stateOf = (conn: SocketLike | undefined) => (conn ? sockets.get(conn.id) : undefined);
  const live = (s: SocketState | undefined): s is SocketState => !!s && !s.ended && Date.now() - s.checkedAt <= 3 * interval;

  function end(s: SocketState, why: string) {
    if (s.ended) return;
    s.ended = true;
    sockets.delete(s.socket.id);
    forgeryAudited.delete(s.socket.id);
    try {
      s.socket.emit('toolroom-session-ended', { reason: why, login: LOGIN_PATH });
      s.socket.disconnect(true);
    } catch {
      // already gone
    }
  }

  async function sweep(): Promise<void> {
    if (!sockets.size) return;
    const db = await options.database();
    const byToken = new Map<string, SocketState[]>();
    for (const s of sockets.values()) byToken.set(s.token, [...(byToken.get(s.token) ?? []), s]);
    for (const [token, states] of byToken) {
      const active = states.some((s) => s.active);
      // An open but unused page must not keep its session alive: only use (a message) touches it.
      const policy = active ? options.policy : { ...options.policy, touchIntervalMs: Number.POSITIVE_INFINITY };
      try {
        const { user } = await authenticateSession(db, token, new Date(), policy);
        const now = Date.now();
        for (const s of states) {
          s.user = clientUser(user);
          s.checkedAt = now;
          s.active = false;
        }
      } catch (err) {
        if (err instanceof ToolroomError && err.code === 'unauthenticated') {
          for (const s of states) end(s, err.cause.details[0]?.rule ?? 'ended');
        } else {
          // The database is away: keep the state; messages stop once the last check is too old.
          log(`dashboard session check failed: ${(err as Error).message}`);
        }
      }
    }
  }

  let sweeping: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = sweep()
      .catch((err: Error) => log(`dashboard session check failed: ${err.message}`))
      .finally(() => (sweeping = null));
  }, interval);
  timer.unref();

  /** A message from a browser: dropped unless the socket's session is live; a forged identity is audited. */
  function fromBrowser(conn: SocketLike, msg: unknown, browserMessage = true): unknown {
    const s = stateOf(conn);
    if (!live(s)) {
      if (s) end(s, 'unchecked');
      else {
        try {
          conn.disconnect(true);
        } catch {
          // already gone
        }
      }
      return null;
    }
    // A background poll (the header's unread count, msg.passive) is not use: it must not keep an idle
    // session alive. A browser setting it only lets its own session end sooner.
    const passive = typeof msg === 'object' && msg !== null && (msg as { passive?: unknown }).passive === true;
    if (!passive) s.active = true;
    const claimed = browserMessage ? forgedIdentity(msg, s.user.id) : undefined;
    if (claimed !== undefined) {
      const last = forgeryAudited.get(conn.id) ?? 0;
      if (Date.now() - last > 60_000) {
        forgeryAudited.set(conn.id, Date.now());
        const actor = actorOf({ id: Number(s.user.id), username: s.user.username, role: s.user.role }, 'dashboard');
        void options
          .database()
          .then((db) =>
            inTransaction(db, (trx) => recordAudit(trx, actor, {
              action: 'dashboard.identity_forged',
              entity: 'session',
              entityId: s.sessionId,
              after: { claimed: JSON.stringify(claimed ?? null).slice(0, 500), socketId: conn.id },
            })),
          )
          .catch((err: Error) => log(`audit of a forged dashboard identity failed: ${err.message}`));
      }
    }
    // The session says who this is, here too: onAddConnectionCredentials runs only while ui-base's
    // includeClientData is on, and an editor may turn it off. (Dashboard adds socketId after this.)
    if (msg && typeof msg === 'object' && !Array.isArray(msg)) {
      const m = msg as Record<string, unknown>;
      delete m.user;
      m._client = { user: { ...s.user } };
    }
    return msg;
  }

  const hooks: DashboardHooks = {
    onAddConnectionCredentials(conn, msg) {
      const s = stateOf(conn);
      // Whatever the browser put into _client or user goes: the session says who this is.
      delete msg.user;
      msg._client = live(s) ? { user: { ...s.user } } : {};
      return msg;
    },
    onIsValidConnection(conn) {
      // Nothing reaches a socket whose session ended (or was never there).
      return live(stateOf(conn));
    },
    onInput(msg) {
      // A message addressed to one browser whose session has ended is not shown to it.
      const socketId = (msg?._client as { socketId?: unknown } | undefined)?.socketId;
      if (typeof socketId !== 'string') return msg;
      const s = sockets.get(socketId);
      return live(s) ? msg : null;
    },
    onAction: (conn, _id, msg) => fromBrowser(conn, msg),
    // widget-change: the message is the widget's last one kept by Dashboard (the browser sends only a value).
    onChange: (conn, _id, msg) => fromBrowser(conn, msg, false),
    onSend: (conn, _id, msg) => fromBrowser(conn, msg),
    // A page (re)loading its widgets is use of the session; an ended one gets nothing.
    onLoad(conn, _id, msg) {
      const s = stateOf(conn);
      if (!live(s)) return null;
      s.active = true;
      return msg;
    },
  };

  // A page load is a dozen requests (the page, its scripts, styles, fonts): a session found good
  // is taken as good for 2 s, not looked up for each.
  const goodSessions = new Map<string, number>();
  const middleware: DashboardAuth['middleware'] = (req, res, next) => {
    const original = req.originalUrl ?? req.url ?? dashboardPath;
    // Dashboard 2's debug endpoints hand out any widget's last message (other users' included).
    // Matched as Express routes them: any letter case (Express is case-insensitive), encoded or not.
    if (isDebugPath(original)) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      return res.end('Not found');
    }
    const token = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (token && req.method === 'GET' && (goodSessions.get(token) ?? 0) > Date.now() && !req.headers.authorization) return next();
    (async () => {
      const db = await options.database();
      const caller = await callerOf(db, req, options.policy).catch((err: unknown) => {
        if (err instanceof ToolroomError && err.code === 'unauthenticated') return null;
        throw err;
      });
      const isData = /\/_setup\b/.test(original) || req.method !== 'GET';
      if (!caller || caller.via !== 'session') {
        if (isData) return sendProblem(res, unauthenticated('unauthenticated', 'log in first'), original);
        res.writeHead(302, { Location: `${LOGIN_PATH}?next=${encodeURIComponent(original)}`, 'Cache-Control': 'no-store' });
        return res.end();
      }
      const creds = await findCredentials(db, { id: caller.user.id });
      if (creds?.must_change_password) {
        if (isData) return sendProblem(res, unauthenticated('unauthenticated', 'choose a new password first'), original);
        res.writeHead(302, { Location: `${PASSWORD_PATH}?next=${encodeURIComponent(original)}`, 'Cache-Control': 'no-store' });
        return res.end();
      }
      if (token && caller.sessionToken === token) {
        if (goodSessions.size > 5000) goodSessions.clear();
        goodSessions.set(token, Date.now() + 2000);
      }
      next();
    })().catch((err: unknown) => sendProblem(res, err));
  };

  const ioMiddleware: DashboardAuth['ioMiddleware'] = (socket, next) => {
    // The page opens a WebSocket first (nodes/toolroom-dashboard-auth.ts): it is let in when it comes from this site.
    if (!sameOriginSocket(socket.request.headers)) return next(new Error('refused: cross-site socket'));
    (async () => {
      const db = await options.database();
      const token = cookieValue(socket.request.headers.cookie, SESSION_COOKIE);
      const caller = await callerOf(db, { headers: { cookie: socket.request.headers.cookie } }, options.policy);
      if (!caller || !token) throw unauthenticated('unauthenticated', 'log in first');
      const creds = await findCredentials(db, { id: caller.user.id });
      if (creds?.must_change_password) throw unauthenticated('unauthenticated', 'choose a new password first');
      sockets.set(socket.id, {
        socket,
        token,
        sessionId: caller.sessionId!,
        user: clientUser(caller.user),
        checkedAt: Date.now(),
        ended: false,
        active: false,
      });
      const s = socket as SocketLike & { on?: (ev: string, fn: () => void) => void };
      s.on?.('disconnect', () => {
        sockets.delete(socket.id);
        forgeryAudited.delete(socket.id);
      });
      next();
    })().catch((err: unknown) => {
      const refusal = err instanceof ToolroomError ? `${err.cause.details[0]?.rule ?? err.code}: ${err.message}` : 'unavailable';
      if (!(err instanceof ToolroomError)) log(`dashboard socket refused: ${(err as Error).message}`);
      next(Object.assign(new Error(`refused: ${refusal}`), { data: { login: LOGIN_PATH } }));
    });
  };

  return {
    middleware,
    ioMiddleware,
    hooks,
    endSession(sessionToken) {
      goodSessions.delete(sessionToken);
      for (const s of [...sockets.values()]) if (s.token === sessionToken) end(s, 'logout');
    },
    sweep,
    openSockets: () => sockets.size,
    close() {
      clearInterval(timer);
      for (const s of [...sockets.values()]) end(s, 'stopping');
    },
  };
}

/** Where start.ts hands the hooks to the plugin: Node-RED settings key `toolroom.dashboardAuth`. */
export const SETTINGS_KEY = 'toolroom';
