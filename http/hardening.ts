/**
 * What every answer of the app carries, whoever produced it (Toolroom, Node-RED's editor, Dashboard
 * 2): security headers, and a last error handler that never shows a stack or a path to the caller.
 * A page that knows better (the login pages, the API docs) sets its own tighter CSP over these.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpProblem, sendProblem } from './problem';

type Next = (err?: unknown) => void;

/**
 * CSP by area, the tightest each works with (checked in Chromium by test/security):
 * - Dashboard 2 compiles its ui-template widgets in the browser (Vue's runtime compiler: 'unsafe-eval')
 *   and Vuetify writes inline styles; scripts come only from this origin.
 * - Node-RED's editor runs each node's inline registration script ('unsafe-inline'), and Monaco runs
 *   in blob: workers; everything else from this origin.
 * - The REST API answers JSON: nothing may load, nothing may frame it.
 */
const CSP = {
  dashboard:
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'",
  editor:
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'",
  api: "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
} as const;

export interface HardeningOptions {
  /** Where the REST API is mounted (its answers get the API policy and problem+json errors). */
  apiBase: string;
  /** Where Dashboard 2 is served. */
  dashboardBase: string;
  /** Served over TLS and HSTS not turned off: browsers keep to HTTPS for a year. */
  hsts: boolean;
}

const under = (url: string, base: string) => url === base || url.startsWith(`${base}/`) || url.startsWith(`${base}?`);

export function securityHeaders(options: HardeningOptions) {
  return (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    const url = (req.url ?? '/').toLowerCase();
    const area = under(url, options.apiBase.toLowerCase()) ? 'api' : under(url, options.dashboardBase.toLowerCase()) ? 'dashboard' : 'editor';
    res.setHeader('Content-Security-Policy', CSP[area]);
    res.setHeader('X-Frame-Options', area === 'api' ? 'DENY' : 'SAMEORIGIN');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    if (options.hsts) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
    // Express's sub-apps (Node-RED's editor and nodes) add it again as they run: drop it at the last moment.
    const writeHead = res.writeHead;
    res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      this.removeHeader('X-Powered-By');
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as ServerResponse['writeHead'];
    next();
  };
}

/** Statuses a client caused (bad JSON, a body too large, a malformed URL); anything else is ours. */
function clientStatus(err: unknown): number | null {
  const status = Number((err as { status?: unknown; statusCode?: unknown })?.status ?? (err as { statusCode?: unknown })?.statusCode);
  return Number.isInteger(status) && status >= 400 && status < 500 ? status : err instanceof URIError ? 400 : null;
}

/**
 * The last error handler: logs the error with its stack for the admin, answers the caller a plain
 * sentence (problem+json under the API) without a stack, a path or a library's name.
 */
export function finalErrorHandler(options: Pick<HardeningOptions, 'apiBase'>, log: (line: string) => void = console.error) {
  return (err: unknown, req: IncomingMessage, res: ServerResponse, _next: Next): void => {
    const status = clientStatus(err) ?? 500;
    if (status === 500) log(`Toolroom: ${req.method} ${req.url} failed: ${(err as Error)?.stack ?? String(err)}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const sentence = status === 413 ? 'the request is too large' : status === 500 ? 'something went wrong on the server' : 'the request is malformed';
    if (under((req.url ?? '').toLowerCase(), options.apiBase.toLowerCase())) {
      sendProblem(res, status === 500 ? err : new HttpProblem(status, status === 413 ? 'max_bytes' : 'malformed', sentence));
      return;
    }
    res.statusCode = status;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(`${status === 500 ? 'Error' : 'Bad request'}: ${sentence}\n`);
  };
}
