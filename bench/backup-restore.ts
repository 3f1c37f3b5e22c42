/**
 * Backup and restore of a large plant on the PostgreSQL server (issue 12): the demo plant's history
 * plus 10,000 tools and 1,000,000 shot readings (bulk SQL, not through the services: the audit trail
 * is the demo's). Runs the real command (`node dist/scripts/toolroom.js backup`, then `restore` into a
 * fresh database) under GNU time: wall time, peak RSS of the largest process in the command's tree
 * (node, or pg_dump / pg_restore / psql), the archive's size. Figures depend on the machine's load,
 * printed beside them. BENCH_BACKUP_TOOLS / BENCH_BACKUP_READINGS scale it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateLatest, openDatabase } from '../core/db/connect';
import { seedDemoPlant } from '../core/seed/demo';
import { newKeyPair } from '../core/backup/age';

const TOOLS = Number(process.env.BENCH_BACKUP_TOOLS ?? 10_000);
const READINGS = Number(process.env.BENCH_BACKUP_READINGS ?? 1_000_000);
const root = path.resolve(__dirname, '../..');
// Baseline: the first run (2026-12-04; 2 shared AMD EPYC cores at load average 10.6 from other work; a
// 195 MB database). The archive is small because bulk readings compress well; real ones compress less.
const BASELINE = { backupS: 5.0, restoreS: 19.9, archiveMB: 11.9, backupPeakMB: 137, restorePeakMB: 149 };

function timed(args: string[], env: NodeJS.ProcessEnv): { seconds: number; peakMB: number; out: string } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, path.join(root, 'dist/scripts/toolroom.js'), ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`toolroom ${args[0]} failed: ${r.stderr}`);
  const [seconds, kb] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { seconds, peakMB: kb / 1024, out: r.stdout };
}

async function main(): Promise<void> {
  const url = process.env.BENCH_DATABASE_URL;
  if (!url) throw new Error('BENCH_DATABASE_URL is not set (npm run bench sets it)');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-bench-backup-'));
  const db = openDatabase({ url, poolMax: 2 });
  const restoreName = `${new URL(url).pathname.slice(1)}_restore`;
  try {
    await migrateLatest(db);
    if (!(await db('tools').first('id'))) await seedDemoPlant(db);
    await db.raw(`INSERT INTO tools (asset_number, name, cavity_count, customer, location, lifetime_shots)
      SELECT 'B-' || g, 'Bench mould ' || g, 1 + g % 16, 'Customer ' || g % 50, 'Rack ' || g % 200, g * 100 FROM generate_series(1, ?) g`, [TOOLS]);
    await db.raw(`INSERT INTO shot_readings (source, tool_id, at, counter, delta, outcome, cycle_time_ms)
      SELECT 'P' || (g % 40), (SELECT min(id) FROM tools) + g % 40, timestamptz '2026-01-01' + g * interval '2 seconds', g, 1, 'counted', 12000 + g % 3000
      FROM generate_series(1, ?) g`, [READINGS]);
    const sizeMB = Number((await db.raw<{ rows: { n: string }[] }>('SELECT pg_database_size(current_database()) AS n')).rows[0].n) / 1024 / 1024;

    const pair = await newKeyPair();
    fs.writeFileSync(path.join(tmp, 'recipient'), pair.recipient);
    fs.writeFileSync(path.join(tmp, 'identity'), pair.identityFile, { mode: 0o600 });
    fs.mkdirSync(path.join(tmp, 'share'));
    const load = os.loadavg()[0].toFixed(1);
    const backup = timed(['backup'], { DATABASE_URL: url, TOOLROOM_DATA_DIR: path.join(tmp, 'data'), TOOLROOM_BACKUP_DIR: path.join(tmp, 'share'), TOOLROOM_BACKUP_RECIPIENT_FILE: path.join(tmp, 'recipient') });
    const archive = path.join(tmp, 'share', fs.readdirSync(path.join(tmp, 'share'))[0]);
    const archiveMB = fs.statSync(archive).size / 1024 / 1024;

    await db.raw(`DROP DATABASE IF EXISTS "${restoreName}" WITH (FORCE)`);
    await db.raw(`CREATE DATABASE "${restoreName}"`);
    const target = new URL(url);
    target.pathname = `/${restoreName}`;
    const restore = timed(['restore', archive, '--identity', path.join(tmp, 'identity')], { DATABASE_URL: target.toString(), TOOLROOM_DATA_DIR: path.join(tmp, 'restored') });

    const cpus = os.cpus();
    console.log(`\nBackup and restore of a large plant (PostgreSQL server; ${TOOLS} bench tools + the demo plant, ${READINGS} shot readings; database ${sizeMB.toFixed(0)} MB)`);
    console.log(`  machine: ${cpus.length} × ${cpus[0]?.model ?? '?'}, load average ${load} at the start`);
    const row = (what: string, v: number, unit: string, base: number) => console.log(`  ${what.padEnd(36)}${v.toFixed(1).padStart(9)} ${unit.padEnd(3)} baseline ${base.toFixed(1)}`);
    row('backup, wall time', backup.seconds, 's', BASELINE.backupS);
    row('backup, peak RSS (largest process)', backup.peakMB, 'MB', BASELINE.backupPeakMB);
    row('archive size', archiveMB, 'MB', BASELINE.archiveMB);
    row('restore, wall time', restore.seconds, 's', BASELINE.restoreS);
    row('restore, peak RSS (largest process)', restore.peakMB, 'MB', BASELINE.restorePeakMB);
  } finally {
    await db.raw(`DROP DATABASE IF EXISTS "${restoreName}" WITH (FORCE)`).catch(() => undefined);
    await db.destroy();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exitCode = 1;
});
