import assert from 'node:assert/strict';
import { createUser, getUser, listUsers, updateUser } from '../../core/users/service';
import { userExists } from '../../core/users/repository';
import { backends, resetData, tableCounts, type Backend } from '../support/db';
import { rejects } from '../support/expect';
import { admin, engineer, system, technician } from '../support/actors';
import type { Db } from '../../core/db/connect';

const valid = { username: 'Tina.Tech', displayName: 'Tina Technician', role: 'technician' };

for (const backend of backends) {
  describe(`users [${backend.name}]`, function () {
    this.timeout(20000);
    let db: Db;
    before(async () => {
      db = await (backend as Backend).db();
    });
    beforeEach(() => resetData(db));

    it('creates a user with a lower-case username and editor access by role', async () => {
      const tina = await createUser(db, admin, valid);
      assert.equal(tina.username, 'tina.tech');
      assert.equal(tina.displayName, 'Tina Technician');
      assert.equal(tina.role, 'technician');
      assert.equal(tina.editorAccess, 'none');
      assert.equal(tina.active, true);
      assert.ok(Date.parse(tina.createdAt));
      assert.equal((await createUser(db, admin, { username: 'erik', displayName: 'Erik', role: 'engineer' })).editorAccess, 'read');
      assert.equal((await createUser(db, system, { username: 'ada', displayName: 'Ada', role: 'admin' })).editorAccess, 'full');
      const chosen = await createUser(db, admin, { username: 'lea', displayName: 'Lea', role: 'technician', editorAccess: 'read', active: false });
      assert.equal(chosen.editorAccess, 'read');
      assert.equal(chosen.active, false);
    });

    it('never hands out password or PIN hashes', async () => {
      const tina = await createUser(db, admin, valid);
      await db('users').where('id', tina.id).update({ password_hash: '$argon2id$secret', pin_hash: '$argon2id$pin' });
      const records = [
        await getUser(db, admin, { id: tina.id }),
        ...(await listUsers(db, admin, {})).items,
        await updateUser(db, admin, { id: tina.id, displayName: 'Tina T.' }),
      ];
      for (const r of records) {
        assert.deepEqual(Object.keys(r).sort(), ['active', 'createdAt', 'displayName', 'editorAccess', 'id', 'role', 'updatedAt', 'username']);
        assert.doesNotMatch(JSON.stringify(r), /argon2/);
      }
      const [event] = await db('audit_events').where('action', 'user.update');
      assert.doesNotMatch(JSON.stringify(event), /argon2/);
      // An update leaves the hashes alone.
      assert.equal((await db('users').where('id', tina.id).first()).password_hash, '$argon2id$secret');
    });

    it('rejects a duplicate username, whatever its case, as a conflict, writing nothing', async () => {
      await createUser(db, admin, valid);
      const before = await tableCounts(db);
      await rejects(createUser(db, admin, { ...valid, username: 'TINA.TECH' }), 'conflict', 'username', 'unique');
      assert.deepEqual(await tableCounts(db), before);
    });

    const invalid: [string, Record<string, unknown>, string, string | RegExp][] = [
      ['missing username', { username: undefined }, 'username', /invalid_type/],
      ['username of 2 characters', { username: 'ab' }, 'username', /too_small/],
      ['username of 41 characters', { username: 'a'.repeat(41) }, 'username', /too_big/],
      ['username with a space', { username: 'tina tech' }, 'username', /invalid_format/],
      ['username with an accent', { username: 'tína' }, 'username', /invalid_format/],
      ['username with @', { username: 'tina@plant' }, 'username', /invalid_format/],
      ['username starting with a dot', { username: '.tina' }, 'username', /invalid_format/],
      ['missing display name', { displayName: undefined }, 'displayName', /invalid_type/],
      ['blank display name', { displayName: '   ' }, 'displayName', /too_small/],
      ['display name too long', { displayName: 'x'.repeat(201) }, 'displayName', /too_big/],
      ['unknown role', { role: 'boss' }, 'role', /invalid_value/],
      ['system as a role', { role: 'system' }, 'role', /invalid_value/],
      ['unknown editor access', { editorAccess: 'write' }, 'editorAccess', /invalid_value/],
      ['active as text', { active: 'yes' }, 'active', /invalid_type/],
      ['a password (not yet)', { password: 'secret' }, '', /unrecognized_keys/],
    ];
    for (const [label, patch, field, rule] of invalid) {
      it(`rejects ${label} naming ${field || 'the input'}, writing nothing`, async () => {
        const before = await tableCounts(db);
        await rejects(createUser(db, admin, { ...valid, ...patch }), 'validation', field, rule);
        assert.deepEqual(await tableCounts(db), before);
      });
    }

    it('accepts usernames of exactly 3 and 40 characters with . _ -', async () => {
      assert.equal((await createUser(db, admin, { ...valid, username: 'a.b' })).username, 'a.b');
      const long = `x_-${'y'.repeat(37)}`;
      assert.equal((await createUser(db, admin, { ...valid, username: long })).username, long);
    });

    it('lets only admins (and flows) manage and read users', async () => {
      const before = await tableCounts(db);
      for (const actor of [technician, engineer]) {
        await rejects(createUser(db, actor, valid), 'forbidden');
        await rejects(updateUser(db, actor, { id: 1, displayName: 'x' }), 'forbidden');
        await rejects(getUser(db, actor, { id: 1 }), 'forbidden');
        await rejects(listUsers(db, actor, {}), 'forbidden');
      }
      assert.deepEqual(await tableCounts(db), before);
      await createUser(db, system, valid);
      assert.equal((await listUsers(db, system, {})).total, 1);
    });

    it('updates display name, role, editor access and active', async () => {
      await createUser(db, system, { username: 'ada', displayName: 'Ada', role: 'admin' });
      const tina = await createUser(db, admin, valid);
      const renamed = await updateUser(db, admin, { id: tina.id, displayName: 'Tina Schmidt' });
      assert.equal(renamed.displayName, 'Tina Schmidt');
      assert.equal(renamed.role, 'technician');
      // Editor access on the role's default follows a role change.
      const promoted = await updateUser(db, admin, { id: tina.id, role: 'engineer' });
      assert.equal(promoted.editorAccess, 'read');
      // A deliberate choice stays when the role changes.
      const full = await updateUser(db, admin, { id: tina.id, editorAccess: 'full' });
      assert.equal((await updateUser(db, admin, { id: tina.id, role: 'technician' })).editorAccess, 'full');
      assert.equal(full.editorAccess, 'full');
      // Both at once: the given access wins.
      assert.equal((await updateUser(db, admin, { id: tina.id, role: 'admin', editorAccess: 'none' })).editorAccess, 'none');
      const gone = await updateUser(db, admin, { id: tina.id, role: 'technician', active: false });
      assert.equal(gone.active, false);
      assert.equal(gone.username, 'tina.tech');
    });

    it('rejects bad updates naming the field, writing nothing', async () => {
      const tina = await createUser(db, admin, valid);
      const before = await tableCounts(db);
      await rejects(updateUser(db, admin, { id: 999, displayName: 'x' }), 'not_found', 'id');
      await rejects(updateUser(db, admin, { displayName: 'x' }), 'validation', 'id', /invalid_type/);
      await rejects(updateUser(db, admin, { id: tina.id, username: 'other' }), 'validation', '', /unrecognized_keys/);
      await rejects(updateUser(db, admin, { id: tina.id, role: 'boss' }), 'validation', 'role');
      await rejects(updateUser(db, admin, { id: tina.id, editorAccess: 'all' }), 'validation', 'editorAccess');
      await rejects(updateUser(db, admin, { id: tina.id, displayName: '' }), 'validation', 'displayName');
      await rejects(updateUser(db, admin, { id: tina.id, active: 0 }), 'validation', 'active');
      assert.deepEqual(await tableCounts(db), before);
    });

    it('keeps at least one active admin', async () => {
      const ada = await createUser(db, system, { username: 'ada', displayName: 'Ada', role: 'admin' });
      const before = await tableCounts(db);
      await rejects(updateUser(db, admin, { id: ada.id, role: 'engineer' }), 'conflict', 'role', 'keeps_an_admin');
      await rejects(updateUser(db, admin, { id: ada.id, active: false }), 'conflict', 'active', 'keeps_an_admin');
      assert.deepEqual(await tableCounts(db), before);
      // An inactive admin does not count.
      const bob = await createUser(db, system, { username: 'bob', displayName: 'Bob', role: 'admin', active: false });
      await rejects(updateUser(db, admin, { id: ada.id, role: 'engineer' }), 'conflict', 'role');
      await updateUser(db, admin, { id: bob.id, active: true });
      assert.equal((await updateUser(db, admin, { id: ada.id, role: 'engineer' })).role, 'engineer');
      await rejects(updateUser(db, admin, { id: bob.id, active: false }), 'conflict', 'active');
    });

    it('two admins demoting each other at once: one stays admin', async () => {
      const ada = await createUser(db, system, { username: 'ada', displayName: 'Ada', role: 'admin' });
      const bob = await createUser(db, system, { username: 'bob', displayName: 'Bob', role: 'admin' });
      const results = await Promise.allSettled([
        updateUser(db, admin, { id: ada.id, role: 'engineer' }),
        updateUser(db, admin, { id: bob.id, role: 'engineer' }),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      assert.equal((await listUsers(db, admin, { role: 'admin' })).total, 1);
    });

    it('gets a user by id or username, and reports not_found', async () => {
      const tina = await createUser(db, admin, valid);
      assert.equal((await getUser(db, admin, { username: 'TINA.tech' })).id, tina.id);
      assert.equal((await getUser(db, admin, { id: tina.id })).username, 'tina.tech');
      await rejects(getUser(db, admin, { id: 42 }), 'not_found', 'id');
      await rejects(getUser(db, admin, { username: 'nobody' }), 'not_found', 'username');
      await rejects(getUser(db, admin, { id: 'abc' }), 'validation');
    });

    it('lists by role and free text, inactive only when asked, with pagination', async () => {
      for (let i = 1; i <= 7; i++) {
        await createUser(db, admin, {
          username: `user${i}`,
          displayName: i % 2 ? `Tech ${i}` : `Eng 100% ${i}`,
          role: i % 2 ? 'technician' : 'engineer',
          active: i !== 7,
        });
      }
      const all = await listUsers(db, admin, {});
      assert.equal(all.total, 6);
      assert.deepEqual(all.items.map((u) => u.username), ['user1', 'user2', 'user3', 'user4', 'user5', 'user6']);
      assert.equal((await listUsers(db, admin, { includeInactive: true })).total, 7);
      assert.equal((await listUsers(db, admin, { role: 'engineer' })).total, 3);
      assert.equal((await listUsers(db, admin, { q: 'tech' })).total, 3);
      assert.equal((await listUsers(db, admin, { q: 'USER4' })).total, 1);
      assert.equal((await listUsers(db, admin, { q: '100%' })).total, 3);
      assert.equal((await listUsers(db, admin, { q: '_' })).total, 0);
      const page = await listUsers(db, admin, { limit: 2, offset: 2 });
      assert.deepEqual(page.items.map((u) => u.username), ['user3', 'user4']);
      assert.equal(page.total, 6);
      await rejects(listUsers(db, admin, { limit: 501 }), 'validation', 'limit');
      await rejects(listUsers(db, admin, { role: 'boss' }), 'validation', 'role');
    });

    it('records an audit event with actor, before and after for every write, none for reads or rejects', async () => {
      const tina = await createUser(db, admin, valid);
      await updateUser(db, admin, { id: tina.id, role: 'engineer' });
      await getUser(db, admin, { id: tina.id });
      await listUsers(db, admin, {});
      await rejects(createUser(db, admin, valid), 'conflict');
      await rejects(updateUser(db, technician, { id: tina.id, role: 'admin' }), 'forbidden');
      const events = await db('audit_events').orderBy('id');
      assert.deepEqual(events.map((e) => [e.action, e.entity, e.entity_id, e.actor_id, e.actor_name, e.actor_role, e.via]), [
        ['user.create', 'user', String(tina.id), '31', 'ada.admin', 'admin', 'test'],
        ['user.update', 'user', String(tina.id), '31', 'ada.admin', 'admin', 'test'],
      ]);
      assert.equal(events[0].before, null);
      assert.equal(events[0].after.username, 'tina.tech');
      assert.deepEqual([events[1].before.role, events[1].before.editorAccess], ['technician', 'none']);
      assert.deepEqual([events[1].after.role, events[1].after.editorAccess], ['engineer', 'read']);
    });

    it('userExists answers for ids as numbers or actor text, optionally only active users', async () => {
      const tina = await createUser(db, admin, valid);
      const gone = await createUser(db, admin, { ...valid, username: 'gone', active: false });
      assert.equal(await userExists(db, tina.id), true);
      assert.equal(await userExists(db, String(tina.id)), true);
      assert.equal(await userExists(db, String(tina.id), { activeOnly: true }), true);
      assert.equal(await userExists(db, gone.id), true);
      assert.equal(await userExists(db, gone.id, { activeOnly: true }), false);
      for (const nobody of [999, '999', 'system', '', '1.5', '-1', 0, '99999999999999999999']) {
        assert.equal(await userExists(db, nobody), false, String(nobody));
      }
    });
  });
}
