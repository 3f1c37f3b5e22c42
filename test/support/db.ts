import { openDatabase, migrateLatest, type Db } from '../../core/db/connect';

/**
 * The two backends every core suite runs on: embedded PGlite (in memory) and the PostgreSQL
 * server named by TEST_DATABASE_URL (the test command creates that database and drops it after).
 * One instance per backend per process: PGlite takes seconds to open.
 */
export interface Backend {
  name: 'pglite' | 'postgres';
  db(): Promise<Db>;
}

const opened = new Map<string, Promise<Db>>();

function backend(name: Backend['name'], url?: string): Backend {
  return {
    name,
    db() {
      let p = opened.get(name);
      if (!p) {
        p = (async () => {
          const db = openDatabase(url ? { url } : { dataDir: ':memory:' });
          await migrateLatest(db);
          return db;
        })();
        opened.set(name, p);
      }
      return p;
    },
  };
}

export const backends: Backend[] = [backend('pglite')];
if (process.env.TEST_DATABASE_URL) backends.push(backend('postgres', process.env.TEST_DATABASE_URL));
else if (process.env.CI || process.env.TOOLROOM_REQUIRE_SERVER) {
  throw new Error('TEST_DATABASE_URL is not set: the server suite cannot be skipped here');
}

/** Empty every domain table (keeps the schema), so each test starts from a known state. */
export async function resetData(db: Db): Promise<void> {
  const { rows } = await db.raw<{ rows: { tablename: string }[] }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'knex_%'",
  );
  if (rows.length) await db.raw(`TRUNCATE ${rows.map((r) => `"${r.tablename}"`).join(', ')} RESTART IDENTITY CASCADE`);
}

/** Count rows of a table, for "nothing was written" assertions. */
export async function countRows(db: Db, table: string): Promise<number> {
  const [{ count }] = await db(table).count<{ count: string | number }[]>({ count: '*' });
  return Number(count);
}

/** Snapshot of every table's row count: equal before and after a rejected call means nothing was written. */
export async function tableCounts(db: Db): Promise<Record<string, number>> {
  const { rows } = await db.raw<{ rows: { tablename: string }[] }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'knex_%' ORDER BY tablename",
  );
  const out: Record<string, number> = {};
  for (const r of rows) out[r.tablename] = await countRows(db, r.tablename);
  return out;
}

/**
 * A new, empty database on the test server, named after TEST_DATABASE_URL's with `_<suffix>` (made
 * afresh if a failed run left it), for a restore target or a first start. Returns its URL and a drop.
 */
export async function freshServerDatabase(db: Db, suffix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const url = new URL(process.env.TEST_DATABASE_URL!);
  const name = `${url.pathname.slice(1)}_${suffix}`;
  await db.raw(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await db.raw(`CREATE DATABASE "${name}"`);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: async () => void (await db.raw(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)) };
}

after(async () => {
  for (const p of opened.values()) await (await p).destroy();
  opened.clear();
});

/**
 * A core suite's database on `backend`, in hooks registered by this call: opened before the suite,
 * emptied (resetData) before each test, ahead of the suite's own beforeEach. Its `db` is there once
 * the suite's `before` has run.
 */
export function coreSuite(backend: Backend): { db: Db } {
  const suite = {} as { db: Db };
  before(async () => {
    suite.db = await backend.db();
  });
  beforeEach(async () => {
    await resetData(suite.db);
  });
  return suite;
}
