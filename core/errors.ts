import type { ZodError } from 'zod';

export type ErrorCode = 'validation' | 'not_found' | 'conflict' | 'forbidden';

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

  constructor(code: ErrorCode, message: string, details: FieldProblem[] = []) {
    super(message, { cause: { details } });
    this.name = 'ToolroomError';
    this.code = code;
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
      return { field, rule, message: issue.message };
    }),
  );
}
