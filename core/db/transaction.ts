import type { Knex } from 'knex';
import { ToolroomError, conflict, validationError, notFound } from '../errors';

// Constraints the database enforces as well as core (a second line of defence, and the only one
// against races): the field and rule each one stands for, so a violation reads like a validation error.
const CONSTRAINT_FIELDS: Record<string, { field: string; rule: string }> = {
  tools_asset_number_unique: { field: 'assetNumber', rule: 'unique' },
  tool_mounts_one_open_per_tool: { field: 'toolId', rule: 'one_open_mount_per_tool' },
  tool_mounts_one_open_per_press: { field: 'pressId', rule: 'one_open_mount_per_press' },
  presses_code_unique: { field: 'code', rule: 'unique' },
  users_username_unique: { field: 'username', rule: 'unique' },
  failure_codes_code_unique: { field: 'code', rule: 'unique' },
  inspection_templates_code_unique: { field: 'code', rule: 'unique' },
  shot_readings_source_at_unique: { field: 'at', rule: 'unique_per_source' },
  photos_upload_key_unique: { field: 'uploadKey', rule: 'unique_per_user' },
};

interface PgError {
  code?: string;
  constraint?: string;
  detail?: string;
  message?: string;
}

/** Map a PostgreSQL error to a ToolroomError (or return it unchanged when it is not a rule violation). */
export function translateDbError(err: unknown): unknown {
  if (err instanceof ToolroomError) return err;
  const e = err as PgError;
  const known = e?.constraint ? CONSTRAINT_FIELDS[e.constraint] : undefined;
  const field = known?.field ?? '';
  switch (e?.code) {
    case '23505':
      return conflict(`${field || 'record'} already exists${e.detail ? ` (${e.detail})` : ''}`, field, known?.rule ?? 'unique');
    case '23503':
      return notFound('referenced record', e.detail ?? e.constraint ?? '', field);
    case '23514':
    case '23502':
    case '22P02':
    case '22003':
    case '22021': // a byte sequence the database encoding cannot hold
    case '22P05': // a character it cannot hold (U+0000)
    case '22001': // longer than the column
      return validationError([{ field, rule: e.constraint ?? e.code, message: e.message ?? 'violates a database rule' }]);
    case '40001':
    case '40P01':
      return conflict('the record changed concurrently, try again', field, 'concurrent_update');
    default:
      return err;
  }
}

/** Run `fn` in one transaction; rule violations from the database come out as ToolroomErrors. */
export async function inTransaction<T>(db: Knex, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  try {
    return await db.transaction(fn);
  } catch (err) {
    throw translateDbError(err);
  }
}

/** Date or string from either driver → ISO string (or null). */
export function iso(value: Date | string | null | undefined): string | null {
  if (value == null) return null;
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}

/** `date` column from either driver → 'YYYY-MM-DD' (or null). */
export function isoDay(value: Date | string | null | undefined): string | null {
  if (value == null) return null;
  return value instanceof Date ? value.toISOString().slice(0, 10) : String(value).slice(0, 10);
}

/** numeric/decimal column → number (or null). */
export function num(value: string | number | null | undefined): number | null {
  return value == null ? null : Number(value);
}
