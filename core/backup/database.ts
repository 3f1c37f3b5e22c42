import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { backendOf, openDatabase, type Backend, type Db } from '../db/connect';

/**
 * The database part of a backup. A PostgreSQL server: `pg_dump --format=custom` (Debian's
 * postgresql-client; its major version must be at least the server's), restored with pg_restore
 * turned into SQL and run by psql in ONE transaction, so a failed restore leaves the target as it
 * was. Embedded PGlite: its WASM pg_dump (@electric-sql/pglite-tools, plain SQL with INSERTs),
 * restored into a new PGlite directory that only replaces the target once it is complete.
 */

export const DUMP_FILE: Record<Backend, 'database.dump' | 'database.sql'> = { postgres: 'database.dump', pglite: 'database.sql' };

/** Run a client tool; its stderr becomes the error. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 8000) stderr += d.toString();
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(new Error(err.code === 'ENOENT' ? `${command} is not installed (Debian: apt-get install postgresql-client)` : `${command}: ${err.message}`));
    });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} failed (exit ${code}): ${stderr.trim().slice(0, 2000)}`))));
  });
}

/**
 * libpq settings for a URL, the password in PGPASSWORD rather than on the command line (which every
 * user of the machine can read in `ps`).
 */
export function clientEnv(url: string, env: NodeJS.ProcessEnv = process.env): { env: NodeJS.ProcessEnv; dbname: string } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { env: { ...env, ...(password ? { PGPASSWORD: password } : {}) }, dbname: u.toString() };
}

/** The connection string of a server-backed knex instance. */
export function serverUrl(db: Db): string {
  const c = db.client.config.connection as { connectionString?: string } | undefined;
  if (!c?.connectionString) throw new Error('backup: the database has no connection URL');
  return c.connectionString;
}

/** The one PGlite connection of an embedded knex instance, held (no other query runs) while `use` runs. */
async function withPglite<T>(db: Db, use: (pg: PGlite) => Promise<T>): Promise<T> {
  const pg = (await db.client.acquireConnection()) as PGlite;
  try {
    return await use(pg);
  } finally {
    await db.client.releaseConnection(pg);
  }
}

/** Dump the database into `file` (in the format DUMP_FILE names for its backend). */
export async function dumpDatabase(db: Db, file: string): Promise<Backend> {
  const backend = backendOf(db);
  if (backend === 'postgres') {
    const { env, dbname } = clientEnv(serverUrl(db));
    await run('pg_dump', ['--format=custom', '--no-owner', '--no-privileges', `--file=${file}`, `--dbname=${dbname}`], env);
    return backend;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { pgDump } = require('@electric-sql/pglite-tools') as typeof import('@electric-sql/pglite-tools');
  await withPglite(db, async (pg) => {
    // pg_dump shares the app's one session and leaves it as a dump leaves a connection it is about to
    // drop: inside its read-only snapshot transaction, search_path emptied, and views refused
    // (restrict_nonsystem_relation_kind, which would stop the KPI views). Undo all three.
    const { rows } = await pg.query<{ search_path: string }>('SHOW search_path');
    try {
      const dump = await pgDump({ pg, args: ['--no-owner', '--no-privileges'] });
      fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()), { mode: 0o600 });
    } finally {
      if (pg.isInTransaction()) await pg.exec('ROLLBACK');
      await pg.exec(`SET search_path TO ${rows[0].search_path}`);
      await pg.exec('RESET restrict_nonsystem_relation_kind');
    }
  });
  return backend;
}

/** True when the database's schema holds no table (a fresh database). */
export async function databaseIsEmpty(db: Db): Promise<boolean> {
  const { rows } = await db.raw<{ rows: { n: number | string }[] }>('SELECT count(*) AS n FROM pg_tables WHERE schemaname = current_schema()');
  return Number(rows[0].n) === 0;
}

/**
 * True while a process has the PGlite database in `dir` open: PGlite keeps a postmaster.pid there
 * until it closes. PGlite has one user, so a second opener (a backup beside the running app) would
 * corrupt it. A crash leaves the file behind: starting and stopping the app once clears it.
 */
export function pgliteInUse(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'postmaster.pid'));
}

/** True when a PGlite directory holds a database. */
export function pgliteDirInUse(dir: string): boolean {
  return fs.existsSync(dir) && fs.readdirSync(dir).length > 0;
}

/**
 * Restore a server dump into the database at `url` in one transaction. `replace` first drops the
 * schema's contents in that same transaction (restore over a database that is not empty).
 */
export async function restoreServer(url: string, dump: string, workDir: string, replace: boolean): Promise<void> {
  const sql = path.join(workDir, 'restore.sql');
  await run('pg_restore', ['--no-owner', '--no-privileges', `--file=${sql}`, dump], process.env);
  const { env, dbname } = clientEnv(url);
  const drop = `DO $$ DECLARE s text := current_schema(); BEGIN EXECUTE format('DROP SCHEMA %I CASCADE', s); EXECUTE format('CREATE SCHEMA %I', s); END $$;`;
  const args = ['-X', '-q', '--single-transaction', '-v', 'ON_ERROR_STOP=1', `--dbname=${dbname}`];
  if (replace) args.push('-c', drop);
  args.push('-f', sql);
  try {
    await run('psql', args, env);
  } finally {
    fs.rmSync(sql, { force: true });
  }
}

/** Restore a PGlite dump into a new PGlite directory `dir` (which must not exist yet). */
export async function restorePglite(dir: string, dump: string): Promise<void> {
  const db = openDatabase({ dataDir: dir });
  try {
    await withPglite(db, async (pg) => {
      const { rows } = await pg.query<{ search_path: string }>('SHOW search_path');
      await pg.exec(fs.readFileSync(dump, 'utf8'));
      await pg.exec(`SET search_path TO ${rows[0].search_path}`);
    });
  } finally {
    await db.destroy();
  }
}
