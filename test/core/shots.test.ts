import assert from 'node:assert/strict';
import { recordReadings, type RecordResult } from '../../core/shots/service';
import { mountTool, unmountTool } from '../../core/mounts/service';
import { createTool, getTool, retireTool } from '../../core/tools/service';
import { createPlan } from '../../core/pm/service';
import type { CounterConfig } from '../../core/shots/counter';
import type { Tool } from '../../core/tools/schema';
import { backends, countRows, tableCounts } from '../support/db';
import { rejects } from '../support/expect';
import { shotSuite } from '../support/shots';
import { engineer, system, technician } from '../support/actors';

const MIN = 60_000;
/** A whole minute two days ago, so readings and mounts lie in the past. */
const T0 = new Date(Math.floor((Date.now() - 2 * 24 * 60 * MIN) / MIN) * MIN);
const t = (minutes: number) => new Date(T0.getTime() + minutes * MIN);
const u32: CounterConfig = { width: 'uint32', jumpLimit: 1000 };

/** Readings of one press's counter, one a minute from `from`. */
const series = (press: string, counters: (number | string)[], from = 0, source?: string) =>
  counters.map((counter, i) => ({ press, counter, at: t(from + i).toISOString(), ...(source ? { source } : {}) }));

const outcomes = (r: RecordResult) => r.readings.map((x) => x.outcome);

