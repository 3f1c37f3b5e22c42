import { z } from 'zod';
import { fromZod, validationError } from './errors';

/**
 * Text PostgreSQL cannot store as it was sent: a U+0000 (in a string or a key), or a lone UTF-16
 * surrogate (half of a character; the driver would store U+FFFD in its place). Refused for every
 * schema here, naming the field, rather than stored altered or failing in the driver later.
 */
function textProblems(input: unknown, path: string[] = [], out: { field: string; rule: string; message: string }[] = []) {
  if (out.length >= 10) return out;
  if (typeof input === 'string') {
    if (input.includes('\u0000')) out.push({ field: path.join('.'), rule: 'no_nul', message: 'must not contain the NUL character' });
    else if (!input.isWellFormed()) out.push({ field: path.join('.'), rule: 'unicode', message: 'must be well-formed Unicode text (it holds half a character)' });
  } else if (typeof input === 'object' && input !== null && !(input instanceof Date) && path.length < 32) {
    for (const [key, value] of Object.entries(input)) {
      if (key.includes('\u0000')) out.push({ field: [...path, key.replaceAll('\u0000', '\\0')].join('.'), rule: 'no_nul', message: 'the key must not contain the NUL character' });
      else if (!key.isWellFormed()) out.push({ field: [...path, key.toWellFormed()].join('.'), rule: 'unicode', message: 'the key must be well-formed Unicode text' });
      else textProblems(value, [...path, key], out);
    }
  }
  return out;
}

/**
 * A refinement: at most one of `fields`, and at least one when `required` (e.g. a tool by id or by
 * asset number). Two given names the second (rule `one_of`); none names the first (`required`).
 */
export function oneOf<K extends string>(fields: readonly K[], required = true) {
  return (v: Partial<Record<K, unknown>>, ctx: z.RefinementCtx): void => {
    const given = fields.filter((f) => v[f] !== undefined);
    if (given.length > 1) {
      ctx.addIssue({ code: 'custom', path: [given[1]], message: `give only one of ${fields.join(', ')}`, params: { rule: 'one_of' } });
    } else if (required && given.length === 0) {
      ctx.addIssue({ code: 'custom', path: [fields[0]], message: `give one of ${fields.join(', ')}`, params: { rule: 'required' } });
    }
  };
}

/** Parse input with a schema or throw a validation error naming every field and rule. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const problems = textProblems(input);
  if (problems.length) throw validationError(problems);
  const result = schema.safeParse(input === undefined ? {} : input);
  if (!result.success) throw fromZod(result.error);
  return result.data;
}

// Shared field shapes, so the same rule is not written twice.

/**
 * Whole numbers also arrive as text (query strings, form fields): decimal digits become a number.
 * Not z.coerce, which takes true as 1, [7] as 7 and '' as 0.
 */
const digitsToNumber = (v: unknown) => (typeof v === 'string' && /^\s*-?\d{1,16}\s*$/.test(v) ? Number(v) : v);
export const wholeNumber = () => z.preprocess(digitsToNumber, z.number().int());
// Record ids are PostgreSQL integers (serial): a larger one is refused here, not by the database as a 500.
export const MAX_ID = 2_147_483_647;
export const id = z.preprocess(digitsToNumber, z.number().int().positive().max(MAX_ID));

export const text = (max = 200) => z.string().trim().min(1).max(max);
export const optionalText = (max = 2000) =>
  z.string().trim().max(max).nullish().transform((v) => (v === '' || v == null ? null : v));

/**
 * A date and time: a Date, an ISO 8601 string, or milliseconds since the epoch (Node-RED's
 * timestamps). Not z.coerce.date, which reads null and true as 1970 and '7' as the year 2001.
 */
const ISO_DATE_START = /^\d{4}-\d{2}-\d{2}/;
export const timestamp = z.preprocess(
  (v) => ((typeof v === 'string' && ISO_DATE_START.test(v.trim())) || (typeof v === 'number' && Number.isFinite(v)) ? new Date(typeof v === 'string' ? v.trim() : v) : v),
  z.date({ error: 'must be a date and time (ISO 8601, e.g. 2026-11-26T14:30:00Z)' }),
);
export const isoDate = z.iso.date();

/** A tablet's clock may run a little ahead of the server's; more than this is a typo, not skew. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** When something happened: now or in the past (within clock skew), never later. */
export const pastTimestamp = timestamp.refine((d) => d.getTime() <= Date.now() + CLOCK_SKEW_MS, {
  message: 'must not be in the future',
  params: { rule: 'not_in_future' },
});
/** Money with at most two decimals (a float like 12.3 * 100 is 1230.0000000000002: compare, not test). */
export const money = z
  .number()
  .min(0)
  .max(9_999_999_999.99)
  .refine((v) => Math.abs(Math.round(v * 100) - v * 100) < 1e-6, { message: 'at most 2 decimals', params: { rule: 'two_decimals' } });
/** Minutes of work on one job (a day at most). */
export const minutesSpent = z.number().int().min(0).max(1440);

export const pagination = {
  limit: wholeNumber().pipe(z.number().min(1).max(500)).default(50),
  offset: wholeNumber().pipe(z.number().min(0)).default(0),
};

// Output shapes: what records hold as core hands them out (JSON-ready), for their zod schemas.
/** A point in time as a record holds it: ISO 8601 in UTC (toISOString). */
export const instant = z.iso.datetime();
export const recordId = z.number().int().positive();
/** When a record was created and last changed (every table with updated_at). */
export const recordTimes = { createdAt: instant, updatedAt: instant };
/** A count that may exceed 2^31 (shots) but stays a safe integer. */
export const bigCount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const pageFields = z.object({
  /** Matching records, counted up to COUNT_CAP (core/db/page.ts); `totalCapped` when there are more. */
  total: z.number().int().min(0),
  totalCapped: z.boolean(),
  limit: z.number().int().min(1),
  offset: z.number().int().min(0),
});

const pages = new WeakMap<z.ZodType, z.ZodType>();

/** The output schema of one page of a list of `item`: named `<item>Page` when the item has a name (`.meta({ id })`). */
export function pageOf<T extends z.ZodType>(item: T) {
  const known = pages.get(item) as ReturnType<typeof pageSchema<T>> | undefined;
  if (known) return known;
  const page = pageSchema(item);
  const id = z.globalRegistry.get(item)?.id;
  const named = id ? page.meta({ id: `${id}Page` }) : page;
  pages.set(item, named);
  return named;
}

const pageSchema = <T extends z.ZodType>(item: T) => pageFields.extend({ items: z.array(item) });

export type Page<T> = z.infer<typeof pageFields> & { items: T[] };
