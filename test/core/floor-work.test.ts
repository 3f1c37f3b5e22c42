import assert from 'node:assert/strict';
import { recordReadings } from '../../core/shots/service';
import { enterManualShots } from '../../core/shots/review';
import { mountTool, unmountTool } from '../../core/mounts/service';
import { createPress } from '../../core/presses/service';
import { createTool, getTool, retireTool } from '../../core/tools/service';
import { createPlan, getPlan } from '../../core/pm/service';
import { recordInspection } from '../../core/inspections/service';
import { createTemplate } from '../../core/inspections/templates';
import * as kpi from '../../core/kpi/service';
import type { Tool } from '../../core/tools/schema';
import { backends, coreSuite, tableCounts } from '../support/db';
import { rejects } from '../support/expect';
import { admin, engineer, system, technician } from '../support/actors';

const DAY = 86_400_000;

/**
 * The floor work of issue 14 in core: an engineer's manual shot entry with its reason; mounting a
 * tool whose PM is OVERDUE only with a reason, audited with the mount; a PM recorded from a DUE plan
 * with its checklist (a preventive inspection), the plan back to NOT_DUE and its minutes and cost in
 * the maintenance KPIs.
 */
for (const backend of backends) {
  describe(`floor work: manual shots, overdue mounts, PM with its checklist [${backend.name}]`, function () {
    this.timeout(30000);
    const suite = coreSuite(backend);
    let tool: Tool;

    beforeEach(async () => {
      tool = await createTool(suite.db, technician, { assetNumber: 'M-100', name: 'Bezel', cavityCount: 2 });
      await createPress(suite.db, engineer, { code: 'P-01', name: 'Engel 200' });
    });

    const lifetime = async () => (await getTool(suite.db, technician, { id: tool.id })).lifetimeShots;
    const lastAudit = async (action: string) => suite.db('audit_events').where('action', action).orderBy('id', 'desc').first();
    /** A plan at `percent` of its 1 000-shot interval (shots since the last PM), the tool's lifetime at 5 000. */
    const planAt = async (percent: number, templateId?: number) => {
      await suite.db('tools').where('id', tool.id).update({ lifetime_shots: 5000 });
      return createPlan(suite.db, engineer, {
        toolId: tool.id, name: 'Vents and ejectors', intervalShots: 1000, warningPercent: 80, templateId,
        lastPmAt: new Date(Date.now() - DAY), lastPmLifetimeShots: 5000 - percent * 10,
      });
    };

    describe('manual shot entry', () => {
      it('an engineer adds shots with the reason: counted (never held), reviewed by them, audited with the reason', async () => {
        const r = await enterManualShots(suite.db, engineer, { tool: 'm-100', shots: 25_000, reason: 'counter cable cut for a shift' });
        assert.deepEqual([r.reading.outcome, r.reading.delta, r.reading.reviewedBy, r.reading.reviewNote, r.lifetimeShots], ['manual', 25_000, engineer.id, 'counter cable cut for a shift', 25_000]);
        assert.equal(await lifetime(), 25_000);
        assert.deepEqual((await getTool(suite.db, technician, { id: tool.id })).cavities.map((c) => c.lifetimeShots), [25_000, 25_000]);
        const audit = await lastAudit('shots.manual');
        assert.equal(audit.actor_id, engineer.id);
        assert.equal(audit.after.reason, 'counter cable cut for a shift');
        assert.equal(audit.after.lifetimeShots, 25_000);
        const again = await enterManualShots(suite.db, admin, { tool: tool.id, shots: 5, reason: 'hand cycles on the bench' });
        assert.equal(again.lifetimeShots, 25_005);
      });

      it('refuses without a reason, naming the field; a technician may not; nothing written', async () => {
        const before = await tableCounts(suite.db);
        await rejects(enterManualShots(suite.db, engineer, { tool: 'M-100', shots: 10 }), 'validation', 'reason');
        await rejects(enterManualShots(suite.db, engineer, { tool: 'M-100', shots: 10, reason: '   ' }), 'validation', 'reason');
        await rejects(enterManualShots(suite.db, engineer, { tool: 'M-100', shots: 0, reason: 'x' }), 'validation', 'shots');
        await rejects(enterManualShots(suite.db, engineer, { tool: 'M-100', shots: 10_000_001, reason: 'x' }), 'validation', 'shots');
        await rejects(enterManualShots(suite.db, technician, { tool: 'M-100', shots: 10, reason: 'missed' }), 'forbidden');
        await rejects(enterManualShots(suite.db, engineer, { tool: 'M-999', shots: 10, reason: 'missed' }), 'not_found');
        await retireTool(suite.db, engineer, { id: tool.id, reason: 'scrapped' });
        const retired = await tableCounts(suite.db);
        await rejects(enterManualShots(suite.db, engineer, { tool: 'M-100', shots: 10, reason: 'missed' }), 'conflict', 'tool', 'not_retired');
        assert.deepEqual(await tableCounts(suite.db), retired);
        assert.equal(before.shot_readings, retired.shot_readings);
      });
    });

    describe('mounting a tool whose PM is OVERDUE', () => {
      it('is refused without overrideReason for every role, naming the field and the rule, nothing written', async () => {
        await planAt(130);
        const before = await tableCounts(suite.db);
        for (const actor of [technician, engineer, admin, system]) {
          const err = await rejects(mountTool(suite.db, actor, { assetNumber: 'M-100', pressCode: 'P-01' }), 'validation', 'overrideReason', 'overdue_pm_reason');
          assert.match(err.message, /M-100 is OVERDUE for PM \(Vents and ejectors\)/);
        }
        assert.deepEqual(await tableCounts(suite.db), before);
      });

      it('with the reason it is mounted, and the mount event carries the reason and the overdue plans', async () => {
        const plan = await planAt(130);
        const m = await mountTool(suite.db, technician, { assetNumber: 'M-100', pressCode: 'P-01', overrideReason: 'customer line down, PM booked for Friday' });
        assert.equal(m.tool.status, 'in_press');
        const audit = await lastAudit('mount.mount');
        assert.deepEqual([audit.actor_id, audit.entity_id, audit.after.overrideReason], [technician.id, String(m.id), 'customer line down, PM booked for Friday']);
        assert.deepEqual(audit.after.overduePlans.map((p: { id: number; name: string }) => [p.id, p.name]), [[plan.id, 'Vents and ejectors']]);
        await unmountTool(suite.db, engineer, { assetNumber: 'M-100' });
        await mountTool(suite.db, engineer, { assetNumber: 'M-100', pressCode: 'P-01', overrideReason: 'trial run for the toolmaker' });
        assert.equal((await lastAudit('mount.mount')).after.overrideReason, 'trial run for the toolmaker');
      });

      it('a DUE (not overdue) or inactive plan needs no reason, and the event carries none', async () => {
        const plan = await planAt(100);
        assert.equal((await getPlan(suite.db, technician, { id: plan.id })).status.state, 'DUE');
        await mountTool(suite.db, technician, { assetNumber: 'M-100', pressCode: 'P-01' });
        assert.equal((await lastAudit('mount.mount')).after.overrideReason, undefined);
        await unmountTool(suite.db, technician, { assetNumber: 'M-100' });
        await suite.db('pm_plans').where('id', plan.id).update({ last_pm_lifetime_shots: 3000, active: false });
        await mountTool(suite.db, technician, { assetNumber: 'M-100', pressCode: 'P-01' });
      });

      it('a press reporting the overdue tool (MouldId) is not refused: the tool is in it already', async () => {
        await planAt(130);
        const at = (s: number) => new Date(Date.now() - 60_000 + s * 1000).toISOString();
        const r = await recordReadings(suite.db, system, [{ press: 'P-01', counter: 10, at: at(0), mouldId: 'M-100' }, { press: 'P-01', counter: 15, at: at(1), mouldId: 'M-100' }]);
        assert.equal(r.remounts.length, 1);
        assert.equal(r.readings[1].delta, 5);
        const audit = await lastAudit('mount.mount');
        assert.equal(audit.after.overrideReason, null);
        assert.equal(audit.after.overduePlans.length, 1);
      });
    });

    describe('a PM recorded with its plan checklist', () => {
      it('records a preventive inspection linked to the PM event; the plan is NOT_DUE again; minutes and cost count in the KPIs', async () => {
        const template = await createTemplate(suite.db, engineer, {
          code: 'pm-bezel', name: 'Bezel PM', kind: 'preventive',
          items: [{ key: 'vents', label: 'Vents cleaned' }, { key: 'ejectors', label: 'Ejectors greased' }],
        });
        const plan = await planAt(105, template.id);
        assert.equal((await getPlan(suite.db, technician, { id: plan.id })).status.state, 'DUE');
        const inspection = await recordInspection(suite.db, technician, {
          toolId: tool.id, templateId: template.id, pmPlanId: plan.id,
          results: [{ itemKey: 'vents', result: 'pass' }, { itemKey: 'ejectors', result: 'pass' }],
          minutesSpent: 90, cost: 45.5,
        });
        assert.deepEqual([inspection.kind, inspection.pmPlanId, inspection.minutesSpent, inspection.cost], ['preventive', plan.id, 90, 45.5]);
        const after = await getPlan(suite.db, technician, { id: plan.id });
        assert.deepEqual([after.status.state, after.status.shotsSince, after.lastPmLifetimeShots], ['NOT_DUE', 0, 5000]);
        const event = await suite.db('pm_events').where('pm_plan_id', plan.id).first();
        assert.equal(event.inspection_id, inspection.id);
        const [row] = await kpi.maintenance(suite.db, engineer, { from: new Date(Date.now() - DAY).toISOString(), by: 'tool', subject: 'M-100' });
        assert.deepEqual([row.scheduledJobs, row.scheduledHours, row.cost], [1, 1.5, 45.5]);
      });

      it('a checklist that misses an item records neither the inspection nor the PM', async () => {
        const template = await createTemplate(suite.db, engineer, {
          code: 'pm-bezel', name: 'Bezel PM', kind: 'preventive',
          items: [{ key: 'vents', label: 'Vents cleaned' }, { key: 'ejectors', label: 'Ejectors greased' }],
        });
        const plan = await planAt(130, template.id);
        const before = await tableCounts(suite.db);
        await rejects(recordInspection(suite.db, technician, { toolId: tool.id, templateId: template.id, pmPlanId: plan.id, results: [{ itemKey: 'vents', result: 'pass' }] }), 'validation', 'results', 'every_item_answered');
        assert.deepEqual(await tableCounts(suite.db), before);
        assert.equal((await getPlan(suite.db, technician, { id: plan.id })).status.state, 'OVERDUE');
      });
    });
  });
}
