import assert from 'node:assert/strict';
import { createTool, retireTool } from '../../core/tools/service';
import { createTemplate, getTemplate, listTemplates, updateTemplate } from '../../core/inspections/templates';
import { getInspection, listInspections, recordInspection, addDays, ACTION_DUE_DAYS } from '../../core/inspections/service';
import { getAction } from '../../core/actions/service';
import { getFailure } from '../../core/failures/service';
import { today } from '../../core/actions/repository';
import { seedInspectionTemplates, POST_RUN_TEMPLATE, PREVENTIVE_TEMPLATE } from '../../core/inspections/seed';
import { seedFailureCatalog } from '../../core/failures/seed';
import { createPlan, getPlan, updatePlan } from '../../core/pm/service';
import { backends, coreSuite, countRows, tableCounts } from '../support/db';
import { rejects } from '../support/expect';
import { admin, engineer, system, technician } from '../support/actors';
import type { Tool } from '../../core/tools/schema';

const checklist = {
  code: 'PR-Small',
  name: 'Post-run, small tools',
  kind: 'post_run',
  items: [
    { key: 'vents', label: 'Parting line and vents cleaned', failureCode: 'pl-vent-blocked' },
    { key: 'ejectors', label: 'Ejector pins and return checked', failureCode: 'EJ-PIN-BROKEN', hint: 'all pins move freely' },
    { key: 'grease', label: 'Guide pins greased' },
    { key: 'strap', label: 'Tool closed and strapped' },
  ],
};

const tool4 = { assetNumber: 'M-4001', name: 'Cap 4-cav', cavityCount: 4, hotRunnerZones: 4, lifetimeShots: 123_456 };


type Answer = { itemKey: string; result: 'pass' | 'fail' | 'na'; [k: string]: unknown };
function answers(overrides: Record<string, Partial<Answer>> = {}): Answer[] {
  return checklist.items.map((i) => ({ itemKey: i.key, result: 'pass', ...overrides[i.key] }) as Answer);
}

