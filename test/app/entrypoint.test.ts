import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newKeyPair } from '../../core/backup/age';
import { openDatabase, type Db } from '../../core/db/connect';
import { freePort, root } from '../support/app';
import { freshServerDatabase } from '../support/db';

/**
 * The commands the Compose stack's containers run (deploy/entrypoint.sh), run natively as the image
 * would: `start` on the PostgreSQL server with the secrets in *_FILE files (migrations on start, the
 * first-start admin from the password file, /healthz), `healthcheck`, `backup` while the app runs
 * (as the backup service does), `verify`, `next-backup`, `backup-healthcheck`.
 */
const entrypoint = path.join(root, 'deploy', 'entrypoint.sh');

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile('sh', [entrypoint, ...args], { env: { PATH: process.env.PATH, HOME: os.tmpdir(), ...env }, timeout: 60000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout, err: stderr });
    });
  });
}

const url = process.env.TEST_DATABASE_URL;

describe('the image entrypoint (deploy/entrypoint.sh), run natively', function () {
  this.timeout(180000);
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-entry-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('computes the next nightly backup in UTC, and refuses a time that is not HH:MM', async () => {
    const at = (iso: string) => String(Date.parse(iso) / 1000);
    assert.equal((await run(['next-backup'], { TOOLROOM_NOW: at('2026-12-04T01:00:00Z') })).out.trim(), '5400');
    assert.equal((await run(['next-backup'], { TOOLROOM_NOW: at('2026-12-04T02:30:00Z') })).out.trim(), '86400', 'just ran: tomorrow');
    assert.equal((await run(['next-backup'], { TOOLROOM_NOW: at('2026-12-04T23:59:00Z'), TOOLROOM_BACKUP_TIME: '00:00' })).out.trim(), '60');
    const bad = await run(['next-backup'], { TOOLROOM_BACKUP_TIME: '2:30am' });
    assert.equal(bad.code, 2);
    assert.match(bad.err, /TOOLROOM_BACKUP_TIME must be HH:MM/);
    assert.equal((await run(['frobnicate'], {})).code, 2);
    const unreadable = await run(['start'], { TOOLROOM_ADMIN_PASSWORD_FILE: path.join(tmp, 'missing') });
    assert.equal(unreadable.code, 2);
    assert.match(unreadable.err, /TOOLROOM_ADMIN_PASSWORD_FILE=.* cannot be read/);
  });

  (url ? describe : describe.skip)('on the PostgreSQL server', () => {
    let db: Db;
    let app: ChildProcess | undefined;
    let dbUrl: string;
    let drop: () => Promise<void>;

    before(async () => {
      db = openDatabase({ url: url!, poolMax: 1 });
      ({ url: dbUrl, drop } = await freshServerDatabase(db, 'entry'));
    });
    after(async () => {
      if (app && app.exitCode === null) app.kill('SIGTERM');
      await drop();
      await db.destroy();
    });

    it('start migrates a fresh database, makes admin from the password file and serves /healthz; backup runs beside it', async () => {
      const secrets = path.join(tmp, 'secrets');
      fs.mkdirSync(secrets, { mode: 0o700 });
      fs.writeFileSync(path.join(secrets, 'admin_password'), 'Entry-Point-Mould-2026!\n', { mode: 0o600 });
      fs.writeFileSync(path.join(secrets, 'credential_secret'), 'k'.repeat(43) + '\n', { mode: 0o600 });
      const pair = await newKeyPair();
      fs.writeFileSync(path.join(secrets, 'backup_recipient'), `${pair.recipient}\n`);
      fs.writeFileSync(path.join(secrets, 'identity'), pair.identityFile, { mode: 0o600 });
      const dataDir = path.join(tmp, 'data');
      const backups = path.join(tmp, 'backups');
      fs.mkdirSync(backups);
      const port = String(await freePort());
      const env = {
        PORT: port,
        TOOLROOM_HOST: '127.0.0.1',
        TOOLROOM_DATA_DIR: dataDir,
        DATABASE_URL: dbUrl,
        TOOLROOM_SEED: '0',
        TOOLROOM_ADMIN_PASSWORD_FILE: path.join(secrets, 'admin_password'),
        TOOLROOM_CREDENTIAL_SECRET_FILE: path.join(secrets, 'credential_secret'),
        TOOLROOM_BACKUP_DIR: backups,
        TOOLROOM_BACKUP_RECIPIENT_FILE: path.join(secrets, 'backup_recipient'),
      };

      assert.equal((await run(['healthcheck'], { PORT: port })).code, 1, 'unhealthy before it runs');
      let out = '';
      app = spawn('sh', [entrypoint, 'start'], { env: { PATH: process.env.PATH, HOME: tmp, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      app.stdout!.on('data', (d) => (out += d));
      app.stderr!.on('data', (d) => (out += d));
      const deadline = Date.now() + 150000;
      while ((await run(['healthcheck'], { PORT: port })).code !== 0) {
        if (app.exitCode !== null) assert.fail(`start exited with ${app.exitCode}:\n${out}`);
        if (Date.now() > deadline) assert.fail(`not healthy in time:\n${out}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
      assert.match(out, /created user admin with the password in TOOLROOM_ADMIN_PASSWORD/);
      assert.doesNotMatch(out, /Entry-Point-Mould-2026/, 'the password is never printed');
      const target = openDatabase({ url: dbUrl, poolMax: 1 });
      try {
        const migrations = (await target('knex_migrations').pluck('name')) as string[];
        assert.ok(migrations.length >= 10, 'migrated on start');
        assert.equal((await target('users').where({ username: 'admin' }).first())?.role, 'admin');
      } finally {
        await target.destroy();
      }

      // The backup service: the same image, its own process, while the app runs.
      assert.equal((await run(['backup-healthcheck'], { TOOLROOM_BACKUP_DIR: backups, TMPDIR: tmp })).code, 1, 'no backup, job not started');
      const b = await run(['backup'], env);
      assert.equal(b.code, 0, b.err);
      const archives = fs.readdirSync(backups);
      assert.equal(archives.length, 1);
      assert.equal((await run(['backup-healthcheck'], { TOOLROOM_BACKUP_DIR: backups, TMPDIR: tmp })).code, 0, 'a fresh archive');
      const v = await run(['verify', path.join(backups, archives[0]), '--identity', path.join(secrets, 'identity')], { TOOLROOM_DATA_DIR: tmp });
      assert.equal(v.code, 0, v.err);
      assert.match(v.out, /keys part readable/);
      const purged = await run(['purge'], env);
      assert.equal(purged.code, 0, purged.err);
      assert.match(purged.out, /^purged: 0 sessions, 0 shot_readings/);
      const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { parts: Record<string, string> };
      assert.deepEqual(health.parts, { database: 'ok', outbox: 'ok', disk: 'ok', backup: 'ok' });

      app.kill('SIGTERM');
      await new Promise((r) => app!.once('exit', r));
      assert.equal((await run(['healthcheck'], { PORT: port })).code, 1, 'unhealthy once stopped');
    });
  });
});
