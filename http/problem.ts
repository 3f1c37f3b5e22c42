/**
 * Errors as RFC 9457 problem details (application/problem+json), for the REST API and the login
 * pages' JSON answers. Core's ToolroomError says what went wrong and names the fields; this only
 * maps it to an HTTP status. Anything else is a 500 that says nothing about the internals.
 */
import type { ServerResponse } from 'node:http';
import { isToolroomError, type ErrorCode, type FieldProblem } from '../core/errors';

export const PROBLEM_TYPE = 'application/problem+json';

/** An HTTP-level refusal (404 route, 405 method, 413 body, 415 type, 429 rate limit) with the same shape as core's errors. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly rule: string;
  readonly field: string;
  readonly headers: Record<string, string>;

  constructor(status: number, rule: string, message: string, options: { field?: string; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = 'HttpProblem';
    this.status = status;
    this.rule = rule;
    this.field = options.field ?? '';
    this.headers = options.headers ?? {};
  }
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  /** core's code (validation | not_found | conflict | forbidden | unauthenticated | locked), or http | internal */
  code: string;
  /** Every broken rule: the field (dotted path, '' for the whole input), the rule and a sentence. */
  errors: FieldProblem[];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

/** The HTTP status of each of core's error codes. */
export const STATUS_OF: Record<ErrorCode, number> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  locked: 429,
};

/** Seconds until a lock lifts (at least 1; a minute when core gave no time). */
function retryAfterSeconds(retryAt: Date | undefined, now = Date.now()): number {
  return retryAt ? Math.max(1, Math.ceil((retryAt.getTime() - now) / 1000)) : 60;
}

/** The status, body and extra headers an error answers with. */
export function problemOf(err: unknown, instance?: string): { status: number; body: ProblemBody; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  let status = 500;
  let code = 'internal';
  let detail = 'something went wrong on the server; it was logged';
  let errors: FieldProblem[] = [];
  if (err instanceof HttpProblem) {
    status = err.status;
    code = 'http';
    detail = err.message;
    errors = [{ field: err.field, rule: err.rule, message: err.message }];
    Object.assign(headers, err.headers);
  } else if (isToolroomError(err)) {
    detail = err.message;
    errors = err.cause?.details ?? [];
    code = err.code;
    status = STATUS_OF[err.code];
    if (err.code === 'locked') headers['Retry-After'] = String(retryAfterSeconds(err.retryAt));
    if (err.code === 'unauthenticated') headers['WWW-Authenticate'] = 'Bearer realm="toolroom"';
  }
  const body: ProblemBody = { type: 'about:blank', title: TITLES[status] ?? 'Error', status, detail, code, errors };
  if (instance) body.instance = instance;
  return { status, body, headers };
}

/** Answer with an error as application/problem+json. A 500 is logged, and its body says nothing more. */
export function sendProblem(res: ServerResponse, err: unknown, instance?: string): void {
  const { status, body, headers } = problemOf(err, instance);
  if (status === 500) console.error(`toolroom api: ${instance ?? ''}`, err);
  if (res.headersSent) {
    // A streamed answer already started: all that is left is to cut it short.
    res.destroy(err instanceof Error ? err : undefined);
    return;
  }
  const json = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': PROBLEM_TYPE,
    'Content-Length': Buffer.byteLength(json),
    'Cache-Control': 'no-store',
  });
  res.end(json);
}