for (const backend of backends) {
  describe(`inspections [${backend.name}]`, function () {
    this.timeout(30000);
    const suite = coreSuite(backend);
    let tool: Tool;
    beforeEach(async () => {
      await seedFailureCatalog(suite.db);
      tool = await createTool(suite.db, technician, tool4);
    });

    const auditActions = async (entity?: string): Promise<string[]> => {
      const q = suite.db('audit_events').orderBy('id');
      if (entity) q.where('entity', entity);
      return q.pluck('action');
    };

    describe('templates', () => {
      it('creates a template with a lower-case code and normalised items, audited', async () => {
        const t = await createTemplate(suite.db, engineer, checklist);
        assert.equal(t.code, 'pr-small');
        assert.equal(t.kind, 'post_run');
        assert.equal(t.active, true);
        assert.deepEqual(t.items[1], { key: 'ejectors', label: 'Ejector pins and return checked', failureCode: 'EJ-PIN-BROKEN', hint: 'all pins move freely' });
        assert.equal(t.items[0].failureCode, 'PL-VENT-BLOCKED');
        assert.deepEqual(t.items[2], { key: 'grease', label: 'Guide pins greased', failureCode: null, hint: null });
        const events = await suite.db('audit_events').where({ entity: 'inspection_template', entity_id: String(t.id) });
        assert.equal(events.length, 1);
        assert.equal(events[0].action, 'template.create');
        assert.equal(events[0].actor_id, engineer.id);
        assert.equal((await getTemplate(suite.db, technician, { code: 'PR-SMALL' })).id, t.id);
        assert.equal((await getTemplate(suite.db, technician, { id: t.id })).code, 'pr-small');
      });

      it('lets engineers and admins manage templates, technicians only read them', async () => {
        const before = await tableCounts(suite.db);
        await rejects(createTemplate(suite.db, technician, checklist), 'forbidden');
        assert.deepEqual(await tableCounts(suite.db), before);
        const t = await createTemplate(suite.db, admin, checklist);
        await rejects(updateTemplate(suite.db, technician, { id: t.id, name: 'x' }), 'forbidden');
        assert.equal((await listTemplates(suite.db, technician, {})).length, 1);
      });

      const invalid: [string, Record<string, unknown>, string, string | RegExp][] = [
        ['missing code', { code: undefined }, 'code', /invalid_type/],
        ['code with spaces', { code: 'post run' }, 'code', /invalid_format/],
        ['missing name', { name: undefined }, 'name', /invalid_type/],
        ['unknown kind', { kind: 'daily' }, 'kind', /invalid_value/],
        ['no items', { items: [] }, 'items', /too_small/],
        ['item key with capitals', { items: [{ key: 'Vents', label: 'x' }] }, 'items.0.key', /invalid_format/],
        ['item key with a dash', { items: [{ key: 'a-b', label: 'x' }] }, 'items.0.key', /invalid_format/],
        ['item without label', { items: [{ key: 'a' }] }, 'items.0.label', /invalid_type/],
        ['item key twice', { items: [{ key: 'a', label: 'x' }, { key: 'a', label: 'y' }] }, 'items.1.key', 'unique'],
        ['unknown item field', { items: [{ key: 'a', label: 'x', colour: 'red' }] }, 'items.0', /unrecognized_keys/],
        ['unknown field', { colour: 'red' }, '', /unrecognized_keys/],
        ['failure code not in the catalog', { items: [{ key: 'a', label: 'x' }, { key: 'b', label: 'y', failureCode: 'NO-SUCH' }] }, 'items.1.failureCode', 'exists'],
      ];
      for (const [label, patch, field, rule] of invalid) {
        it(`rejects ${label} naming ${field || 'the input'}, writing nothing`, async () => {
          const before = await tableCounts(suite.db);
          await rejects(createTemplate(suite.db, engineer, { ...checklist, ...patch }), 'validation', field, rule);
          assert.deepEqual(await tableCounts(suite.db), before);
        });
      }

      it('rejects a failure code that is no longer in use', async () => {
        await suite.db('failure_codes').where('code', 'EJ-PIN-BROKEN').update({ active: false });
        await rejects(createTemplate(suite.db, engineer, checklist), 'validation', 'items.1.failureCode', 'active');
      });

      it('rejects a duplicate code as a conflict, whatever its case', async () => {
        await createTemplate(suite.db, engineer, checklist);
        const before = await tableCounts(suite.db);
        await rejects(createTemplate(suite.db, engineer, { ...checklist, code: 'pr-SMALL' }), 'conflict', 'code', 'unique');
        assert.deepEqual(await tableCounts(suite.db), before);
      });

      it('updates name, items and active; unknown ids are not_found; bad items write nothing', async () => {
        const t = await createTemplate(suite.db, engineer, checklist);
        const updated = await updateTemplate(suite.db, engineer, {
          id: t.id,
          name: 'Post-run v2',
          items: [...checklist.items.slice(1), { key: 'rust', label: 'Rust preventive applied', failureCode: 'CC-CORROSION' }],
        });
        assert.equal(updated.name, 'Post-run v2');
        assert.equal(updated.code, 'pr-small');
        assert.deepEqual(updated.items.map((i) => i.key), ['ejectors', 'grease', 'strap', 'rust']);
        const events = await suite.db('audit_events').where({ action: 'template.update' });
        assert.equal(events.length, 1);
        assert.equal(events[0].before.name, 'Post-run, small tools');
        assert.equal(events[0].after.name, 'Post-run v2');
        const before = await tableCounts(suite.db);
        await rejects(updateTemplate(suite.db, engineer, { id: t.id, items: [{ key: 'a', label: 'x', failureCode: 'NOPE' }] }), 'validation', 'items.0.failureCode', 'exists');
        await rejects(updateTemplate(suite.db, engineer, { id: 999, name: 'x' }), 'not_found', 'id');
        assert.deepEqual(await tableCounts(suite.db), before);
        await updateTemplate(suite.db, engineer, { id: t.id, active: false });
        assert.equal((await listTemplates(suite.db, technician, {})).length, 0);
        assert.equal((await listTemplates(suite.db, technician, { includeInactive: true })).length, 1);
      });

      it('lists templates by kind, by code', async () => {
        await createTemplate(suite.db, engineer, checklist);
        await createTemplate(suite.db, engineer, { ...checklist, code: 'pm-a', kind: 'preventive' });
        await createTemplate(suite.db, engineer, { ...checklist, code: 'a-first' });
        assert.deepEqual((await listTemplates(suite.db, technician, {})).map((t) => t.code), ['a-first', 'pm-a', 'pr-small']);
        assert.deepEqual((await listTemplates(suite.db, technician, { kind: 'preventive' })).map((t) => t.code), ['pm-a']);
        await rejects(listTemplates(suite.db, technician, { kind: 'daily' }), 'validation', 'kind');
        await rejects(getTemplate(suite.db, technician, { code: 'nope' }), 'not_found', 'code');
        await rejects(getTemplate(suite.db, technician, { id: 77 }), 'not_found', 'id');
      });
    });

    describe('template seed', () => {
      it('creates a best-practice post-run and a preventive template, once', async () => {
        const created = await seedInspectionTemplates(suite.db);
        assert.deepEqual(created.map((t) => t.code), ['post-run', 'pm-standard']);
        const postRun = await getTemplate(suite.db, technician, { code: 'post-run' });
        assert.equal(postRun.kind, 'post_run');
        const keys = postRun.items.map((i) => i.key);
        for (const key of [
          'parting_line_vents',
          'ejector_pins_return',
          'water_leak_test',
          'guide_greased',
          'rust_preventive',
          'last_shot_sample',
          'closed_strapped',
          'hot_runner_zones',
          'cavity_id_counter',
        ]) {
          assert.ok(keys.includes(key), `post-run template lacks ${key}`);
        }
        const labels = postRun.items.map((i) => i.label.toLowerCase()).join('\n');
        for (const words of ['vents', 'ejector', 'leak', 'greased', 'rust preventive', 'last-shot sample', 'strapped']) {
          assert.ok(labels.includes(words), `no item mentions ${words}`);
        }
        const pm = await getTemplate(suite.db, technician, { code: 'pm-standard' });
        assert.equal(pm.kind, 'preventive');
        assert.ok(pm.items.length >= 10);
        // Every code a seeded item raises is in the seeded catalog and in use.
        const codes = [...POST_RUN_TEMPLATE.items, ...PREVENTIVE_TEMPLATE.items].map((i) => i.failureCode).filter(Boolean) as string[];
        assert.ok(codes.length >= 8);
        const inCatalog = await suite.db('failure_codes').whereIn('code', codes).where('active', true).pluck('code');
        assert.deepEqual([...new Set(inCatalog)].sort(), [...new Set(codes)].sort());
        assert.deepEqual(await auditActions('inspection_template'), ['template.create', 'template.create']);

        const counts = await tableCounts(suite.db);
        assert.deepEqual(await seedInspectionTemplates(suite.db), []);
        assert.deepEqual(await tableCounts(suite.db), counts);
      });

      it('leaves a template the plant changed as it is, and runs inside a caller transaction', async () => {
        await seedInspectionTemplates(suite.db);
        const postRun = await getTemplate(suite.db, technician, { code: 'post-run' });
        await updateTemplate(suite.db, engineer, { id: postRun.id, name: 'Our post-run', items: postRun.items.slice(0, 3) });
        await suite.db.transaction((trx) => seedInspectionTemplates(trx));
        const again = await getTemplate(suite.db, technician, { code: 'post-run' });
        assert.equal(again.name, 'Our post-run');
        assert.equal(again.items.length, 3);
        assert.equal(await countRows(suite.db, 'inspection_templates'), 2);
      });
    });

    describe('recording', () => {
      let templateId: number;
      beforeEach(async () => {
        templateId = (await createTemplate(suite.db, engineer, checklist)).id;
      });

      it('records a passed inspection with label copies, the tool lifetime and no follow-ups', async () => {
        const performedAt = new Date(Date.now() - 3_600_000).toISOString();
        const i = await recordInspection(suite.db, technician, {
          assetNumber: 'm-4001',
          templateCode: 'PR-SMALL',
          performedAt,
          results: answers({ grease: { note: 'topped up' } }),
          findings: 'clean run',
          spareParts: [{ partNumber: 'GR-100', description: 'grease', quantity: 0.5 }],
          minutesSpent: 25,
          cost: 12.3,
        });
        assert.equal(i.toolId, tool.id);
        assert.equal(i.assetNumber, 'M-4001');
        assert.equal(i.templateId, templateId);
        assert.equal(i.kind, 'post_run');
        assert.equal(i.outcome, 'pass');
        assert.equal(i.performedAt, performedAt);
        assert.equal(i.performedBy, technician.id);
        assert.equal(i.lifetimeShots, 123_456);
        assert.equal(i.findings, 'clean run');
        assert.deepEqual(i.spareParts, [{ partNumber: 'GR-100', description: 'grease', quantity: 0.5 }]);
        assert.equal(i.minutesSpent, 25);
        assert.equal(i.cost, 12.3);
        assert.deepEqual(i.results.map((r) => r.itemKey), ['vents', 'ejectors', 'grease', 'strap']);
        assert.deepEqual(i.results[2], { itemKey: 'grease', label: 'Guide pins greased', result: 'pass', note: 'topped up', failureReportId: null });
        assert.deepEqual(i.actionIds, []);
        assert.deepEqual(i.failureReportIds, []);
        assert.equal(await countRows(suite.db, 'actions'), 0);
        assert.equal(await countRows(suite.db, 'failure_reports'), 0);
        assert.deepEqual(await getInspection(suite.db, technician, { id: i.id }), i);
        const events = await suite.db('audit_events').where({ entity: 'inspection' });
        assert.equal(events.length, 1);
        assert.equal(events[0].action, 'inspection.record');
        assert.equal(events[0].entity_id, String(i.id));
        assert.equal(events[0].actor_id, technician.id);
        assert.equal(events[0].after.outcome, 'pass');
      });

      it('n.a. answers raise nothing and do not fail the inspection', async () => {
        const i = await recordInspection(suite.db, technician, { toolId: tool.id, templateId, results: answers({ vents: { result: 'na' }, ejectors: { result: 'na' } }) });
        assert.equal(i.outcome, 'pass');
        assert.equal(i.results[0].result, 'na');
        assert.equal(await countRows(suite.db, 'actions'), 0);
        assert.equal(await countRows(suite.db, 'failure_reports'), 0);
      });

      it('a failed item with a code raises a failure report and an action linked to it, tool and inspection', async () => {
        const i = await recordInspection(suite.db, technician, {
          toolId: tool.id,
          templateId,
          results: answers({ ejectors: { result: 'fail', note: 'pin 7 broken', cavity: 3 } }),
        });
        assert.equal(i.outcome, 'fail');
        assert.equal(i.failureReportIds.length, 1);
        assert.equal(i.actionIds.length, 1);
        const report = await getFailure(suite.db, technician, { id: i.failureReportIds[0] });
        const code = await suite.db('failure_codes').where('code', 'EJ-PIN-BROKEN').first();
        assert.equal(report.toolId, tool.id);
        assert.equal(report.inspectionId, i.id);
        assert.equal(report.failureCode, 'EJ-PIN-BROKEN');
        assert.equal(report.severity, code.default_severity);
        assert.equal(report.component, code.component);
        assert.equal(report.cavity, 3);
        assert.equal(report.shotCount, 123_456);
        assert.equal(report.reportedBy, technician.id);
        assert.equal(report.reportedAt, i.performedAt);
        assert.equal(report.description, 'pin 7 broken');
        assert.equal(i.results[1].failureReportId, report.id);
        const action = await getAction(suite.db, technician, { id: i.actionIds[0] });
        assert.equal(action.kind, 'corrective');
        assert.match(action.title, /Ejector pins and return checked/);
        assert.equal(action.toolId, tool.id);
        assert.equal(action.inspectionId, i.id);
        assert.equal(action.failureReportId, report.id);
        assert.equal(action.assigneeId, null);
        assert.equal(action.status, 'open');
        assert.equal(action.description, 'Cavity 3: pin 7 broken');
        assert.equal(action.dueDate, addDays(await today(suite.db), ACTION_DUE_DAYS[report.severity]));
        assert.deepEqual((await auditActions()).filter((a) => !a.startsWith('failure_code.') && !a.startsWith('tool.') && !a.startsWith('template.')), [
          'failure.report',
          'action.create',
          'inspection.record',
        ]);
        // Every record written has its audit event, in the same transaction as the inspection.
        for (const [entity, id] of [['inspection', i.id], ['failure_report', report.id], ['action', action.id]] as const) {
          assert.equal(await suite.db('audit_events').where({ entity, entity_id: String(id) }).count<{ count: string }[]>('* as count').then((r) => Number(r[0].count)), 1, `${entity} audited once`);
        }
      });

      it('a failed item without a code raises an action only; the answer may name a code and severity', async () => {
        const i = await recordInspection(suite.db, engineer, {
          toolId: tool.id,
          templateId,
          results: answers({
            grease: { result: 'fail', note: 'no grease left' },
            strap: { result: 'fail', failureCode: 'CL-WATER-LEAK', severity: 'critical', note: 'water in the strap area' },
          }),
        });
        assert.equal(i.actionIds.length, 2);
        assert.equal(i.failureReportIds.length, 1);
        const [greaseAction, strapAction] = await Promise.all(i.actionIds.map((id) => getAction(suite.db, engineer, { id })));
        const day = await today(suite.db);
        assert.equal(greaseAction.failureReportId, null);
        assert.equal(greaseAction.inspectionId, i.id);
        assert.equal(greaseAction.dueDate, addDays(day, ACTION_DUE_DAYS.major));
        assert.equal(greaseAction.description, 'no grease left');
        assert.match(greaseAction.title, /Guide pins greased/);
        const report = await getFailure(suite.db, engineer, { id: i.failureReportIds[0] });
        assert.equal(report.severity, 'critical');
        assert.equal(report.failureCode, 'CL-WATER-LEAK');
        assert.equal(strapAction.failureReportId, report.id);
        assert.equal(strapAction.dueDate, addDays(day, ACTION_DUE_DAYS.critical));
        assert.equal(i.results.find((r) => r.itemKey === 'strap')!.failureReportId, report.id);
        assert.equal(i.results.find((r) => r.itemKey === 'grease')!.failureReportId, null);
      });

      it('rolls everything back when a later failed item names a code the catalog does not have', async () => {
        const before = await tableCounts(suite.db);
        await rejects(
          recordInspection(suite.db, technician, {
            toolId: tool.id,
            templateId,
            // The first failure is written before the second is found wrong: all of it must go.
            results: answers({ vents: { result: 'fail' }, grease: { result: 'fail', failureCode: 'NO-SUCH-CODE' } }),
          }),
          'validation',
          'results.2.failureCode',
          'exists',
        );
        assert.deepEqual(await tableCounts(suite.db), before);
      });

      it('rolls everything back when a template item names a code taken out of use since', async () => {
        await suite.db('failure_codes').where('code', 'EJ-PIN-BROKEN').update({ active: false });
        const before = await tableCounts(suite.db);
        await rejects(
          recordInspection(suite.db, technician, { toolId: tool.id, templateId, results: answers({ vents: { result: 'fail' }, ejectors: { result: 'fail' } }) }),
          'validation',
          'results.1.itemKey',
          'active',
        );
        assert.deepEqual(await tableCounts(suite.db), before);
      });

      const invalid: [string, (r: Record<string, unknown>) => Record<string, unknown>, string, string | RegExp][] = [
        ['an item left out', (v) => ({ ...v, results: answers().slice(1) }), 'results', 'every_item_answered'],
        ['an unknown item', (v) => ({ ...v, results: [...answers(), { itemKey: 'paint', result: 'pass' }] }), 'results.4.itemKey', 'template_item'],
        ['an item answered twice', (v) => ({ ...v, results: [...answers(), { itemKey: 'vents', result: 'fail' }] }), 'results.4.itemKey', 'answered_once'],
        ['no results', (v) => ({ ...v, results: [] }), 'results', /too_small/],
        ['an unknown result', (v) => ({ ...v, results: answers({ vents: { result: 'ok' as 'pass' } }) }), 'results.0.result', /invalid_value/],
        ['a code on a passed item', (v) => ({ ...v, results: answers({ vents: { failureCode: 'CL-WATER-LEAK' } }) }), 'results.0.failureCode', 'only_on_fail'],
        ['a severity on an n.a. item', (v) => ({ ...v, results: answers({ vents: { result: 'na', severity: 'minor' } }) }), 'results.0.severity', 'only_on_fail'],
        ['an unknown severity', (v) => ({ ...v, results: answers({ vents: { result: 'fail', severity: 'fatal' } }) }), 'results.0.severity', /invalid_value/],
        ['a cavity the tool does not have', (v) => ({ ...v, results: answers({ vents: { result: 'fail', cavity: 5 } }) }), 'results.0.cavity', 'cavity_exists'],
        ['cavity 0', (v) => ({ ...v, results: answers({ vents: { result: 'fail', cavity: 0 } }) }), 'results.0.cavity', /too_small/],
        ['neither tool id nor asset number', ({ toolId: _t, ...v }) => v, 'toolId', 'required'],
        ['both tool id and asset number', (v) => ({ ...v, assetNumber: 'M-4001' }), 'assetNumber', 'one_of'],
        ['neither template id nor code', ({ templateId: _t, ...v }) => v, 'templateId', 'required'],
        ['a time in the future', (v) => ({ ...v, performedAt: new Date(Date.now() + 3_600_000).toISOString() }), 'performedAt', 'not_in_future'],
        ['a time that is no time', (v) => ({ ...v, performedAt: 'yesterday' }), 'performedAt', /.+/],
        ['a kind the template is not for', (v) => ({ ...v, kind: 'preventive' }), 'kind', 'template_kind'],
        ['minutes over a day', (v) => ({ ...v, minutesSpent: 1441 }), 'minutesSpent', /too_big/],
        ['negative minutes', (v) => ({ ...v, minutesSpent: -1 }), 'minutesSpent', /too_small/],
        ['fractional minutes', (v) => ({ ...v, minutesSpent: 1.5 }), 'minutesSpent', /invalid_type/],
        ['a negative cost', (v) => ({ ...v, cost: -0.01 }), 'cost', /too_small/],
        ['a cost with 3 decimals', (v) => ({ ...v, cost: 1.005 }), 'cost', 'two_decimals'],
        ['a spare part of quantity 0', (v) => ({ ...v, spareParts: [{ partNumber: 'EP-6', quantity: 0 }] }), 'spareParts.0.quantity', /too_small/],
        ['a spare part without a number', (v) => ({ ...v, spareParts: [{ quantity: 1 }] }), 'spareParts.0.partNumber', /invalid_type/],
        ['findings too long', (v) => ({ ...v, findings: 'x'.repeat(4001) }), 'findings', /too_big/],
        ['an unknown field', (v) => ({ ...v, colour: 'red' }), '', /unrecognized_keys/],
        ['a PM plan on a post-run inspection', (v) => ({ ...v, pmPlanId: 1 }), 'pmPlanId', 'preventive_only'],
      ];
      for (const [label, change, field, rule] of invalid) {
        it(`rejects ${label} naming ${field || 'the input'}, writing nothing`, async () => {
          const before = await tableCounts(suite.db);
          await rejects(recordInspection(suite.db, technician, change({ toolId: tool.id, templateId, results: answers({ vents: { result: 'fail' } }) })), 'validation', field, rule);
          assert.deepEqual(await tableCounts(suite.db), before);
        });
      }

      it('accepts a cost of 12.34 and a time within clock skew', async () => {
        const i = await recordInspection(suite.db, technician, { toolId: tool.id, templateId, results: answers(), cost: 12.34, performedAt: new Date(Date.now() + 60_000) });
        assert.equal(i.cost, 12.34);
      });

      it('needs a tool that exists and is not retired, and a template in use', async () => {
        const before = await tableCounts(suite.db);
        await rejects(recordInspection(suite.db, technician, { toolId: 999, templateId, results: answers() }), 'not_found', 'toolId');
        await rejects(recordInspection(suite.db, technician, { assetNumber: 'M-9999', templateId, results: answers() }), 'not_found', 'assetNumber');
        await rejects(recordInspection(suite.db, technician, { toolId: tool.id, templateId: 999, results: answers() }), 'not_found', 'templateId');
        await rejects(recordInspection(suite.db, technician, { toolId: tool.id, templateCode: 'nope', results: answers() }), 'not_found', 'templateCode');
        assert.deepEqual(await tableCounts(suite.db), before);
        await updateTemplate(suite.db, engineer, { id: templateId, active: false });
        await rejects(recordInspection(suite.db, technician, { toolId: tool.id, templateId, results: answers() }), 'conflict', 'templateId', 'active');
        await updateTemplate(suite.db, engineer, { id: templateId, active: true });
        await retireTool(suite.db, engineer, { id: tool.id, reason: 'end of programme' });
        const afterRetire = await tableCounts(suite.db);
        await rejects(recordInspection(suite.db, technician, { toolId: tool.id, templateId, results: answers() }), 'conflict', 'toolId', 'not_retired');
        assert.deepEqual(await tableCounts(suite.db), afterRetire);
      });

      it('keeps past inspections readable when the template loses or relabels items', async () => {
        const i = await recordInspection(suite.db, technician, { toolId: tool.id, templateId, results: answers({ grease: { result: 'fail' } }) });
        await updateTemplate(suite.db, engineer, {
          id: templateId,
          items: [{ key: 'strap', label: 'Closed, strapped and tagged' }, { key: 'vents', label: 'Vents cleaned' }],
        });
        const again = await getInspection(suite.db, technician, { id: i.id });
        // In the order of the checklist it was recorded with (version 1; the edit made version 2).
        assert.equal(again.templateVersion, 1);
        assert.deepEqual(again.results.map((r) => [r.itemKey, r.label]), [
          ['vents', 'Parting line and vents cleaned'],
          ['ejectors', 'Ejector pins and return checked'],
          ['grease', 'Guide pins greased'],
          ['strap', 'Tool closed and strapped'],
        ]);
        assert.deepEqual(again.actionIds, i.actionIds);
        // The new checklist applies from now on.
        await rejects(recordInspection(suite.db, technician, { toolId: tool.id, templateId, results: answers() }), 'validation', 'results.1.itemKey', 'template_item');
        const next = await recordInspection(suite.db, technician, { toolId: tool.id, templateId, results: [{ itemKey: 'vents', result: 'pass' }, { itemKey: 'strap', result: 'pass' }] });
        assert.equal(next.results[0].label, 'Closed, strapped and tagged');
      });

      it('gets by id and lists newest first with filters and pagination', async () => {
        const other = await createTool(suite.db, technician, { ...tool4, assetNumber: 'M-4002' });
        const pm = await createTemplate(suite.db, engineer, { ...checklist, code: 'pm-small', kind: 'preventive' });
        const now = Date.now();
        const at = (daysAgo: number) => new Date(now - daysAgo * 86_400_000).toISOString();
        const made = [];
        for (let d = 10; d >= 1; d--) {
          made.push(
            await recordInspection(suite.db, technician, {
              toolId: d % 2 ? tool.id : other.id,
              templateId: d % 5 === 0 ? pm.id : templateId,
              performedAt: at(d),
              results: answers(d === 3 ? { grease: { result: 'fail' } } : {}),
            }),
          );
        }
        const all = await listInspections(suite.db, technician, {});
        assert.equal(all.total, 10);
        assert.deepEqual(all.items.map((i) => i.performedAt), [...made].reverse().map((i) => i.performedAt));
        assert.equal(all.items[0].results.length, 4);
        assert.equal((await listInspections(suite.db, technician, { toolId: tool.id })).total, 5);
        assert.deepEqual((await listInspections(suite.db, technician, { kind: 'preventive' })).items.map((i) => i.performedAt), [at(5), at(10)]);
        const failed = await listInspections(suite.db, technician, { outcome: 'fail' });
        assert.equal(failed.total, 1);
        assert.equal(failed.items[0].actionIds.length, 1);
        assert.equal((await listInspections(suite.db, technician, { from: at(4), to: at(2) })).total, 3);
        const page = await listInspections(suite.db, technician, { limit: 3, offset: 3 });
        assert.equal(page.total, 10);
        assert.deepEqual(page.items.map((i) => i.performedAt), [at(4), at(5), at(6)]);
        await rejects(listInspections(suite.db, technician, { from: at(1), to: at(2) }), 'validation', 'to', 'after_from');
        await rejects(listInspections(suite.db, technician, { outcome: 'meh' }), 'validation', 'outcome');
        await rejects(getInspection(suite.db, technician, { id: 4242 }), 'not_found', 'id');
      });

      describe('fulfilling a PM plan', () => {
        let pmTemplateId: number;
        beforeEach(async () => {
          pmTemplateId = (await createTemplate(suite.db, engineer, { ...checklist, code: 'pm-small', kind: 'preventive' })).id;
        });

        it('records the PM in the same transaction: the plan counts from this inspection', async () => {
          const plan = await createPlan(suite.db, engineer, { toolId: tool.id, intervalShots: 50_000, lastPmAt: new Date(Date.now() - 30 * 86_400_000).toISOString(), lastPmLifetimeShots: 80_000 });
          const performedAt = new Date(Date.now() - 3_600_000).toISOString();
          const i = await recordInspection(suite.db, technician, { toolId: tool.id, templateId: pmTemplateId, pmPlanId: plan.id, performedAt, results: answers({ grease: { result: 'fail' } }), findings: 'PM done, grease nipple replaced' });
          assert.equal(i.pmPlanId, plan.id);
          assert.equal(i.kind, 'preventive');
          const after = await getPlan(suite.db, technician, { id: plan.id });
          assert.equal(after.lastPmAt, performedAt);
          assert.equal(after.lastPmLifetimeShots, 123_456);
          const events = await suite.db('pm_events').where('pm_plan_id', plan.id);
          assert.equal(events.length, 1);
          assert.equal(events[0].inspection_id, i.id);
          assert.equal(events[0].notes, 'PM done, grease nipple replaced');
          const actions = await auditActions();
          assert.ok(actions.includes('pm.record') && actions.includes('inspection.record'));
        });

        it('rejects a plan of another tool, an unknown plan or one not in use, writing nothing', async () => {
          const other = await createTool(suite.db, technician, { ...tool4, assetNumber: 'M-4002' });
          const foreign = await createPlan(suite.db, engineer, { toolId: other.id, intervalDays: 90 });
          const idle = await createPlan(suite.db, engineer, { toolId: tool.id, intervalDays: 90 });
          await updatePlan(suite.db, engineer, { id: idle.id, active: false });
          const before = await tableCounts(suite.db);
          const record = (pmPlanId: number) => recordInspection(suite.db, technician, { toolId: tool.id, templateId: pmTemplateId, pmPlanId, results: answers({ vents: { result: 'fail' } }) });
          await rejects(record(foreign.id), 'validation', 'pmPlanId', 'plan_of_tool');
          await rejects(record(9999), 'not_found', 'pmPlanId');
          // Found by core/pm after the inspection and its action were written: all of it rolls back.
          await rejects(record(idle.id), 'conflict', 'pmPlanId', 'active');
          assert.deepEqual(await tableCounts(suite.db), before);
        });

        it('rejects an inspection dated before the plan\'s last PM, writing nothing', async () => {
          const plan = await createPlan(suite.db, engineer, { toolId: tool.id, intervalDays: 90 });
          const before = await tableCounts(suite.db);
          await rejects(
            recordInspection(suite.db, technician, { toolId: tool.id, templateId: pmTemplateId, pmPlanId: plan.id, performedAt: new Date(Date.now() - 86_400_000), results: answers() }),
            'validation',
            'performedAt',
            'after_last_pm',
          );
          assert.deepEqual(await tableCounts(suite.db), before);
        });
      });

      it('lets every role and a flow record; a flow is audited as the system actor', async () => {
        for (const actor of [technician, engineer, admin, system]) {
          await recordInspection(suite.db, actor, { toolId: tool.id, templateId, results: answers() });
        }
        assert.deepEqual(
          (await suite.db('audit_events').where('entity', 'inspection').orderBy('id').pluck('actor_role')),
          ['technician', 'engineer', 'admin', 'system'],
        );
      });
    });
  });
}
