import assert from 'node:assert/strict';
import { openDatabase, type Db } from '../../core/db/connect';
import {
  createPlan,
  getPlan,
  listPlans,
  pmTransitions,
  pmTransitionsInTransaction,
  recordPm,
  updatePlan,
} from '../../core/pm/service';
import { planQuery, toPlan } from '../../core/pm/repository';
import type { PmPlan, PmTransition } from '../../core/pm/schema';
import { urgency, urgencySql } from '../../core/pm/state';
import { createTool, retireTool } from '../../core/tools/service';
import type { Tool } from '../../core/tools/schema';
import { backends, resetData, tableCounts, type Backend } from '../support/db';
import { rejects } from '../support/expect';
import { admin, engineer, system, technician } from '../support/actors';

const DAY = 86_400_000;
const daysAgo = (d: number) => new Date(Date.now() - d * DAY);

for (const backend of backends) {
  describe(`PM plans [${backend.name}]`, function () {
    this.timeout(20000);
    let db: Db;
    let tool: Tool;
    let other: Tool;
    let pmTemplate: number;
    let postRunTemplate: number;

    before(async () => {
      db = await (backend as Backend).db();
    });

    beforeEach(async () => {
      await resetData(db);
      tool = await createTool(db, technician, { assetNumber: 'M-1001', name: 'Door handle 4-cav', cavityCount: 4, lifetimeShots: 412_000 });
      other = await createTool(db, technician, { assetNumber: 'M-0900', name: 'Bezel', cavityCount: 2 });
      // Templates are another module's work: two plain rows are all a plan refers to.
      [{ id: pmTemplate }] = await db('inspection_templates').insert({ code: 'pm-std', name: 'PM', kind: 'preventive', items: '[]' }).returning('id');
      [{ id: postRunTemplate }] = await db('inspection_templates').insert({ code: 'post-run', name: 'Post-run', kind: 'post_run', items: '[]' }).returning('id');
    });

    /** The shot counter is someone else's: move the tool's lifetime shots directly. */
    const setLifetime = (t: Tool, shots: number) => db('tools').where('id', t.id).update({ lifetime_shots: shots });
    const plan50k = (extra: Record<string, unknown> = {}) =>
      createPlan(db, engineer, { toolId: tool.id, intervalShots: 50_000, intervalDays: 90, ...extra });
    const audits = (action: string) => db('audit_events').where('action', action).orderBy('id');

    describe('createPlan', () => {
      it('starts a new plan from zero at the tool’s lifetime shots and now', async () => {
        const before = Date.now();
        const plan = await plan50k({ templateId: pmTemplate });
        assert.equal(plan.assetNumber, 'M-1001');
        assert.equal(plan.name, 'PM every 50000 shots / 90 days');
        assert.deepEqual(
          [plan.intervalShots, plan.intervalDays, plan.warningPercent, plan.templateId, plan.active, plan.version, plan.notifiedState],
          [50_000, 90, 90, pmTemplate, true, 1, 'NOT_DUE'],
        );
        assert.equal(plan.lastPmLifetimeShots, 412_000);
        assert.ok(Date.parse(plan.lastPmAt) >= before - 1000 && Date.parse(plan.lastPmAt) <= Date.now());
        assert.deepEqual([plan.status.state, plan.status.shotsSince, plan.status.percent, plan.status.dueAtShots], ['NOT_DUE', 0, 0, 462_000]);
        assert.deepEqual(await getPlan(db, technician, { id: plan.id }).then((p) => [p.id, p.status.state]), [plan.id, 'NOT_DUE']);
      });

      it('takes the tool by asset number and a last PM known from before the plan', async () => {
        const plan = await createPlan(db, admin, {
          assetNumber: 'm-1001',
          name: 'Major overhaul',
          intervalShots: 50_000,
          warningPercent: 80,
          lastPmAt: daysAgo(30),
          lastPmLifetimeShots: 370_000,
        });
        assert.equal(plan.toolId, tool.id);
        assert.deepEqual([plan.name, plan.intervalDays, plan.status.shotsSince, plan.status.state], ['Major overhaul', null, 42_000, 'WARNING']);
      });

      const invalid: [string, Record<string, unknown>, string, string | RegExp][] = [
        ['zero shot interval', { intervalShots: 0 }, 'intervalShots', /too_small/],
        ['negative shot interval', { intervalShots: -50_000 }, 'intervalShots', /too_small/],
        ['fractional shot interval', { intervalShots: 2.5 }, 'intervalShots', /invalid_type/],
        ['shot interval as text', { intervalShots: 'many' }, 'intervalShots', /invalid_type/],
        ['zero day interval', { intervalDays: 0 }, 'intervalDays', /too_small/],
        ['day interval over ten years', { intervalDays: 3661 }, 'intervalDays', /too_big/],
        ['neither interval', { intervalShots: undefined, intervalDays: undefined }, 'intervalShots', 'interval_required'],
        ['neither interval (nulls)', { intervalShots: null, intervalDays: null }, 'intervalDays', 'interval_required'],
        ['warning at 0 %', { warningPercent: 0 }, 'warningPercent', /too_small/],
        ['warning at 101 %', { warningPercent: 101 }, 'warningPercent', /too_big/],
        ['warning at 85.5 %', { warningPercent: 85.5 }, 'warningPercent', /invalid_type/],
        ['no tool', { toolId: undefined }, 'toolId', 'required'],
        ['tool by id and asset number', { assetNumber: 'M-1001' }, 'assetNumber', 'one_of'],
        ['empty name', { name: ' ' }, 'name', /too_small/],
        ['last PM in the future', { lastPmAt: new Date(Date.now() + DAY).toISOString() }, 'lastPmAt', 'not_in_future'],
        ['last PM at negative shots', { lastPmLifetimeShots: -1 }, 'lastPmLifetimeShots', /too_small/],
        ['last PM after the tool’s lifetime', { lastPmLifetimeShots: 412_001 }, 'lastPmLifetimeShots', 'not_above_lifetime'],
        ['negative template id', { templateId: -1 }, 'templateId', /too_small/],
        ['unknown field', { shots: 5 }, '', /unrecognized_keys/],
      ];
      for (const [label, patch, field, rule] of invalid) {
        it(`rejects ${label} naming ${field || 'the input'}, writing nothing`, async () => {
          const before = await tableCounts(db);
          await rejects(plan50k(patch), 'validation', field, rule);
          assert.deepEqual(await tableCounts(db), before);
        });
      }

      it('rejects a post-run template, an unknown template, an unknown tool and a retired tool, writing nothing', async () => {
        await retireTool(db, engineer, { id: other.id, reason: 'scrapped' });
        const before = await tableCounts(db);
        await rejects(plan50k({ templateId: postRunTemplate }), 'validation', 'templateId', 'template_kind');
        await rejects(plan50k({ templateId: 999 }), 'not_found', 'templateId');
        await rejects(plan50k({ toolId: 999 }), 'not_found', 'toolId');
        await rejects(createPlan(db, engineer, { assetNumber: 'M-4040', intervalDays: 30 }), 'not_found', 'assetNumber');
        await rejects(plan50k({ toolId: other.id }), 'conflict', 'toolId', 'not_retired');
        assert.deepEqual(await tableCounts(db), before);
      });
    });

    describe('the rule in SQL', () => {
      it('agrees with pmStatus at every edge (it filters lists and finds escalations)', async () => {
        const NOW = new Date('2026-03-01T12:00:00.000Z');
        const at = (ms: number) => new Date(NOW.getTime() - ms);
        const lifetime = 412_000;
        const grid: [number | null, number | null, number, number, number][] = [];
        for (const shots of [0, 44_999, 45_000, 49_999, 50_000, 54_999, 55_000, 90_000]) grid.push([50_000, null, 90, shots, 0]);
        for (const shots of [56, 57, 99, 100, 109, 110]) grid.push([100, null, 57, shots, 0]);
        for (const ms of [0, 81 * DAY - 1, 81 * DAY, 90 * DAY - 1, 90 * DAY, 99 * DAY - 1, 99 * DAY, -DAY]) grid.push([null, 90, 90, 0, ms]);
        for (const [shots, ms] of [[47_500, 45 * DAY], [5_000, 90 * DAY], [60_000, 95 * DAY], [45_000, 81 * DAY - 1], [44_999, 81 * DAY]]) grid.push([50_000, 90, 90, shots, ms]);
        grid.push([50_000, null, 100, 49_999, 0], [50_000, null, 1, 500, 0], [50_000, null, 1, 499, 0]);
        await db('pm_plans').insert(grid.map(([intervalShots, intervalDays, warning, shots, ms], i) => ({
          tool_id: tool.id, name: `grid ${i}`, interval_shots: intervalShots, interval_days: intervalDays, warning_percent: warning,
          last_pm_lifetime_shots: lifetime - shots, last_pm_at: at(ms),
        })));
        const { sql, bindings } = urgencySql(NOW);
        const rows = await planQuery(db).select(db.raw(`(${sql}) AS urgency`, bindings)).orderBy('p.id');
        const seen = new Set<string>();
        for (const row of rows) {
          const status = toPlan(row, NOW).status;
          seen.add(`${status.drivenBy}:${status.state}`);
          assert.equal(row.urgency, urgency(status.state), `${row.name}: ${JSON.stringify(grid[rows.indexOf(row)])} is ${status.state}`);
        }
        assert.equal(seen.size, 8, [...seen].join(' '));
      });
    });

    describe('permissions', () => {
      it('technicians read plans and record PM, but neither create nor change plans', async () => {
        const before = await tableCounts(db);
        await rejects(createPlan(db, technician, { toolId: tool.id, intervalShots: 50_000 }), 'forbidden');
        assert.deepEqual(await tableCounts(db), before);
        const plan = await plan50k();
        const counts = await tableCounts(db);
        await rejects(updatePlan(db, technician, { id: plan.id, intervalShots: 10 }), 'forbidden');
        assert.deepEqual(await tableCounts(db), counts);
        assert.equal((await getPlan(db, technician, { id: plan.id })).intervalShots, 50_000);
        assert.equal((await listPlans(db, technician, {})).total, 1);
        assert.equal((await recordPm(db, technician, { planId: plan.id, notes: 'PM done' })).performedBy, technician.id);
        assert.equal((await updatePlan(db, admin, { id: plan.id, warningPercent: 95 })).warningPercent, 95);
        assert.equal((await createPlan(db, system, { toolId: tool.id, intervalDays: 30 })).intervalDays, 30);
      });
    });

    describe('updatePlan', () => {
      it('changes intervals, warning, name, template and activity; bumps and enforces the version', async () => {
        const plan = await plan50k();
        const updated = await updatePlan(db, engineer, {
          id: plan.id,
          version: plan.version,
          name: 'Small PM',
          intervalShots: 40_000,
          intervalDays: null,
          warningPercent: 85,
          templateId: pmTemplate,
        });
        assert.deepEqual(
          [updated.name, updated.intervalShots, updated.intervalDays, updated.warningPercent, updated.templateId, updated.version],
          ['Small PM', 40_000, null, 85, pmTemplate, 2],
        );
        await rejects(updatePlan(db, engineer, { id: plan.id, version: 1, name: 'stale' }), 'conflict', 'version', 'current_version');
        const off = await updatePlan(db, engineer, { id: plan.id, active: false, templateId: null });
        assert.deepEqual([off.active, off.templateId, off.version], [false, null, 3]);
      });

      it('rejects removing the last interval, bad values and unknown plans, writing nothing', async () => {
        const plan = await plan50k({ intervalDays: null });
        const before = await tableCounts(db);
        await rejects(updatePlan(db, engineer, { id: plan.id, intervalShots: null }), 'validation', 'intervalShots', 'interval_required');
        await rejects(updatePlan(db, engineer, { id: plan.id, intervalShots: 0 }), 'validation', 'intervalShots', /too_small/);
        await rejects(updatePlan(db, engineer, { id: plan.id, warningPercent: 101 }), 'validation', 'warningPercent', /too_big/);
        await rejects(updatePlan(db, engineer, { id: plan.id, templateId: postRunTemplate }), 'validation', 'templateId', 'template_kind');
        await rejects(updatePlan(db, engineer, { id: plan.id, toolId: other.id }), 'validation', '', /unrecognized_keys/);
        await rejects(updatePlan(db, engineer, { id: 999, name: 'x' }), 'not_found', 'id');
        assert.deepEqual(await tableCounts(db), before);
      });

      it('does not change the plans of a retired tool (retiring deactivates them)', async () => {
        const plan = await plan50k();
        await retireTool(db, engineer, { id: tool.id, reason: 'end of programme' });
        assert.equal((await getPlan(db, engineer, { id: plan.id })).active, false);
        await rejects(updatePlan(db, engineer, { id: plan.id, active: true }), 'conflict', 'id', 'not_retired');
      });

      it('a longer interval lowers the announced state, so the plan is announced again when it climbs back', async () => {
        const plan = await plan50k();
        await setLifetime(tool, 412_000 + 50_000);
        assert.deepEqual((await pmTransitions(db, system)).map((t) => t.to), ['DUE']);
        const longer = await updatePlan(db, engineer, { id: plan.id, intervalShots: 100_000 });
        assert.deepEqual([longer.status.state, longer.notifiedState], ['NOT_DUE', 'NOT_DUE']);
        await setLifetime(tool, 412_000 + 100_000);
        assert.deepEqual((await pmTransitions(db, system)).map((t) => [t.from, t.to]), [['NOT_DUE', 'DUE']]);
        // A shorter interval leaves the announcement to pmTransitions.
        const shorter = await updatePlan(db, engineer, { id: plan.id, intervalShots: 80_000 });
        assert.deepEqual([shorter.status.state, shorter.notifiedState], ['OVERDUE', 'DUE']);
      });
    });

    describe('listPlans', () => {
      async function plant(): Promise<Record<string, PmPlan>> {
        const third = await createTool(db, technician, { assetNumber: 'M-2000', name: 'Cap', cavityCount: 8 });
        const plans = {
          notDue: await plan50k({ name: 'A' }),
          warning: await plan50k({ name: 'B', lastPmLifetimeShots: 412_000 - 46_000 }),
          due: await createPlan(db, engineer, { toolId: other.id, intervalDays: 30, lastPmAt: daysAgo(31) }),
          overdue: await createPlan(db, engineer, { toolId: third.id, intervalDays: 30, lastPmAt: daysAgo(40) }),
          inactive: await createPlan(db, engineer, { toolId: third.id, intervalDays: 30, lastPmAt: daysAgo(40), active: false }),
        };
        return plans;
      }

      it('lists active plans with status and asset number, by asset number', async () => {
        const p = await plant();
        const page = await listPlans(db, technician, {});
        assert.equal(page.total, 4);
        assert.deepEqual(page.items.map((x) => [x.id, x.assetNumber, x.status.state]), [
          [p.due.id, 'M-0900', 'DUE'],
          [p.notDue.id, 'M-1001', 'NOT_DUE'],
          [p.warning.id, 'M-1001', 'WARNING'],
          [p.overdue.id, 'M-2000', 'OVERDUE'],
        ]);
        assert.equal((await listPlans(db, technician, { includeInactive: true })).total, 5);
      });

      it('filters by tool, by one state or several, with pagination over the filtered plans', async () => {
        const p = await plant();
        assert.deepEqual((await listPlans(db, technician, { toolId: tool.id })).items.map((x) => x.id), [p.notDue.id, p.warning.id]);
        assert.deepEqual((await listPlans(db, technician, { assetNumber: 'm-0900' })).items.map((x) => x.id), [p.due.id]);
        assert.deepEqual((await listPlans(db, technician, { state: 'WARNING' })).items.map((x) => x.id), [p.warning.id]);
        const urgent = await listPlans(db, technician, { state: ['DUE', 'OVERDUE'], includeInactive: true });
        assert.deepEqual([urgent.total, urgent.items.map((x) => x.id)], [3, [p.due.id, p.overdue.id, p.inactive.id]]);
        const second = await listPlans(db, technician, { state: ['DUE', 'OVERDUE'], limit: 1, offset: 1 });
        assert.deepEqual([second.total, second.items.map((x) => x.id), second.limit, second.offset], [2, [p.overdue.id], 1, 1]);
        const paged = await listPlans(db, technician, { limit: 2, offset: 2 });
        assert.deepEqual([paged.total, paged.items.map((x) => x.id)], [4, [p.warning.id, p.overdue.id]]);
      });

      it('rejects bad filters and reports unknown plans', async () => {
        await rejects(listPlans(db, technician, { state: 'LATE' }), 'validation', 'state');
        await rejects(listPlans(db, technician, { state: [] }), 'validation', 'state');
        await rejects(listPlans(db, technician, { limit: 501 }), 'validation', 'limit');
        await rejects(getPlan(db, technician, { id: 42 }), 'not_found', 'id');
      });
    });

    describe('recordPm', () => {
      it('records the PM at the tool’s lifetime shots and resets the plan to zero', async () => {
        const plan = await plan50k();
        await setLifetime(tool, 412_000 + 52_000);
        await pmTransitions(db, system);
        assert.equal((await getPlan(db, technician, { id: plan.id })).notifiedState, 'DUE');
        const event = await recordPm(db, technician, { planId: plan.id, notes: 'vents cleaned, pins greased' });
        assert.deepEqual(
          [event.planId, event.toolId, event.lifetimeShots, event.performedBy, event.notes, event.inspectionId],
          [plan.id, tool.id, 464_000, technician.id, 'vents cleaned, pins greased', null],
        );
        const after = event.plan;
        assert.deepEqual(
          [after.lastPmLifetimeShots, after.lastPmAt, after.notifiedState, after.version, after.status.state, after.status.shotsSince],
          [464_000, event.performedAt, 'NOT_DUE', plan.version + 1, 'NOT_DUE', 0],
        );
        await setLifetime(tool, 464_000 + 45_000);
        assert.equal((await getPlan(db, technician, { id: plan.id })).status.state, 'WARNING');
      });

      it('takes a past performedAt: the days count from then', async () => {
        const plan = await createPlan(db, engineer, { toolId: tool.id, intervalDays: 30, lastPmAt: daysAgo(40) });
        const event = await recordPm(db, technician, { planId: plan.id, performedAt: daysAgo(28), notes: 'PM done' });
        assert.deepEqual([event.plan.status.state, Math.round(event.plan.status.daysSince)], ['WARNING', 28]);
      });

      it('takes shots and time from the inspection that logged the PM', async () => {
        const plan = await plan50k({ lastPmAt: daysAgo(1), lastPmLifetimeShots: 410_000 });
        const performedAt = new Date(Date.now() - 3_600_000);
        const [{ id: inspectionId }] = await db('inspections')
          .insert({ tool_id: tool.id, template_id: pmTemplate, pm_plan_id: plan.id, kind: 'preventive', outcome: 'pass', performed_at: performedAt, performed_by: '11', lifetime_shots: 430_000 })
          .returning('id');
        await setLifetime(tool, 431_000);
        const event = await recordPm(db, technician, { planId: plan.id, inspectionId });
        assert.deepEqual([event.inspectionId, event.lifetimeShots, event.performedAt], [inspectionId, 430_000, performedAt.toISOString()]);
        assert.equal(event.plan.status.shotsSince, 1_000);
        const [{ id: foreign }] = await db('inspections')
          .insert({ tool_id: other.id, template_id: pmTemplate, kind: 'preventive', outcome: 'pass', performed_at: new Date(), performed_by: '11', lifetime_shots: 0 })
          .returning('id');
        await rejects(recordPm(db, technician, { planId: plan.id, inspectionId: foreign }), 'validation', 'inspectionId', 'inspection_of_plan');
        await rejects(recordPm(db, technician, { planId: plan.id, inspectionId: 999 }), 'not_found', 'inspectionId');
      });

      it('rejects a PM before the last one, in the future, on an unknown or inactive plan, writing nothing', async () => {
        const plan = await plan50k({ lastPmAt: daysAgo(10) });
        const inactive = await plan50k({ active: false });
        const before = await tableCounts(db);
        await rejects(recordPm(db, technician, { planId: plan.id, performedAt: daysAgo(11), notes: 'PM done' }), 'validation', 'performedAt', 'after_last_pm');
        await rejects(recordPm(db, technician, { planId: plan.id, performedAt: new Date(Date.now() + DAY).toISOString(), notes: 'PM done' }), 'validation', 'performedAt', 'not_in_future');
        await rejects(recordPm(db, technician, { planId: 999, notes: 'PM done' }), 'not_found', 'planId');
        await rejects(recordPm(db, technician, { planId: inactive.id, notes: 'PM done' }), 'conflict', 'planId', 'active');
        await rejects(recordPm(db, technician, {}), 'validation', 'planId');
        // A PM record says what was done: `{}` (or only a plan) records nothing (security finding 11).
        await rejects(recordPm(db, technician, { planId: plan.id }), 'validation', 'notes', 'required');
        await rejects(recordPm(db, technician, { planId: plan.id, notes: '   ' }), 'validation', 'notes', 'required');
        assert.deepEqual(await tableCounts(db), before);
      });
    });

    describe('audit', () => {
      it('records every write with actor, before and after; none for reads or rejected writes', async () => {
        const plan = await plan50k();
        await updatePlan(db, engineer, { id: plan.id, warningPercent: 80 });
        await setLifetime(tool, 412_000 + 41_000);
        await pmTransitions(db, system);
        await recordPm(db, technician, { planId: plan.id, notes: 'PM done' });
        await getPlan(db, technician, { id: plan.id });
        await listPlans(db, technician, { state: 'WARNING' });
        await pmTransitions(db, system);
        await rejects(updatePlan(db, technician, { id: plan.id, warningPercent: 70 }), 'forbidden');
        await rejects(recordPm(db, technician, { planId: plan.id, performedAt: daysAgo(1), notes: 'PM done' }), 'validation');
        const events = await db('audit_events').where('entity', 'pm_plan').orderBy('id');
        assert.deepEqual(events.map((e) => [e.action, e.entity_id, e.actor_name, e.actor_role]), [
          ['pm.plan.create', String(plan.id), 'erik.eng', 'engineer'],
          ['pm.plan.update', String(plan.id), 'erik.eng', 'engineer'],
          ['pm.transition', String(plan.id), 'system', 'system'],
          ['pm.record', String(plan.id), 'tina.tech', 'technician'],
        ]);
        assert.deepEqual([events[0].before, events[0].after.intervalShots], [null, 50_000]);
        assert.deepEqual([events[1].before.warningPercent, events[1].after.warningPercent], [90, 80]);
        assert.deepEqual([events[2].before, events[2].after.notifiedState, events[2].after.status.state], [{ notifiedState: 'NOT_DUE' }, 'WARNING', 'WARNING']);
        assert.deepEqual([events[3].before.notifiedState, events[3].after.plan.notifiedState, events[3].after.lifetimeShots], ['WARNING', 'NOT_DUE', 453_000]);
      });
    });

    describe('pmTransitions', () => {
      const summary = (ts: PmTransition[]) => ts.map((t) => [t.assetNumber, t.from, t.to]);

      it('announces each step towards urgency once, and again after the PM resets it', async () => {
        const plan = await plan50k();
        assert.deepEqual(await pmTransitions(db, system), []);
        await setLifetime(tool, 412_000 + 45_000);
        const first = await pmTransitions(db, system);
        assert.deepEqual(summary(first), [['M-1001', 'NOT_DUE', 'WARNING']]);
        assert.deepEqual([first[0].plan.id, first[0].plan.notifiedState, first[0].plan.status.state], [plan.id, 'WARNING', 'WARNING']);
        assert.deepEqual(await pmTransitions(db, system), []);
        await setLifetime(tool, 412_000 + 50_000);
        assert.deepEqual(summary(await pmTransitions(db, system)), [['M-1001', 'WARNING', 'DUE']]);
        assert.deepEqual(await pmTransitions(db, system), []);
        await setLifetime(tool, 412_000 + 55_000);
        assert.deepEqual(summary(await pmTransitions(db, system)), [['M-1001', 'DUE', 'OVERDUE']]);
        assert.deepEqual(await pmTransitions(db, system), []);
        await recordPm(db, technician, { planId: plan.id, notes: 'PM done' });
        assert.deepEqual(await pmTransitions(db, system), []);
        await setLifetime(tool, 467_000 + 60_000);
        assert.deepEqual(summary(await pmTransitions(db, system)), [['M-1001', 'NOT_DUE', 'OVERDUE']]);
        assert.equal((await audits('pm.transition')).length, 4);
      });

      it('announces by calendar at the given time, and skips inactive plans and retired tools', async () => {
        const plan = await createPlan(db, engineer, { toolId: tool.id, intervalDays: 90 });
        await createPlan(db, engineer, { toolId: tool.id, intervalDays: 90, active: false });
        const scrapped = await createPlan(db, engineer, { toolId: other.id, intervalDays: 90, lastPmAt: daysAgo(100) });
        await retireTool(db, engineer, { id: other.id, reason: 'scrapped' });
        // Even if its plan were still marked active, a retired tool is not announced.
        await db('pm_plans').where('id', scrapped.id).update({ active: true });
        assert.deepEqual(await pmTransitions(db, system, { now: new Date(Date.now() + 80 * DAY) }), []);
        const t = await pmTransitions(db, system, { now: new Date(Date.now() + 82 * DAY) });
        assert.deepEqual([summary(t), t[0].plan.id, t[0].plan.status.drivenBy], [[['M-1001', 'NOT_DUE', 'WARNING']], plan.id, 'days']);
        await rejects(pmTransitions(db, system, { now: 'not a date' }), 'validation', 'now');
      });

      it('inside the shot counter’s transaction: sees its uncommitted shots, only for the given tools, and rolls back with it', async () => {
        const plan = await plan50k();
        const elsewhere = await createPlan(db, engineer, { toolId: other.id, intervalDays: 30, lastPmAt: daysAgo(29) });
        const trx = await db.transaction();
        try {
          await trx('tools').where('id', tool.id).update({ lifetime_shots: 412_000 + 50_000 });
          const t = await pmTransitionsInTransaction(trx, system, { toolIds: [tool.id] });
          assert.deepEqual([summary(t), t[0].plan.id], [[['M-1001', 'NOT_DUE', 'DUE']], plan.id]);
          assert.deepEqual(await pmTransitionsInTransaction(trx, system, { toolIds: [tool.id] }), []);
        } finally {
          await trx.rollback();
        }
        assert.equal((await getPlan(db, engineer, { id: plan.id })).notifiedState, 'NOT_DUE');
        assert.equal((await getPlan(db, engineer, { id: elsewhere.id })).notifiedState, 'NOT_DUE');
        assert.equal((await audits('pm.transition')).length, 0);
        assert.deepEqual(await db.transaction((trx2) => pmTransitionsInTransaction(trx2, system, { toolIds: [] })), []);
      });

      it('two runtimes asking at once announce each transition once', async function () {
        const plans = [await plan50k(), await plan50k({ name: 'second' }), await createPlan(db, engineer, { toolId: other.id, intervalDays: 30, lastPmAt: daysAgo(31) })];
        await setLifetime(tool, 412_000 + 46_000);
        let results: PmTransition[][];
        if (backend.name === 'pglite') {
          // One connection: the calls serialise, and the second must still find nothing left.
          results = await Promise.all([pmTransitions(db, system), pmTransitions(db, system)]);
        } else {
          // A second runtime = a second pool on the same server. Both read the same escalations, then
          // queue on the plan rows held here; once released, exactly one may announce them.
          const second = openDatabase({ url: process.env.TEST_DATABASE_URL });
          const holder = await db.transaction();
          try {
            await holder('pm_plans').whereIn('id', plans.map((p) => p.id)).forUpdate();
            const pending = Promise.all([pmTransitions(db, system), pmTransitions(second, system)]);
            const deadline = Date.now() + 5000;
            for (;;) {
              const { rows } = await db.raw<{ rows: { n: number }[] }>(
                "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
              );
              if (rows[0].n >= 2) break;
              if (Date.now() > deadline) throw new Error(`only ${rows[0].n} runtime(s) waiting on the plan rows`);
              await new Promise((r) => setTimeout(r, 10));
            }
            await holder.commit();
            results = await pending;
          } finally {
            if (!holder.isCompleted()) await holder.rollback();
            await second.destroy();
          }
        }
        const all = results.flat();
        assert.deepEqual(all.map((t) => [t.plan.id, t.to]).sort(), plans.map((p, i) => [p.id, i < 2 ? 'WARNING' : 'DUE']).sort());
        assert.equal((await audits('pm.transition')).length, 3);
        assert.deepEqual(await pmTransitions(db, system), []);
      });
    });
  });
}
