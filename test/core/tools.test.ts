import assert from 'node:assert/strict';
import { createTool, getTool, listTools, retireTool, updateTool } from '../../core/tools/service';
import { backends, resetData, tableCounts, type Backend } from '../support/db';
import { rejects } from '../support/expect';
import { engineer, technician } from '../support/actors';
import type { Db } from '../../core/db/connect';
import { COUNT_CAP } from '../../core/db/page';

const valid = {
  assetNumber: 'm-1001',
  name: 'Door handle 4-cav',
  partNumbers: ['DH-100', 'DH-101'],
  customer: 'Acme Auto',
  owner: 'Acme Auto',
  toolmaker: 'Formenbau Müller',
  year: 2021,
  spiClass: 102,
  cavityCount: 4,
  hotRunnerZones: 6,
  expectedLifetimeShots: 1_000_000,
  location: 'Rack A3',
};

for (const backend of backends) {
  describe(`tools [${backend.name}]`, function () {
    this.timeout(20000);
    let db: Db;
    before(async () => {
      db = await (backend as Backend).db();
    });
    beforeEach(() => resetData(db));

    it('creates a tool with its cavities and normalises the asset number', async () => {
      const tool = await createTool(db, technician, { ...valid, blockedCavities: [{ number: 3, reason: 'cracked insert' }] });
      assert.equal(tool.assetNumber, 'M-1001');
      assert.equal(tool.status, 'in_store');
      assert.deepEqual(tool.partNumbers, ['DH-100', 'DH-101']);
      assert.equal(tool.cavities.length, 4);
      assert.equal(tool.activeCavities, 3);
      assert.deepEqual(tool.cavities[2], { number: 3, state: 'blocked', blockedReason: 'cracked insert', lifetimeShots: 0 });
      assert.equal(tool.press, null);
      assert.equal(tool.lifetimeShots, 0);
      const inService = await createTool(db, technician, { ...valid, assetNumber: 'M-1003', lifetimeShots: 412_000 });
      assert.equal(inService.lifetimeShots, 412_000);
      assert.equal((await getTool(db, engineer, { assetNumber: 'M-1001' })).id, tool.id);
      assert.equal((await getTool(db, engineer, { assetNumber: 'm-1001' })).id, tool.id);
    });

    it('rejects a duplicate asset number as a conflict, writing nothing', async () => {
      await createTool(db, technician, valid);
      const before = await tableCounts(db);
      await rejects(createTool(db, technician, { ...valid, assetNumber: 'M-1001', name: 'Other' }), 'conflict', 'assetNumber', 'unique');
      assert.deepEqual(await tableCounts(db), before);
    });

    const invalid: [string, Record<string, unknown>, string, string | RegExp][] = [
      ['missing asset number', { assetNumber: undefined }, 'assetNumber', /invalid_type/],
      ['empty asset number', { assetNumber: '  ' }, 'assetNumber', /too_small/],
      ['asset number with spaces', { assetNumber: 'M 1001' }, 'assetNumber', /invalid_format|regex/],
      ['asset number too long', { assetNumber: 'M'.repeat(41) }, 'assetNumber', /too_big/],
      ['missing name', { name: undefined }, 'name', /invalid_type/],
      ['name too long', { name: 'x'.repeat(201) }, 'name', /too_big/],
      ['part numbers not a list', { partNumbers: 'DH-100' }, 'partNumbers', /invalid_type/],
      ['empty part number', { partNumbers: [''] }, 'partNumbers.0', /too_small/],
      ['SPI class below 101', { spiClass: 100 }, 'spiClass', /too_small/],
      ['SPI class above 105', { spiClass: 106 }, 'spiClass', /too_big/],
      ['zero cavities', { cavityCount: 0 }, 'cavityCount', /too_small/],
      ['fractional cavities', { cavityCount: 2.5 }, 'cavityCount', /invalid_type/],
      ['cavities as text', { cavityCount: 'four' }, 'cavityCount', /invalid_type/],
      ['too many cavities', { cavityCount: 513 }, 'cavityCount', /too_big/],
      ['negative hot-runner zones', { hotRunnerZones: -1 }, 'hotRunnerZones', /too_small/],
      ['zero expected lifetime', { expectedLifetimeShots: 0 }, 'expectedLifetimeShots', /too_small/],
      ['year 1800', { year: 1800 }, 'year', /too_small/],
      ['negative opening shot count', { lifetimeShots: -1 }, 'lifetimeShots', /too_small/],
      ['status retired on create', { status: 'retired' }, 'status', /invalid_value/],
      ['status in_press on create', { status: 'in_press' }, 'status', /invalid_value/],
      ['unknown field', { colour: 'red' }, '', /unrecognized_keys/],
      ['blocked cavity that does not exist', { blockedCavities: [{ number: 5, reason: 'x' }] }, 'blockedCavities.0.number', 'cavity_exists'],
      ['blocked cavity without reason', { blockedCavities: [{ number: 1 }] }, 'blockedCavities.0.reason', /invalid_type/],
      ['blocked cavity twice', { blockedCavities: [{ number: 1, reason: 'a' }, { number: 1, reason: 'b' }] }, 'blockedCavities.1.number', 'unique'],
    ];
    for (const [label, patch, field, rule] of invalid) {
      it(`rejects ${label} naming ${field || 'the input'}, writing nothing`, async () => {
        const before = await tableCounts(db);
        await rejects(createTool(db, technician, { ...valid, ...patch }), 'validation', field, rule);
        assert.deepEqual(await tableCounts(db), before);
      });
    }

    it('lists every rule broken, not just the first', async () => {
      const err = await rejects(createTool(db, technician, { assetNumber: '', cavityCount: -1, spiClass: 99 }), 'validation');
      const fields = [...new Set(err.cause.details.map((d) => d.field))].sort();
      assert.deepEqual(fields, ['assetNumber', 'cavityCount', 'name', 'spiClass']);
    });

    it('updates fields and blocked cavities, bumps the version and enforces it', async () => {
      const tool = await createTool(db, technician, valid);
      const updated = await updateTool(db, technician, {
        id: tool.id,
        version: tool.version,
        location: 'Rack B1',
        blockedCavities: [{ number: 2, reason: 'gate worn' }],
      });
      assert.equal(updated.location, 'Rack B1');
      assert.equal(updated.version, tool.version + 1);
      assert.equal(updated.activeCavities, 3);
      assert.equal(updated.cavities[1].blockedReason, 'gate worn');
      await rejects(updateTool(db, technician, { id: tool.id, version: tool.version, name: 'stale' }), 'conflict', 'version');
      const fewer = await updateTool(db, technician, { id: tool.id, cavityCount: 2 });
      assert.equal(fewer.cavities.length, 2);
      await rejects(updateTool(db, technician, { id: tool.id, cavityCount: 1 }), 'conflict', 'cavityCount');
      const more = await updateTool(db, technician, { id: tool.id, cavityCount: 8, blockedCavities: [] });
      assert.equal(more.activeCavities, 8);
    });

    it('does not update an unknown tool or one that is retired', async () => {
      await rejects(updateTool(db, technician, { id: 999, name: 'x' }), 'not_found', 'id');
      const tool = await createTool(db, technician, valid);
      await retireTool(db, engineer, { id: tool.id, reason: 'end of programme' });
      await rejects(updateTool(db, technician, { id: tool.id, name: 'x' }), 'conflict', 'id', 'not_retired');
    });

    it('retires softly: history kept, hidden from lists unless asked for', async () => {
      const tool = await createTool(db, technician, valid);
      await createTool(db, technician, { ...valid, assetNumber: 'M-1002' });
      await rejects(retireTool(db, technician, { id: tool.id, reason: 'x' }), 'forbidden');
      await rejects(retireTool(db, engineer, { id: tool.id }), 'validation', 'reason');
      const retired = await retireTool(db, engineer, { id: tool.id, reason: 'end of programme' });
      assert.equal(retired.status, 'retired');
      assert.ok(retired.retiredAt);
      assert.equal(retired.retiredReason, 'end of programme');
      assert.deepEqual((await listTools(db, technician, {})).items.map((t) => t.assetNumber), ['M-1002']);
      assert.equal((await listTools(db, technician, { includeRetired: true })).total, 2);
      assert.equal((await listTools(db, technician, { status: 'retired' })).items[0].id, tool.id);
      await rejects(retireTool(db, engineer, { id: tool.id, reason: 'again' }), 'conflict');
    });

    it('lists with filters, free text and pagination', async () => {
      for (let i = 1; i <= 12; i++) {
        await createTool(db, technician, {
          ...valid,
          assetNumber: `M-${2000 + i}`,
          name: i % 2 ? `Bezel ${i}` : `Cap 100% ${i}`,
          partNumbers: [`PN-${i}`],
          customer: i % 3 ? 'Acme Auto' : 'Beta Medical',
          status: i <= 2 ? 'in_maintenance' : 'in_store',
        });
      }
      const page = await listTools(db, technician, { limit: 5, offset: 5 });
      assert.equal(page.total, 12);
      assert.deepEqual(page.items.map((t) => t.assetNumber), ['M-2006', 'M-2007', 'M-2008', 'M-2009', 'M-2010']);
      assert.equal((await listTools(db, technician, { status: 'in_maintenance' })).total, 2);
      assert.equal((await listTools(db, technician, { status: ['in_maintenance', 'in_store'] })).total, 12);
      assert.equal((await listTools(db, technician, { customer: 'beta medical' })).total, 4);
      assert.equal((await listTools(db, technician, { q: 'bezel' })).total, 6);
      assert.equal((await listTools(db, technician, { q: 'PN-11' })).total, 1);
      assert.equal((await listTools(db, technician, { q: 'm-2012' })).total, 1);
      // Several words: each must appear (in any of asset number, name, part numbers).
      assert.deepEqual((await listTools(db, technician, { q: 'cap 12' })).items.map((t) => t.assetNumber), ['M-2012']);
      assert.equal((await listTools(db, technician, { q: '  BEZEL   pn-1 ' })).total, 2);
      // LIKE wildcards in the search text are literal.
      assert.equal((await listTools(db, technician, { q: '100%' })).total, 6);
      assert.equal((await listTools(db, technician, { q: '_' })).total, 0);
      assert.equal(page.totalCapped, false);
      await rejects(listTools(db, technician, { limit: 0 }), 'validation', 'limit');
      await rejects(listTools(db, technician, { status: 'broken' }), 'validation', 'status');
    });

    it('records an audit event with actor, before and after for every write, none for reads or rejects', async () => {
      const tool = await createTool(db, technician, valid);
      await updateTool(db, technician, { id: tool.id, location: 'Rack Z9' });
      await retireTool(db, engineer, { id: tool.id, reason: 'scrapped' });
      await listTools(db, technician, {});
      await getTool(db, technician, { id: tool.id });
      await rejects(updateTool(db, technician, { id: tool.id, name: 'x' }), 'conflict');
      const events = await db('audit_events').orderBy('id');
      assert.deepEqual(events.map((e) => [e.action, e.entity, e.entity_id, e.actor_name, e.actor_role, e.via]), [
        ['tool.create', 'tool', String(tool.id), 'tina.tech', 'technician', 'test'],
        ['tool.update', 'tool', String(tool.id), 'tina.tech', 'technician', 'test'],
        ['tool.retire', 'tool', String(tool.id), 'erik.eng', 'engineer', 'test'],
      ]);
      assert.equal(events[0].before, null);
      assert.equal(events[0].after.assetNumber, 'M-1001');
      assert.equal(events[1].before.location, 'Rack A3');
      assert.equal(events[1].after.location, 'Rack Z9');
      assert.equal(events[2].after.status, 'retired');
    });

    it('counts matches up to the cap and says when there are more', async () => {
      await db.raw(`INSERT INTO tools (asset_number, name, cavity_count)
        SELECT 'C-' || i, 'Cap ' || i, 1 FROM generate_series(1, ${COUNT_CAP + 5}) AS i`);
      const page = await listTools(db, technician, { q: 'cap', limit: 3 });
      assert.equal(page.items.length, 3);
      assert.equal(page.total, COUNT_CAP);
      assert.equal(page.totalCapped, true);
      const few = await listTools(db, technician, { q: 'C-1000', limit: 3 });
      assert.deepEqual([few.total, few.totalCapped], [7, false]); // C-1000, C-10000..C-10005
    });

    it('reports not_found for an unknown tool by id or asset number', async () => {
      await rejects(getTool(db, technician, { id: 42 }), 'not_found', 'id');
      await rejects(getTool(db, technician, { assetNumber: 'NOPE' }), 'not_found', 'assetNumber');
      await rejects(getTool(db, technician, { id: 'abc' }), 'validation');
    });
  });
}
