import type { Knex } from 'knex';
import type { z } from 'zod';
import type { Actor } from '../auth/actor';
import { authorize, type Operation } from '../auth/permissions';
import { parse, type Page } from '../validate';

/**
 * Lists count their matches up to this many. Counting 100,000 inspections exactly costs more than
 * the page itself, and nobody pages past 10,000 on a tablet: beyond it, `totalCapped` says "more".
 */
export const COUNT_CAP = 10_000;

/**
 * One page of a list: the rows of `rows` (filtered and ordered) cut to the page, and the total
 * that `count` (the same filter, no order) finds, up to COUNT_CAP. Both queries run at once on the pool.
 */
export async function fetchPage<Row, T>(
  rows: Knex.QueryBuilder,
  count: Knex.QueryBuilder,
  page: { limit: number; offset: number },
  toItems: (rows: Row[]) => T[] | Promise<T[]>,
): Promise<Page<T>> {
  const matches = count.clearSelect().select(count.client.raw('1')).limit(COUNT_CAP + 1).as('matches');
  const [list, [{ count: found }]] = await Promise.all([
    rows.limit(page.limit).offset(page.offset) as Promise<Row[]>,
    count.client.queryBuilder().from(matches).count({ count: '*' }) as Promise<{ count: string | number }[]>,
  ]);
  const total = Number(found);
  return {
    items: await toItems(list),
    total: Math.min(total, COUNT_CAP),
    totalCapped: total > COUNT_CAP,
    limit: page.limit,
    offset: page.offset,
  };
}

/** What a plain list reads and counts, and how a row becomes an item. */
export interface ListQuery<V, Row, T> {
  /** The rows with their columns and joins, in the list's order. */
  rows: (db: Knex) => Knex.QueryBuilder;
  /** The same tables without columns or order: what the total counts. */
  count: (db: Knex) => Knex.QueryBuilder;
  /** Narrows both queries to what the input asks for. */
  filter: (q: Knex.QueryBuilder, v: V) => void;
  toItems: (rows: Row[]) => T[] | Promise<T[]>;
}

/**
 * A list read: authorize `operation`, parse the input with `schema` (paging fields included), then one
 * page of the filtered rows (fetchPage). The list-side twin of getByKey (core/records/lookup.ts).
 */
export async function listPage<S extends z.ZodType<{ limit: number; offset: number }>, Row, T>(
  db: Knex,
  actor: Actor,
  operation: Operation,
  schema: S,
  input: unknown,
  list: ListQuery<z.output<S>, Row, T>,
): Promise<Page<T>> {
  authorize(actor, operation);
  const v = parse(schema, input);
  const filtered = (q: Knex.QueryBuilder) => {
    list.filter(q, v);
    return q;
  };
  return fetchPage(filtered(list.rows(db)), filtered(list.count(db)), v, list.toItems);
}

/** `%text%` for LIKE / ILIKE with the wildcards in `text` escaped: a search for "50%" finds "50%", not everything. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
