/**
 * What the admin pages (issue 14) call beyond the REST API's operations: a password reset to a
 * generated temporary one, disable and enable by id, deactivating a press by id.
 */
import assert from 'node:assert/strict';
import { resetPassword, setPin } from '../../core/accounts/service';
import { login } from '../../core/accounts/sessions';
import { createUser, disableUser, enableUser } from '../../core/users/service';
import { createPress, deactivatePress } from '../../core/presses/service';
import { createTool } from '../../core/tools/service';
import { mountTool } from '../../core/mounts/service';
import { backends, resetData, tableCounts, type Backend } from '../support/db';
import { rejects } from '../support/expect';
import { admin, engineer, technician } from '../support/actors';
import type { Db } from '../../core/db/connect';

for (const backend of backends) {
  describe(`admin operations [${backend.name}]`, function () {
    this.timeout(30000);
    let db: Db;
    before(async function () {
      this.timeout(180000);
      db = await (backend as Backend).db();
    });
    beforeEach(() => resetData(db));

    it('resets a password to a temporary one, answered once, that logs in and must be changed', async () => {
      const tina = await createUser(db, admin, { username: 'tina', displayName: 'Tina', role: 'technician' });
      const { user, temporaryPassword } = await resetPassword(db, admin, { userId: tina.id });
      assert.equal(user.id, tina.id);
      assert.ok(temporaryPassword.length >= 8);
      const session = await login(db, { username: 'tina', password: temporaryPassword, address: '10.0.0.5' });
      assert.equal(session.mustChangePassword, true);
      const [event] = await db('audit_events').where({ action: 'user.password.set', entity_id: String(tina.id) });
      assert.equal(event.after.mustChange, true);
      assert.ok(!JSON.stringify(event).includes(temporaryPassword), 'not in the audit trail');
      // Another reset is another password; the first no longer works.
      const second = await resetPassword(db, admin, { userId: tina.id });
      assert.notEqual(second.temporaryPassword, temporaryPassword);
      await rejects(login(db, { username: 'tina', password: temporaryPassword, address: '10.0.0.5' }), 'unauthenticated');
    });

    it('refuses a reset to anyone but an admin, and of a user who does not exist, writing nothing', async () => {
      const tina = await createUser(db, admin, { username: 'tina', displayName: 'Tina', role: 'technician' });
      const before = await tableCounts(db);
      await rejects(resetPassword(db, engineer, { userId: tina.id }), 'forbidden');
      await rejects(resetPassword(db, technician, { userId: tina.id }), 'forbidden');
      await rejects(resetPassword(db, admin, { userId: 999 }), 'not_found', 'userId');
      await rejects(resetPassword(db, admin, { userId: tina.id, password: 'x' }), 'validation', '', 'unrecognized_keys');
      assert.deepEqual(await tableCounts(db), before);
    });

    it('disables and enables by id only; a disabled user cannot log in with the PIN', async () => {
      const tina = await createUser(db, admin, { username: 'tina', displayName: 'Tina', role: 'technician' });
      await setPin(db, admin, { userId: tina.id, pin: '4711' });
      assert.equal((await disableUser(db, admin, { id: tina.id })).active, false);
      await rejects(login(db, { username: 'tina', pin: '4711', address: '10.0.0.5' }), 'unauthenticated');
      assert.equal((await enableUser(db, admin, { id: String(tina.id) })).active, true);
      assert.equal((await login(db, { username: 'tina', pin: '4711', address: '10.0.0.5' })).session.method, 'pin');
      await rejects(disableUser(db, admin, { id: tina.id, role: 'admin' }), 'validation', '', 'unrecognized_keys');
      await rejects(disableUser(db, engineer, { id: tina.id }), 'forbidden');
      const updates = await db('audit_events').where({ entity: 'user', entity_id: String(tina.id), action: 'user.update' }).orderBy('id');
      assert.deepEqual(updates.map((e) => e.after.active), [false, true]);
    });

    it('deactivates a press by id; one holding a tool stays active', async () => {
      const press = await createPress(db, engineer, { code: 'P-01', name: 'Engel' });
      const busy = await createPress(db, engineer, { code: 'P-02', name: 'Arburg' });
      const tool = await createTool(db, technician, { assetNumber: 'M-1', name: 'Cap', cavityCount: 1 });
      await mountTool(db, technician, { toolId: tool.id, pressId: busy.id });
      assert.equal((await deactivatePress(db, engineer, { id: press.id })).active, false);
      await rejects(deactivatePress(db, engineer, { id: busy.id }), 'conflict', 'active', 'not_mounted');
      await rejects(deactivatePress(db, technician, { id: busy.id }), 'forbidden');
      await rejects(deactivatePress(db, engineer, { id: busy.id, name: 'x' }), 'validation', '', 'unrecognized_keys');
      assert.equal((await db('presses').where('id', busy.id).first()).active, true);
    });
  });
}
