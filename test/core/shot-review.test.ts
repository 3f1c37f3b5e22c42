import assert from 'node:assert/strict';
import { recordReadings } from '../../core/shots/service';
import { acceptHeldReading, listHeldReadings, rejectHeldReading } from '../../core/shots/review';
import { mountTool, unmountTool } from '../../core/mounts/service';
import { getTool, retireTool } from '../../core/tools/service';
import { createPlan } from '../../core/pm/service';
import type { CounterConfig } from '../../core/shots/counter';
import type { Tool } from '../../core/tools/schema';
import { backends, countRows, tableCounts } from '../support/db';
import { rejects } from '../support/expect';
import { shotSuite } from '../support/shots';
import { admin, engineer, system, technician } from '../support/actors';

const MIN = 60_000;
const T0 = new Date(Math.floor((Date.now() - 2 * 24 * 60 * MIN) / MIN) * MIN);
const t = (minutes: number) => new Date(T0.getTime() + minutes * MIN);
const u32: CounterConfig = { width: 'uint32', jumpLimit: 1000 };
const series = (press: string, counters: (number | string)[], from = 0) =>
  counters.map((counter, i) => ({ press, counter, at: t(from + i).toISOString() }));

for (const backend of backends) {
  describe(`held shot readings review [${backend.name}]`, function () {
    this.timeout(30000);
    const plant = shotSuite(backend, t(-10));
    beforeEach(async () => {
      await mountTool(plant.db, technician, { assetNumber: 'M-200', pressCode: 'P-02', at: t(-10) });
    });

    const lifetimeOf = async (tool: Tool) => (await getTool(plant.db, technician, { id: tool.id })).lifetimeShots;
    const state = async () => {
      const s = await plant.db('counter_states').where('source', 'press:P-01').first(plant.db.raw('last_counter::text AS last, held_counter::text AS held'));
      return [s.last, s.held];
    };
    /** P-01: baseline 100, then a jump to 90 000 (89 900 shots) that is held. */
    const holdJump = async () => {
      const r = await recordReadings(plant.db, system, series('P-01', [100, 90_000]), { counter: u32 });
      assert.equal(r.readings[1].outcome, 'held');
      return (await plant.db('shot_readings').where('outcome', 'held').first('id')).id as number;
    };

    it('lists held readings oldest first with what accepting would add, by press and by tool', async () => {
      await recordReadings(plant.db, system, [...series('P-02', [5, 50_005], 0), ...series('P-01', [100, 90_000, 90_010], 1)], { counter: u32 });
      await recordReadings(plant.db, technician, [{ tool: 'M-100', shots: 20_000, at: t(5).toISOString() }], { counter: u32 });
      const all = await listHeldReadings(plant.db, engineer, {});
      assert.equal(all.total, 3);
      assert.deepEqual(all.items.map((x) => [x.source, x.press?.code ?? null, x.tool?.assetNumber, x.counter, x.pending, x.delta, x.outcome]), [
        ['press:P-02', 'P-02', 'M-200', '50005', 50_000, 0, 'held'],
        ['press:P-01', 'P-01', 'M-100', '90000', 89_900, 0, 'held'],
        ['tool:M-100:manual', null, 'M-100', null, 20_000, 0, 'held'],
      ]);
      assert.equal(all.items[0].at, t(1).toISOString());
      assert.equal(all.items[0].reviewedAt, null);
      const p1 = await listHeldReadings(plant.db, engineer, { pressId: all.items[1].press!.id });
      assert.deepEqual(p1.items.map((x) => x.source), ['press:P-01']);
      const a = await listHeldReadings(plant.db, admin, { toolId: plant.toolA.id, limit: 1, offset: 1 });
      assert.deepEqual([a.total, a.items.map((x) => x.source)], [2, ['tool:M-100:manual']]);
      await rejects(listHeldReadings(plant.db, technician, {}), 'forbidden');
      await rejects(listHeldReadings(plant.db, engineer, { pressId: 'P-01' }), 'validation', 'pressId');
    });

    it('accepting counts the held shots for its tool once: cavities, outbox, audit; the press counts on from there', async () => {
      const id = await holdJump();
      const outbox = await countRows(plant.db, 'outbox');
      const r = await acceptHeldReading(plant.db, engineer, { id, note: 'mould ran on the bench press over the weekend' });
      assert.deepEqual([r.reading.outcome, r.reading.delta, r.reading.pending, r.reading.reviewedBy, r.reading.reviewNote], ['accepted', 89_900, 89_900, engineer.id, 'mould ran on the bench press over the weekend']);
      assert.ok(r.reading.reviewedAt);
      assert.equal(await lifetimeOf(plant.toolA), 89_900);
      assert.deepEqual((await getTool(plant.db, technician, { id: plant.toolA.id })).cavities.map((c) => c.lifetimeShots), [89_900, 0, 89_900, 89_900]);
      assert.equal(await countRows(plant.db, 'outbox'), outbox + 1);
      const last = await plant.db('outbox').orderBy('id', 'desc').first('*');
      const line = last.line ?? last.payload.line; // its own column from migration 009 on
      assert.equal(line, `shots,press=P-01,source=press:P-01,tool=M-100 delta=89900i,lifetime=89900i ${t(1).getTime()}000000`);
      const audit = await plant.db('audit_events').where('action', 'shots.accept').first();
      assert.deepEqual([audit.actor_id, audit.entity_id, audit.before.outcome, audit.after.outcome, audit.after.lifetimeShots], [engineer.id, String(id), 'held', 'accepted', 89_900]);
      // The state trusted the held counter: the next reading counts from 90 000.
      assert.deepEqual(await state(), ['90000', null]);
      const next = await recordReadings(plant.db, system, series('P-01', [90_010], 2), { counter: u32 });
      assert.deepEqual([next.readings[0].outcome, next.readings[0].delta], ['counted', 10]);
      assert.equal(await lifetimeOf(plant.toolA), 89_910);
      // Once only, either way.
      const before = await tableCounts(plant.db);
      await rejects(acceptHeldReading(plant.db, engineer, { id }), 'conflict', 'id', 'held');
      await rejects(rejectHeldReading(plant.db, engineer, { id, reason: 'changed my mind' }), 'conflict', 'id', 'held');
      assert.deepEqual(await tableCounts(plant.db), before);
      assert.equal((await listHeldReadings(plant.db, engineer, {})).total, 0);
    });

    it('rejecting counts nothing and drops the held counter: the press counts on from before the jump', async () => {
      const id = await holdJump();
      const outbox = await countRows(plant.db, 'outbox');
      const r = await rejectHeldReading(plant.db, engineer, { id, reason: 'PLC glitch after a power dip' });
      assert.deepEqual([r.outcome, r.delta, r.pending, r.reviewNote], ['rejected', 0, 89_900, 'PLC glitch after a power dip']);
      assert.equal(await lifetimeOf(plant.toolA), 0);
      assert.equal(await countRows(plant.db, 'outbox'), outbox);
      assert.deepEqual(await state(), ['100', null]);
      const next = await recordReadings(plant.db, system, series('P-01', [105, 90_010], 2), { counter: u32 });
      assert.deepEqual(next.readings.map((x) => [x.outcome, x.delta]), [['counted', 5], ['held', 0]], 'a jump again is held again');
      const audit = await plant.db('audit_events').where('action', 'shots.reject').first();
      assert.deepEqual([audit.actor_id, audit.after.outcome, audit.after.reviewNote], [engineer.id, 'rejected', 'PLC glitch after a power dip']);
      await rejects(acceptHeldReading(plant.db, admin, { id }), 'conflict', 'id', 'held');
    });

    it('after later readings decided where the counter is, a review leaves the counter state to them', async () => {
      const id = await holdJump();
      // A plausible step from the held value: the press is there; 90 010 counted 10 from it.
      await recordReadings(plant.db, system, series('P-01', [90_010], 2), { counter: u32 });
      assert.deepEqual(await state(), ['90010', null]);
      await acceptHeldReading(plant.db, engineer, { id });
      assert.deepEqual(await state(), ['90010', null]);
      assert.equal(await lifetimeOf(plant.toolA), 89_910);
      const next = await recordReadings(plant.db, system, series('P-01', [90_020], 3), { counter: u32 });
      assert.equal(next.readings[0].delta, 10);
    });

    it('accepting announces the PM transitions the shots cause, once', async () => {
      await createPlan(plant.db, engineer, { toolId: plant.toolA.id, name: 'Every 50 000', intervalShots: 50_000 });
      const id = await holdJump();
      const r = await acceptHeldReading(plant.db, engineer, { id });
      assert.deepEqual(r.transitions.map((x) => [x.assetNumber, x.from, x.to]), [['M-100', 'NOT_DUE', 'OVERDUE']]);
      const next = await recordReadings(plant.db, system, series('P-01', [90_010], 2), { counter: u32 });
      assert.deepEqual(next.transitions, []);
    });

    it('accepts a held manual entry for its tool, and keeps a jump made with no tool mounted on the reading', async () => {
      await recordReadings(plant.db, technician, [{ tool: 'M-200', shots: 20_000, at: t(0).toISOString() }], { counter: u32 });
      const manual = (await listHeldReadings(plant.db, engineer, {})).items[0];
      const r = await acceptHeldReading(plant.db, engineer, { id: manual.id });
      assert.equal(r.reading.outcome, 'accepted');
      assert.equal(await lifetimeOf(plant.toolB), 20_000);

      await unmountTool(plant.db, technician, { pressCode: 'P-01', at: t(0.5) });
      await recordReadings(plant.db, system, series('P-01', [100, 90_000], 1), { counter: u32 });
      const loose = (await listHeldReadings(plant.db, engineer, {})).items[0];
      assert.equal(loose.tool, null);
      const outbox = await countRows(plant.db, 'outbox');
      const u = await acceptHeldReading(plant.db, engineer, { id: loose.id });
      assert.deepEqual([u.reading.outcome, u.reading.delta, u.transitions], ['unattributed', 89_900, []]);
      assert.equal(await countRows(plant.db, 'outbox'), outbox);
      assert.equal(await lifetimeOf(plant.toolA), 0);
    });

    it('refuses bad reviews naming the field and rule, writing nothing', async () => {
      const id = await holdJump();
      const counted = (await plant.db('shot_readings').where('outcome', 'baseline').first('id')).id as number;
      const before = await tableCounts(plant.db);
      await rejects(acceptHeldReading(plant.db, technician, { id }), 'forbidden');
      await rejects(rejectHeldReading(plant.db, technician, { id, reason: 'no' }), 'forbidden');
      await rejects(acceptHeldReading(plant.db, engineer, {}), 'validation', 'id', /invalid_type/);
      await rejects(acceptHeldReading(plant.db, engineer, { id: 999_999 }), 'not_found', 'id');
      await rejects(acceptHeldReading(plant.db, engineer, { id: counted }), 'conflict', 'id', 'held');
      await rejects(rejectHeldReading(plant.db, engineer, { id }), 'validation', 'reason', /invalid_type/);
      await rejects(rejectHeldReading(plant.db, engineer, { id, reason: '   ' }), 'validation', 'reason', /too_small/);
      await rejects(acceptHeldReading(plant.db, engineer, { id, extra: 1 }), 'validation', '', /unrecognized_keys/);
      assert.deepEqual(await tableCounts(plant.db), before);
      await unmountTool(plant.db, technician, { pressCode: 'P-01' });
      await retireTool(plant.db, engineer, { id: plant.toolA.id, reason: 'worn out' });
      const retired = await tableCounts(plant.db);
      await rejects(acceptHeldReading(plant.db, engineer, { id }), 'conflict', 'id', 'not_retired');
      assert.deepEqual(await tableCounts(plant.db), retired);
      assert.equal((await rejectHeldReading(plant.db, engineer, { id, reason: 'tool retired' })).outcome, 'rejected');
    });

    if (backend.name === 'postgres') {
      it('two engineers accepting the same reading at once count it once', async () => {
        const id = await holdJump();
        const results = await Promise.allSettled([acceptHeldReading(plant.db, engineer, { id }), acceptHeldReading(plant.db, admin, { id }), rejectHeldReading(plant.db, engineer, { id, reason: 'glitch' })]);
        assert.equal(results.filter((x) => x.status === 'fulfilled').length, 1);
        for (const x of results) if (x.status === 'rejected') assert.equal((x.reason as { code: string }).code, 'conflict');
        const lifetime = await lifetimeOf(plant.toolA);
        assert.ok(lifetime === 0 || lifetime === 89_900);
        assert.equal(await countRows(plant.db, 'outbox'), lifetime ? 1 : 0);
      });
    }
  });
}
