/**
 * The REST API under /toolroom/api/v1: a thin HTTP layer over core. It finds the route, works out
 * who is calling (session cookie or API token), checks CSRF and rate limits, reads the JSON input
 * and calls the core service, which checks the permission table and the input itself.
 * Mounted with express: `app.use(API_BASE, createApi(options))` (req.url is relative to API_BASE).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Knex } from 'knex';
import { systemActor } from '../../core/auth/actor';
import { z } from 'zod';
import { can, OPERATIONS, type Operation } from '../../core/auth/permissions';
import { listAuditInput } from '../../core/audit/query';
import { auditExportFileName, auditExportPages } from '../../core/audit/export';
import { RefusalAudit } from '../../core/audit/refusals';
import { AUDIT_CSV_COLUMNS, auditCsvRow } from '../../core/audit/csv';
import type { AccessPolicy } from '../../core/accounts/policy';
import { changeOwnPassword } from '../../core/accounts/service';
import { login, logout } from '../../core/accounts/sessions';
import { ToolroomError, isToolroomError, unauthenticated, validationError } from '../../core/errors';
import { findCredentials } from '../../core/accounts/repository';
import { changeOwnPasswordInput, loginInput } from '../../core/accounts/schema';
import { userRecord } from '../../core/users/schema';
import { instant } from '../../core/validate';
import {
  callerOf,
  checkCsrf,
  clearedSessionCookies,
  clientAddress,
  CSRF_HEADER,
  cookieValue,
  csrfTokenFor,
  SESSION_COOKIE,
  sessionCookies,
  type Caller,
} from '../auth';
import { DEFAULT_BODY_LIMIT, queryInput, RateLimiter, readJsonBody, sendJson } from '../request';
import { CORE_ROUTES, STREAMED, type Method, type Route, type RouteContext } from './operations';
import { PHOTO_ROUTES } from './photos';
import { inputSchema, openApiDocument, pathFields } from './openapi';
import { DOCS_CSP, docsPage } from './docs';
import { HttpProblem, sendProblem } from '../problem';
import { streamLines } from './reports';

export const API_BASE = '/toolroom/api/v1';

export interface ApiOptions {
  database: () => Promise<Knex>;
  policy?: Partial<AccessPolicy>;
  secureCookies: boolean;
  /** Largest JSON body accepted (default 2 MiB: a batch of 10,000 shot readings fits). */
  bodyLimitBytes?: number;
  /**
   * Requests per caller (a user, or an address before login): a burst of `burst`, refilled at
   * `perSecond`. Default 300 and 50/s for users, 60 and 5/s per address; false turns it off.
   */
  rateLimit?: false | { user?: { burst: number; perSecond: number }; address?: { burst: number; perSecond: number } };
  /** Where refused requests are audited (one per app; default: a new one over `database`). */
  refusals?: RefusalAudit;
}

/** The login body as a client sends it (core's loginInput also takes the address, which comes from the socket). */
const loginBody = z
  .object({ username: loginInput.shape.username, password: loginInput.shape.password, pin: loginInput.shape.pin })
  .strict()
  .describe('username and either password or pin');
const auditFilters = listAuditInput.omit({ limit: true, offset: true });
const csrfToken = z.string().describe(`send it as the ${CSRF_HEADER} header on writes`);
const loginAnswer = z.object({ user: userRecord, expiresAt: instant, csrfToken, mustChangePassword: z.boolean() });
const meAnswer = z.object({
  user: userRecord,
  via: z.enum(['session', 'token']),
  csrfToken: csrfToken.nullable(),
  mustChangePassword: z.boolean(),
  operations: z.array(z.enum(OPERATIONS as [Operation, ...Operation[]])),
});

