import assert from 'node:assert/strict';
import { ToolroomError, type ErrorCode } from '../../core/errors';

/**
 * Await a call that must fail with a ToolroomError of `code`; when `field` is given, the error's
 * details must name that field (and `rule`, when given). Returns the error for further checks.
 */
export async function rejects(
  call: Promise<unknown>,
  code: ErrorCode,
  field?: string,
  rule?: string | RegExp,
): Promise<ToolroomError> {
  let caught: unknown;
  try {
    await call;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught, `expected a ${code} error, but the call succeeded`);
  assert.ok(caught instanceof ToolroomError, `expected a ToolroomError, got ${String(caught)}`);
  const err = caught as ToolroomError;
  assert.equal(err.code, code, `expected code ${code}, got ${err.code}: ${err.message}`);
  if (field !== undefined) {
    const match = err.cause.details.find(
      (d) => d.field === field && (rule === undefined || (typeof rule === 'string' ? d.rule === rule : rule.test(d.rule))),
    );
    assert.ok(match, `expected a problem on field "${field}"${rule ? ` with rule ${rule}` : ''}, got ${JSON.stringify(err.cause.details)}`);
    if (code === 'validation') assert.match(err.message, new RegExp(field.replace(/\./g, '\\.')));
  }
  return err;
}
