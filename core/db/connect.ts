import path from 'node:path';
import fs from 'node:fs';
import knexFactory, { Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import { PGlite, type Extension } from '@electric-sql/pglite';
import pg from 'pg';
import { migrationSource } from '../../migrations';
import { firstStartCluster } from './pglite-cluster';

export type Db = Knex;

export interface DatabaseOptions {
  /** PostgreSQL server URL; when absent the embedded PGlite database is used. */
  url?: string;
  /** Directory for the embedded PGlite files (ignored with `url`). `:memory:` keeps it in memory. */
  dataDir?: string;
  /** Pool size for the server backend (PGlite always has exactly one connection). */
  poolMax?: number;
}

export type Backend = 'postgres' | 'pglite';

// The two drivers parse some types differently (pg: int8 as string, date at local midnight;
// PGlite: int8 as number, date as UTC Date). Counts fit in 2^53, so both give numbers and
// dates stay 'YYYY-MM-DD' strings: records look the same whichever backend serves them.
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v);
    if (oid === 1082) return (v: string) => v;
    return pg.types.getTypeParser(oid, format);
  },
};

/** Resolve the options from the environment the way the app and tests do. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): DatabaseOptions {
  const dataDir = env.TOOLROOM_DATA_DIR || './data';
  return env.DATABASE_URL ? { url: env.DATABASE_URL } : { dataDir: path.join(dataDir, 'pglite') };
}

export function backendOf(db: Db): Backend {
  return (db.client.config as { client?: unknown }).client === ClientPgLite ? 'pglite' : 'postgres';
}

/** PGlite's pg_trgm (its contrib/* export has no types for this project's module resolution). */
function pgTrgm(): Extension {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('@electric-sql/pglite/contrib/pg_trgm') as { pg_trgm: Extension }).pg_trgm;
}

/**
 * PGlite's shared buffers live in its WASM memory, on top of the operating system's file cache:
 * PostgreSQL's default 128MB made a Pi's Node-RED some 175 MB bigger for a plant's few hundred MB
 * of data (measured: 569 → 394 MB RSS on a 200k-row table at 16MB). TOOLROOM_PGLITE_SHARED_BUFFERS
 * sets it (PostgreSQL units, e.g. 64MB).
 */
export function pgliteSharedBuffers(env: NodeJS.ProcessEnv = process.env): string {
  const v = env.TOOLROOM_PGLITE_SHARED_BUFFERS?.trim();
  return v && /^\d+(kB|MB|GB)$/.test(v) ? v : '16MB';
}

/** Open a knex instance on a PostgreSQL server or on embedded PGlite. Does not migrate. */
export function openDatabase(options: DatabaseOptions): Db {
  if (options.url) {
    return knexFactory({
      client: 'pg',
      connection: { connectionString: options.url, types: pgTypes } as Knex.PgConnectionConfig,
      pool: { min: 0, max: options.poolMax ?? 10 },
      migrations: { migrationSource },
    });
  }
  const dir = options.dataDir ?? ':memory:';
  if (dir !== ':memory:') fs.mkdirSync(dir, { recursive: true });
  // Created when knex first asks, once (knex may ask again, and a second instance would hold the
  // process open). pg_trgm must be loaded here for migration 010's index.
  let pglite: PGlite | undefined;
  const settings = { extensions: { pg_trgm: pgTrgm() }, startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${pgliteSharedBuffers()}`] };
  // A new directory is unpacked from the build's empty cluster rather than initdb'd here (pglite-cluster.ts).
  const connection = () => ({
    pglite: (pglite ??= dir === ':memory:' ? new PGlite('memory://', settings) : new PGlite(dir, { ...settings, ...firstStartCluster(dir) })),
  });
  return knexFactory({ client: ClientPgLite, dialect: 'postgres', connection: connection as unknown as Knex.StaticConnectionConfig, migrations: { migrationSource } });
}

/** Bring the schema to the latest migration. */
export async function migrateLatest(db: Db): Promise<void> {
  await db.migrate.latest({ migrationSource });
}

/** Roll back every migration (used by tests and by `reset`). */
export async function migrateRollbackAll(db: Db): Promise<void> {
  await db.migrate.rollback({ migrationSource }, true);
}
