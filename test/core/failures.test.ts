import assert from 'node:assert/strict';
import { createTool, retireTool, updateTool } from '../../core/tools/service';
import { createCode, getCode, listCatalog, listCodes, updateCode } from '../../core/failures/catalog';
import { SEED_CATALOG, seedFailureCatalog } from '../../core/failures/seed';
import { getFailure, listFailures, reportFailure, triageFailure } from '../../core/failures/service';
import { COMPONENTS, FAILURE_STATUSES, FAILURE_TRANSITIONS } from '../../core/failures/schema';
import { backends, countRows, resetData, tableCounts, type Backend } from '../support/db';
import { rejects } from '../support/expect';
import { admin, engineer, system, technician } from '../support/actors';
import type { Db } from '../../core/db/connect';
import type { Tool } from '../../core/tools/schema';

const mould = { assetNumber: 'M-2001', name: 'Cap 8-cav', cavityCount: 8, lifetimeShots: 412_000 };

for (const backend of backends) {
  describe(`failures [${backend.name}]`, function () {
    this.timeout(30000);
    let db: Db;
    before(async () => {
      db = await (backend as Backend).db();
    });
    beforeEach(() => resetData(db));

    const audit = async (entity: string) =>
      (await db('audit_events').where('entity', entity).orderBy('id')) as {
        action: string;
        entity_id: string;
        actor_name: string;
        before: Record<string, unknown> | null;
        after: Record<string, unknown> | null;
      }[];

    describe('catalog', () => {
      it('seeds 30–50 codes across every component, once, each audited', async () => {
        const first = await seedFailureCatalog(db);
        assert.ok(first.length >= 30 && first.length <= 50, `${first.length} codes`);
        assert.equal(first.length, SEED_CATALOG.length);
        assert.deepEqual([...new Set(first.map((c) => c.component))].sort(), [...COMPONENTS].sort());
        assert.equal(new Set(first.map((c) => c.code)).size, first.length, 'codes are unique');
        for (const c of first) assert.match(c.code, /^[A-Z]{2}-[A-Z0-9-]+$/);
        assert.ok(first.every((c) => c.active && c.description));
        assert.equal(first.find((c) => c.code === 'EJ-PIN-BROKEN')!.defaultSeverity, 'critical');
        assert.equal(first.find((c) => c.code === 'PL-VENT-BLOCKED')!.defaultSeverity, 'major');
        assert.equal(first.find((c) => c.code === 'HR-DROOL')!.defaultSeverity, 'minor');
        const events = await audit('failure_code');
        assert.equal(events.length, first.length);
        assert.ok(events.every((e) => e.action === 'failure_code.create' && e.actor_name === 'system'));

        const counts = await tableCounts(db);
        assert.deepEqual(await seedFailureCatalog(db), []);
        assert.deepEqual(await tableCounts(db), counts);
      });

      it('seeds around codes the plant changed and inside a caller transaction', async () => {
        await createCode(db, engineer, { code: 'EJ-PIN-BROKEN', title: 'Ejector pin snapped', component: 'ejector_system', defaultSeverity: 'major' });
        const inserted = await db.transaction((trx) => seedFailureCatalog(trx));
        assert.equal(inserted.length, SEED_CATALOG.length - 1);
        const kept = await getCode(db, technician, { code: 'ej-pin-broken' });
        assert.equal(kept.title, 'Ejector pin snapped');
        assert.equal(kept.defaultSeverity, 'major');
        await resetData(db);
        await db.transaction(async (trx) => {
          await seedFailureCatalog(trx);
          await trx.rollback();
        }).catch(() => undefined);
        assert.equal(await countRows(db, 'failure_codes'), 0);
      });

      it('creates a code with defaults, upper-cased, audited', async () => {
        const code = await createCode(db, engineer, { code: 'sl-cam-worn', title: 'Slide cam worn', component: 'slides_lifters' });
        assert.equal(code.code, 'SL-CAM-WORN');
        assert.equal(code.defaultSeverity, 'major');
        assert.equal(code.active, true);
        assert.equal(code.description, null);
        const [event] = await audit('failure_code');
        assert.equal(event.action, 'failure_code.create');
        assert.equal(event.entity_id, String(code.id));
        assert.equal(event.after!.code, 'SL-CAM-WORN');
      });

      it('rejects a duplicate code as a conflict, whatever its case, writing nothing', async () => {
        await createCode(db, engineer, { code: 'GT-01', title: 'Gate', component: 'gating' });
        const before = await tableCounts(db);
        await rejects(createCode(db, engineer, { code: 'gt-01', title: 'Other', component: 'gating' }), 'conflict', 'code', 'unique');
        assert.deepEqual(await tableCounts(db), before);
      });

      const validCode = { code: 'CL-99', title: 'Test', component: 'cooling' };
      const invalidCodes: [string, Record<string, unknown>, string, string | RegExp][] = [
        ['a code with spaces', { code: 'CL 99' }, 'code', /invalid_format/],
        ['an empty code', { code: ' ' }, 'code', /too_small/],
        ['no title', { title: undefined }, 'title', /invalid_type/],
        ['an unknown component', { component: 'paint_shop' }, 'component', /invalid_value/],
        ['an unknown severity', { defaultSeverity: 'fatal' }, 'defaultSeverity', /invalid_value/],
        ['an unknown field', { colour: 'red' }, '', /unrecognized_keys/],
      ];
      for (const [label, patch, field, rule] of invalidCodes) {
        it(`rejects a code with ${label}, writing nothing`, async () => {
          const before = await tableCounts(db);
          await rejects(createCode(db, engineer, { ...validCode, ...patch }), 'validation', field, rule);
          assert.deepEqual(await tableCounts(db), before);
        });
      }

      it('lets engineers and admins manage the catalog, technicians only read it', async () => {
        await seedFailureCatalog(db);
        const before = await tableCounts(db);
        await rejects(createCode(db, technician, validCode), 'forbidden');
        await rejects(updateCode(db, technician, { code: 'EJ-PIN-BROKEN', title: 'x' }), 'forbidden');
        assert.deepEqual(await tableCounts(db), before);
        assert.equal((await listCodes(db, technician, {})).length, SEED_CATALOG.length);
        await createCode(db, admin, validCode);
        await updateCode(db, system, { code: 'CL-99', title: 'Still a test' });
      });

      it('updates and deactivates a code (audited with before and after); lists leave it out unless asked', async () => {
        await seedFailureCatalog(db);
        const updated = await updateCode(db, engineer, { code: 'cl-water-leak', title: 'Water leak at O-ring or seal', defaultSeverity: 'major' });
        assert.equal(updated.title, 'Water leak at O-ring or seal');
        assert.equal(updated.defaultSeverity, 'major');
        assert.equal(updated.component, 'cooling');
        const off = await updateCode(db, engineer, { code: 'CL-WATER-LEAK', active: false });
        assert.equal(off.active, false);
        const events = (await audit('failure_code')).filter((e) => e.action === 'failure_code.update');
        assert.equal(events.length, 2);
        assert.equal(events[0].before!.title, 'Water leak at O-ring');
        assert.equal(events[0].after!.title, 'Water leak at O-ring or seal');
        assert.equal(events[1].before!.active, true);
        assert.equal(events[1].after!.active, false);

        const inUse = await listCodes(db, technician, { component: 'cooling' });
        assert.ok(inUse.length > 0 && inUse.every((c) => c.component === 'cooling' && c.active));
        assert.ok(!inUse.some((c) => c.code === 'CL-WATER-LEAK'));
        const all = await listCodes(db, technician, { component: 'cooling', includeInactive: true });
        assert.equal(all.length, inUse.length + 1);
        assert.deepEqual(all.map((c) => c.code), [...all.map((c) => c.code)].sort());

        await rejects(updateCode(db, engineer, { code: 'NOPE', title: 'x' }), 'not_found', 'code');
        await rejects(updateCode(db, engineer, { code: 'CL-WATER-LEAK', component: 'paint' }), 'validation', 'component');
        await rejects(getCode(db, engineer, { code: 'NOPE' }), 'not_found', 'code');
        await rejects(listCodes(db, engineer, { component: 'paint' }), 'validation', 'component');
      });

      it('groups the catalog by component in the fixed order for pickers', async () => {
        await seedFailureCatalog(db);
        await updateCode(db, engineer, { code: 'OT-SCREW-LOOSE', active: false });
        const groups = await listCatalog(db, technician, {});
        assert.deepEqual(groups.map((g) => g.component), [...COMPONENTS]);
        assert.equal(groups[0].label, 'Ejector system');
        for (const g of groups) assert.ok(g.codes.length > 0 && g.codes.every((c) => c.component === g.component && c.active));
        assert.equal(groups.reduce((n, g) => n + g.codes.length, 0), SEED_CATALOG.length - 1);
        const hotRunner = await listCatalog(db, technician, { component: 'hot_runner' });
        assert.deepEqual(hotRunner.map((g) => g.component), ['hot_runner']);
      });
    });

    describe('reports', () => {
      let tool: Tool;
      beforeEach(async () => {
        await seedFailureCatalog(db);
        tool = await createTool(db, technician, mould);
      });

      it('reports a failure with the code’s severity and component and the tool’s shot count, audited', async () => {
        const r = await reportFailure(db, technician, { toolId: tool.id, failureCode: 'ej-pin-broken', cavity: 3, description: 'pin 12 snapped' });
        assert.equal(r.toolId, tool.id);
        assert.equal(r.assetNumber, 'M-2001');
        assert.equal(r.failureCode, 'EJ-PIN-BROKEN');
        assert.equal(r.failureTitle, 'Ejector pin broken');
        assert.equal(r.severity, 'critical');
        assert.equal(r.component, 'ejector_system');
        assert.equal(r.cavity, 3);
        assert.equal(r.shotCount, 412_000);
        assert.equal(r.description, 'pin 12 snapped');
        assert.equal(r.status, 'open');
        assert.equal(r.rootCause, null);
        assert.equal(r.reportedBy, technician.id);
        assert.equal(r.closedAt, null);
        assert.equal(r.version, 1);
        assert.ok(Math.abs(Date.parse(r.reportedAt) - Date.now()) < 60_000);
        const [event] = await audit('failure_report');
        assert.equal(event.action, 'failure.report');
        assert.equal(event.entity_id, String(r.id));
        assert.equal(event.actor_name, 'tina.tech');
        assert.equal(event.before, null);
        assert.deepEqual(event.after, r);
        assert.deepEqual(await getFailure(db, technician, { id: r.id }), r);
      });

      it('takes severity, component, shot count and time from the reporter when given', async () => {
        const at = new Date(Date.now() - 3 * 3600_000);
        const r = await reportFailure(db, technician, {
          toolId: tool.id,
          failureCode: 'PL-VENT-BLOCKED',
          severity: 'minor',
          component: 'cavity_core_inserts',
          shotCount: 0,
          reportedAt: at.toISOString(),
          cavity: null,
        });
        assert.equal(r.severity, 'minor');
        assert.equal(r.component, 'cavity_core_inserts');
        assert.equal(r.shotCount, 0);
        assert.equal(r.reportedAt, at.toISOString());
        assert.equal(r.cavity, null);
      });

      it('leaves the status of a tool in store alone on a critical failure', async () => {
        const r = await reportFailure(db, technician, { toolId: tool.id, failureCode: 'CL-WATER-LEAK' });
        assert.equal(r.severity, 'critical');
        assert.equal((await db('tools').where('id', tool.id).first()).status, 'in_store');
      });

      const invalid: [string, Record<string, unknown>, string, string | RegExp][] = [
        ['no tool', { toolId: undefined }, 'toolId', /invalid_type/],
        ['a tool id that is not a number', { toolId: 'abc' }, 'toolId', /invalid_type/],
        ['no failure code', { failureCode: undefined }, 'failureCode', /invalid_type/],
        ['a failure code with spaces', { failureCode: 'EJ PIN' }, 'failureCode', /invalid_format/],
        ['an unknown severity', { severity: 'fatal' }, 'severity', /invalid_value/],
        ['an unknown component', { component: 'paint' }, 'component', /invalid_value/],
        ['cavity 0', { cavity: 0 }, 'cavity', /too_small/],
        ['a fractional cavity', { cavity: 1.5 }, 'cavity', /invalid_type/],
        ['a negative shot count', { shotCount: -1 }, 'shotCount', /too_small/],
        ['a shot count as text', { shotCount: 'many' }, 'shotCount', /invalid_type/],
        ['a description too long', { description: 'x'.repeat(4001) }, 'description', /too_big/],
        ['a time in the future', { reportedAt: new Date(Date.now() + 3600_000).toISOString() }, 'reportedAt', 'not_in_future'],
        ['a status on report', { status: 'closed' }, '', /unrecognized_keys/],
      ];
      for (const [label, patch, field, rule] of invalid) {
        it(`rejects a report with ${label}, writing nothing`, async () => {
          const before = await tableCounts(db);
          await rejects(reportFailure(db, technician, { toolId: tool.id, failureCode: 'EJ-PIN-BROKEN', ...patch }), 'validation', field, rule);
          assert.deepEqual(await tableCounts(db), before);
        });
      }

      it('rejects a cavity the tool does not have, an unknown or retired code, an unknown or retired tool, writing nothing', async () => {
        await updateCode(db, engineer, { code: 'GD-PIN-WEAR', active: false });
        const other = await createTool(db, technician, { assetNumber: 'M-2002', name: 'Old', cavityCount: 1 });
        await retireTool(db, engineer, { id: other.id, reason: 'scrapped' });
        const before = await tableCounts(db);
        const report = (patch: Record<string, unknown>) => reportFailure(db, technician, { toolId: tool.id, failureCode: 'EJ-PIN-BROKEN', ...patch });
        await rejects(report({ cavity: 9 }), 'validation', 'cavity', 'cavity_exists');
        await rejects(report({ failureCode: 'NO-SUCH' }), 'validation', 'failureCode', 'exists');
        await rejects(report({ failureCode: 'gd-pin-wear' }), 'validation', 'failureCode', 'active');
        await rejects(report({ toolId: 999 }), 'not_found', 'toolId');
        await rejects(report({ toolId: other.id }), 'conflict', 'toolId', 'not_retired');
        assert.deepEqual(await tableCounts(db), before);
        // The last cavity is fine, and so is a blocked one (it may be blocked because of this failure).
        await updateTool(db, technician, { id: tool.id, blockedCavities: [{ number: 8, reason: 'cracked insert' }] });
        assert.equal((await report({ cavity: 8 })).cavity, 8);
      });

      it('links an inspection of the same tool only', async () => {
        const [{ id: templateId }] = await db('inspection_templates')
          .insert({ code: 't', name: 'T', kind: 'post_run', items: JSON.stringify([{ key: 'a', label: 'A' }]) })
          .returning('id');
        const other = await createTool(db, technician, { assetNumber: 'M-2003', name: 'Other', cavityCount: 1 });
        const inspect = async (toolId: number) =>
          (
            await db('inspections')
              .insert({ tool_id: toolId, template_id: templateId, kind: 'post_run', outcome: 'fail', performed_at: new Date(), performed_by: '11', lifetime_shots: 0 })
              .returning('id')
          )[0].id as number;
        const mine = await inspect(tool.id);
        const theirs = await inspect(other.id);
        const before = await tableCounts(db);
        await rejects(reportFailure(db, technician, { toolId: tool.id, failureCode: 'EJ-PIN-BROKEN', inspectionId: theirs }), 'validation', 'inspectionId', 'inspection_of_tool');
        await rejects(reportFailure(db, technician, { toolId: tool.id, failureCode: 'EJ-PIN-BROKEN', inspectionId: 999 }), 'not_found', 'inspectionId');
        assert.deepEqual(await tableCounts(db), before);
        assert.equal((await reportFailure(db, technician, { toolId: tool.id, failureCode: 'EJ-PIN-BROKEN', inspectionId: mine })).inspectionId, mine);
      });

      it('triages open → investigating → resolved → closed with root cause, version and closing time, audited', async () => {
        const r = await reportFailure(db, technician, { toolId: tool.id, failureCode: 'SL-GALLING' });
        const investigating = await triageFailure(db, engineer, { id: r.id, version: 1, status: 'investigating', severity: 'critical' });
        assert.equal(investigating.status, 'investigating');
        assert.equal(investigating.severity, 'critical');
        assert.equal(investigating.version, 2);
        await rejects(triageFailure(db, engineer, { id: r.id, version: 1, rootCause: 'stale' }), 'conflict', 'version', 'current_version');
        await rejects(triageFailure(db, engineer, { id: r.id, status: 'resolved' }), 'validation', 'rootCause', 'required_to_resolve');
        const rootCause = '1. slide seized. 2. no grease. 3. PM skipped. 4. PM not due by shots. 5. interval set too long.';
        const resolved = await triageFailure(db, engineer, { id: r.id, status: 'resolved', rootCause });
        assert.equal(resolved.rootCause, rootCause);
        assert.equal(resolved.closedAt, null);
        const closed = await triageFailure(db, engineer, { id: r.id, status: 'closed' });
        assert.equal(closed.status, 'closed');
        assert.ok(closed.closedAt);
        assert.equal(closed.version, 4);
        const events = await audit('failure_report');
        assert.deepEqual(events.map((e) => e.action), ['failure.report', 'failure.triage', 'failure.triage', 'failure.triage']);
        assert.equal(events[1].before!.status, 'open');
        assert.equal(events[1].after!.status, 'investigating');
        assert.equal(events[3].after!.status, 'closed');
      });

      it('resolves a minor failure without a root cause, and reopens a resolved one', async () => {
        const r = await reportFailure(db, technician, { toolId: tool.id, failureCode: 'HR-DROOL' });
        assert.equal(r.severity, 'minor');
        const resolved = await triageFailure(db, engineer, { id: r.id, status: 'resolved' });
        assert.equal(resolved.status, 'resolved');
        const reopened = await triageFailure(db, engineer, { id: r.id, status: 'investigating', description: 'drools again after 2 000 shots' });
        assert.equal(reopened.status, 'investigating');
        assert.equal(reopened.description, 'drools again after 2 000 shots');
        // A resolved failure made major afresh needs its root cause before it resolves again.
        await rejects(triageFailure(db, engineer, { id: r.id, status: 'resolved', severity: 'major' }), 'validation', 'rootCause');
      });

      it('allows exactly the status changes in the transition table, naming status otherwise', async () => {
        const r = await reportFailure(db, technician, { toolId: tool.id, failureCode: 'HR-DROOL', severity: 'minor' });
        for (const from of FAILURE_STATUSES) {
          for (const to of FAILURE_STATUSES) {
            if (from === to) continue;
            await db('failure_reports').where('id', r.id).update({ status: from });
            const allowed = FAILURE_TRANSITIONS[from].includes(to);
            if (allowed) {
              assert.equal((await triageFailure(db, engineer, { id: r.id, status: to })).status, to, `${from} → ${to}`);
            } else {
              const before = await tableCounts(db);
              await rejects(triageFailure(db, engineer, { id: r.id, status: to }), 'conflict', 'status', from === 'closed' ? 'not_closed' : 'transition');
              assert.deepEqual(await tableCounts(db), before, `${from} → ${to} wrote nothing`);
            }
          }
        }
        // Spot checks, so the table itself is held to the domain.
        assert.ok(!FAILURE_TRANSITIONS.open.includes('closed'));
        assert.deepEqual(FAILURE_TRANSITIONS.closed, []);
      });

      it('closes a failure only when its actions are verified or cancelled', async () => {
        const r = await reportFailure(db, technician, { toolId: tool.id, failureCode: 'HR-DROOL' });
        await triageFailure(db, engineer, { id: r.id, status: 'resolved' });
        const [{ id: actionId }] = await db('actions')
          .insert({ kind: 'corrective', title: 'Replace tip', tool_id: tool.id, failure_report_id: r.id, status: 'done', created_by: '21' })
          .returning('id');
        await db('actions').insert({ kind: 'corrective', title: 'Dup', tool_id: tool.id, failure_report_id: r.id, status: 'cancelled', created_by: '21' });
        await rejects(triageFailure(db, engineer, { id: r.id, status: 'closed' }), 'conflict', 'status', 'actions_finished');
        await db('actions').where('id', actionId).update({ status: 'verified' });
        assert.equal((await triageFailure(db, engineer, { id: r.id, status: 'closed' })).status, 'closed');
      });

      it('lets only engineers and admins triage, and reports unknown ids', async () => {
        const r = await reportFailure(db, technician, { toolId: tool.id, failureCode: 'HR-DROOL' });
        const before = await tableCounts(db);
        await rejects(triageFailure(db, technician, { id: r.id, status: 'investigating' }), 'forbidden');
        assert.deepEqual(await tableCounts(db), before);
        assert.equal((await triageFailure(db, admin, { id: r.id, status: 'investigating' })).status, 'investigating');
        await rejects(triageFailure(db, engineer, { id: 999, status: 'investigating' }), 'not_found', 'id');
        await rejects(getFailure(db, technician, { id: 999 }), 'not_found', 'id');
        await rejects(triageFailure(db, engineer, { id: r.id, status: 'done' }), 'validation', 'status', /invalid_value/);
        await rejects(triageFailure(db, engineer, { id: r.id, rootCause: 'x'.repeat(8001) }), 'validation', 'rootCause', /too_big/);
      });

      it('lists newest first with tool and code, filtered by tool, status, severity, component and time, paged', async () => {
        const other = await createTool(db, technician, { assetNumber: 'M-2004', name: 'Other', cavityCount: 2 });
        const hour = 3600_000;
        const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * hour).toISOString();
        const a = await reportFailure(db, technician, { toolId: tool.id, failureCode: 'EJ-PIN-BENT', reportedAt: at(5) });
        const b = await reportFailure(db, technician, { toolId: other.id, failureCode: 'CL-WATER-LEAK', reportedAt: at(3) });
        const c = await reportFailure(db, technician, { toolId: tool.id, failureCode: 'HR-DROOL', reportedAt: at(1) });
        await triageFailure(db, engineer, { id: a.id, status: 'investigating' });

        const all = await listFailures(db, technician, {});
        assert.deepEqual(all.items.map((f) => f.id), [c.id, b.id, a.id]);
        assert.equal(all.total, 3);
        assert.equal(all.items[1].assetNumber, 'M-2004');
        assert.equal(all.items[1].failureTitle, 'Water leak at O-ring');
        const ids = async (filter: Record<string, unknown>) => (await listFailures(db, technician, filter)).items.map((f) => f.id);
        assert.deepEqual(await ids({ toolId: tool.id }), [c.id, a.id]);
        assert.deepEqual(await ids({ status: 'investigating' }), [a.id]);
        assert.deepEqual(await ids({ status: ['open'] }), [c.id, b.id]);
        assert.deepEqual(await ids({ severity: ['critical', 'minor'] }), [c.id, b.id]);
        assert.deepEqual(await ids({ component: 'ejector_system' }), [a.id]);
        assert.deepEqual(await ids({ from: at(4), to: at(2) }), [b.id]);
        const page = await listFailures(db, technician, { limit: 1, offset: 1 });
        assert.deepEqual(page.items.map((f) => f.id), [b.id]);
        assert.equal(page.total, 3);
        assert.equal((await listFailures(db, technician, { toolId: tool.id, limit: 1 })).total, 2);
        await rejects(listFailures(db, technician, { from: at(1), to: at(2) }), 'validation', 'to', 'after_from');
        await rejects(listFailures(db, technician, { severity: 'fatal' }), 'validation', 'severity');
        await rejects(listFailures(db, technician, { limit: 0 }), 'validation', 'limit');
      });
    });
  });
}