for (const backend of backends) {
  describe(`shot recording [${backend.name}]`, function () {
    this.timeout(30000);
    const plant = shotSuite(backend, t(-10), { lifetimeShots: 5000 });

    const lifetimeOf = async (tool: Tool) => (await getTool(plant.db, technician, { id: tool.id })).lifetimeShots;
    const cavitiesOf = async (tool: Tool) => (await getTool(plant.db, technician, { id: tool.id })).cavities.map((c) => c.lifetimeShots);
    // The line in its own column, or inside a jsonb payload as outboxes before migration 009 kept it.
    const outboxLines = async () => ((await plant.db('outbox').orderBy('id').select('*')) as { line?: string; payload: { line: string } | null }[]).map((r) => r.line ?? r.payload!.line);

    it('counts a press counter into the mounted tool, its active cavities and the outbox, in one go', async () => {
      const r = await recordReadings(plant.db, system, series('P-01', [1000, 1005, 1005, 1012], 0).map((x, i) => ({ ...x, cycleTimeMs: 11_800 + i })), { counter: u32 });
      assert.deepEqual(outcomes(r), ['baseline', 'counted', 'repeat', 'counted']);
      assert.deepEqual(r.readings.map((x) => [x.delta, x.lifetimeShots, x.assetNumber]), [[0, 0, 'M-100'], [5, 5, 'M-100'], [0, 5, 'M-100'], [7, 12, 'M-100']]);
      assert.equal(await lifetimeOf(plant.toolA), 12);
      assert.deepEqual(await cavitiesOf(plant.toolA), [12, 0, 12, 12], 'the blocked cavity makes no parts');
      const lines = await outboxLines();
      assert.equal(lines.length, 2, 'one outbox row per counted reading');
      assert.equal(lines[1], `shots,press=P-01,source=press:P-01,tool=M-100 delta=7i,lifetime=12i,cycle_time_ms=11803i ${t(3).getTime()}000000`);
      const state = await plant.db('counter_states').where('source', 'press:P-01').first();
      assert.equal(String(state.last_counter), '1012');
      assert.deepEqual(new Date(state.last_at), t(3));
      assert.equal(await countRows(plant.db, 'shot_readings'), 4);
      assert.deepEqual(r.transitions, []);
    });

    it('stores each reading once: a batch sent again counts nothing', async () => {
      const batch = series('P-01', [10, 20, 30], 0);
      await recordReadings(plant.db, system, batch, { counter: u32 });
      const before = await tableCounts(plant.db);
      const again = await recordReadings(plant.db, system, [...batch, ...series('P-01', [35], 3)], { counter: u32 });
      assert.deepEqual(outcomes(again), ['duplicate', 'duplicate', 'duplicate', 'counted']);
      assert.equal(await lifetimeOf(plant.toolA), 25);
      assert.equal(await countRows(plant.db, 'shot_readings'), before.shot_readings + 1);
      // The same reading twice within one batch is stored once too.
      const twice = await recordReadings(plant.db, system, [...series('P-01', [40], 4), ...series('P-01', [40], 4)], { counter: u32 });
      assert.deepEqual(outcomes(twice), ['counted', 'duplicate']);
      assert.equal(await lifetimeOf(plant.toolA), 30);
    });

    it('attributes shots to the tool mounted at each reading, across a mould change', async () => {
      await unmountTool(plant.db, technician, { assetNumber: 'M-100', at: t(3) });
      await mountTool(plant.db, technician, { assetNumber: 'M-200', pressCode: 'P-01', at: t(5) });
      const r = await recordReadings(plant.db, system, series('P-01', [100, 110, 120, 130, 140, 150, 160], 0), { counter: u32 });
      assert.deepEqual(outcomes(r), ['baseline', 'counted', 'counted', 'unattributed', 'unattributed', 'counted', 'counted']);
      assert.deepEqual(r.readings.map((x) => x.assetNumber), ['M-100', 'M-100', 'M-100', null, null, 'M-200', 'M-200']);
      assert.equal(await lifetimeOf(plant.toolA), 20);
      assert.equal(await lifetimeOf(plant.toolB), 5020);
      assert.deepEqual(r.readings.map((x) => x.lifetimeShots), [0, 10, 20, null, null, 5010, 5020]);
      // The press's shots while empty are kept on the reading, not given to a tool.
      const rows = await plant.db('shot_readings').where('outcome', 'unattributed').select('delta', 'tool_id');
      assert.deepEqual(rows.map((x) => [Number(x.delta), x.tool_id]), [[10, null], [10, null]]);
      assert.equal((await outboxLines()).length, 4);
    });

    it('counts resets and rollovers, and holds a jump for review without counting it', async () => {
      const r = await recordReadings(plant.db, system, series('P-01', [4_294_967_290, 4, 500, 3, 90_000, 90_010], 0), { counter: u32 });
      assert.deepEqual(outcomes(r), ['baseline', 'rollover', 'counted', 'reset', 'held', 'counted']);
      assert.deepEqual(r.readings.map((x) => x.delta), [0, 10, 496, 3, 0, 10]);
      assert.equal(r.readings[4].pending, 89_997);
      assert.equal(await lifetimeOf(plant.toolA), 519);
      const held = await plant.db('shot_readings').where('outcome', 'held').first();
      assert.equal(String(held.counter), '90000');
      const audit = await plant.db('audit_events').where('action', 'shots.record').first();
      assert.deepEqual(audit.after.held, [{ source: 'press:P-01', at: t(4).toISOString(), pending: 89_997 }]);
    });

    it('keeps a UInt64 counter beyond 2^53 exactly', async () => {
      const big = 2n ** 60n;
      const r = await recordReadings(plant.db, system, series('P-01', [big.toString(), (big + 3n).toString()], 0), { counter: { width: 'uint64', jumpLimit: 1000 } });
      assert.deepEqual(outcomes(r), ['baseline', 'counted']);
      assert.equal(r.readings[1].delta, 3);
      const state = await plant.db('counter_states').where('source', 'press:P-01').first(plant.db.raw('last_counter::text AS c'));
      assert.equal(state.c, (big + 3n).toString());
    });

    it('orders a batch by time, and counts nothing for a reading older than the last one', async () => {
      const batch = series('P-01', [10, 20, 30], 0);
      const r = await recordReadings(plant.db, system, [batch[2], batch[0], batch[1]], { counter: u32 });
      assert.deepEqual(outcomes(r), ['counted', 'baseline', 'counted']);
      const late = await recordReadings(plant.db, system, [{ press: 'P-01', counter: 25, at: t(1.5).toISOString() }], { counter: u32 });
      assert.deepEqual(outcomes(late), ['out_of_order']);
      assert.equal(await lifetimeOf(plant.toolA), 20);
    });

    it('counts each source on its own, and manual entries against a tool', async () => {
      const r = await recordReadings(plant.db, system, [
        ...series('P-01', [100, 150], 0, 'ns=2;s=P1.MachineCycleCounter'),
        ...series('P-01', [7, 9], 0, 'ns=2;s=P1.JobCycleCounter'),
        { tool: 'm-200', shots: 250, at: t(1).toISOString() },
      ], { counter: u32 });
      assert.deepEqual(outcomes(r), ['baseline', 'counted', 'baseline', 'counted', 'manual']);
      assert.equal(await lifetimeOf(plant.toolA), 52);
      assert.equal(await lifetimeOf(plant.toolB), 5250);
      assert.equal(await countRows(plant.db, 'counter_states'), 2, 'a manual entry has no counter state');
    });

    it('announces PM transitions once each, in the same transaction as the shots', async () => {
      await createPlan(plant.db, engineer, { toolId: plant.toolA.id, name: 'Every 100', intervalShots: 100, warningPercent: 90 });
      const first = await recordReadings(plant.db, system, series('P-01', [0, 50, 89], 0), { counter: u32 });
      assert.deepEqual(first.transitions, []);
      const warn = await recordReadings(plant.db, system, series('P-01', [90, 95], 3), { counter: u32 });
      assert.deepEqual(warn.transitions.map((x) => [x.assetNumber, x.from, x.to]), [['M-100', 'NOT_DUE', 'WARNING']]);
      const still = await recordReadings(plant.db, system, series('P-01', [97], 5), { counter: u32 });
      assert.deepEqual(still.transitions, []);
      const due = await recordReadings(plant.db, system, series('P-01', [100, 120], 6), { counter: u32 });
      assert.deepEqual(due.transitions.map((x) => [x.from, x.to]), [['WARNING', 'OVERDUE']]);
    });

    it('rejects a bad batch naming the reading and field, writing nothing', async () => {
      await recordReadings(plant.db, system, series('P-01', [5], 0), { counter: u32 });
      const old = await createTool(plant.db, technician, { assetNumber: 'M-300', name: 'Old', cavityCount: 1 });
      await retireTool(plant.db, engineer, { id: old.id, reason: 'worn out' });
      const before = await tableCounts(plant.db);
      await rejects(recordReadings(plant.db, system, [...series('P-01', [6], 1), { press: 'P-01', counter: -1 }]), 'validation', '1.counter', 'non_negative_integer');
      await rejects(recordReadings(plant.db, system, [{ counter: 6 }]), 'validation', '0.press', 'required');
      await rejects(recordReadings(plant.db, system, series('P-01', [70_000], 1), { counter: { width: 'uint16', jumpLimit: 100 } }), 'validation', '0.counter', 'within_width');
      await rejects(recordReadings(plant.db, system, [...series('P-01', [6], 1), ...series('P-99', [6], 1)]), 'not_found', '1.press');
      await rejects(recordReadings(plant.db, system, [{ tool: 'M-999', shots: 5 }]), 'not_found', '0.tool');
      await rejects(recordReadings(plant.db, system, [...series('P-01', [6], 1), { tool: 'M-300', shots: 5 }]), 'conflict', '1.tool', 'not_retired');
      await rejects(recordReadings(plant.db, system, []), 'validation', '', /too_small/);
      assert.deepEqual(await tableCounts(plant.db), before);
    });

    it('keeps what the press said about the mould and cycle on the reading', async () => {
      await recordReadings(plant.db, system, [{ press: 'P-01', counter: 9, at: t(0).toISOString(), mouldId: 'm-100', cycleTimeMs: 12_345.6, source: 'ns=2;s=P1.JobCycleCounter' }]);
      const row = await plant.db('shot_readings').first();
      assert.deepEqual([row.source, row.mould_id, row.cycle_time_ms, row.outcome, row.tool_id], ['ns=2;s=P1.JobCycleCounter', 'M-100', 12_346, 'baseline', plant.toolA.id]);
    });

    describe('MouldId', () => {
      const openMounts = async () =>
        ((await plant.db('tool_mounts as m').join('tools as t', 't.id', 'm.tool_id').join('presses as p', 'p.id', 'm.press_id')
          .whereNull('m.unmounted_at').orderBy('p.code').select('p.code', 't.asset_number')) as { code: string; asset_number: string }[])
          .map((r) => `${r.code}:${r.asset_number}`);
      const statusOf = async (tool: Tool) => (await getTool(plant.db, technician, { id: tool.id })).status;
      const withMould = (press: string, counters: number[], moulds: (string | null)[], from = 0) =>
        series(press, counters, from).map((x, i) => ({ ...x, mouldId: moulds[i] }));
      const mountEvents = async () =>
        (await plant.db('audit_events').whereIn('action', ['mount.mount', 'mount.unmount']).orderBy('id').select('action', 'actor_id', 'via', 'after'))
          .map((e) => [e.action, e.actor_id, e.via, e.after.tool.assetNumber, e.after.press.code]);

      it('naming another tool remounts the press at that reading, audited, and its shots go to the named tool', async () => {
        const setup = (await mountEvents()).length;
        const r = await recordReadings(plant.db, system, withMould('P-01', [100, 110, 120, 130], ['M-100', 'M-100', 'm-200', 'M-200']), { counter: u32 });
        assert.deepEqual(outcomes(r), ['baseline', 'counted', 'counted', 'counted']);
        assert.deepEqual(r.readings.map((x) => [x.assetNumber, x.lifetimeShots, x.mouldMismatch]), [['M-100', 0, null], ['M-100', 10, null], ['M-200', 5010, null], ['M-200', 5020, null]]);
        assert.equal(await lifetimeOf(plant.toolA), 10);
        assert.equal(await lifetimeOf(plant.toolB), 5020);
        assert.deepEqual(await openMounts(), ['P-01:M-200']);
        assert.deepEqual([await statusOf(plant.toolA), await statusOf(plant.toolB)], ['in_store', 'in_press']);
        // The swap lies exactly at the reading that reported the other mould.
        assert.equal(r.remounts.length, 1);
        assert.deepEqual(r.remounts[0].unmounted.map((m) => [m.tool.assetNumber, m.unmountedAt, m.unmountedBy]), [['M-100', t(2).toISOString(), 'system']]);
        assert.deepEqual([r.remounts[0].mounted.tool.assetNumber, r.remounts[0].mounted.mountedAt, r.remounts[0].mounted.mountedBy], ['M-200', t(2).toISOString(), 'system']);
        assert.match(r.remounts[0].mounted.note!, /MouldId M-200 reported by press P-01/);
        assert.deepEqual((await mountEvents()).slice(setup), [
          ['mount.unmount', 'system', 'test-flow', 'M-100', 'P-01'],
          ['mount.mount', 'system', 'test-flow', 'M-200', 'P-01'],
        ]);
        // Sent again, the same batch moves nothing and counts nothing.
        const again = await recordReadings(plant.db, system, withMould('P-01', [100, 110, 120, 130], ['M-100', 'M-100', 'M-200', 'M-200']), { counter: u32 });
        assert.ok(again.readings.every((x) => x.outcome === 'duplicate'));
        assert.deepEqual(again.remounts, []);
        assert.equal((await mountEvents()).length, setup + 2);
      });

      it('takes the named tool off the other press it is on, and mounts it on an empty press', async () => {
        await mountTool(plant.db, technician, { assetNumber: 'M-200', pressCode: 'P-02', at: t(-5) });
        const r = await recordReadings(plant.db, system, withMould('P-01', [100, 110], ['M-200', 'M-200']), { counter: u32 });
        assert.deepEqual(r.readings.map((x) => x.assetNumber), ['M-200', 'M-200']);
        assert.deepEqual(r.remounts[0].unmounted.map((m) => `${m.press.code}:${m.tool.assetNumber}`), ['P-01:M-100', 'P-02:M-200']);
        assert.deepEqual(await openMounts(), ['P-01:M-200']);
        assert.deepEqual([await statusOf(plant.toolA), await statusOf(plant.toolB)], ['in_store', 'in_press']);
        // P-02 is empty now: its press reporting M-100 mounts M-100 there without unmounting anything.
        const p2 = await recordReadings(plant.db, system, withMould('P-02', [7, 9], ['M-100', 'M-100'], 1), { counter: u32 });
        assert.deepEqual(p2.remounts.map((x) => [x.unmounted.length, x.mounted.press.code, x.mounted.tool.assetNumber]), [[0, 'P-02', 'M-100']]);
        assert.deepEqual(await openMounts(), ['P-01:M-200', 'P-02:M-100']);
        assert.equal(await lifetimeOf(plant.toolA), 2);
        assert.equal(await lifetimeOf(plant.toolB), 5010);
      });

      it('counts for the mounted tool and reports an unknown or retired MouldId; an empty one is no claim', async () => {
        const old = await createTool(plant.db, technician, { assetNumber: 'M-300', name: 'Old', cavityCount: 1 });
        await retireTool(plant.db, engineer, { id: old.id, reason: 'worn out' });
        const before = await tableCounts(plant.db);
        const r = await recordReadings(plant.db, system, withMould('P-01', [100, 110, 120, 130], ['M-100', 'M-9999', 'M-300', '']), { counter: u32 });
        assert.deepEqual(outcomes(r), ['baseline', 'counted', 'counted', 'counted']);
        assert.deepEqual(r.readings.map((x) => [x.assetNumber, x.mouldMismatch]), [['M-100', null], ['M-100', 'M-9999'], ['M-100', 'M-300'], ['M-100', null]]);
        assert.equal(await lifetimeOf(plant.toolA), 30);
        assert.deepEqual(r.remounts, []);
        assert.deepEqual(await openMounts(), ['P-01:M-100']);
        const after = await tableCounts(plant.db);
        assert.equal(after.tool_mounts, before.tool_mounts);
        const audit = await plant.db('audit_events').where('action', 'shots.record').orderBy('id', 'desc').first();
        assert.deepEqual(audit.after.mouldMismatches.map((m: { press: string; mouldId: string }) => [m.press, m.mouldId]), [['P-01', 'M-9999'], ['P-01', 'M-300']]);
        assert.deepEqual((await plant.db('shot_readings').orderBy('at').select('mould_id')).map((x) => x.mould_id), ['M-100', 'M-9999', 'M-300', null]);
      });

      it('moves nothing when the mount rules refuse the swap or the press counted later already, and goes on counting', async () => {
        // M-200 went onto P-02 at t(5): P-01 claiming it at t(3) would end that span before it began.
        await mountTool(plant.db, technician, { assetNumber: 'M-200', pressCode: 'P-02', at: t(5) });
        const mounts = await countRows(plant.db, 'tool_mounts');
        const audits = await countRows(plant.db, 'audit_events');
        const r = await recordReadings(plant.db, system, withMould('P-01', [100, 110, 120], ['M-100', 'M-200', 'M-200'], 2), { counter: u32 });
        assert.deepEqual(r.readings.map((x) => [x.outcome, x.assetNumber, x.mouldMismatch]), [['baseline', 'M-100', null], ['counted', 'M-100', 'M-200'], ['counted', 'M-100', 'M-200']]);
        assert.equal(await countRows(plant.db, 'tool_mounts'), mounts);
        assert.equal(await countRows(plant.db, 'audit_events'), audits + 1, 'only the batch itself');
        assert.deepEqual(await openMounts(), ['P-01:M-100', 'P-02:M-200']);
        const audit = await plant.db('audit_events').where('action', 'shots.record').orderBy('id', 'desc').first();
        assert.match(audit.after.mouldMismatches[0].reason, /mounted at/);
        // A late reading (older than what P-01 counted) does not rewrite who had the press then.
        const late = await recordReadings(plant.db, system, [{ press: 'P-01', counter: 200, at: t(3.5).toISOString(), mouldId: 'M-200', source: 'ns=2;s=P1.JobCycleCounter' }], { counter: u32 });
        assert.equal(late.readings[0].mouldMismatch, 'M-200');
        assert.deepEqual(late.remounts, []);
        assert.equal(await countRows(plant.db, 'tool_mounts'), mounts);
      });

      if (backend.name === 'postgres') {
        it('two runtimes remounting and counting one press at once: no deadlock, one move per claim, every shot counted', async () => {
          // Runtime 1 streams the machine counter; runtime 2 the job counter with the mould swapping each batch.
          const rounds = 12;
          const machine = async () => {
            for (let k = 0; k < rounds; k++) await recordReadings(plant.db, system, series('P-01', [k * 10, k * 10 + 5], k * 2, 'machine'), { counter: u32 });
          };
          const moves: number[] = [];
          const job2 = async () => {
            for (let k = 0; k < rounds; k++) {
              const mould = k % 2 ? 'M-200' : 'M-100';
              const r = await recordReadings(plant.db, system, series('P-01', [k * 3, k * 3 + 1], k * 2 + 0.5, 'job').map((x) => ({ ...x, mouldId: mould })), { counter: u32 });
              moves.push(r.remounts.length);
            }
          };
          await Promise.all([machine(), job2()]);
          const total = (await lifetimeOf(plant.toolA)) + (await lifetimeOf(plant.toolB)) - 5000;
          const unattributed = Number((await plant.db('shot_readings').where('outcome', 'unattributed').sum({ n: 'delta' }))[0].n ?? 0);
          assert.equal(total + unattributed, (rounds * 10 - 5) + (rounds * 3 - 2));
          // Spans on P-01 never overlap, and at most one is open.
          const spans = await plant.db('tool_mounts').where('press_id', 1).orderBy('mounted_at').select('mounted_at', 'unmounted_at');
          for (let i = 1; i < spans.length; i++) assert.ok(new Date(spans[i - 1].unmounted_at) <= new Date(spans[i].mounted_at));
          assert.equal(spans.filter((x) => x.unmounted_at === null).length, 1);
          const mountsBySystem = await plant.db('audit_events').where({ action: 'mount.mount', actor_id: 'system' }).count({ n: '*' });
          assert.equal(Number(mountsBySystem[0].n), moves.reduce((a, b) => a + b, 0), 'each move reported once');
        });
      }
    });

    if (backend.name === 'postgres') {
      it('two runtimes sending the same readings at once count them exactly once', async () => {
        const batch = series('P-01', Array.from({ length: 200 }, (_, i) => 1000 + i * 3), 0);
        await recordReadings(plant.db, system, batch.slice(0, 1), { counter: u32 });
        const [a, b] = await Promise.all([
          recordReadings(plant.db, system, batch, { counter: u32 }),
          recordReadings(plant.db, system, batch, { counter: u32 }),
        ]);
        const counted = [...a.readings, ...b.readings].filter((x) => x.outcome === 'counted').length;
        assert.equal(counted, 199);
        assert.equal(await lifetimeOf(plant.toolA), 199 * 3);
        assert.equal(await countRows(plant.db, 'outbox'), 199);
      });

      it('a press counting and a manual entry on the same tool at once lose nothing', async () => {
        // Runtime 1 streams the press's counter; runtime 2 enters manual shots on the same tool meanwhile.
        const press = async () => {
          for (let k = 0; k < 15; k++) await recordReadings(plant.db, system, series('P-01', [k * 100, k * 100 + 50], k * 2), { counter: u32 });
        };
        const manual = async () => {
          for (let k = 0; k < 15; k++) await recordReadings(plant.db, technician, [{ tool: 'M-100', shots: 7, at: t(k).toISOString() }], { counter: u32 });
        };
        await Promise.all([press(), manual()]);
        assert.equal(await lifetimeOf(plant.toolA), 50 + 14 * 100 + 15 * 7);
        assert.deepEqual(await cavitiesOf(plant.toolA), [1555, 0, 1555, 1555]);
      });
    }
  });
}
