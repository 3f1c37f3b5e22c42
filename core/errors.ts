import type { ZodError } from 'zod';

/**
 * What went wrong, as data every adapter maps by itself (a node passes it on in `msg.error.code`,
 * the API picks its HTTP status from it): `unauthenticated` = who are you? (no, bad or ended
 * credentials), `forbidden` = you may not, `locked` = not now (too many failed attempts; `retryAt` says until when).
 */
export const ERROR_CODES = ['validation', 'not_found', 'conflict', 'forbidden', 'unauthenticated', 'locked'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** One broken rule: the field (dotted path, '' for the whole input), the rule's name and a sentence. */
export interface FieldProblem {
  field: string;
  rule: string;
  message: string;
}

/**
 * The one error type every core service throws for something the caller can act on.
 * Node-RED copies an Error's own `code`, `stack` and `cause` into a caught `msg.error`,
 * so the details travel in `cause.details` (see DESIGN.md, message contract).
 */
export class ToolroomError extends Error {
  readonly code: ErrorCode;
  declare readonly cause: { details: FieldProblem[] };
  /** For `locked`: when trying again can succeed. */
  readonly retryAt?: Date;

  constructor(code: ErrorCode, message: string, details: FieldProblem[] = [], options: { retryAt?: Date } = {}) {
    super(message, { cause: { details } });
    this.name = 'ToolroomError';
    this.code = code;
    if (options.retryAt) this.retryAt = options.retryAt;
  }
}

export function isToolroomError(err: unknown): err is ToolroomError {
  return err instanceof ToolroomError;
}

export function validationError(details: FieldProblem[]): ToolroomError {
  const list = details.map((d) => `${d.field || 'input'}: ${d.message}`).join('; ');
  return new ToolroomError('validation', `Invalid input: ${list}`, details);
}

export function notFound(entity: string, key: string | number, field = 'id'): ToolroomError {
  return new ToolroomError('not_found', `${entity} ${key} not found`, [
    { field, rule: 'exists', message: `no ${entity} with ${field} ${key}` },
  ]);
}

export function conflict(message: string, field = '', rule = 'conflict'): ToolroomError {
  return new ToolroomError('conflict', message, [{ field, rule, message }]);
}

export function forbidden(message: string): ToolroomError {
  return new ToolroomError('forbidden', message, [{ field: '', rule: 'permission', message }]);
}

/** A refusal to say who the caller is: no credentials, or ones that fail (the rule says which: `invalid_token`, `expired`, ...). */
export function unauthenticated(rule: string, message: string, field = ''): ToolroomError {
  return new ToolroomError('unauthenticated', message, [{ field, rule, message }]);
}

/** Too many failed attempts: refused until `retryAt`, whatever is sent (rule `locked`). */
export function locked(retryAt: Date, field = ''): ToolroomError {
  const message = `too many failed attempts: try again after ${retryAt.toISOString()}`;
  return new ToolroomError('locked', message, [{ field, rule: 'locked', message }], { retryAt });
}

/** Turn zod's issues into our field problems; the rule name is zod's issue code (plus its detail). */
export function fromZod(error: ZodError): ToolroomError {
  return validationError(
    error.issues.map((issue) => {
      const field = issue.path.map(String).join('.');
      let rule: string = issue.code;
      // A custom check names its rule in params.rule (e.g. not_in_future); zod's own codes speak for themselves.
      if (issue.code === 'custom' && typeof issue.params?.rule === 'string') rule = issue.params.rule;
      else if (issue.code === 'too_small' || issue.code === 'too_big') rule = `${issue.code}:${String(issue.origin)}`;
      else if (issue.code === 'invalid_type') rule = `invalid_type:${String(issue.expected)}`;
      else if (issue.code === 'invalid_format') rule = `invalid_format:${String(issue.format)}`;
      return { field, rule, message: plainMessage(issue) };
    }),
  );
}

// zod's own messages ("Too small: expected number to be >=1900") are for developers; a technician
// reads these. A message a schema wrote itself (refine, z.date's error) is kept as it is.
const ZOD_DEFAULT = /^(Too small|Too big|Invalid input|Invalid option|Invalid ISO|Invalid string|Invalid date|Unrecognized key|Invalid)\b/;
const TYPE_WORDS: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  bigint: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  date: 'a date and time',
};

type Issue = ZodError['issues'][number];

function plainMessage(issue: Issue): string {
  if (!ZOD_DEFAULT.test(issue.message)) return issue.message;
  const i = issue as Issue & { origin?: string; minimum?: number | bigint; maximum?: number | bigint; inclusive?: boolean };
  switch (issue.code) {
    case 'too_small': {
      const n = Number(i.minimum);
      if (i.origin === 'string') return n <= 1 ? 'must not be empty' : `must be at least ${n} characters`;
      if (i.origin === 'array' || i.origin === 'set') return `needs at least ${n} ${n === 1 ? 'entry' : 'entries'}`;
      return i.inclusive === false ? `must be more than ${n}` : `must be at least ${n}`;
    }
    case 'too_big': {
      const n = Number(i.maximum);
      if (i.origin === 'string') return `must be at most ${n} characters`;
      if (i.origin === 'array' || i.origin === 'set') return `may have at most ${n} ${n === 1 ? 'entry' : 'entries'}`;
      return i.inclusive === false ? `must be less than ${n}` : `must be at most ${n}`;
    }
    case 'invalid_type':
      if (/received undefined$/.test(issue.message)) return 'is required';
      return `must be ${TYPE_WORDS[String(issue.expected)] ?? String(issue.expected)}`;
    case 'invalid_value':
      return `must be one of: ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      if (issue.format === 'date') return 'must be a date (YYYY-MM-DD)';
      if (issue.format === 'datetime') return 'must be a date and time (ISO 8601)';
      return 'has the wrong format';
    case 'unrecognized_keys': {
      // The keys come from the input: shown short, never a megabyte of someone's key back.
      const keys = issue.keys.slice(0, 5).map((k) => (k.length > 40 ? `${k.slice(0, 40)}…` : k));
      return `unknown field${issue.keys.length > 1 ? 's' : ''}: ${keys.join(', ')}${issue.keys.length > 5 ? ', …' : ''}`;
    }
    case 'invalid_union':
      return 'does not match any accepted form';
    default:
      return issue.message;
  }
}
