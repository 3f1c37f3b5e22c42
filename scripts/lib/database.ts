/**
 * What the maintenance scripts (verify-audit, rotate-photo-key) share: the database named by
 * DATABASE_URL (or the PGlite files under TOOLROOM_DATA_DIR) on one connection, closed after, and
 * exit code 2 with `<script>: <why>` when there is none or the work fails.
 */
import fs from 'node:fs';
import { openDatabase, optionsFromEnv, type Db } from '../../core/db/connect';

export async function withScriptDatabase(
  script: string,
  env: NodeJS.ProcessEnv,
  work: (db: Db) => Promise<number>,
  why: (err: unknown) => string = (err) => (err as Error).message,
): Promise<number> {
  const options = optionsFromEnv(env);
  if (!options.url && !fs.existsSync(options.dataDir!)) {
    console.error(`${script}: no database at ${options.dataDir} (set DATABASE_URL or TOOLROOM_DATA_DIR)`);
    return 2;
  }
  const db = openDatabase({ ...options, poolMax: 1 });
  try {
    return await work(db);
  } catch (err) {
    console.error(`${script}: ${why(err)}`);
    return 2;
  } finally {
    await db.destroy();
  }
}

/** Run `main` when `module` is the process's main module: its answer is the exit code. */
export function runAsScript(module: NodeJS.Module, main: () => Promise<number>): void {
  if (require.main !== module) return;
  main().then((code) => {
    process.exitCode = code;
  });
}
