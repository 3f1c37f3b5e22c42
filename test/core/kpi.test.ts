import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import * as kpi from '../../core/kpi/service';
import { completeAction, createAction, startAction } from '../../core/actions/service';
import { pmStatus } from '../../core/pm/state';
import { backends, countRows } from '../support/db';
import { rejects } from '../support/expect';
import { engineer, technician } from '../support/actors';
import { buildKpiHistory, RANGE, type KpiHistory } from '../support/kpi-history';

/** Compare floats to 6 decimals; numbers worked out by hand are written as fractions. */
function near(actual: number | null, expected: number | null, what: string): void {
  if (expected === null) return assert.equal(actual, null, what);
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-6, `${what}: ${actual} ≠ ${expected}`);
}

for (const backend of backends) {
  describe(`KPIs on a hand-built history [${backend.name}]`, function () {
    this.timeout(30000);
    let db: Knex;
    let h: KpiHistory;
    before(async () => {
      db = await backend.db();
      h = await buildKpiHistory(db);
    });
    const ask = (extra: Record<string, unknown> = {}) => ({ ...RANGE, ...extra });

    it('MTBF and MTTR plant-wide: 5 failures over 320,000 shots and 1,728 mounted hours; 3 repairs of 12, 48 and 6 h', async () => {
      const [plant] = await kpi.reliability(db, engineer, ask());
      assert.equal(plant.subject, 'plant');
      assert.deepEqual([plant.failures, plant.operatingShots, plant.repairs], [5, 320_000, 3]);
      near(plant.operatingHours, 720 + 240 + 672 + 96, 'hours');
      near(plant.mtbfShots, 320_000 / 5, 'MTBF shots');
      near(plant.mtbfHours, 1728 / 5, 'MTBF hours');
      near(plant.mttrHours, (12 + 48 + 6) / 3, 'MTTR');
    });

    it('counts shots from monthly totals for whole months and from readings at the edges, kept in step by triggers', async () => {
      const direct = async (q: Knex = db) => (await q.raw(`SELECT tool_id, press_id, date_trunc('month', at AT TIME ZONE 'UTC') AS m, sum(delta)::bigint AS shots
        FROM shot_readings WHERE delta > 0 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`)).rows.map((r: Record<string, unknown>) => [r.tool_id, r.press_id, Number(r.shots)]);
      const rollup = async (q: Knex = db) => (await q.raw('SELECT tool_id, press_id, shots FROM shot_months WHERE shots <> 0 ORDER BY tool_id, press_id, month')).rows
        .map((r: Record<string, unknown>) => [r.tool_id, r.press_id, Number(r.shots)]);
      assert.deepEqual(await rollup(), await direct());
      // Mid-month to mid-month: readings only. Dec 31 to Mar 15: Dec 31's 99,999 from the readings, January and February from the totals.
      const [mid] = await kpi.reliability(db, engineer, { from: '2026-01-15T00:00:00Z', to: '2026-02-16T00:00:00Z' });
      assert.equal(mid.operatingShots, 80_000 + 20_000 + 50_000 + 30_000);
      const [edges] = await kpi.reliability(db, engineer, { from: '2025-12-31T00:00:00Z', to: '2026-03-15T00:00:00Z' });
      assert.equal(edges.operatingShots, 99_999 + 320_000);
      // A reading changed (as accepting a held one does) and one deleted: the totals follow, then are put back.
      const trx = await db.transaction();
      try {
        await trx('shot_readings').where({ tool_id: h.tools.B, delta: 10_000 }).update({ delta: 12_000 });
        await trx('shot_readings').where({ tool_id: h.tools.A, delta: 80_000 }).delete();
        assert.deepEqual(await rollup(trx), await direct(trx));
        const [after] = (await trx.raw('SELECT operating_shots FROM kpi_reliability(?, ?)', [RANGE.from, RANGE.to])).rows;
        assert.equal(Number(after.operating_shots), 320_000 + 2_000 - 80_000);
      } finally {
        await trx.rollback().catch(() => undefined);
      }
      assert.deepEqual(await rollup(), await direct());
    });

    it('per tool, press and customer: failures go to the press the tool last ran on; an unmounted tool has no press', async () => {
      const byTool = await kpi.reliability(db, engineer, ask({ by: 'tool' }));
      assert.deepEqual(byTool.map((r) => [r.subject, r.failures, r.operatingShots, r.repairs]), [
        ['M-100', 3, 250_000, 2],
        ['M-200', 1, 70_000, 1],
        ['M-300', 1, 0, 0],
      ]);
      near(byTool[0].mtbfShots, 250_000 / 3, 'M-100 MTBF shots');
      near(byTool[0].mtbfHours, 960 / 3, 'M-100 MTBF hours');
      near(byTool[0].mttrHours, 30, 'M-100 MTTR');
      near(byTool[2].mttrHours, null, 'M-300 MTTR (nothing repaired)');

      const byPress = await kpi.reliability(db, engineer, ask({ by: 'press' }));
      assert.deepEqual(byPress.map((r) => [r.subject, r.failures, r.operatingShots, r.repairs]), [
        ['P1', 3, 260_000, 3],
        ['P2', 1, 60_000, 0],
      ]);
      near(byPress[0].operatingHours, 1392, 'P1 hours');
      near(byPress[0].mtbfHours, 464, 'P1 MTBF hours');
      near(byPress[1].operatingHours, 336, 'P2 hours (the mount from December clipped to the range)');

      const acme = await kpi.reliability(db, engineer, ask({ by: 'customer', subject: 'Acme' }));
      assert.deepEqual(acme.map((r) => [r.subject, r.failures, r.operatingShots]), [['Acme', 4, 250_000]]);
      const one = await kpi.reliability(db, engineer, ask({ by: 'tool', subject: 'M-200' }));
      assert.deepEqual(one.map((r) => [r.subject, r.failures, r.mttrHours]), [['M-200', 1, 6]]);
    });

    it('failure Pareto by code, component and tool, with cumulative shares', async () => {
      const byCode = await kpi.failurePareto(db, engineer, ask());
      assert.deepEqual(byCode.map((r) => [r.key, r.label, r.failures, r.percent, r.cumulativePercent]), [
        ['WL', 'Water leak', 3, 60, 60],
        ['EJ', 'Broken ejector pin', 2, 40, 100],
      ]);
      const byComponent = await kpi.failurePareto(db, engineer, ask({ dimension: 'component' }));
      assert.deepEqual(byComponent.map((r) => [r.key, r.failures]), [['cooling', 3], ['ejector', 2]]);
      const byTool = await kpi.failurePareto(db, engineer, ask({ dimension: 'tool' }));
      assert.deepEqual(byTool.map((r) => [r.key, r.label, r.failures, r.cumulativePercent]), [
        ['M-100', 'Door handle 4-cav', 3, 60],
        ['M-200', 'Bezel', 1, 80],
        ['M-300', 'Clip', 1, 100],
      ]);
      const onP2 = await kpi.failurePareto(db, engineer, ask({ by: 'press', subject: 'P2' }));
      assert.deepEqual(onP2.map((r) => [r.key, r.failures]), [['WL', 1]]);
    });

    it('PM compliance per month: done before OVERDUE (110 %) counts as on time', async () => {
      const rows = await kpi.pmCompliance(db, engineer, ask());
      // January: M-100 at 105 % (on time) and 120 % (late), M-200 at 190 % (late); February: M-100 at 93.3 %.
      assert.deepEqual(rows.map((r) => [r.month.slice(0, 7), r.pmsDone, r.onTime, r.late]), [
        ['2026-01', 3, 1, 2],
        ['2026-02', 1, 1, 0],
      ]);
      near(rows[0].compliancePercent, 100 / 3, 'January');
      const percents = await db('pm_events').orderBy('performed_at').pluck('percent_at_pm');
      assert.deepEqual(percents.map(Number), [105, 190, 120, 93.3]);
      const m100 = await kpi.pmCompliance(db, engineer, ask({ by: 'tool', subject: 'M-100' }));
      assert.deepEqual(m100.map((r) => [r.subject, r.pmsDone, r.onTime]), [['M-100', 2, 1], ['M-100', 1, 1]]);
    });

    it('PM forecast at this week’s pace, overdue plans by how much, and the same state as core/pm/state.ts', async () => {
      const now = new Date('2026-02-21T00:00:00Z');
      const plans = await kpi.pmForecast(db, engineer, {}, now);
      const byId = new Map(plans.map((p) => [p.planId, p]));
      // M-200 every 100,000 shots: 70,000 done, 30,000 to go at 30,000 shots / 7 days = 7 days.
      const bShots = byId.get(h.plans.bShots)!;
      assert.equal(bShots.state, 'NOT_DUE');
      near(bShots.shotsPerDay, 30_000 / 7, 'M-200 pace');
      near(bShots.dueInDays, 7, 'M-200 due in');
      assert.equal(bShots.dueAt, '2026-02-28T00:00:00.000Z');
      // M-100: 40,000 of 100,000 shots, 60,000 to go at 50,000 / 7 a day = 8.4 days (before its calendar date).
      const aMixed = byId.get(h.plans.aMixed)!;
      near(aMixed.dueInDays, 8.4, 'M-100 due in');
      assert.equal(aMixed.dueAt, '2026-03-01T09:36:00.000Z');
      // M-200 every 10 days, last done Jan 20: due Jan 30, 22 days past due.
      const overdue = await kpi.pmForecast(db, engineer, { state: 'OVERDUE' }, now);
      assert.deepEqual(overdue.map((p) => [p.planId, p.assetNumber, p.dueAt]), [[h.plans.bDays, 'M-200', '2026-01-30T00:00:00.000Z']]);
      near(overdue[0].overdueDays, 22, 'days past due');
      near(overdue[0].dueInDays, -22, 'due in (negative: past)');

      // The SQL state agrees with core's pmStatus for every plan.
      const rows = await db('pm_plans as p').join('tools as t', 't.id', 'p.tool_id').select('p.*', 't.lifetime_shots');
      for (const p of rows) {
        const status = pmStatus({
          intervalShots: p.interval_shots === null ? null : Number(p.interval_shots), intervalDays: p.interval_days, warningPercent: p.warning_percent,
          shotsSinceLastPm: Number(p.lifetime_shots) - Number(p.last_pm_lifetime_shots), lastPmAt: p.last_pm_at, now,
        });
        assert.equal(byId.get(p.id)!.state, status.state, `plan ${p.id}`);
      }
    });

    it('the tool page’s trend: shots per UTC day and the PM forecast, for technicians too', async () => {
      const trend = await kpi.toolTrend(db, technician, { assetNumber: 'M-100', days: 14 }, new Date('2026-02-21T12:00:00Z'));
      assert.equal(trend.shotsPerDay.length, 14);
      assert.deepEqual([trend.shotsPerDay[0].day, trend.shotsPerDay[13].day], ['2026-02-08', '2026-02-21']);
      assert.deepEqual(trend.shotsPerDay.filter((d) => d.shots > 0), [{ day: '2026-02-15', shots: 50_000 }]);
      assert.deepEqual(trend.plans.map((p) => p.planId), [h.plans.aMixed]);
      await rejects(kpi.toolTrend(db, technician, { assetNumber: 'M-404' }), 'not_found', 'assetNumber');
    });

    it('scheduled vs unscheduled maintenance, hours and cost per month', async () => {
      const rows = await kpi.maintenance(db, engineer, ask());
      assert.deepEqual(rows.map((r) => [r.month.slice(0, 7), r.scheduledJobs, r.unscheduledJobs, r.cost]), [
        ['2026-01', 1, 3, 290],
        ['2026-02', 2, 1, 75.5],
      ]);
      near(rows[0].scheduledHours, 0.5, 'Jan scheduled h');
      near(rows[0].unscheduledHours, 4, 'Jan unscheduled h');
      near(rows[0].scheduledPercent, 0.5 / 4.5 * 100, 'Jan scheduled %');
      near(rows[1].hours, 2.75, 'Feb hours');
      near(rows[1].scheduledPercent, 2.25 / 2.75 * 100, 'Feb scheduled %');
      const m200 = await kpi.maintenance(db, engineer, ask({ by: 'tool', subject: 'M-200' }));
      assert.deepEqual(m200.map((r) => [r.month.slice(0, 7), r.scheduledJobs, r.unscheduledJobs, r.cost]), [['2026-02', 2, 0, 50.5]]);
    });

    it('utilisation: shots per day, days mounted, capacity at the median cycle time, idle tools', async () => {
      const [plant] = await kpi.utilisation(db, engineer, ask());
      assert.deepEqual([plant.tools, plant.idleTools, plant.shots], [3, 1, 320_000]);
      near(plant.shotsPerDay, 320_000 / 90, 'shots/day over 90 days');
      near(plant.mountedDays, 72, 'days mounted');
      near(plant.capacityShots, 259_200 + 108_000 + 120_960 + 23_040, 'capacity');
      near(plant.utilisationPercent, (320_000 / 511_200) * 100, 'utilisation');
      near(plant.cycleTimeMs, 12_500, 'median cycle');
      const tools = await kpi.utilisation(db, engineer, ask({ by: 'tool' }));
      assert.deepEqual(tools.map((r) => [r.subject, r.idleTools, r.shots]), [['M-100', 0, 250_000], ['M-200', 0, 70_000], ['M-300', 1, 0]]);
      near(tools[0].utilisationPercent, (250_000 / 367_200) * 100, 'M-100 utilisation');
      const presses = await kpi.utilisation(db, engineer, ask({ by: 'press' }));
      assert.deepEqual(presses.map((r) => [r.subject, r.tools, r.shots]), [['P1', null, 260_000], ['P2', null, 60_000]]);
    });

    it('end of life: tools within N % of their expected lifetime, reached at the last 30 days’ pace', async () => {
      const rows = await kpi.endOfLife(db, engineer, { withinPercent: 10 }, new Date('2026-03-01T00:00:00Z'));
      assert.deepEqual(rows.map((r) => [r.assetNumber, r.lifetimeShots, r.remainingShots]), [['M-100', 290_000, 10_000]]);
      near(rows[0].percentUsed, 290_000 / 3000, 'percent used');
      near(rows[0].shotsPerDay, 70_000 / 30, 'pace');
      assert.equal(rows[0].endAt, new Date(Date.parse('2026-03-01T00:00:00Z') + (10_000 / (70_000 / 30)) * 86_400_000).toISOString());
      assert.deepEqual(await kpi.endOfLife(db, engineer, { withinPercent: 3 }), []);
    });

    it('refuses technicians, a reversed range and an unknown scope, naming the field', async () => {
      await rejects(kpi.reliability(db, technician, ask()), 'forbidden');
      await rejects(kpi.reliability(db, engineer, { from: RANGE.to, to: RANGE.from }), 'validation', 'to', /after_from/);
      await rejects(kpi.reliability(db, engineer, ask({ by: 'shift' })), 'validation', 'by');
      await rejects(kpi.failurePareto(db, engineer, ask({ dimension: 'colour' })), 'validation', 'dimension');
    });

    // Last: these add records.
    it('completeAction records minutes and cost, and refuses a negative cost naming the field with nothing written', async () => {
      // Starting work takes the action on: the engineer must be a user.
      await db('users').insert({ id: Number(engineer.id), username: engineer.name, display_name: 'Erik', role: 'engineer' });
      const a = await createAction(db, engineer, { toolId: h.tools.C, title: 'Replace leaking O-ring' });
      await startAction(db, engineer, { id: a.id });
      const auditsBefore = await countRows(db, 'audit_events');
      await rejects(completeAction(db, engineer, { id: a.id, resolution: 'done', cost: -1 }), 'validation', 'cost', /too_small/);
      await rejects(completeAction(db, engineer, { id: a.id, resolution: 'done', cost: 1.234 }), 'validation', 'cost', /two_decimals/);
      assert.equal(await countRows(db, 'audit_events'), auditsBefore);
      const done = await completeAction(db, engineer, { id: a.id, resolution: 'O-ring replaced', minutesSpent: 40, cost: 12.5 });
      assert.deepEqual([done.status, done.minutesSpent, done.cost], ['done', 40, 12.5]);
      const [row] = await kpi.maintenance(db, engineer, { from: done.completedAt, by: 'tool', subject: 'M-300' });
      assert.deepEqual([row.unscheduledJobs, row.unscheduledHours, row.cost], [1, 40 / 60, 12.5]);
    });

    it('the read-only role (where the server allows roles) may read the KPIs and write nothing', async function () {
      const { rows } = await db.raw("SELECT 1 FROM pg_roles WHERE rolname = 'toolroom_reader'");
      if (!rows.length) this.skip();
      await db.transaction(async (trx) => {
        await trx.raw('SET LOCAL ROLE toolroom_reader');
        const { rows: r } = await trx.raw('SELECT failures FROM kpi_reliability(?, ?)', [RANGE.from, RANGE.to]);
        assert.equal(Number(r[0].failures), 5);
        await assert.rejects(trx.raw('UPDATE tools SET name = name'), /permission denied/);
      });
      await db.transaction(async (trx) => {
        await trx.raw('SET LOCAL ROLE toolroom_reader');
        await assert.rejects(trx.raw('SELECT password_hash FROM users'), /permission denied/);
      });
    });
  });
}
