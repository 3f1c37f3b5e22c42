import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, migrateLatest, type Db } from '../../core/db/connect';
import { createTool } from '../../core/tools/service';
import { verifyAuditChain } from '../../core/audit/verify';
import { parseArgs, UsageError } from '../../scripts/toolroom';
import { backupSettingsFromEnv } from '../../core/backup/settings';
import { admin } from '../support/actors';
import { freshServerDatabase } from '../support/db';
import { ToolroomError } from '../../core/errors';
import { root } from '../support/app';

/**
 * The `toolroom` command as an operator runs it (node dist/scripts/toolroom.js, settings from the
 * environment): keygen, backup to the share, verify, restore into a fresh server database. The
 * service's own suite (test/core/backup.test.ts) covers both backends in depth; this one drives the
 * command on the PostgreSQL server, which the Compose stack uses.
 */
function toolroom(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(root, 'dist/scripts/toolroom.js'), ...args], { env: { PATH: process.env.PATH, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout, err: stderr });
    });
  });
}

describe('toolroom command', function () {
  this.timeout(120000);

  it('reads its arguments and the retention settings, refusing mistakes with a sentence', () => {
    assert.deepEqual(parseArgs(['restore', 'a.tar.age', '--identity', 'k', '--force']), { command: 'restore', archive: 'a.tar.age', identities: ['k'], force: true, withoutKeys: false });
    assert.throws(() => parseArgs(['backup', '--force']), (e: Error) => e instanceof UsageError && /unknown option --force/.test(e.message));
    assert.throws(() => parseArgs(['restore']), /needs one file/);
    assert.throws(() => parseArgs(['frobnicate']), /^UsageError: usage: toolroom backup/);
    const recipient = path.join(os.tmpdir(), `toolroom-cli-recipient-${process.pid}`);
    fs.writeFileSync(recipient, 'age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq\n');
    try {
      const env = { TOOLROOM_BACKUP_DIR: '/mnt/backup', TOOLROOM_BACKUP_RECIPIENT_FILE: recipient, TOOLROOM_DATA_DIR: '/srv/data' };
      assert.deepEqual(backupSettingsFromEnv({ ...env, TOOLROOM_BACKUP_KEEP_DAILY: '3' }).keep, { daily: 3, weekly: 4, monthly: 12 });
      assert.throws(() => backupSettingsFromEnv({ ...env, TOOLROOM_BACKUP_KEEP_WEEKLY: 'lots' }), /TOOLROOM_BACKUP_KEEP_WEEKLY must be a whole number/);
      assert.throws(() => backupSettingsFromEnv({ ...env, TOOLROOM_BACKUP_DIR: '' }), (e: Error) => e instanceof ToolroomError && e.code === 'conflict' && /TOOLROOM_BACKUP_DIR is not set/.test(e.message));
    } finally {
      fs.rmSync(recipient, { force: true });
    }
  });

  it('refuses to open an embedded database another process has open (PGlite has one user)', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-cli-pglite-'));
    try {
      fs.mkdirSync(path.join(dataDir, 'pglite'));
      fs.writeFileSync(path.join(dataDir, 'pglite', 'postmaster.pid'), '-42\n/pglite/data\n');
      const env = { DATABASE_URL: '', TOOLROOM_DATA_DIR: dataDir, TOOLROOM_BACKUP_DIR: dataDir, TOOLROOM_BACKUP_RECIPIENT_FILE: path.join(dataDir, 'r') };
      fs.writeFileSync(path.join(dataDir, 'r'), 'age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq\n');
      for (const args of [['backup'], ['purge']]) {
        const r = await toolroom(args, env);
        assert.equal(r.code, 1, r.err);
        assert.match(r.err, /the embedded database in .* is open \(is Toolroom running\? stop it first/);
      }
      assert.deepEqual(fs.readdirSync(path.join(dataDir, 'pglite')), ['postmaster.pid'], 'nothing opened or written');
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  const url = process.env.TEST_DATABASE_URL;
  (url ? describe : describe.skip)('on the PostgreSQL server', () => {
    let tmp: string;
    let source: Db;
    let restoreUrl: string;
    let dropRestored: () => Promise<void>;

    before(async () => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-cli-'));
      source = openDatabase({ url: url!, poolMax: 2 });
      await migrateLatest(source);
      await createTool(source, admin, { assetNumber: `CLI-${Date.now()}`, name: 'Backed-up bezel', cavityCount: 2 });
      ({ url: restoreUrl, drop: dropRestored } = await freshServerDatabase(source, 'cli'));
    });

    after(async () => {
      await dropRestored();
      await source.destroy();
      fs.rmSync(tmp, { recursive: true, force: true });
    });

    it('keygen, backup, verify and restore, as an operator would', async () => {
      const identity = path.join(tmp, 'backup-identity.txt');
      const kg = await toolroom(['keygen', identity], {});
      assert.equal(kg.code, 0, kg.err);
      assert.equal(fs.statSync(identity).mode & 0o777, 0o600);
      const recipient = /recipient.*: (age1[0-9a-z]+)/.exec(kg.out)![1];
      assert.equal((await toolroom(['keygen', identity], {})).code, 2, 'never overwrites a key');
      fs.writeFileSync(path.join(tmp, 'recipient.txt'), `# Toolroom backups\n${recipient}\n`);

      const share = path.join(tmp, 'share');
      fs.mkdirSync(share);
      const dataDir = path.join(tmp, 'data');
      fs.mkdirSync(path.join(dataDir, 'photos'), { recursive: true });
      fs.writeFileSync(path.join(dataDir, 'photos', 'p1.jpg.enc'), 'photo bytes');
      const env = { DATABASE_URL: url!, TOOLROOM_DATA_DIR: dataDir, TOOLROOM_BACKUP_DIR: share, TOOLROOM_BACKUP_RECIPIENT_FILE: path.join(tmp, 'recipient.txt') };

      const missing = await toolroom(['backup'], { ...env, TOOLROOM_BACKUP_RECIPIENT_FILE: '' });
      assert.equal(missing.code, 2);
      assert.match(missing.err, /TOOLROOM_BACKUP_RECIPIENT_FILE is not set/);
      const secretKey = await toolroom(['backup'], { ...env, TOOLROOM_BACKUP_RECIPIENT_FILE: identity });
      assert.equal(secretKey.code, 2);
      assert.match(secretKey.err, /it is a secret key/);

      const b = await toolroom(['backup'], env);
      assert.equal(b.code, 0, b.err);
      assert.match(b.out, /^backup written: .*toolroom-\d{8}-\d{6}-\d{3}\.tar\.age/);
      assert.ok(fs.existsSync(path.join(dataDir, 'keys', 'credential-secret')) === false, 'backup makes no key');
      const archive = path.join(share, fs.readdirSync(share)[0]);

      const v = await toolroom(['verify', archive, '--identity', identity], { TOOLROOM_DATA_DIR: tmp });
      assert.equal(v.code, 0, v.err);
      assert.match(v.out, /is intact: made .* from postgres/);

      const target = path.join(tmp, 'restored');
      const noId = await toolroom(['restore', archive], { DATABASE_URL: restoreUrl, TOOLROOM_DATA_DIR: target });
      assert.equal(noId.code, 2);
      assert.match(noId.err, /--identity/);
      const r = await toolroom(['restore', archive, '--identity', identity], { DATABASE_URL: restoreUrl, TOOLROOM_DATA_DIR: target });
      assert.equal(r.code, 0, r.err);
      assert.equal(fs.readFileSync(path.join(target, 'photos', 'p1.jpg.enc'), 'utf8'), 'photo bytes');
      const again = await toolroom(['restore', archive, '--identity', identity], { DATABASE_URL: restoreUrl, TOOLROOM_DATA_DIR: target });
      assert.equal(again.code, 1);
      assert.match(again.err, /the target is not empty/);

      const restored = openDatabase({ url: restoreUrl, poolMax: 1 });
      try {
        assert.equal(Number((await restored('tools').count({ n: '*' }))[0].n), Number((await source('tools').count({ n: '*' }))[0].n));
        assert.ok((await verifyAuditChain(restored)).ok);
      } finally {
        await restored.destroy();
      }
    });
  });
});
