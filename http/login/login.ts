/**
 * The login pages under /toolroom: plain server-rendered HTML (no scripts, no external assets,
 * 48 px targets for a gloved hand on a tablet). GET/POST /login, GET/POST /password (the change a
 * temporary password needs before anything else), GET/POST /logout. Every rule is core's: login,
 * lockout, audit (core/accounts); this file only turns forms into core calls and cookies.
 *
 * Login CSRF: the form carries a pre-session token that must equal its cookie (double submit,
 * SameSite=Strict, HttpOnly), and a request whose Origin names another site is refused. The
 * password and logout forms carry the session's own CSRF token (csrfTokenFor).
 *
 * Mounted with express: `app.use('/toolroom', createLoginPages(options))`; paths it does not
 * serve go on to `next()`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { changeOwnPassword } from '../../core/accounts/service';
import { authenticateSession, login, logout } from '../../core/accounts/sessions';
import { findCredentials } from '../../core/accounts/repository';
import { ToolroomError, type ErrorCode } from '../../core/errors';
import { callerOf, clearedSessionCookies, clientAddress, cookieValue, csrfTokenFor, SESSION_COOKIE, sessionCookies, type Caller } from '../auth';
import type { ApiOptions } from '../rest/router';
import { HttpProblem, sendProblem, STATUS_OF } from '../problem';
import { RateLimiter } from '../request';
import { asset, cspHash } from '../assets';

export const LOGIN_BASE = '/toolroom';
export const LOGIN_PATH = `${LOGIN_BASE}/login`;
export const PASSWORD_PATH = `${LOGIN_BASE}/password`;
export const LOGOUT_PATH = `${LOGIN_BASE}/logout`;
/** Where a login goes when no (safe) `next` was given. */
export const DEFAULT_NEXT = '/dashboard';
/** The pre-session token of the login form (double submit). */
export const LOGIN_CSRF_COOKIE = 'toolroom_login_csrf';
const FORM_LIMIT = 16 * 1024;

export interface LoginPagesOptions extends ApiOptions {
  /** Told of every session that ends here (logout), e.g. so dashboard sockets on it end at once. */
  onLogout?: (sessionToken: string) => void;
}

type Next = (err?: unknown) => void;

/**
 * A `next` that stays on this site: a path (not `//host`, not a backslash trick, no control
 * characters), never the login pages themselves; anything else gives the default.
 */