/** Routes about the session itself and the ones that stream; the rest is core's table. */
function sessionRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/session',
      operationId: 'login',
      tag: 'Session',
      summary: 'Log in with username and password (or PIN): sets the session and CSRF cookies',
      permission: 'anonymous',
      input: loginBody,
      output: loginAnswer,
      status: 201,
      run: async (ctx) => {
        const body = ctx.input;
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          throw validationError([{ field: '', rule: 'invalid_type:object', message: 'must be an object with username and password (or pin)' }]);
        }
        const ua = ctx.req.headers['user-agent'];
        const result = await login(ctx.db, { ...body, address: ctx.address, ...(ua && { userAgent: ua.slice(0, 1000) }) }, new Date(), ctx.policy);
        const maxAgeMs = Date.parse(result.expiresAt) - Date.now();
        ctx.res.setHeader('Set-Cookie', sessionCookies(result.token, { secure: ctx.secureCookies, maxAgeMs }));
        return {
          user: result.user,
          expiresAt: result.expiresAt,
          csrfToken: csrfTokenFor(result.token),
          mustChangePassword: result.mustChangePassword,
        };
      },
    },
    {
      method: 'GET',
      path: '/session',
      operationId: 'me',
      tag: 'Session',
      summary: 'Who is logged in, the CSRF token for writes, and the operations this role may do',
      permission: null,
      output: meAnswer,
      run: async (ctx) => ({
        user: ctx.caller!.user,
        via: ctx.caller!.via,
        csrfToken: ctx.caller!.sessionToken ? csrfTokenFor(ctx.caller!.sessionToken) : null,
        mustChangePassword: ctx.caller!.via === 'session' && (await findCredentials(ctx.db, { id: ctx.caller!.user.id }))?.must_change_password === true,
        operations: OPERATIONS.filter((op) => can(ctx.actor, op)),
      }),
    },
    {
      method: 'DELETE',
      path: '/session',
      operationId: 'logout',
      tag: 'Session',
      summary: 'Log out: the session ends and its cookies are cleared',
      permission: null,
      status: 204,
      run: async (ctx) => {
        if (ctx.caller!.sessionToken) await logout(ctx.db, ctx.caller!.sessionToken);
        ctx.res.setHeader('Set-Cookie', clearedSessionCookies(ctx.secureCookies));
        return undefined;
      },
    },
    {
      method: 'POST',
      path: '/session/password',
      operationId: 'changeOwnPassword',
      tag: 'Session',
      summary: "Change one's own password (proving the current one); one's other sessions end",
      permission: null,
      input: changeOwnPasswordInput,
      output: userRecord,
      run: async (ctx) =>
        changeOwnPassword(ctx.db, ctx.actor, ctx.input, { sessionId: ctx.caller!.sessionId, address: ctx.address, policy: ctx.policy }),
    },
  ];
}

/** The audit trail as a file, streamed page by page (memory stays bounded however long the trail). */
function exportRoute(format: 'csv' | 'ndjson'): Route {
  const type = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson';
  return {
    method: 'GET',
    path: `/audit/export.${format}`,
    operationId: `exportAudit${format === 'csv' ? 'Csv' : 'Ndjson'}`,
    tag: 'Audit',
    summary: `Export the audit trail (same filters as /audit) as ${format === 'csv' ? 'CSV' : 'NDJSON, one event a line'}, newest first`,
    permission: 'audit.read',
    input: auditFilters,
    produces: type.split(';')[0],
    run: async (ctx) => {
      // Its first page is read before any byte is sent: a refusal or a bad filter is still a problem+json.
      const pages = await auditExportPages(ctx.db, ctx.actor, { ...(ctx.input as object) });
      ctx.res.writeHead(200, {
        'Content-Type': type,
        'Content-Disposition': `attachment; filename="${auditExportFileName(format)}"`,
        'Cache-Control': 'no-store',
      });
      async function* lines(): AsyncGenerator<string> {
        if (format === 'csv') yield AUDIT_CSV_COLUMNS.join(',') + '\r\n';
        for await (const page of pages) {
          for (const e of page) yield format === 'csv' ? auditCsvRow(e) + '\r\n' : JSON.stringify(e) + '\n';
          if (ctx.res.destroyed) return;
        }
      }
      await streamLines(ctx.res, lines());
      return STREAMED;
    },
  };
}

