import path from 'node:path';
import { migrateLatest, openDatabase, optionsFromEnv, type DatabaseOptions, type Db } from '../core/db/connect';
import { maintainEmbedded, maintenanceIntervalMs } from '../core/db/maintenance';

/**
 * The databases this process has open, shared by everyone naming the same one (config nodes,
 * the start script, later the API). DESIGN.md: one process opens an embedded (PGlite) database
 * once — two PGlite instances on one directory would corrupt it — and a server pool once per URL.
 * Each database is opened and migrated on first use and closed when its last lease is released.
 * No Node-RED here: the start script and tests use it as it is.
 */

/** Where a database lives: a PostgreSQL server URL, or an embedded PGlite directory (`:memory:` for none). */
export type DatabaseTarget = { url: string } | { dataDir: string };

/** One holder's claim on a shared database. */
export interface DatabaseLease {
  readonly key: string;
  /** The open, migrated database; a failed open is retried on the next call. */
  database(): Promise<Db>;
  /** Give the claim back (once; later calls do nothing). The last release closes the database. */
  release(): Promise<void>;
}

interface Shared {
  key: string;
  target: DatabaseTarget;
  leases: number;
  opening?: Promise<Db>;
  /** PGlite only: the periodic VACUUM (ANALYZE) (core/db/maintenance.ts). */
  maintenance?: NodeJS.Timeout;
}

interface Registry {
  open: Map<string, Shared>;
  /** Databases being closed: a new open of the same key waits for the close (PGlite holds its files until then). */
  closing: Map<string, Promise<void>>;
}

// One registry per process even if this module is loaded twice (a symlinked install, a test helper).
const slot = Symbol.for('toolroom.databases');
const holder = globalThis as typeof globalThis & { [slot]?: Registry };
const registry: Registry = (holder[slot] ??= { open: new Map(), closing: new Map() });

/** The registry key: the URL as given, or the PGlite directory made absolute. */
export function databaseKey(target: DatabaseTarget): string {
  if ('url' in target) return `postgres ${target.url}`;
  return target.dataDir === ':memory:' ? 'pglite :memory:' : `pglite ${path.resolve(target.dataDir)}`;
}

function optionsOf(target: DatabaseTarget): DatabaseOptions {
  return 'url' in target ? { url: target.url } : { dataDir: target.dataDir };
}

function open(shared: Shared): Promise<Db> {
  if (!shared.opening) {
    const previous = registry.closing.get(shared.key) ?? Promise.resolve();
    const opening = previous.then(async () => {
      const db = openDatabase(optionsOf(shared.target));
      try {
        await migrateLatest(db);
      } catch (err) {
        await db.destroy().catch(() => undefined);
        throw err;
      }
      if (!('url' in shared.target) && registry.open.get(shared.key) === shared) {
        shared.maintenance = setInterval(() => {
          maintainEmbedded(db).catch((err: Error) => console.warn(`toolroom: maintenance of ${shared.key} failed: ${err.message}`));
        }, maintenanceIntervalMs());
        shared.maintenance.unref();
      }
      return db;
    });
    shared.opening = opening;
    // A server that is down now may be up for the next message: forget the failure.
    opening.catch(() => {
      if (shared.opening === opening) shared.opening = undefined;
    });
  }
  return shared.opening;
}

async function close(shared: Shared): Promise<void> {
  registry.open.delete(shared.key);
  clearInterval(shared.maintenance);
  const opening = shared.opening;
  shared.opening = undefined;
  if (!opening) return;
  const closing = opening.then(
    (db) => db.destroy(),
    () => undefined,
  );
  registry.closing.set(shared.key, closing);
  try {
    await closing;
  } finally {
    if (registry.closing.get(shared.key) === closing) registry.closing.delete(shared.key);
  }
}

/** Claim the database at `target`; it opens (and migrates) on the first `database()` call of anyone. */
export function acquireDatabase(target: DatabaseTarget): DatabaseLease {
  const key = databaseKey(target);
  let shared = registry.open.get(key);
  if (!shared) {
    shared = { key, target, leases: 0 };
    registry.open.set(key, shared);
  }
  const mine = shared;
  mine.leases++;
  let released = false;
  return {
    key,
    database() {
      if (released) return Promise.reject(new Error(`database ${key} was released`));
      return open(mine);
    },
    async release() {
      if (released) return;
      released = true;
      mine.leases--;
      if (mine.leases === 0) await close(mine);
    },
  };
}

/** What is open now, by key, with its number of leases (for tests and diagnostics). */
export function openDatabases(): Map<string, { leases: number; opened: boolean }> {
  const out = new Map<string, { leases: number; opened: boolean }>();
  for (const [key, s] of registry.open) out.set(key, { leases: s.leases, opened: s.opening !== undefined });
  return out;
}

/**
 * Expand `${NAME}` in a setting from the environment. TOOLROOM_DATA_DIR defaults to `./data`
 * as everywhere else; other unset names expand to ''. (Node-RED itself only expands a property
 * that is exactly `${NAME}`.)
 */
export function expandEnv(value: string, env: NodeJS.ProcessEnv = process.env): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
    const v = env[name];
    if (v) return v;
    return name === 'TOOLROOM_DATA_DIR' ? './data' : '';
  });
}

/** The target the environment names: DATABASE_URL, else PGlite under TOOLROOM_DATA_DIR. */
export function targetFromEnv(env: NodeJS.ProcessEnv = process.env): DatabaseTarget {
  const o = optionsFromEnv(env);
  return o.url ? { url: o.url } : { dataDir: o.dataDir ?? ':memory:' };
}
