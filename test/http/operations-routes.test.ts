import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Db } from '../../core/db/connect';
import { newKeyPair } from '../../core/backup/age';
import { backends, resetData } from '../support/db';
import { loggedIn, startApi, type TestServer } from '../support/api-server';

/** Backups and retention over the REST API (the role matrix in api.test.ts covers who may call them). */
for (const backend of backends) {
  describe(`REST API: backups and retention [${backend.name}]`, function () {
    this.timeout(60000);
    let db: Db;
    let api: TestServer;
    let tmp: string;
    const saved = { ...process.env };
    before(async () => {
      db = await backend.db();
      await resetData(db);
      api = await startApi(db);
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-api-backup-'));
    });
    after(async () => {
      process.env = saved;
      await api.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    });

    it('an admin sets a retention period and places a legal hold; the purge answers with its counts', async () => {
      const admin = await loggedIn(db, api.url, 'admin');
      const set = await admin.call('PUT', '/retention/shot_readings', { keepDays: 400 });
      assert.equal(set.status, 200, set.text);
      assert.equal(set.json.keepDays, 400);
      const list = await admin.call('GET', '/retention');
      assert.equal(list.json.find((p: { recordType: string }) => p.recordType === 'shot_readings').keepDays, 400);
      const bad = await admin.call('PUT', '/retention/shot_readings', { keepDays: 0 });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.errors[0].field, 'keepDays');
      const tool = await admin.call('POST', '/tools', { assetNumber: 'API-HOLD', name: 'Held', cavityCount: 1 });
      const hold = await admin.call('POST', `/tools/${tool.json.id}/legal-hold`, { reason: 'customer claim' });
      assert.equal(hold.status, 201, hold.text);
      assert.equal((await admin.call('DELETE', `/tools/${tool.json.id}/legal-hold`)).status, 200);
      const purge = await admin.call('POST', '/retention/purge', {});
      assert.equal(purge.status, 200, purge.text);
      assert.deepEqual(Object.keys(purge.json.removed).sort(), ['audit_events', 'sessions', 'shot_readings', 'tool_records']);
    });

    it('backs up on demand as configured, and says which setting is missing when it is not', async () => {
      const admin = await loggedIn(db, api.url, 'admin');
      delete process.env.TOOLROOM_BACKUP_DIR;
      const unset = await admin.call('POST', '/backups', {});
      assert.equal(unset.status, 409, unset.text);
      assert.equal(unset.json.errors[0].field, 'TOOLROOM_BACKUP_DIR');
      const pair = await newKeyPair();
      fs.writeFileSync(path.join(tmp, 'recipient'), pair.recipient);
      fs.mkdirSync(path.join(tmp, 'share'));
      Object.assign(process.env, { TOOLROOM_BACKUP_DIR: path.join(tmp, 'share'), TOOLROOM_BACKUP_RECIPIENT_FILE: path.join(tmp, 'recipient'), TOOLROOM_DATA_DIR: path.join(tmp, 'data') });
      const made = await admin.call('POST', '/backups', {});
      assert.equal(made.status, 201, made.text);
      assert.match(made.json.archive, /^toolroom-\d{8}-\d{6}-\d{3}\.tar\.age$/);
      assert.deepEqual(fs.readdirSync(path.join(tmp, 'share')), [made.json.archive]);
      const event = await db('audit_events').where({ action: 'backup.create' }).orderBy('id', 'desc').first();
      assert.equal(event.actor_role, 'admin');
    });
  });
}
