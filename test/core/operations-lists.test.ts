import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newKeyPair } from '../../core/backup/age';
import { backupNow, listBackups } from '../../core/backup/settings';
import type { Db } from '../../core/db/connect';
import { listLegalHolds, placeLegalHold, releaseLegalHold } from '../../core/retention/policy';
import { createTool } from '../../core/tools/service';
import { backends, resetData } from '../support/db';
import { admin, technician } from '../support/actors';
import { rejects } from '../support/expect';

/**
 * What the operations page lists (issue 12): the backup directory's archives with the last backup's
 * outcome from the audit trail, and the legal holds in force.
 */
for (const backend of backends) {
  describe(`operations lists: backups and legal holds [${backend.name}]`, function () {
    this.timeout(120000);
    let db: Db;
    let tmp: string;
    let env: NodeJS.ProcessEnv;

    before(async () => {
      db = await backend.db();
      await resetData(db);
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-operations-lists-'));
      fs.mkdirSync(path.join(tmp, 'share'));
      fs.writeFileSync(path.join(tmp, 'recipient'), (await newKeyPair()).recipient);
      env = { TOOLROOM_BACKUP_DIR: path.join(tmp, 'share'), TOOLROOM_BACKUP_RECIPIENT_FILE: path.join(tmp, 'recipient'), TOOLROOM_DATA_DIR: path.join(tmp, 'data') };
    });

    after(() => {
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it('says which setting is missing on a server not set up for backups', async () => {
      const none = await listBackups(db, admin, {}, {});
      assert.deepEqual({ ...none, problem: undefined }, { configured: false, problem: undefined, dir: null, archives: [], last: null });
      assert.match(none.problem!, /TOOLROOM_BACKUP_DIR is not set/);
      const noKey = await listBackups(db, admin, {}, { TOOLROOM_BACKUP_DIR: env.TOOLROOM_BACKUP_DIR });
      assert.equal(noKey.configured, false);
      assert.equal(noKey.dir, env.TOOLROOM_BACKUP_DIR, 'the directory shown all the same');
      assert.match(noKey.problem!, /TOOLROOM_BACKUP_RECIPIENT_FILE/);
    });

    it('lists the archives newest first with their size, other files left out, and the last backup made', async () => {
      fs.writeFileSync(path.join(env.TOOLROOM_BACKUP_DIR!, 'README.txt'), 'not an archive');
      const older = 'toolroom-20261101-020000-000.tar.age';
      fs.writeFileSync(path.join(env.TOOLROOM_BACKUP_DIR!, older), Buffer.alloc(1234));
      const made = await backupNow(db, admin, {}, env);
      const list = await listBackups(db, admin, {}, env);
      assert.equal(list.configured, true);
      assert.equal(list.problem, null);
      assert.deepEqual(list.archives.map((a) => a.name), [made.archive, older]);
      assert.deepEqual(list.archives.map((a) => a.bytes), [made.bytes, 1234]);
      assert.equal(list.archives[1].at, '2026-11-01T02:00:00.000Z');
      assert.deepEqual({ ...list.last, at: undefined }, { outcome: 'created', at: undefined, archive: made.archive, bytes: made.bytes, error: null, by: admin.name });
    });

    it('shows a failed backup as the last outcome, with its error and the missing directory', async () => {
      const gone = { ...env, TOOLROOM_BACKUP_DIR: path.join(tmp, 'unmounted') };
      await assert.rejects(backupNow(db, admin, {}, gone), /does not exist/);
      const list = await listBackups(db, admin, {}, gone);
      assert.equal(list.configured, false);
      assert.match(list.problem!, /unmounted does not exist \(is the share mounted\?\)/);
      assert.deepEqual(list.archives, []);
      assert.equal(list.last?.outcome, 'failed');
      assert.match(list.last!.error!, /does not exist/);
      assert.equal(list.last!.bytes, null);
    });

    it('refuses a technician, and input it does not take', async () => {
      await rejects(listBackups(db, technician, {}, env), 'forbidden');
      await rejects(listBackups(db, admin, { dir: '/etc' }, env), 'validation');
      await rejects(listLegalHolds(db, technician, {}), 'forbidden');
    });

    it('lists the legal holds in force with the tool, newest first; a released one goes', async () => {
      const a = await createTool(db, admin, { assetNumber: 'M-9101', name: 'Cap 38 mm', cavityCount: 8 });
      const b = await createTool(db, admin, { assetNumber: 'M-9102', name: 'Bezel', cavityCount: 2 });
      assert.deepEqual(await listLegalHolds(db, admin, {}), []);
      await placeLegalHold(db, admin, { toolId: a.id, reason: 'customer claim 4711' });
      await placeLegalHold(db, admin, { toolId: b.id, reason: 'warranty dispute' });
      const holds = await listLegalHolds(db, admin, {});
      assert.deepEqual(holds.map((h) => [h.assetNumber, h.toolName, h.reason, h.placedBy]), [
        ['M-9102', 'Bezel', 'warranty dispute', admin.name],
        ['M-9101', 'Cap 38 mm', 'customer claim 4711', admin.name],
      ]);
      assert.ok(!Number.isNaN(Date.parse(holds[0].placedAt)));
      await releaseLegalHold(db, admin, { toolId: b.id });
      assert.deepEqual((await listLegalHolds(db, admin, {})).map((h) => h.toolId), [a.id]);
    });
  });
}
