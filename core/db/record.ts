/**
 * A record read from a row, described once: for each field of the record (the type inferred from
 * its output zod schema), the column it comes from, as it is or through a conversion. The mapper
 * and the select list both follow from that one column map, and the compiler checks it against
 * the row (core/db/tables.ts) and the record alike: a field left out or a column of the wrong type
 * does not build.
 */
import { iso, isoDay, num } from './transaction';

/** A field read through a conversion (or computed from several columns); `column` names what it reads, for select lists. */
export type Reader<Row, V> = ((row: Row) => V) & { column?: string };

/** The columns of `Row` whose values are already of type `V`. */
type ColumnOf<Row, V> = { [C in keyof Row & string]-?: Row[C] extends V ? C : never }[keyof Row & string];

export type ColumnMap<Row, T> = { [K in keyof T]-?: ColumnOf<Row, T[K]> | Reader<Row, T[K]> };

export interface RecordMapper<Row, T> {
  /** The columns the record reads (for a named select list: never `*` where a row holds secrets). */
  columns: string[];
  toRecord(row: Row): T;
  /**
   * What a write of `fields` sets: for each of them given in the input (not undefined), its value
   * under the column the record reads it from. Inserts and updates follow the same column map as reads.
   */
  writable<K extends keyof T & string>(fields: readonly K[]): (input: { [F in K]?: unknown }) => Record<string, unknown>;
}

export function recordMapper<Row, T>(map: ColumnMap<Row, T>): RecordMapper<Row, T> {
  const fields = Object.entries(map) as [string, string | Reader<Row, unknown>][];
  return {
    columns: [...new Set(fields.flatMap(([, f]) => (typeof f === 'string' ? [f] : f.column ? [f.column] : [])))],
    toRecord(row) {
      const record: Record<string, unknown> = {};
      for (const [field, from] of fields) record[field] = typeof from === 'string' ? row[from as keyof Row] : from(row);
      return record as T;
    },
    writable(names) {
      const columns = names.map((name) => {
        const from = (map as Record<string, string | Reader<Row, unknown>>)[name];
        const column = typeof from === 'string' ? from : from.column;
        if (!column) throw new Error(`field ${name} is computed: it has no column to write`);
        return [name, column] as const;
      });
      return (input) => {
        const values: Record<string, unknown> = {};
        for (const [name, column] of columns) {
          const value = (input as Record<string, unknown>)[name];
          if (value !== undefined) values[column] = value;
        }
        return values;
      };
    },
  };
}

function reader<C extends string, V, In>(column: C, convert: (value: In) => V): Reader<{ [K in C]: In }, V> {
  return Object.assign((row: { [K in C]: In }) => convert(row[column]), { column });
}

// Conversions from what both drivers hand back to what a record holds (JSON-ready).
/** `timestamptz NOT NULL` → ISO string. */
export const at = <C extends string>(column: C) => reader(column, (v: Date | string) => iso(v)!);
/** `timestamptz` → ISO string or null. */
export const atOrNull = <C extends string>(column: C) => reader(column, (v: Date | string | null) => iso(v));
/** `date` → 'YYYY-MM-DD' or null. */
export const dayOrNull = <C extends string>(column: C) => reader(column, (v: Date | string | null) => isoDay(v));
/** `bigint` / `numeric NOT NULL` → number. */
export const count = <C extends string>(column: C) => reader(column, (v: number | string) => Number(v));
/** `bigint` / `numeric` → number or null. */
export const countOrNull = <C extends string>(column: C) => reader(column, (v: number | string | null) => num(v));
