import assert from 'node:assert/strict';
import { systemActor } from '../../core/auth/actor';
import { setPin } from '../../core/accounts/service';
import { createTemplate } from '../../core/inspections/templates';
import { mountTool } from '../../core/mounts/service';
import { createPress } from '../../core/presses/service';
import { createAction } from '../../core/actions/service';
import { createPlan, getPlan } from '../../core/pm/service';
import { recordReadings } from '../../core/shots/service';
import { createTool, getTool } from '../../core/tools/service';
import { tableCounts } from '../support/db';
import { dashboardReady, dashboardSuite, eventually, gotoDashboard, openPage, screenshot, smallTouchTargets } from '../support/browser';

const DAY = 86_400_000;
const PIN = '482916';

/**
 * The floor work of issue 14 in Debian's Chromium against the real start command and PostgreSQL:
 * a technician logged in with a PIN records a PM on a DUE tool with its plan's checklist (the plan
 * is NOT_DUE again); an engineer accepts a held reading on the Shot review page and the tool's
 * lifetime moves by it, and enters shots by hand with the reason; a technician is refused the shot
 * review by the server; mounting an OVERDUE tool is refused without a reason and audited with one.
 */
describe('dashboard: floor work (PM on the tablet, shot review, overdue mounts)', function () {
  this.timeout(300000);
  const ui = dashboardSuite('floor');
  const system = systemActor('e2e');
  let templateId: number;

  before(async () => {
    await setPin(ui.dash.db, system, { userId: Number(ui.users.technician.id), pin: PIN });
    const template = await createTemplate(ui.dash.db, system, {
      code: 'pm-e2e', name: 'Cap PM', kind: 'preventive',
      items: [{ key: 'vents', label: 'Vents cleaned' }, { key: 'ejectors', label: 'Ejector pins greased' }, { key: 'cooling', label: 'Cooling circuits flushed' }],
    });
    templateId = template.id;
    for (const [asset, name] of [['M-7001', 'Cap due'], ['M-7002', 'Cap overdue'], ['M-7003', 'Cap on press']]) {
      await createTool(ui.dash.db, system, { assetNumber: asset, name, cavityCount: 4 });
    }
    await ui.dash.db('tools').whereIn('asset_number', ['M-7001', 'M-7002']).update({ lifetime_shots: 5000 });
    await createPress(ui.dash.db, system, { code: 'P-71', name: 'Engel 120' });
    await createPress(ui.dash.db, system, { code: 'P-72', name: 'Arburg 370' });
  });

  const toolId = async (asset: string) => (await ui.dash.db('tools').where('asset_number', asset).first('id')).id as number;
  /** A plan of `asset` at `percent` of its 1 000-shot interval, with the e2e checklist. */
  const planAt = async (asset: string, percent: number) =>
    createPlan(ui.dash.db, system, {
      toolId: await toolId(asset), name: 'Vents and ejectors', intervalShots: 1000, templateId,
      lastPmAt: new Date(Date.now() - DAY), lastPmLifetimeShots: 5000 - percent * 10,
    });

  it('a technician logs in with a PIN and records the PM of a DUE plan with its checklist: the plan is NOT_DUE again', async () => {
    const plan = await planAt('M-7001', 100);
    assert.equal((await getPlan(ui.dash.db, system, { id: plan.id })).status.state, 'DUE');
    const context = await ui.browser.newContext({ viewport: { width: 800, height: 1280 }, baseURL: ui.dash.base });
    const page = await context.newPage();
    try {
      const target = '/dashboard/pm-plans';
      if (ui.dash.login) {
        await page.goto(`${ui.dash.base}/toolroom/login?next=${encodeURIComponent(target)}`);
        await page.fill('input[name=username]', ui.users.technician.username);
        await page.fill('input[name=pin]', PIN);
        await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/toolroom/login'), { timeout: 20000 }), page.click('button[type=submit]')]);
      } else await page.goto(`${ui.dash.base}${target}`);
      await dashboardReady(page, `[data-plan="${plan.id}"] [data-test=record-pm]`);
      await page.click(`[data-plan="${plan.id}"] [data-test=record-pm]`);
      await page.waitForURL(new RegExp(`/dashboard/record-pm\\?plan=${plan.id}$`), { timeout: 15000 });
      await page.waitForSelector('[data-test=checklist] [data-item="cooling"]', { timeout: 15000 });
      assert.match((await page.textContent('[data-test=plan]'))!, /M-7001 · Vents and ejectors/);
      assert.deepEqual(await page.$$eval('[data-item]', (els) => els.map((e) => e.getAttribute('data-item'))), ['vents', 'ejectors', 'cooling'], "the plan's checklist");

      // An unanswered item is refused on the page, naming it; nothing is written.
      const before = await tableCounts(ui.dash.db);
      await page.click('[data-item="vents"] [data-result="pass"]');
      await page.click('[data-test=submit]');
      await page.waitForSelector('[data-test=error]:has-text("2 items not answered yet")', { timeout: 15000 });
      assert.deepEqual(await tableCounts(ui.dash.db), before);

      await page.click('[data-test=all-pass]');
      await page.waitForSelector('[data-test=error]', { state: 'detached', timeout: 15000 });
      await page.fill('[name=notes]', 'vents cleaned, pins greased');
      await page.fill('[name=minutesSpent]', '75');
      await page.fill('[name=cost]', '38.40');
      await screenshot(page, 'floor-record-pm-tablet');
      assert.deepEqual(await smallTouchTargets(page), [], 'Record PM: every control at least 48 px');
      await page.click('[data-test=submit]');
      await page.waitForSelector('[data-test=saved]', { timeout: 15000 });
      await page.waitForSelector('[data-test=state]:has-text("OK")', { timeout: 15000 });

      const after = await getPlan(ui.dash.db, system, { id: plan.id });
      assert.deepEqual([after.status.state, after.status.shotsSince, after.lastPmLifetimeShots], ['NOT_DUE', 0, 5000]);
      const inspection = await ui.dash.db('inspections').where('pm_plan_id', plan.id).first();
      const technicianId = ui.dash.login ? ui.users.technician.id : 'system';
      assert.deepEqual(
        [inspection.kind, inspection.outcome, inspection.minutes_spent, Number(inspection.cost), inspection.findings, inspection.performed_by],
        ['preventive', 'pass', 75, 38.4, 'vents cleaned, pins greased', technicianId],
      );
      const event = await ui.dash.db('pm_events').where('pm_plan_id', plan.id).first();
      assert.deepEqual([event.inspection_id, event.performed_by], [inspection.id, technicianId]);
    } finally {
      await context.close();
    }
  });

  it('an engineer accepts a held reading on the Shot review page: the lifetime moves by it; and enters shots by hand with the reason', async () => {
    const id = await toolId('M-7003');
    await mountTool(ui.dash.db, system, { toolId: id, pressCode: 'P-72', at: new Date(Date.now() - DAY).toISOString() });
    const at = (s: number) => new Date(Date.now() - 60_000 + s * 1000).toISOString();
    const r = await recordReadings(ui.dash.db, system, [{ press: 'P-72', counter: 100, at: at(0) }, { press: 'P-72', counter: 40_100, at: at(1) }]);
    assert.equal(r.readings[1].outcome, 'held');
    const held = await ui.dash.db('shot_readings').where('outcome', 'held').first('id');
    const lifetime = async () => (await getTool(ui.dash.db, system, { id })).lifetimeShots;
    assert.equal(await lifetime(), 0);

    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.engineer, path: '/dashboard/shot-review?asset=M-7003', ready: `[data-reading="${held.id}"]` });
    try {
      assert.match((await page.textContent(`[data-reading="${held.id}"]`))!, /P-72 · M-7003[\s\S]*\+40,000 shots/);
      await screenshot(page, 'floor-shot-review-tablet');
      assert.deepEqual(await smallTouchTargets(page), [], 'Shot review: every control at least 48 px');
      await page.click(`[data-reading="${held.id}"] [data-test=accept]`);
      await page.fill('[name=note]', 'ran over the weekend without the counter link');
      await page.click(`[data-reading="${held.id}"] [data-test=confirm-review]`);
      await page.waitForSelector('[data-test=notice]:has-text("accepted: 40,000 shots for M-7003")', { timeout: 15000 });
      assert.equal(await lifetime(), 40_000, 'the lifetime moved by the held jump');
      const reviewed = await ui.dash.db('shot_readings').where('id', held.id).first();
      assert.deepEqual([reviewed.outcome, reviewed.reviewed_by, reviewed.review_note], ['accepted', ui.dash.login ? ui.users.engineer.id : 'system', 'ran over the weekend without the counter link']);

      // A manual entry: refused without the reason (the field named, nothing written), then counted with it.
      await page.waitForSelector('[data-test=manual] [data-test=tool]', { timeout: 15000 });
      await page.fill('[name=shots]', '1200');
      const before = await tableCounts(ui.dash.db);
      await page.click('[data-test=add-shots]');
      await page.waitForSelector('[data-test=manual] [data-test=error]:has-text("reason")', { timeout: 15000 });
      assert.deepEqual(await tableCounts(ui.dash.db), before, 'nothing written without the reason');
      await page.fill('[name=manualReason]', 'counter card swapped on Tuesday');
      await page.click('[data-test=add-shots]');
      await page.waitForSelector('[data-test=notice]:has-text("1,200 shots added to M-7003")', { timeout: 15000 });
      assert.equal(await lifetime(), 41_200);
      const audit = await ui.dash.db('audit_events').where('action', 'shots.manual').orderBy('id', 'desc').first();
      assert.equal(audit.after.reason, 'counter card swapped on Tuesday');
    } finally {
      await context.close();
    }
  });

  it('a technician is refused the shot review by the server, even when forging an accept over the socket', async function () {
    if (!ui.dash.login) this.skip();
    const at = (s: number) => new Date(Date.now() - 30_000 + s * 1000).toISOString();
    await recordReadings(ui.dash.db, system, [{ press: 'P-72', counter: 90_100, at: at(0) }]);
    const held = await ui.dash.db('shot_readings').where('outcome', 'held').orderBy('id', 'desc').first();
    assert.ok(held, 'a held reading to forge an accept for');
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/shot-review', ready: '[data-test=list-error]' });
    try {
      assert.match((await page.textContent('[data-test=list-error]'))!, /role technician may not shot\.review/, 'the list itself is refused');
      assert.equal(await page.$$eval('[data-test=accept]', (els) => els.length), 0, 'no review buttons offered');
      // The technician's own logged-in socket; the page's next list request is rewritten into an accept.
      let forged = 0;
      let answer = '';
      await context.routeWebSocket(/socket\.io/, (ws) => {
        const server = ws.connectToServer();
        ws.onMessage((m) => {
          const text = String(m);
          if (!forged && text.startsWith('42[') && text.includes('"widget-send"') && text.includes('"topic":"held"')) {
            const frame = JSON.parse(text.slice(2));
            frame[2] = { ...frame[2], topic: 'accept', ask: 'forged', payload: { id: Number(held.id), note: 'forged' } };
            forged++;
            server.send('42' + JSON.stringify(frame));
          } else server.send(m);
        });
        server.onMessage((m) => {
          const text = String(m);
          if (text.includes('"ask":"forged"')) answer = text;
          ws.send(m);
        });
      });
      await gotoDashboard(page, ui.dash.base, '/dashboard/shot-review', '[data-test=refresh]');
      await eventually(ui.dash, 'the forged accept answered', async () => forged === 1 && answer);
      assert.match(answer, /"topic":"error"/);
      assert.match(answer, /may not shot\.review/);
      const after = await ui.dash.db('shot_readings').where('id', held.id).first();
      assert.deepEqual([after.outcome, after.reviewed_by], ['held', null], 'nothing changed');
    } finally {
      await context.close();
    }
  });

  it('a technician completes an action with the minutes and cost it took; the card shows them', async () => {
    const action = await createAction(ui.dash.db, system, { title: 'Replace O-ring on M-7001', toolId: await toolId('M-7001'), assigneeId: Number(ui.users.technician.id) });
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/actions', ready: `[data-action="${action.id}"]` });
    try {
      const card = `[data-action="${action.id}"]`;
      await page.click(`${card} [data-test=start]`);
      await page.waitForSelector(`${card}[data-status=in_progress]`, { timeout: 15000 });
      await page.click(`${card} [data-test=complete]`);
      await page.fill(`${card} [name=resolution]`, 'O-ring replaced, leak test passed');
      await page.fill(`${card} [name=minutesSpent]`, '40');
      await page.fill(`${card} [name=cost]`, '12.50');
      assert.deepEqual(await smallTouchTargets(page), [], 'actions: every control at least 48 px');
      await page.click(`${card} [data-test=confirm-complete]`);
      await page.waitForSelector(`${card}[data-status=done]`, { timeout: 15000 });
      assert.match((await page.textContent(card))!, /40 min · cost 12\.5/);
      const done = await ui.dash.db('actions').where('id', action.id).first();
      assert.deepEqual([done.status, done.minutes_spent, Number(done.cost)], ['done', 40, 12.5]);
    } finally {
      await context.close();
    }
  });

  it('mounting an OVERDUE tool is refused without a reason; with one it is mounted and the audit event carries it', async () => {
    const plan = await planAt('M-7002', 130);
    assert.equal((await getPlan(ui.dash.db, system, { id: plan.id })).status.state, 'OVERDUE');
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/tool?asset=M-7002', ready: '[data-test=mount]' });
    try {
      assert.ok(await page.$('[data-plan="Vents and ejectors"] [data-test=record-pm]'), 'the overdue plan offers Record PM');
      await page.click('[data-test=mount]');
      await page.click('[data-press="P-71"]', { timeout: 15000 });
      const warning = await page.waitForSelector('[data-test=overdue-warning]', { timeout: 15000 });
      assert.match((await warning.textContent())!, /PM overdue: Vents and ejectors/);
      if (ui.dash.login) assert.match((await warning.textContent())!, /Tell an engineer/, 'a technician is warned');
      const before = await tableCounts(ui.dash.db);
      await page.click('[data-test=confirm]');
      await page.waitForSelector('[data-test=dialog] .v-messages:has-text("OVERDUE for PM")', { timeout: 15000 });
      assert.deepEqual(await tableCounts(ui.dash.db), before, 'refused: nothing written');
      await screenshot(page, 'floor-mount-overdue-tablet');
      await page.fill('[name=overrideReason]', 'customer line down, PM booked for Friday');
      await page.click('[data-test=confirm]');
      await page.waitForSelector('[data-test=notice]:has-text("Mounted on P-71")', { timeout: 15000 });
      const mount = await ui.dash.db('tool_mounts').where({ tool_id: await toolId('M-7002') }).whereNull('unmounted_at').first();
      assert.ok(mount, 'mounted');
      const audit = await ui.dash.db('audit_events').where({ action: 'mount.mount', entity_id: String(mount.id) }).first();
      assert.deepEqual([audit.after.overrideReason, audit.after.overduePlans.map((p: { name: string }) => p.name), audit.actor_id],
        ['customer line down, PM booked for Friday', ['Vents and ejectors'], ui.dash.login ? ui.users.technician.id : 'system']);
    } finally {
      await context.close();
    }
  });
});