export function safeNext(value: unknown, fallback = DEFAULT_NEXT): string {
  // eslint-disable-next-line no-control-regex
  if (typeof value !== 'string' || value.length > 2000 || !value.startsWith('/') || /[\\\u0000-\u001f\u007f]/.test(value)) return fallback;
  if (value.startsWith('//')) return fallback;
  let url: URL;
  try {
    url = new URL(value, 'http://toolroom.invalid');
  } catch {
    return fallback;
  }
  if (url.origin !== 'http://toolroom.invalid') return fallback;
  const out = url.pathname + url.search + url.hash;
  // What is returned is what the browser follows: '/.//evil' normalises to '//evil' (another host).
  if (out.startsWith('//') || out.startsWith('/\\')) return fallback;
  if ([LOGIN_PATH, PASSWORD_PATH, LOGOUT_PATH].some((p) => url.pathname === p || url.pathname.startsWith(`${p}/`))) return fallback;
  return out;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STYLE = asset('theme.css') + asset('login.css');
const STYLE_HASH = cspHash(STYLE);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="same-origin"><title>${escapeHtml(title)} · Toolroom</title><style>${STYLE}</style></head>
<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Cache-Control': 'no-store',
    'Content-Security-Policy': `default-src 'none'; style-src ${STYLE_HASH}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    ...headers,
  });
  res.end(html);
}

function redirect(res: ServerResponse, location: string, cookies: string[] = []): void {
  res.writeHead(303, { Location: location, 'Cache-Control': 'no-store', ...(cookies.length ? { 'Set-Cookie': cookies } : {}) });
  res.end();
}

const message = (text: string | undefined, ok = false) => (text ? `<p class="msg${ok ? ' ok' : ''}" role="alert">${escapeHtml(text)}</p>` : '');

function loginForm(v: { username?: string; next: string; csrf: string; error?: string; info?: string }): string {
  const focusUser = !v.username;
  return page(
    'Log in',
    `${message(v.error)}${message(v.info, true)}<form method="post" action="${LOGIN_PATH}" autocomplete="on">
<input type="hidden" name="csrf" value="${escapeHtml(v.csrf)}"><input type="hidden" name="next" value="${escapeHtml(v.next)}">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="100" value="${escapeHtml(v.username ?? '')}"${focusUser ? ' autofocus' : ''}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" maxlength="1024"${focusUser ? '' : ' autofocus'}>
<label for="pin">or PIN</label>
<input id="pin" name="pin" type="password" inputmode="numeric" autocomplete="off" maxlength="64">
<p class="hint">Shop-floor tablets: your PIN instead of the password.</p>
<button type="submit">Log in</button></form>`,
  );
}

function passwordForm(v: { next: string; csrf: string; username: string; error?: string; required: boolean }): string {
  return page(
    'Choose a new password',
    `${message(v.error)}${v.required ? message('Your password was set by an administrator: choose your own before you go on.', true) : ''}
<form method="post" action="${PASSWORD_PATH}">
<input type="hidden" name="csrf" value="${escapeHtml(v.csrf)}"><input type="hidden" name="next" value="${escapeHtml(v.next)}">
<input type="hidden" name="username" autocomplete="username" value="${escapeHtml(v.username)}">
<label for="currentPassword">Current password</label>
<input id="currentPassword" name="currentPassword" type="password" autocomplete="current-password" required maxlength="1024" autofocus>
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required maxlength="1024">
<p class="hint">At least 8 characters; not a common password.</p>
<label for="repeat">New password again</label>
<input id="repeat" name="repeat" type="password" autocomplete="new-password" required maxlength="1024">
<button type="submit">Save and continue</button></form>`,
  );
}

function logoutForm(v: { csrf: string; username: string }): string {
  return page(
    'Log out',
    `<form method="post" action="${LOGOUT_PATH}"><input type="hidden" name="csrf" value="${escapeHtml(v.csrf)}">
<p>Logged in as <strong>${escapeHtml(v.username)}</strong>.</p><button type="submit">Log out</button></form>
<p><a href="${DEFAULT_NEXT}">Back to the dashboard</a></p>`,
  );
}

/** A form body (application/x-www-form-urlencoded) of at most FORM_LIMIT bytes; null when too large or of another type. */
async function readForm(req: IncomingMessage & { body?: unknown; _body?: boolean }): Promise<URLSearchParams | null> {
  if (req._body === true && req.body && typeof req.body === 'object') {
    const out = new URLSearchParams();
    for (const [k, v] of Object.entries(req.body as Record<string, unknown>)) if (typeof v === 'string') out.append(k, v);
    return out;
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    req.resume();
    return null;
  }
  if (Number(req.headers['content-length'] ?? 0) > FORM_LIMIT) {
    req.resume();
    return null;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > FORM_LIMIT) {
      req.resume();
      return null;
    }
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function sameToken(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * A browser's Origin (or, without one, Referer) must be this site: a form on another site cannot
 * log a victim into the attacker's account or out of their own. Requests without either (old
 * clients, scripts) rely on the token alone.
 */
export function sameOrigin(req: Pick<IncomingMessage, 'headers'>): boolean {
  const host = req.headers.host;
  const from = req.headers.origin ?? req.headers.referer;
  if (from === undefined) return true;
  if (from === 'null' || !host) return false;
  try {
    return new URL(from).host === host;
  } catch {
    return false;
  }
}

function loginCsrfCookie(token: string, secure: boolean): string {
  return `${LOGIN_CSRF_COOKIE}=${token}; HttpOnly; Path=${LOGIN_BASE}; SameSite=Strict; Max-Age=3600${secure ? '; Secure' : ''}`;
}

/** What a login form answers in its page rather than as an error: a bad form, wrong or refused credentials, a lock. */
const LOGIN_REFUSALS: readonly ErrorCode[] = ['validation', 'unauthenticated', 'locked'];
const refusalText = (err: ToolroomError) => err.cause.details[0]?.message || err.message;

/** The login pages' request handler (mount at /toolroom). */
export function createLoginPages(options: LoginPagesOptions): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  const secure = options.secureCookies;
  // The forms cost a 70 ms hash and an audit event each: a browser needs a handful a minute, a flood is cut here.
  const formLimiter = options.rateLimit === false ? null : new RateLimiter(30, 1);
  const overLimit = (req: IncomingMessage): HttpProblem | null => {
    try {
      formLimiter?.take(clientAddress(req));
      return null;
    } catch (err) {
      if (err instanceof HttpProblem) return err;
      throw err;
    }
  };

  async function currentCaller(req: IncomingMessage): Promise<Caller | null> {
    try {
      const caller = await callerOf(await options.database(), req, options.policy);
      return caller?.via === 'session' ? caller : null;
    } catch (err) {
      if (err instanceof ToolroomError && err.code === 'unauthenticated') return null;
      throw err;
    }
  }

  function showLogin(req: IncomingMessage, res: ServerResponse, status: number, v: { username?: string; next: string; error?: string; info?: string }, headers: Record<string, string> = {}) {
    // Reuse the browser's pre-session token while it lasts; otherwise a new one.
    let csrf = cookieValue(req.headers.cookie, LOGIN_CSRF_COOKIE);
    if (!csrf || !/^[A-Za-z0-9_-]{32}$/.test(csrf)) csrf = randomBytes(24).toString('base64url');
    sendHtml(res, status, loginForm({ ...v, csrf }), { ...headers, 'Set-Cookie': [loginCsrfCookie(csrf, secure)] });
  }

  async function getLogin(req: IncomingMessage, res: ServerResponse, url: URL) {
    const next = safeNext(url.searchParams.get('next'));
    const caller = await currentCaller(req);
    if (caller) {
      const creds = await findCredentials(await options.database(), { id: caller.user.id });
      return redirect(res, creds?.must_change_password ? `${PASSWORD_PATH}?next=${encodeURIComponent(next)}` : next);
    }
    const info = url.searchParams.has('loggedOut') ? 'You are logged out.' : url.searchParams.has('changed') ? 'Password changed: log in with the new one.' : undefined;
    showLogin(req, res, 200, { next, info });
  }

  async function postLogin(req: IncomingMessage, res: ServerResponse) {
    const limited = overLimit(req);
    if (limited) {
      req.resume();
      return showLogin(req, res, 429, { next: DEFAULT_NEXT, error: `Too many attempts from this device: ${limited.message.replace(/^too many requests: /, '')}.` }, limited.headers);
    }
    const form = await readForm(req);
    if (!form) return showLogin(req, res, 400, { next: DEFAULT_NEXT, error: 'The form could not be read: send it again.' });
    const username = (form.get('username') ?? '').slice(0, 100);
    const next = safeNext(form.get('next'));
    if (!sameOrigin(req) || !sameToken(form.get('csrf'), cookieValue(req.headers.cookie, LOGIN_CSRF_COOKIE))) {
      return showLogin(req, res, 403, { username, next, error: 'The login form had expired: log in again.' });
    }
    const password = form.get('password') || undefined;
    const pin = form.get('pin') || undefined;
    if (!username.trim()) return showLogin(req, res, 400, { username, next, error: 'Username is required.' });
    if (!password && !pin) return showLogin(req, res, 400, { username, next, error: 'Enter your password (or your PIN).' });
    if (password && pin) return showLogin(req, res, 400, { username, next, error: 'Enter your password or your PIN, not both.' });
    const ua = req.headers['user-agent'];
    const db = await options.database();
    try {
      const result = await login(
        db,
        { username, ...(pin ? { pin } : { password }), address: clientAddress(req), ...(ua ? { userAgent: ua.slice(0, 1000) } : {}) },
        new Date(),
        options.policy,
      );
      const cookies = [
        ...sessionCookies(result.token, { secure, maxAgeMs: Date.parse(result.expiresAt) - Date.now() }),
        `${LOGIN_CSRF_COOKIE}=; HttpOnly; Path=${LOGIN_BASE}; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`,
      ];
      redirect(res, result.mustChangePassword ? `${PASSWORD_PATH}?next=${encodeURIComponent(next)}` : next, cookies);
    } catch (err) {
      if (!(err instanceof ToolroomError) || !LOGIN_REFUSALS.includes(err.code)) throw err;
      const text = err.code === 'validation' ? err.cause.details.map((d) => `${d.field}: ${d.message}`).join('; ') : refusalText(err);
      showLogin(req, res, STATUS_OF[err.code], { username, next, error: text.charAt(0).toUpperCase() + text.slice(1) + '.' }, err.code === 'locked' ? { 'Retry-After': '60' } : {});
    }
  }

  async function getPassword(req: IncomingMessage, res: ServerResponse, url: URL) {
    const next = safeNext(url.searchParams.get('next'));
    const caller = await currentCaller(req);
    if (!caller) return redirect(res, `${LOGIN_PATH}?next=${encodeURIComponent(`${PASSWORD_PATH}?next=${encodeURIComponent(next)}`)}`);
    const creds = await findCredentials(await options.database(), { id: caller.user.id });
    sendHtml(res, 200, passwordForm({ next, csrf: csrfTokenFor(caller.sessionToken!), username: caller.user.username, required: !!creds?.must_change_password }));
  }

  async function postPassword(req: IncomingMessage, res: ServerResponse) {
    const limited = overLimit(req);
    if (limited) {
      req.resume();
      res.setHeader('Retry-After', limited.headers['Retry-After']);
      return sendHtml(res, 429, page('Choose a new password', message(`Too many attempts from this device: ${limited.message.replace(/^too many requests: /, '')}.`)));
    }
    const form = await readForm(req);
    const caller = await currentCaller(req);
    if (!caller) return redirect(res, LOGIN_PATH);
    const next = safeNext(form?.get('next'));
    const db = await options.database();
    const creds = await findCredentials(db, { id: caller.user.id });
    const again = (status: number, error: string) =>
      sendHtml(res, status, passwordForm({ next, csrf: csrfTokenFor(caller.sessionToken!), username: caller.user.username, error, required: !!creds?.must_change_password }));
    if (!form) return again(400, 'The form could not be read: send it again.');
    if (!sameOrigin(req) || !sameToken(form.get('csrf'), csrfTokenFor(caller.sessionToken!))) return again(403, 'The form had expired: send it again.');
    if ((form.get('password') ?? '') !== (form.get('repeat') ?? '')) return again(400, 'The two new passwords differ.');
    try {
      await changeOwnPassword(db, caller.actor, { currentPassword: form.get('currentPassword') ?? '', password: form.get('password') ?? '' }, {
        sessionId: caller.sessionId,
        address: clientAddress(req),
        policy: options.policy,
      });
    } catch (err) {
      if (!(err instanceof ToolroomError) || (err.code !== 'forbidden' && !LOGIN_REFUSALS.includes(err.code))) throw err;
      const label: Record<string, string> = { currentPassword: 'Current password', password: 'New password' };
      const text = err.cause.details.map((d) => `${label[d.field] ?? 'Password'}: ${d.message}`).join('; ') || err.message;
      return again(err.code === 'locked' ? 429 : 400, text + '.');
    }
    redirect(res, next);
  }

  async function getLogout(req: IncomingMessage, res: ServerResponse) {
    const caller = await currentCaller(req);
    if (!caller) return redirect(res, `${LOGIN_PATH}?loggedOut=1`, clearedSessionCookies(secure));
    sendHtml(res, 200, logoutForm({ csrf: csrfTokenFor(caller.sessionToken!), username: caller.user.username }));
  }

  async function postLogout(req: IncomingMessage, res: ServerResponse) {
    const form = await readForm(req);
    const token = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (token) {
      const db = await options.database();
      // Only a form from this site ends the session: a CSRF logout is a nuisance on a shared tablet.
      const valid = await authenticateSession(db, token, new Date(), options.policy).then(() => true, () => false);
      if (valid && (!sameOrigin(req) || !sameToken(form?.get('csrf'), csrfTokenFor(token)))) {
        return sendHtml(res, 403, page('Log out', `${message('The form had expired: log out again.')}<p><a href="${LOGOUT_PATH}">Log out</a></p>`));
      }
      await logout(db, token);
      options.onLogout?.(token);
    }
    redirect(res, `${LOGIN_PATH}?loggedOut=1`, clearedSessionCookies(secure));
  }

  return (req, res, next) => {
    const url = new URL(req.url ?? '/', 'http://toolroom.invalid');
    const route = `${req.method} ${url.pathname.replace(/\/+$/, '') || '/'}`;
    const handlers: Record<string, () => Promise<void> | void> = {
      'GET /login': () => getLogin(req, res, url),
      'HEAD /login': () => getLogin(req, res, url),
      'POST /login': () => postLogin(req, res),
      'GET /password': () => getPassword(req, res, url),
      'POST /password': () => postPassword(req, res),
      'GET /logout': () => getLogout(req, res),
      'POST /logout': () => postLogout(req, res),
    };
    const handler = handlers[route];
    if (!handler) {
      if (['/login', '/password', '/logout'].includes(url.pathname)) {
        res.setHeader('Allow', url.pathname === '/login' ? 'GET, HEAD, POST' : 'GET, POST');
        res.writeHead(405).end();
        return;
      }
      return next();
    }
    Promise.resolve()
      .then(handler)
      .catch((err: unknown) => sendProblem(res, err, `${LOGIN_BASE}${url.pathname}`));
  };
}
