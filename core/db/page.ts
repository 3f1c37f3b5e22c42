import type { Knex } from 'knex';
import type { Page } from '../validate';

/**
 * One page of a list: the rows of `rows` (filtered and ordered) cut to the page, and the total
 * that `count` (the same filter, no order) finds. Both queries run at once on the pool.
 */
export async function fetchPage<Row, T>(
  rows: Knex.QueryBuilder,
  count: Knex.QueryBuilder,
  page: { limit: number; offset: number },
  toItems: (rows: Row[]) => T[] | Promise<T[]>,
): Promise<Page<T>> {
  const [list, [{ count: total }]] = await Promise.all([
    rows.limit(page.limit).offset(page.offset) as Promise<Row[]>,
    count.count<{ count: string | number }[]>({ count: '*' }),
  ]);
  return { items: await toItems(list), total: Number(total), limit: page.limit, offset: page.offset };
}
