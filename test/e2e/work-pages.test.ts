import assert from 'node:assert/strict';
import fs from 'node:fs';
import { systemActor } from '../../core/auth/actor';
import { createAction } from '../../core/actions/service';
import { createTool } from '../../core/tools/service';
import { createPlan } from '../../core/pm/service';
import { tableCounts } from '../support/db';
import { dashboardSuite, eventually, gotoDashboard, openPage, screenshot, smallTouchTargets, type Page } from '../support/browser';

/**
 * The shop-floor work pages (issue 6) in Debian's Chromium against the real start command and
 * PostgreSQL, each user logged in through the login page: a post-run inspection with a failed item
 * and the action it created, an all-pass inspection in at most 5 taps after picking the tool, a
 * failure report (shot count filled in), starting and completing an action, what a technician is
 * not offered (verify, triage, catalog, audit) and the engineer and admin pages.
 */
describe('dashboard: work pages', function () {
  this.timeout(300000);
  const system = systemActor('e2e');

  const ui = dashboardSuite('work');

  before(async () => {
    for (let i = 1; i <= 4; i++) {
      await createTool(ui.dash.db, system, { assetNumber: `M-${5000 + i}`, name: `Bottle cap ${i}`, customer: 'Vela Packaging', cavityCount: 8, partNumbers: [] });
    }
    // A counter that has run: the failure report fills in the shot count from it.
    await ui.dash.db('tools').where('asset_number', 'M-5002').update({ lifetime_shots: 123456 });
  });

  /** Who the audit trail should name: the logged-in user (or `system` in a setup without login). */
  const actorId = (u: { id: string }) => (ui.dash.login ? u.id : 'system');

  async function tool(asset: string) {
    return ui.dash.db('tools').where('asset_number', asset).first();
  }

  async function answer(page: Page, item: string, result: 'pass' | 'fail' | 'na') {
    await page.click(`[data-item="${item}"] [data-result="${result}"]`);
  }

  it('records a post-run inspection with a failed item; the action it created is on the actions page', async () => {
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/inspect?asset=M-5001', ready: '[data-test=checklist]' });
    try {
      assert.match((await page.textContent('[data-test=tool]'))!, /M-5001 · Bottle cap 1/, 'the tool from the URL (QR label) is chosen');
      const items = await page.$$eval('[data-item]', (els) => els.map((e) => e.getAttribute('data-item')!));
      assert.ok(items.length >= 5, 'the post-run checklist from the template');
      const failed = items[4];
      await page.click('[data-test=all-pass]');
      await answer(page, failed, 'fail');
      await page.fill(`[name="note-${failed}"]`, 'pin 3 bent');
      await page.fill(`[name="cavity-${failed}"]`, '3');
      await page.fill('[name=findings]', 'ran 3 shifts');
      await page.fill('[name=minutesSpent]', '12');
      await page.click('[data-test=add-part]');
      await page.fill('[name=part0number]', 'EJ-6x200');
      await page.fill('[name=part0quantity]', '2');
      await screenshot(page, 'work-inspection-failed-item-tablet');
      assert.deepEqual(await smallTouchTargets(page), [], 'every control at least 48 px');
      await page.click('[data-test=submit]');
      const saved = await page.waitForSelector('[data-test=saved]', { timeout: 15000 });
      assert.match((await saved.textContent())!, /Inspection #\d+ saved: failed\.\s*1 action created/);
      await screenshot(page, 'work-inspection-saved-tablet');

      const row = await ui.dash.db('inspections').orderBy('id', 'desc').first();
      assert.deepEqual([row.outcome, row.minutes_spent, row.findings, row.performed_by], ['fail', 12, 'ran 3 shifts', actorId(ui.users.technician)]);
      assert.deepEqual(row.spare_parts, [{ partNumber: 'EJ-6x200', description: null, quantity: 2 }]);
      const results = await ui.dash.db('inspection_results').where('inspection_id', row.id);
      assert.equal(results.length, items.length, 'every item answered');
      assert.equal(results.filter((r) => r.result === 'fail').length, 1);
      const action = await ui.dash.db('actions').where('inspection_id', row.id).first();
      assert.ok(action, 'the failed item created an action');
      assert.match(action.description, /Cavity 3: pin 3 bent/);

      // ... and the technician finds it on the actions page, reached from the confirmation.
      await page.click('[data-test=open-actions]');
      await page.waitForURL(new RegExp(`/dashboard/actions\\?inspection=${row.id}$`));
      const card = await page.waitForSelector(`[data-action="${action.id}"]`, { timeout: 15000 });
      assert.match((await card.textContent())!, /Failed post-run check/);
      assert.match((await page.textContent('[data-test=inspection-filter]'))!, new RegExp(`Inspection #${row.id}`));
      // It waits in the pool (unassigned) for whoever takes it.
      await gotoDashboard(page, ui.dash.base, '/dashboard/actions?scope=pool', `[data-action="${action.id}"]`);
      await screenshot(page, 'work-actions-of-inspection-tablet');
    } finally {
      await context.close();
    }
  });

  it('an all-pass inspection takes 2 taps after picking the tool (All pass, Save)', async () => {
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/inspect', ready: '[data-test=tool-search]' });
    try {
      // Pick the tool by search.
      await page.fill('[data-test=tool-search] input', '5003');
      await page.click('[data-test=tool-hits] [data-asset="M-5003"]', { timeout: 15000 });
      await page.waitForSelector('[data-test=checklist]');
      assert.match(page.url(), /asset=M-5003/, 'the URL names the tool (reload or share keeps it)');
      let taps = 0;
      const tap = async (sel: string) => {
        taps++;
        await page.click(sel);
      };
      await tap('[data-test=all-pass]');
      const t0 = Date.now();
      await tap('[data-test=submit]');
      const saved = await page.waitForSelector('[data-test=saved]', { timeout: 15000 });
      const saveMs = Date.now() - t0;
      assert.match((await saved.textContent())!, /saved: all passed/);
      assert.ok(taps <= 5, `${taps} taps`);
      const t = await tool('M-5003');
      const row = await ui.dash.db('inspections').where('tool_id', t.id).first();
      assert.equal(row.outcome, 'pass');
      assert.equal((await ui.dash.db('actions').where('inspection_id', row.id)).length, 0, 'no action for a pass');

      // Figures: opening the page from a QR URL until the checklist shows, and the save round trip.
      const loads: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = Date.now();
        await gotoDashboard(page, ui.dash.base, '/dashboard/inspect?asset=M-5003', '[data-test=checklist] [data-item]');
        loads.push(Date.now() - t);
      }
      loads.sort((x, y) => x - y);
      console.log(`      inspection page from a QR URL to checklist: median ${loads[2]} ms (min ${loads[0]}, max ${loads[4]}); save to confirmation ${saveMs} ms`);
    } finally {
      await context.close();
    }
  });

  it('an unanswered checklist is refused on the page, naming the items, and nothing is written', async () => {
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/inspect?asset=M-5004', ready: '[data-test=checklist]' });
    try {
      const before = await tableCounts(ui.dash.db);
      const first = await page.getAttribute('[data-item]', 'data-item');
      await answer(page, first!, 'pass');
      await page.fill('[name=findings]', 'kept text');
      await page.click('[data-test=submit]');
      assert.match((await (await page.waitForSelector('[data-test=error]')).textContent())!, /items? not answered yet/);
      assert.equal(await page.inputValue('[name=findings]'), 'kept text', 'what was typed stays');
      assert.equal(await page.getAttribute(`[data-item="${first}"] [data-result=pass]`, 'aria-checked'), 'true', 'answers stay');
      assert.deepEqual(await tableCounts(ui.dash.db), before, 'nothing written');
    } finally {
      await context.close();
    }
  });

  it('reports a failure: code from the catalog grouped by component, shot count filled in from the counter', async () => {
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/report-failure', ready: '[data-test=tool-search]' });
    try {
      await page.fill('[data-test=tool-search] input', 'M-5002');
      await page.click('[data-test=tool-hits] [data-asset="M-5002"]', { timeout: 15000 });
      await page.waitForSelector('[data-test=code] optgroup', { state: 'attached' });
      assert.equal(await page.inputValue('[name=shotCount]'), '123456', 'shot count from the tool');
      const groups = await page.$$eval('[data-test=code] optgroup', (els) => els.map((e) => e.getAttribute('label')));
      assert.ok(groups.includes('Ejector system') && groups.includes('Hot runner'), groups.join(', '));

      // Without a code: refused, naming the field, the description kept, nothing written.
      const before = await tableCounts(ui.dash.db);
      await page.fill('textarea[name=description]', 'pin snapped at ejection');
      await page.click('[data-test=submit]');
      const err = await page.waitForSelector('[data-test=error]', { timeout: 15000 });
      assert.match((await err.textContent())!, /failureCode/);
      assert.equal(await page.inputValue('textarea[name=description]'), 'pin snapped at ejection');
      assert.deepEqual(await tableCounts(ui.dash.db), before, 'nothing written');

      await page.selectOption('[data-test=code]', 'EJ-PIN-BROKEN');
      assert.equal(await page.getAttribute('[data-severity=critical]', 'aria-checked'), 'true', "the code's default severity is chosen");
      await page.click('[data-severity=major]');
      await page.selectOption('[data-test=cavity]', '5');
      await screenshot(page, 'work-failure-report-tablet');
      assert.deepEqual(await smallTouchTargets(page), []);
      await page.click('[data-test=submit]');
      const saved = await page.waitForSelector('[data-test=saved]', { timeout: 15000 });
      assert.match((await saved.textContent())!, /Failure #\d+ reported: EJ-PIN-BROKEN .*\(major\) on M-5002 at 123,456 shots/);
      assert.equal(await page.$('[data-test=open-triage]'), null, 'a technician is not offered triage');
      const row = await ui.dash.db('failure_reports').orderBy('id', 'desc').first();
      assert.deepEqual(
        [row.severity, row.cavity, Number(row.shot_count), row.description, row.reported_by, row.status],
        ['major', 5, 123456, 'pin snapped at ejection', actorId(ui.users.technician), 'open'],
      );
    } finally {
      await context.close();
    }
  });

  it('starts and completes an action; the technician is offered neither verify nor triage', async () => {
    const t = await tool('M-5004');
    const action = await createAction(ui.dash.db, system, { title: 'Clean vents on M-5004', toolId: t.id, assigneeId: Number(ui.users.technician.id) });
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/actions', ready: `[data-action="${action.id}"]` });
    try {
      // "Mine" is the default: the action assigned to Tina is there.
      const card = `[data-action="${action.id}"]`;
      await page.click(`${card} [data-test=start]`);
      await page.waitForSelector(`${card}[data-status=in_progress]`, { timeout: 15000 });
      assert.equal((await ui.dash.db('actions').where('id', action.id).first()).status, 'in_progress');

      await page.click(`${card} [data-test=complete]`);
      // Completing needs what was done: refused without it, the field named, nothing changed.
      await page.click(`${card} [data-test=confirm-complete]`);
      await page.waitForSelector('[data-test=error]', { timeout: 15000 });
      assert.match((await page.textContent(card))!, /What was done\s*must not be empty/, 'the message under the field');
      assert.equal((await ui.dash.db('actions').where('id', action.id).first()).status, 'in_progress');
      await page.fill(`${card} [name=resolution]`, 'vents cleaned, tested 20 shots');
      await page.click(`${card} [data-test=confirm-complete]`);
      await page.waitForSelector(`${card}[data-status=done]`, { timeout: 15000 });
      await screenshot(page, 'work-action-done-tablet');
      assert.deepEqual(await smallTouchTargets(page), [], 'actions: every control at least 48 px');
      const done = await ui.dash.db('actions').where('id', action.id).first();
      assert.deepEqual([done.status, done.resolution], ['done', 'vents cleaned, tested 20 shots']);
      const audit = await ui.dash.db('audit_events').where({ entity: 'action', entity_id: String(action.id) }).orderBy('seq');
      assert.ok(audit.some((e) => e.action === 'action.complete' && e.actor_id === actorId(ui.users.technician)), 'the audit names who completed it');

      // A done action: a technician may not verify it, so no button.
      await page.click('[data-test=status]');
      await page.click('.v-overlay-container .v-list-item:has-text("Done, to verify")');
      await page.waitForSelector(`${card}[data-status=done]`, { timeout: 15000 });
      if (ui.dash.login) assert.equal(await page.$(`${card} [data-test=verify]`), null, 'no Verify for a technician');

      // Triage: the technician sees the failures but no triage form.
      await gotoDashboard(page, ui.dash.base, '/dashboard/triage', '[data-failure]');
      await page.click('[data-failure]');
      await page.waitForSelector('[data-test=detail]');
      if (ui.dash.login) {
        assert.ok(await page.$('[data-test=not-allowed]'), 'told triage is for engineers');
        assert.equal(await page.$('[data-test=save-triage]'), null, 'no triage form');
        assert.equal(await page.$('[data-test=create-action]'), null, 'no action assignment');
      }
      await screenshot(page, 'work-triage-technician-tablet');
    } finally {
      await context.close();
    }

    // The engineer verifies it.
    const eng = await openPage(ui.browser, ui.dash, { user: ui.users.engineer, path: '/dashboard/actions?scope=all', ready: '[data-test=status]' });
    try {
      await eng.page.click('[data-test=status]');
      await eng.page.click('.v-overlay-container .v-list-item:has-text("Done, to verify")');
      await eng.page.click(`[data-action="${action.id}"] [data-test=verify]`, { timeout: 15000 });
      await eng.page.waitForSelector(`[data-action="${action.id}"][data-status=verified]`, { timeout: 15000 });
      assert.equal((await ui.dash.db('actions').where('id', action.id).first()).status, 'verified');
    } finally {
      await eng.context.close();
    }
  });

  it('a technician who forges a triage message over the socket is refused by core', async function () {
    if (!ui.dash.login) this.skip();
    const failure = await ui.dash.db('failure_reports').orderBy('id', 'desc').first();
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/triage', ready: '[data-failure]' });
    try {
      // The technician's own logged-in socket; the next failure list it asks for is rewritten into a triage.
      let forged = 0;
      // Armed once the page has its list: the page's own first request on load goes through untouched.
      let armed = false;
      await context.routeWebSocket(/socket\.io/, (ws) => {
        const server = ws.connectToServer();
        ws.onMessage((m) => {
          const text = String(m);
          if (armed && !forged && text.startsWith('42[') && text.includes('"widget-send"') && text.includes('"topic":"list"') && text.includes('"target":"failure"')) {
            const frame = JSON.parse(text.slice(2));
            frame[2] = { ...frame[2], topic: 'triage', ask: 'triage', payload: { id: failure.id, version: failure.version, status: 'investigating', rootCause: 'forged' } };
            forged++;
            server.send('42' + JSON.stringify(frame));
          } else server.send(m);
        });
        server.onMessage((m) => ws.send(m));
      });
      await gotoDashboard(page, ui.dash.base, '/dashboard/triage', '[data-failure]');
      armed = true;
      await page.click('[data-test=severity-filter]');
      await page.click('.v-overlay-container .v-list-item:has-text("Major")');
      const err = await page.waitForSelector('[data-test=error]', { timeout: 15000 });
      assert.equal(forged, 1, 'the forged message went out');
      assert.match((await err.textContent())!, /may not failure\.triage/);
      const after = await ui.dash.db('failure_reports').where('id', failure.id).first();
      assert.deepEqual([after.status, after.root_cause, after.version], [failure.status, failure.root_cause, failure.version], 'nothing changed');
    } finally {
      await context.close();
    }
  });

  it('an engineer triages a failure (root cause, status) and assigns an action to a technician', async () => {
    const failure = await ui.dash.db('failure_reports').orderBy('id', 'desc').first();
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.engineer, path: `/dashboard/triage?id=${failure.id}`, ready: '[data-test=save-triage]' });
    try {
      await page.fill('[name=rootCause]', 'Ejector plate not parallel: pins loaded sideways');
      await page.click('[data-test=triage-status]');
      await page.click('.v-overlay-container .v-list-item:has-text("Investigating")');
      await page.click('[data-test=save-triage]');
      await page.waitForSelector('[data-test=notice]:has-text("Investigating")', { timeout: 15000 });
      const triaged = await ui.dash.db('failure_reports').where('id', failure.id).first();
      assert.deepEqual([triaged.status, triaged.root_cause], ['investigating', 'Ejector plate not parallel: pins loaded sideways']);

      await page.fill('[name=actionTitle]', 'Re-align ejector plate');
      await page.click('[data-test=action-assignee]');
      await page.click('.v-overlay-container .v-list-item:has-text("Tina Technician")');
      await page.click('[data-test=create-action]');
      await page.waitForSelector('[data-test=notice]:has-text("created")', { timeout: 15000 });
      await page.waitForSelector('[data-test=failure-actions] [data-action]');
      await screenshot(page, 'work-triage-engineer-tablet');
      assert.deepEqual(await smallTouchTargets(page), [], 'triage: every control at least 48 px');
      const action = await ui.dash.db('actions').where('failure_report_id', failure.id).orderBy('id', 'desc').first();
      assert.deepEqual([action.title, action.assignee_id], ['Re-align ejector plate', Number(ui.users.technician.id)]);
    } finally {
      await context.close();
    }
  });

  it('an engineer edits a PM plan and the failure catalog', async () => {
    const plan = await createPlan(ui.dash.db, system, { assetNumber: 'M-5001', name: 'Monthly PM', intervalDays: 30 });
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.engineer, path: '/dashboard/pm-plans', ready: `[data-plan="${plan.id}"]` });
    try {
      await page.click(`[data-plan="${plan.id}"] [data-test=edit-plan]`);
      await page.fill('[name=intervalShots]', '50000');
      await page.fill('[name=warningPercent]', '0');
      await page.click('[data-test=save-plan]');
      await page.waitForSelector('[data-test=error]', { timeout: 15000 });
      assert.match((await page.textContent('[data-test=plan-form]'))!, /at least 1|greater|too small/i, 'the field named on the form');
      assert.equal(await page.inputValue('[name=intervalShots]'), '50000', 'input kept');
      await page.fill('[name=warningPercent]', '85');
      await page.click('[data-test=save-plan]');
      await page.waitForSelector('[data-test=notice]', { timeout: 15000 });
      const row = await ui.dash.db('pm_plans').where('id', plan.id).first();
      assert.deepEqual([Number(row.interval_shots), row.interval_days, row.warning_percent], [50000, 30, 85]);
      await screenshot(page, 'work-pm-plans-tablet');
      assert.deepEqual(await smallTouchTargets(page), [], 'PM plans: every control at least 48 px');

      await gotoDashboard(page, ui.dash.base, '/dashboard/catalog', '[data-test=new-code]');
      await page.click('[data-test=new-code]');
      await page.fill('[name=code]', 'ej-pin-coating');
      await page.fill('[name=title]', 'Ejector pin coating worn');
      await page.click('[data-test=component]');
      await page.click('.v-overlay-container .v-list-item:has-text("Ejector system")');
      await page.click('[data-test=save-code]');
      await page.waitForSelector('[data-code="EJ-PIN-COATING"]', { timeout: 15000 });
      const code = await ui.dash.db('failure_codes').where('code', 'EJ-PIN-COATING').first();
      assert.deepEqual([code.title, code.component, code.default_severity, code.active], ['Ejector pin coating worn', 'ejector_system', 'major', true]);
      await page.click('[data-code="EJ-PIN-COATING"]');
      await page.click('[data-test=active] input');
      await page.click('[data-test=save-code]');
      await page.waitForSelector('[data-test=notice]:has-text("out of use")', { timeout: 15000 });
      assert.equal((await ui.dash.db('failure_codes').where('code', 'EJ-PIN-COATING').first()).active, false);
      await screenshot(page, 'work-catalog-tablet');
      assert.deepEqual(await smallTouchTargets(page), [], 'catalog: every control at least 48 px');
    } finally {
      await context.close();
    }
  });

  it('the audit log: an admin browses and downloads it as CSV and JSON; others are told it is for admins', async () => {
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.admin, path: '/dashboard/audit', ready: '[data-seq]' });
    try {
      await page.click('[data-test=entity]');
      await page.getByRole('option', { name: 'tool', exact: true }).click();
      await page.click('[data-test=search]');
      await eventually(ui.dash, 'only tool events', async () => {
        const rows = await page.$$eval('[data-seq] td:nth-child(5)', (els) => els.map((e) => e.textContent!.trim()));
        return rows.length > 0 && rows.every((r) => r.startsWith('tool ')) && rows;
      });
      await page.click('[data-seq]');
      assert.match((await page.textContent('.tr-diff'))!, /"assetNumber": "M-50\d\d"/, 'before/after shown');
      await screenshot(page, 'work-audit-tablet');
      assert.deepEqual(await smallTouchTargets(page), [], 'audit: every control at least 48 px');

      const [csv] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=export-csv]')]);
      assert.match(csv.suggestedFilename(), /^toolroom-audit-.*\.csv$/);
      const text = fs.readFileSync((await csv.path())!, 'utf8');
      const lines = text.trim().split('\r\n');
      assert.equal(lines[0], 'seq,id,at,actorId,actorName,actorRole,via,action,entity,entityId,before,after');
      const tools = await ui.dash.db('audit_events').where('entity', 'tool').count<{ count: string }[]>({ count: '*' });
      assert.equal(lines.length - 1, Number(tools[0].count), 'one line per tool event');
      assert.ok(lines.slice(1).every((l) => /,tool\.[a-z_]+,tool,/.test(l)));

      const [json] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=export-json]')]);
      const events = JSON.parse(fs.readFileSync((await json.path())!, 'utf8'));
      assert.equal(events.length, lines.length - 1);
      assert.equal(events[0].entity, 'tool');
    } finally {
      await context.close();
    }
    if (!ui.dash.login) return;
    const tech = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/audit', ready: '[data-test=not-allowed]' });
    try {
      assert.equal(await tech.page.$('[data-test=export-csv]'), null, 'no export for a technician');
    } finally {
      await tech.context.close();
    }
  });

  it("each browser sees only its own answers: one technician's saved inspection does not show on another's page", async () => {
    const a = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/inspect?asset=M-5004', ready: '[data-test=checklist]' });
    const b = await openPage(ui.browser, ui.dash, { user: ui.users.engineer, path: '/dashboard/inspect?asset=M-5004', ready: '[data-test=checklist]' });
    try {
      await a.page.click('[data-test=all-pass]');
      await a.page.click('[data-test=submit]');
      await a.page.waitForSelector('[data-test=saved]', { timeout: 15000 });
      // Give a stray broadcast time to arrive, then look at the other ui.browser.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(await b.page.$('[data-test=saved]'), null, 'no confirmation in the other browser');
      assert.equal(await b.page.getAttribute('[data-item] [data-result=pass]', 'aria-checked'), 'false', "the other browser's checklist untouched");
    } finally {
      await a.context.close();
      await b.context.close();
    }
  });

  it('the work pages at 1280x800, on a phone and in the dark theme', async () => {
    for (const [viewport, colorScheme] of [['desktop', 'light'], ['phone', 'light'], ['tablet', 'dark']] as const) {
      const { context, page } = await openPage(ui.browser, ui.dash, {
        user: ui.users.technician,
        path: '/dashboard/inspect?asset=M-5004',
        ready: '[data-test=checklist]',
        viewport,
        colorScheme,
      });
      try {
        await page.click('[data-test=all-pass]');
        await screenshot(page, `work-inspection-${viewport}-${colorScheme}`);
        assert.deepEqual(await smallTouchTargets(page), [], `${viewport}: every control at least 48 px`);
        const overflow = await page.evaluate(() => {
          const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
          return d.scrollWidth - d.clientWidth;
        });
        assert.ok(overflow <= 1, `${viewport}: no sideways scrolling (${overflow}px)`);
        await gotoDashboard(page, ui.dash.base, '/dashboard/actions?scope=all', '[data-action]');
        await screenshot(page, `work-actions-${viewport}-${colorScheme}`);
      } finally {
        await context.close();
      }
    }
  });
});
