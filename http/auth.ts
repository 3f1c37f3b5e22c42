/**
 * Who is asking, for every HTTP entry point (REST API, login page, Dashboard 2 pages and sockets,
 * the editor): a session cookie or an API token, turned into a core actor by core/accounts.
 * Nothing here decides what a caller may do: core's permission table does, in every service.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Knex } from 'knex';
import { authenticateApiToken } from '../core/accounts/tokens';
import { actorOf, authenticateSession } from '../core/accounts/sessions';
import type { AccessPolicy } from '../core/accounts/policy';
import type { Actor } from '../core/auth/actor';
import { ToolroomError } from '../core/errors';
import type { User } from '../core/users/schema';

/** The session cookie: HttpOnly, SameSite=Lax (links from a QR code still arrive logged in), Secure under TLS. */
export const SESSION_COOKIE = 'toolroom_session';
/** The CSRF token a page reads (not HttpOnly) and sends back in CSRF_HEADER with every cookie-authenticated write. */
export const CSRF_COOKIE = 'toolroom_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export interface Caller {
  actor: Actor;
  user: User;
  via: 'session' | 'token';
  /** The session's bearer secret (cookie), for the CSRF check and logout. */
  sessionToken?: string;
  sessionId?: number;
  tokenId?: number;
}

/** One cookie's value from a Cookie header (first occurrence), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}

/** `Authorization: Bearer <token>`'s token, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

/**
 * The caller of a request (or a socket's handshake request): an API token in Authorization wins,
 * else the session cookie. Null when the request carries neither; `unauthenticated` with the rule
 * (`invalid_token`, `expired`, `revoked`, `disabled`) when it carries a credential that fails.
 */
export async function callerOf(db: Knex, req: Pick<IncomingMessage, 'headers'>, policy?: Partial<AccessPolicy>, now = new Date()): Promise<Caller | null> {
  const token = bearerToken(req.headers.authorization);
  if (token !== undefined) {
    const { user, token: t } = await authenticateApiToken(db, token, now, policy);
    return { actor: actorOf(user, 'api'), user, via: 'token', tokenId: t.id };
  }
  const cookie = cookieValue(req.headers.cookie, SESSION_COOKIE);
  if (cookie === undefined || cookie === '') return null;
  const { user, session } = await authenticateSession(db, cookie, now, policy);
  return { actor: actorOf(user, 'session'), user, via: 'session', sessionToken: cookie, sessionId: session.id };
}

/** A session's CSRF token: derived from its secret (never stored), so only a page that could read the cookie pair knows it. */
export function csrfTokenFor(sessionToken: string): string {
  return createHash('sha256').update(`toolroom-csrf:${sessionToken}`).digest('base64url');
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Cookie-authenticated writes must carry the session's CSRF token in CSRF_HEADER (ASVS 3.5.1);
 * token-authenticated calls cannot be forged by a browser and need none.
 */
export function checkCsrf(method: string | undefined, headers: IncomingMessage['headers'], caller: Caller | null): void {
  if (!caller || caller.via !== 'session' || SAFE_METHODS.has((method ?? 'GET').toUpperCase())) return;
  const sent = headers[CSRF_HEADER];
  const expected = csrfTokenFor(caller.sessionToken!);
  const ok = typeof sent === 'string' && sent.length === expected.length && timingSafeEqual(Buffer.from(sent), Buffer.from(expected));
  if (!ok) {
    const message = `a write with a session cookie needs the ${CSRF_HEADER} header (the ${CSRF_COOKIE} cookie's value)`;
    throw new ToolroomError('forbidden', message, [{ field: CSRF_HEADER, rule: 'csrf', message }]);
  }
}

/** Set-Cookie values for a new session: the HttpOnly session cookie and the readable CSRF cookie. */
export function sessionCookies(token: string, options: { secure: boolean; maxAgeMs: number }): string[] {
  const common = `Path=/; SameSite=Lax; Max-Age=${Math.max(0, Math.floor(options.maxAgeMs / 1000))}${options.secure ? '; Secure' : ''}`;
  return [`${SESSION_COOKIE}=${token}; HttpOnly; ${common}`, `${CSRF_COOKIE}=${csrfTokenFor(token)}; ${common}`];
}

/** Set-Cookie values that end both cookies (logout, or a session that failed). */
export function clearedSessionCookies(secure: boolean): string[] {
  const common = `Path=/; SameSite=Lax; Max-Age=0${secure ? '; Secure' : ''}`;
  return [`${SESSION_COOKIE}=; HttpOnly; ${common}`, `${CSRF_COOKIE}=; ${common}`];
}

const bare = (address: string) => address.replace(/^::ffff:(?=\d+\.)/, '');

/**
 * The client's address for rate limits, lockouts and the audit trail: the socket's, unless the socket
 * is a proxy named in TOOLROOM_TRUSTED_PROXIES (comma-separated addresses, e.g. the Compose stack's
 * Caddy), whose X-Forwarded-For then names the client (its last entry: the one that proxy added).
 * Without it every user behind the proxy would share one address, and one lockout.
 */
export function clientAddress(req: Pick<IncomingMessage, 'socket'> & { headers?: IncomingMessage['headers'] }, env: NodeJS.ProcessEnv = process.env): string {
  const peer = bare(req.socket?.remoteAddress ?? 'unknown');
  const trusted = (env.TOOLROOM_TRUSTED_PROXIES ?? '').split(',').map((a) => bare(a.trim())).filter(Boolean);
  const forwarded = req.headers?.['x-forwarded-for'];
  if (!trusted.includes(peer) || typeof forwarded !== 'string') return peer;
  const last = forwarded.split(',').map((a) => a.trim()).filter(Boolean).pop();
  return last && /^[0-9a-fA-F.:]{2,45}$/.test(last) ? bare(last) : peer;
}
