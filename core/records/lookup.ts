import type { z } from 'zod';
import type { Actor } from '../auth/actor';
import { authorize, type Operation } from '../auth/permissions';
import { notFound } from '../errors';
import { parse } from '../validate';

/** How a get names its record: by `id`, or by its code in the plant's words (asset number, press code, username). */
export type RecordKey<F extends string> = { id: number } | { [K in F]: string };

/** The record a get looked up by id or by code, or `not_found` naming the field the caller gave. */
export function foundByKey<T, F extends string>(record: T | undefined, entity: string, key: RecordKey<F>): T {
  if (record !== undefined) return record;
  if ('id' in key) throw notFound(entity, key.id);
  const [field, code] = Object.entries(key)[0] as [string, string];
  throw notFound(entity, code, field);
}

/** A get: authorize, parse the key, look the record up; `not_found` naming the key when there is none. */
export async function getByKey<S extends z.ZodType<RecordKey<string>>, T>(
  actor: Actor,
  operation: Operation,
  schema: S,
  input: unknown,
  entity: string,
  find: (key: z.output<S>) => Promise<T | undefined>,
): Promise<T> {
  authorize(actor, operation);
  const v = parse(schema, input);
  return foundByKey(await find(v), entity, v);
}