/** Every route of the API, in documentation order (the OpenAPI document lists them so). */
export function apiRoutes(): Route[] {
  return [...sessionRoutes(), ...CORE_ROUTES, ...PHOTO_ROUTES, exportRoute('csv'), exportRoute('ndjson')];
}

interface Compiled {
  route: Route;
  pattern: RegExp;
  fields: string[];
  queryProperties: Record<string, never> | undefined;
}

function compile(route: Route): Compiled {
  const fields = pathFields(route.path);
  const source = route.path.replace(/[.]/g, '\\.').replace(/\{\w+\}/g, '([^/]+)');
  const schema = route.method === 'GET' || route.consumes ? inputSchema(route.input) : undefined;
  return { route, pattern: new RegExp(`^${source}$`), fields, queryProperties: schema?.properties as Record<string, never> | undefined };
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The REST API as a connect/express handler, mounted at API_BASE. */
export function createApi(options: ApiOptions): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
  const routes = apiRoutes().map(compile);
  const policy = options.policy ?? {};
  const bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT;
  const limits = options.rateLimit === false ? undefined : options.rateLimit;
  const userLimiter = options.rateLimit === false ? null : new RateLimiter(limits?.user?.burst ?? 300, limits?.user?.perSecond ?? 50);
  const addressLimiter = options.rateLimit === false ? null : new RateLimiter(limits?.address?.burst ?? 60, limits?.address?.perSecond ?? 5);
  let openapi: string | undefined;
  const openapiJson = () => (openapi ??= JSON.stringify(openApiDocument(apiRoutes(), API_BASE)));

  const refusals = options.refusals ?? new RefusalAudit(options.database);

  async function handle(req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, seen: { caller?: Caller | null }): Promise<void> {
    // Appended, not resolved: a url like //host/x must stay a path, never become a host.
    const url = new URL(`http://api.invalid${(req.url ?? '/').startsWith('/') ? '' : '/'}${req.url ?? ''}`);
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const method = (req.method ?? 'GET').toUpperCase();
    const address = clientAddress(req);

    // The document and its page: public, cacheable, no database.
    if (path === '/openapi.json' || path === '/docs' || path === '/' || path === '') {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpProblem(405, 'method', `${method} is not allowed here; use GET`, { headers: { Allow: 'GET, HEAD' } });
      addressLimiter?.take(`a:${address}`);
      if (path === '/openapi.json') {
        const body = openapiJson();
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache' });
        res.end(method === 'HEAD' ? undefined : body);
      } else {
        const html = docsPage(`${API_BASE}/openapi.json`);
        res.writeHead(200, {
          'Content-Type': 'text/html; charset=utf-8',
          'Content-Length': Buffer.byteLength(html),
          'Cache-Control': 'no-cache',
          'Content-Security-Policy': DOCS_CSP,
          'X-Content-Type-Options': 'nosniff',
        });
        res.end(method === 'HEAD' ? undefined : html);
      }
      return;
    }

    const onPath = routes.filter((c) => c.pattern.test(path));
    if (!onPath.length) throw new HttpProblem(404, 'route', `no API route ${path}`, { field: 'path' });
    const compiled = onPath.find((c) => c.route.method === method);
    if (!compiled) {
      const allow = [...new Set(onPath.map((c) => c.route.method))].join(', ');
      if (method === 'OPTIONS') {
        res.writeHead(204, { Allow: allow });
        res.end();
        return;
      }
      throw new HttpProblem(405, 'method', `${method} is not allowed on ${path}; use ${allow}`, { headers: { Allow: allow } });
    }
    const { route } = compiled;

    const db = await options.database();
    let caller: Caller | null;
    try {
      caller = await callerOf(db, req, policy);
      seen.caller = caller;
    } catch (err) {
      // A cookie that no longer works is cleared, so the browser stops sending it.
      if (isToolroomError(err) && err.code === 'unauthenticated' && !req.headers.authorization && cookieValue(req.headers.cookie, SESSION_COOKIE) !== undefined) {
        res.setHeader('Set-Cookie', clearedSessionCookies(options.secureCookies));
      }
      // Logging in again over a dead cookie is fine; anything else ends here (counted per address).
      if (route.permission !== 'anonymous') {
        addressLimiter?.take(`a:${address}`);
        throw err;
      }
      caller = null;
    }
    if (caller) userLimiter?.take(`u:${caller.user.id}`);
    else addressLimiter?.take(`a:${address}`);
    if (!caller && route.permission !== 'anonymous') throw unauthenticated('unauthenticated', 'log in first (POST /session), or send an API token as Authorization: Bearer');
    if (route.permission !== 'anonymous') checkCsrf(method, req.headers, caller);
    // A temporary password (set by an admin, or generated) is changed before anything else is done with it.
    if (caller?.via === 'session' && !route.path.startsWith('/session') && (await findCredentials(db, { id: caller.user.id }))?.must_change_password) {
      const message = 'choose a new password first (POST /session/password)';
      throw new ToolroomError('forbidden', message, [{ field: '', rule: 'password_change_required', message }]);
    }

    const match = compiled.pattern.exec(path)!;
    const pathValues: Record<string, string> = {};
    compiled.fields.forEach((field, i) => {
      try {
        pathValues[field] = decodeURIComponent(match[i + 1]);
      } catch {
        throw validationError([{ field, rule: 'encoding', message: 'is not valid URL encoding' }]);
      }
    });

    let input: unknown;
    if (WRITE_METHODS.has(method) && !route.consumes) {
      const body = await readJsonBody(req, bodyLimit);
      if (compiled.fields.length) {
        if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
          throw validationError([{ field: '', rule: 'invalid_type:object', message: 'the body must be a JSON object' }]);
        }
        input = { ...(body as object), ...pathValues };
      } else input = body;
    } else {
      input = { ...queryInput(url.searchParams, compiled.queryProperties), ...pathValues };
    }

    // Only the login route runs without a caller, and it never acts as anyone.
    const actor = caller?.actor ?? systemActor('anonymous');
    const ctx: RouteContext = { db, caller, actor, input, req, res, policy, secureCookies: options.secureCookies, address };
    const result = await route.run(ctx);
    if (result === STREAMED) return;
    sendJson(res, result === undefined ? 204 : (route.status ?? 200), result);
  }

  return (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const instance = `${API_BASE}${path}`;
    const seen: { caller?: Caller | null } = {};
    handle(req, res, seen).catch(async (err) => {
      const rule = refusedFor(err, req.method ?? 'GET', path);
      if (rule) {
        await refusals
          .note({ actor: seen.caller?.actor ?? null, address: clientAddress(req), rule, method: req.method ?? 'GET', path: instance })
          .catch((auditErr: unknown) => console.error(`Toolroom: a refused request could not be audited: ${(auditErr as Error).message}`));
      }
      sendProblem(res, err, instance);
    });
  };
}

/**
 * The rule a request was refused by, when the refusal is about who sent it (audited), else null:
 * the role may not, no or a wrong CSRF token, a credential that is invalid, expired, revoked or
 * disabled. A request with no credential at all, and the login route (core audits every login
 * attempt itself), are not.
 */
function refusedFor(err: unknown, method: string, path: string): string | null {
  if (!isToolroomError(err) || (method === 'POST' && path === '/session')) return null;
  const rule = err.cause.details[0]?.rule ?? '';
  if (err.code === 'forbidden') return rule || 'permission';
  if (err.code === 'unauthenticated' && rule !== 'unauthenticated') return rule;
  return null;
}

export type { Method };
