import { z } from 'zod';
import { fromZod } from './errors';

/** Parse input with a schema or throw a validation error naming every field and rule. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input === undefined ? {} : input);
  if (!result.success) throw fromZod(result.error);
  return result.data;
}

// Shared field shapes, so the same rule is not written twice.
export const id = z.coerce.number().int().positive();
export const text = (max = 200) => z.string().trim().min(1).max(max);
export const optionalText = (max = 2000) =>
  z.string().trim().max(max).nullish().transform((v) => (v === '' || v == null ? null : v));
export const timestamp = z.coerce.date().refine((d) => !Number.isNaN(d.getTime()), 'must be a valid date and time');
export const isoDate = z.iso.date();

/** A tablet's clock may run a little ahead of the server's; more than this is a typo, not skew. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** When something happened: now or in the past (within clock skew), never later. */
export const pastTimestamp = timestamp.refine((d) => d.getTime() <= Date.now() + CLOCK_SKEW_MS, {
  message: 'must not be in the future',
  params: { rule: 'not_in_future' },
});
export const pagination = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
};

export interface Page<T> {
  items: T[];
  /** Matching records, counted up to COUNT_CAP (core/db/page.ts); `totalCapped` when there are more. */
  total: number;
  totalCapped: boolean;
  limit: number;
  offset: number;
}
