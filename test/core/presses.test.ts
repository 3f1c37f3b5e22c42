import assert from 'node:assert/strict';
import { createPress, getPress, listPresses, updatePress } from '../../core/presses/service';
import { isOpcUaEndpoint } from '../../core/presses/schema';
import { mountTool, unmountTool } from '../../core/mounts/service';
import { createTool } from '../../core/tools/service';
import { backends, resetData, tableCounts, type Backend } from '../support/db';
import { rejects } from '../support/expect';
import { engineer, technician } from '../support/actors';
import type { Db } from '../../core/db/connect';

const valid = {
  code: 'p-07',
  name: 'Engel victory 200',
  tonnage: 200,
  opcuaEndpoint: 'opc.tcp://192.168.10.27:4840',
  location: 'Hall 2',
};

for (const backend of backends) {
  describe(`presses [${backend.name}]`, function () {
    this.timeout(20000);
    let db: Db;
    before(async () => {
      db = await (backend as Backend).db();
    });
    beforeEach(() => resetData(db));

    it('creates a press with an upper-case code and finds it by id or code', async () => {
      const press = await createPress(db, engineer, valid);
      assert.equal(press.code, 'P-07');
      assert.equal(press.name, 'Engel victory 200');
      assert.equal(press.tonnage, 200);
      assert.equal(press.opcuaEndpoint, 'opc.tcp://192.168.10.27:4840');
      assert.equal(press.location, 'Hall 2');
      assert.equal(press.active, true);
      assert.equal(press.tool, null);
      assert.equal((await getPress(db, technician, { code: 'p-07' })).id, press.id);
      assert.equal((await getPress(db, technician, { id: press.id })).code, 'P-07');
      const bare = await createPress(db, engineer, { code: 'P-08', name: 'Arburg 470', opcuaEndpoint: '' });
      assert.deepEqual([bare.tonnage, bare.opcuaEndpoint, bare.location], [null, null, null]);
    });

    it('rejects a duplicate code, whatever its case, on create and update, writing nothing', async () => {
      await createPress(db, engineer, valid);
      const other = await createPress(db, engineer, { ...valid, code: 'P-08' });
      const before = await tableCounts(db);
      await rejects(createPress(db, engineer, { ...valid, code: 'P-07' }), 'conflict', 'code', 'unique');
      await rejects(updatePress(db, engineer, { id: other.id, code: 'p-07' }), 'conflict', 'code', 'unique');
      assert.deepEqual(await tableCounts(db), before);
    });

    const invalid: [string, Record<string, unknown>, string, string | RegExp][] = [
      ['missing code', { code: undefined }, 'code', /invalid_type/],
      ['blank code', { code: '  ' }, 'code', /too_small/],
      ['code with a space', { code: 'P 07' }, 'code', /invalid_format/],
      ['code too long', { code: 'P'.repeat(41) }, 'code', /too_big/],
      ['missing name', { name: undefined }, 'name', /invalid_type/],
      ['name too long', { name: 'x'.repeat(201) }, 'name', /too_big/],
      ['zero tonnage', { tonnage: 0 }, 'tonnage', /too_small/],
      ['negative tonnage', { tonnage: -200 }, 'tonnage', /too_small/],
      ['fractional tonnage', { tonnage: 200.5 }, 'tonnage', /invalid_type/],
      ['tonnage as text', { tonnage: '200t' }, 'tonnage', /invalid_type/],
      ['tonnage over 20000', { tonnage: 20001 }, 'tonnage', /too_big/],
      ['an http endpoint', { opcuaEndpoint: 'http://192.168.10.27:4840' }, 'opcuaEndpoint', 'custom'],
      ['an endpoint without host', { opcuaEndpoint: 'opc.tcp://' }, 'opcuaEndpoint', 'custom'],
      ['an endpoint with port 99999', { opcuaEndpoint: 'opc.tcp://press7:99999' }, 'opcuaEndpoint', 'custom'],
      ['an endpoint with credentials', { opcuaEndpoint: 'opc.tcp://user:pw@press7:4840' }, 'opcuaEndpoint', 'custom'],
      ['an endpoint with a space', { opcuaEndpoint: 'opc.tcp://press 7:4840' }, 'opcuaEndpoint', 'custom'],
      ['a bare host as endpoint', { opcuaEndpoint: '192.168.10.27:4840' }, 'opcuaEndpoint', 'custom'],
      ['active as text', { active: 'yes' }, 'active', /invalid_type/],
      ['unknown field', { colour: 'red' }, '', /unrecognized_keys/],
    ];
    for (const [label, patch, field, rule] of invalid) {
      it(`rejects ${label} naming ${field || 'the input'}, writing nothing`, async () => {
        const before = await tableCounts(db);
        await rejects(createPress(db, engineer, { ...valid, ...patch }), 'validation', field, rule);
        assert.deepEqual(await tableCounts(db), before);
      });
    }

    it('accepts OPC-UA endpoints by name, IPv4, IPv6, with and without port and path', () => {
      for (const ok of ['opc.tcp://press7', 'opc.tcp://press7.plant.local:4840/UA/Engel', 'opc.tcp://[fe80::1]:48010', 'OPC.TCP://10.0.0.5:4840']) {
        assert.equal(isOpcUaEndpoint(ok), true, ok);
      }
      for (const bad of ['opc.tcp:/press7', 'opc.tcp://press7:4840?x=1', 'opc.tcp://press7#a', 'opc.https://press7', '']) {
        assert.equal(isOpcUaEndpoint(bad), false, bad);
      }
    });

    it('lets engineers create and update presses, technicians only read', async () => {
      const before = await tableCounts(db);
      await rejects(createPress(db, technician, valid), 'forbidden');
      assert.deepEqual(await tableCounts(db), before);
      const press = await createPress(db, engineer, valid);
      await rejects(updatePress(db, technician, { id: press.id, name: 'x' }), 'forbidden');
      assert.equal((await getPress(db, technician, { id: press.id })).name, valid.name);
      assert.equal((await listPresses(db, technician, {})).total, 1);
    });

    it('updates fields, clears optional ones with null and reports an unknown press', async () => {
      const press = await createPress(db, engineer, valid);
      const updated = await updatePress(db, engineer, { id: press.id, code: 'p-7a', tonnage: 250, opcuaEndpoint: 'opc.tcp://press7a:4840' });
      assert.deepEqual([updated.code, updated.tonnage, updated.opcuaEndpoint, updated.name], ['P-7A', 250, 'opc.tcp://press7a:4840', valid.name]);
      const cleared = await updatePress(db, engineer, { id: press.id, tonnage: null, opcuaEndpoint: null, location: null });
      assert.deepEqual([cleared.tonnage, cleared.opcuaEndpoint, cleared.location], [null, null, null]);
      const before = await tableCounts(db);
      await rejects(updatePress(db, engineer, { id: 999, name: 'x' }), 'not_found', 'id');
      await rejects(updatePress(db, engineer, { name: 'x' }), 'validation', 'id');
      await rejects(updatePress(db, engineer, { id: press.id, opcuaEndpoint: 'tcp://x' }), 'validation', 'opcuaEndpoint');
      await rejects(updatePress(db, engineer, { id: press.id, tonnage: 0 }), 'validation', 'tonnage');
      await rejects(updatePress(db, engineer, { id: press.id, name: '' }), 'validation', 'name');
      assert.deepEqual(await tableCounts(db), before);
    });

    it('deactivates an empty press only; inactive presses leave the list unless asked for', async () => {
      const press = await createPress(db, engineer, valid);
      const tool = await createTool(db, technician, { assetNumber: 'M-1', name: 'Cap', cavityCount: 2 });
      await mountTool(db, technician, { toolId: tool.id, pressId: press.id });
      const before = await tableCounts(db);
      await rejects(updatePress(db, engineer, { id: press.id, active: false }), 'conflict', 'active', 'not_mounted');
      assert.deepEqual(await tableCounts(db), before);
      await unmountTool(db, technician, { pressId: press.id });
      const off = await updatePress(db, engineer, { id: press.id, active: false });
      assert.equal(off.active, false);
      assert.equal((await listPresses(db, technician, {})).total, 0);
      assert.equal((await listPresses(db, technician, { includeInactive: true })).items[0].id, press.id);
      assert.equal((await updatePress(db, engineer, { id: press.id, active: true })).active, true);
    });

    it('lists presses by code, each with the tool mounted now, with free text and pagination', async () => {
      for (let i = 1; i <= 6; i++) {
        await createPress(db, engineer, { code: `P-0${i}`, name: i % 2 ? `Engel ${i}` : `Arburg 100% ${i}`, location: i <= 3 ? 'Hall 1' : 'Hall 2' });
      }
      const tool = await createTool(db, technician, { assetNumber: 'M-1', name: 'Cap', cavityCount: 2 });
      const mount = await mountTool(db, technician, { toolId: tool.id, pressCode: 'P-03' });
      const all = await listPresses(db, technician, {});
      assert.equal(all.total, 6);
      assert.deepEqual(all.items.map((p) => p.code), ['P-01', 'P-02', 'P-03', 'P-04', 'P-05', 'P-06']);
      assert.deepEqual(all.items[2].tool, { id: tool.id, assetNumber: 'M-1', name: 'Cap', mountedAt: mount.mountedAt });
      assert.equal(all.items.filter((p) => p.tool).length, 1);
      assert.deepEqual((await getPress(db, technician, { code: 'P-03' })).tool?.id, tool.id);
      // Once unmounted the press is free again in the list.
      await unmountTool(db, technician, { toolId: tool.id });
      assert.equal((await listPresses(db, technician, {})).items[2].tool, null);
      assert.equal((await listPresses(db, technician, { q: 'engel' })).total, 3);
      assert.equal((await listPresses(db, technician, { q: 'hall 2' })).total, 3);
      assert.equal((await listPresses(db, technician, { q: '100%' })).total, 3);
      assert.equal((await listPresses(db, technician, { q: 'p-05' })).total, 1);
      const page = await listPresses(db, technician, { limit: 2, offset: 4 });
      assert.deepEqual(page.items.map((p) => p.code), ['P-05', 'P-06']);
      await rejects(listPresses(db, technician, { offset: -1 }), 'validation', 'offset');
    });

    it('reports not_found for an unknown press by id or code', async () => {
      await rejects(getPress(db, technician, { id: 42 }), 'not_found', 'id');
      await rejects(getPress(db, technician, { code: 'NOPE' }), 'not_found', 'code');
      await rejects(getPress(db, technician, { id: 'abc' }), 'validation');
    });

    it('records an audit event with actor, before and after for every write, none for reads or rejects', async () => {
      const press = await createPress(db, engineer, valid);
      await updatePress(db, engineer, { id: press.id, name: 'Engel victory 220', tonnage: 220 });
      await getPress(db, technician, { id: press.id });
      await listPresses(db, technician, {});
      await rejects(createPress(db, engineer, valid), 'conflict');
      await rejects(updatePress(db, technician, { id: press.id, name: 'x' }), 'forbidden');
      const events = await db('audit_events').orderBy('id');
      assert.deepEqual(events.map((e) => [e.action, e.entity, e.entity_id, e.actor_id, e.actor_name, e.actor_role, e.via]), [
        ['press.create', 'press', String(press.id), '21', 'erik.eng', 'engineer', 'test'],
        ['press.update', 'press', String(press.id), '21', 'erik.eng', 'engineer', 'test'],
      ]);
      assert.equal(events[0].before, null);
      assert.equal(events[0].after.code, 'P-07');
      assert.deepEqual([events[1].before.name, events[1].before.tonnage], ['Engel victory 200', 200]);
      assert.deepEqual([events[1].after.name, events[1].after.tonnage], ['Engel victory 220', 220]);
    });
  });
}
