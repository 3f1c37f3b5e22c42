import assert from 'node:assert/strict';
import { csvField } from '../../core/audit/csv';
import { exportAuditEvents, listAssignees } from '../../core/views/work';
import type { Db } from '../../core/db/connect';
import { createTool } from '../../core/tools/service';
import { createUser, updateUser } from '../../core/users/service';
import { backends, resetData, tableCounts, type Backend } from '../support/db';
import { rejects } from '../support/expect';
import { admin, engineer, system, technician } from '../support/actors';

/** Read models of the work pages (core/views/work.ts): assignees and the audit log export. */
for (const backend of backends) {
  describe(`work page read models [${backend.name}]`, function () {
    // Opening PGlite and migrating it takes long on a loaded machine.
    this.timeout(120000);
    let db: Db;
    before(async () => {
      db = await (backend as Backend).db();
      await resetData(db);
      await createUser(db, system, { username: 'zoe', displayName: 'Zoe Setter', role: 'technician' });
      await createUser(db, system, { username: 'alan', displayName: 'Al Engineer', role: 'engineer' });
      const gone = await createUser(db, system, { username: 'old', displayName: 'Old Timer', role: 'technician' });
      await updateUser(db, system, { id: gone.id, active: false });
      // A name a spreadsheet would run as a formula, and a comma and quotes to escape.
      await createTool(db, system, { assetNumber: 'X-1', name: '=HYPERLINK("http://evil")', cavityCount: 2 });
      await createTool(db, system, { assetNumber: 'X-2', name: 'Cap, "round"', cavityCount: 2 });
    });

    it('assignees: active users by display name, for those who may assign actions only', async () => {
      const list = await listAssignees(db, engineer, {});
      assert.deepEqual(
        list.map((u) => [u.displayName, u.role]),
        [
          ['Al Engineer', 'engineer'],
          ['Zoe Setter', 'technician'],
        ],
      );
      assert.deepEqual(Object.keys(list[0]).sort(), ['displayName', 'id', 'role', 'username'], 'names and roles only');
      await rejects(listAssignees(db, technician, {}), 'forbidden');
      assert.match((await rejects(listAssignees(db, engineer, { all: true }), 'validation')).message, /unknown field: all/);
    });

    it('exports the audit log as CSV (formula cells defused, quotes escaped) and JSON, admins only', async () => {
      const csv = await exportAuditEvents(db, admin, { format: 'csv', entity: 'tool' });
      assert.match(csv.filename, /^toolroom-audit-\d{4}-\d\d-\d\dT\d{6}\.csv$/);
      assert.equal(csv.mimeType, 'text/csv');
      assert.equal(csv.count, 2);
      const lines = csv.content.trimEnd().split('\r\n');
      assert.equal(lines[0], 'seq,id,at,actorId,actorName,actorRole,via,action,entity,entityId,before,after', 'the REST API export\'s columns');
      assert.equal(lines.length, 3);
      assert.match(lines[1], /^\d+,\d+,\S+,system,system,system,test-flow,tool\.create,tool,\d+,,"\{/, 'newest first, the after as JSON');
      assert.ok(lines[1].includes('""name"":""Cap, \\""round\\""""'), lines[1]);
      assert.ok(lines[2].includes('""name"":""=HYPERLINK'), 'a formula inside JSON starts with {, so it cannot run');

      const json = await exportAuditEvents(db, admin, { format: 'json', entity: 'tool' });
      const events = JSON.parse(json.content);
      assert.equal(events.length, 2);
      assert.equal(events[0].after.name, 'Cap, "round"');

      await rejects(exportAuditEvents(db, engineer, { format: 'csv' }), 'forbidden');
      const before = await tableCounts(db);
      await rejects(exportAuditEvents(db, admin, { format: 'xlsx' }), 'validation', 'format');
      await rejects(exportAuditEvents(db, admin, { from: 'yesterday' }), 'validation', 'from');
      assert.match((await rejects(exportAuditEvents(db, admin, { limit: 5 }), 'validation')).message, /unknown field: limit/, 'an export is the whole selection');
      assert.deepEqual(await tableCounts(db), before, 'an export writes nothing');
    });

    it('csvField: quotes when needed, defuses = + - @ at the start', () => {
      assert.equal(csvField(null), '');
      assert.equal(csvField('plain'), 'plain');
      assert.equal(csvField('a,b'), '"a,b"');
      assert.equal(csvField('say "hi"'), '"say ""hi"""');
      assert.equal(csvField('line\nbreak'), '"line\nbreak"');
      assert.equal(csvField('=1+1'), "'=1+1");
      assert.equal(csvField('@SUM(A1)'), "'@SUM(A1)");
      assert.equal(csvField({ a: 1 }), '"{""a"":1}"');
      assert.equal(csvField(42), '42');
    });
  });
}
