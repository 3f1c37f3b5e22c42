import assert from 'node:assert/strict';
import { systemActor } from '../../core/auth/actor';
import { createAction } from '../../core/actions/service';
import { mountTool } from '../../core/mounts/service';
import { createPlan } from '../../core/pm/service';
import { createPress } from '../../core/presses/service';
import { createTool, updateTool } from '../../core/tools/service';
import { tableCounts } from '../support/db';
import { dashboardSuite, eventually, gotoDashboard, openPage, screenshot, smallTouchTargets, type Page } from '../support/browser';

/**
 * The tool pages (issue 6) in Debian's Chromium against the real start command and PostgreSQL:
 * register a tool, a rejected form that keeps its input and writes nothing, the tool list's
 * search opening a tool's page, a tool's page by URL (QR label), mount and unmount, what each
 * role is offered, and each browser seeing only its own answers.
 */
describe('dashboard: tool pages', function () {
  this.timeout(300000);

  const ui = dashboardSuite('tools');

  before(async () => {
    const system = systemActor('e2e');
    for (let i = 1; i <= 30; i++) {
      await createTool(ui.dash.db, system, {
        assetNumber: `M-${3000 + i}`,
        name: `${['Door handle', 'Luer cap', 'Fan blade'][i % 3]} ${i % 2 ? 4 : 8}-cav`,
        customer: i % 2 ? 'Acme Automotive' : 'Beta Medical',
        cavityCount: i % 2 ? 4 : 8,
        partNumbers: [`PN-${i}`],
        blockedCavities: i === 7 ? [{ number: 2, reason: 'cracked insert' }] : [],
      });
    }
    await createPress(ui.dash.db, system, { code: 'P01', name: 'Engel victory 120' });
    await createPress(ui.dash.db, system, { code: 'P02', name: 'Arburg 470' });
    await mountTool(ui.dash.db, system, { assetNumber: 'M-3006', pressCode: 'P01' });
    // M-3005's 30-day PM is 40 days old: OVERDUE on the home page.
    await createPlan(ui.dash.db, system, { assetNumber: 'M-3005', name: 'Monthly PM', intervalDays: 30, lastPmAt: new Date(Date.now() - 40 * 86_400_000).toISOString() });
    // M-3011's trend: shots 60 days, 3 days and a minute ago (2,100 this week: 300 a day), a shot plan and a calendar one.
    const m3011 = await ui.dash.db('tools').where('asset_number', 'M-3011').first();
    await ui.dash.db('shot_readings').insert(([[60, 5000], [3, 1400], [0, 700]] as const).map(([days, delta]) => ({
      source: 'manual:e2e-trend', tool_id: m3011.id, at: trendAt(days), delta, outcome: 'manual',
    })));
    await createPlan(ui.dash.db, system, { assetNumber: 'M-3011', name: 'Shot PM', intervalShots: 1000, lastPmLifetimeShots: 0 });
    await createPlan(ui.dash.db, system, { assetNumber: 'M-3011', name: 'Monthly check', intervalDays: 30, lastPmAt: new Date(Date.now() - 20 * 86_400_000).toISOString() });
    const m3009 = await ui.dash.db('tools').where('asset_number', 'M-3009').first();
    await createAction(ui.dash.db, system, { toolId: m3009.id, title: 'Polish parting line', assigneeId: ui.users.technician.id });
  });

  const started = Date.now();
  /** A reading's time `days` before the suite started (a minute before for 0), and its UTC day. */
  const trendAt = (days: number) => new Date(started - days * 86_400_000 - 60_000);
  const utcDay = (days: number) => trendAt(days).toISOString().slice(0, 10);

  const value = (page: Page, name: string) => page.inputValue(`input[name="${name}"], textarea[name="${name}"]`);

  async function fill(page: Page, fields: Record<string, string>): Promise<void> {
    for (const [name, v] of Object.entries(fields)) await page.fill(`[name="${name}"]`, v);
  }

  async function toolRow(asset: string) {
    return ui.dash.db('tools').where('asset_number', asset).first();
  }

  it('registers a tool from the form: success shown, the tool written with the logged-in user as actor', async () => {
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/tool-form', ready: '[data-test=submit]' });
    try {
      await fill(page, {
        assetNumber: 'm-4001',
        name: 'Closure 16-cav',
        customer: 'Vela Packaging',
        cavityCount: '16',
        expectedLifetimeShots: '1000000',
        location: 'Rack B2',
        partNumbers: 'VP-1, VP-2',
      });
      await page.click('[data-test=add-blocked]');
      await fill(page, { blocked0number: '5', blocked0reason: 'worn gate' });
      await screenshot(page, 'tool-form-filled-tablet');
      await page.click('[data-test=submit]');
      const saved = await page.waitForSelector('[data-test=saved]', { timeout: 15000 });
      assert.match((await saved.textContent())!, /Registered M-4001/);
      await screenshot(page, 'tool-form-registered-tablet');

      const row = await toolRow('M-4001');
      assert.ok(row, 'the tool is in the database');
      assert.deepEqual([row.name, row.customer, row.cavity_count, Number(row.expected_lifetime_shots), row.location, row.part_numbers], [
        'Closure 16-cav', 'Vela Packaging', 16, 1000000, 'Rack B2', ['VP-1', 'VP-2'],
      ]);
      const cavity = await ui.dash.db('tool_cavities').where({ tool_id: row.id, number: 5 }).first();
      assert.deepEqual([cavity.state, cavity.blocked_reason], ['blocked', 'worn gate']);
      const audit = await ui.dash.db('audit_events').where({ action: 'tool.create', entity_id: String(row.id) }).first();
      assert.equal(audit.actor_id, ui.dash.login ? ui.users.technician.id : 'system', 'the audit names who registered it');

      // The success offers the new tool's page.
      await page.click('[data-test=open-saved]');
      await page.waitForURL(/\/dashboard\/tool\?asset=M-4001$/);
      await page.waitForSelector('[data-test=title]:has-text("M-4001")');
      assert.match((await page.textContent('[data-test=cavities] [data-cavity="5"]'))!, /blocked: worn gate/);
    } finally {
      await context.close();
    }
  });

  it('a rejected form names the field and the rule, keeps what was typed and writes nothing', async () => {
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/tool-form', ready: '[data-test=submit]' });
    try {
      // What the form could write: every table, less what the app's own schedule writes meanwhile (the PM
      // check's audit event as the system actor, and the notifications it raises).
      const formCounts = async () => {
        const counts = await tableCounts(ui.dash.db);
        delete counts.notification_events;
        delete counts.notifications;
        const [{ n }] = await ui.dash.db('audit_events').whereNot('actor_id', 'system').count<{ n: string }[]>({ n: '*' });
        return { ...counts, audit_events: Number(n) };
      };
      const before = await formCounts();
      await fill(page, { assetNumber: 'M-4002', name: 'Bad cavities', cavityCount: '0', year: '1850', location: 'Rack C1' });
      await page.click('[data-test=submit]');
      await page.waitForSelector('[data-test=error]', { timeout: 15000 });
      const cavityMsg = await page.textContent('.v-input:has(input[name="cavityCount"]) .v-messages');
      assert.match(cavityMsg!, /1/, `cavity count's message names the rule: ${cavityMsg}`);
      const yearMsg = await page.textContent('.v-input:has(input[name="year"]) .v-messages');
      assert.match(yearMsg!, /1900/, `year's message names the rule: ${yearMsg}`);
      assert.match((await page.textContent('[data-test=error]'))!, /cavityCount|year/);
      await screenshot(page, 'tool-form-rejected-tablet');
      // What the user typed is still there.
      assert.deepEqual(
        [await value(page, 'assetNumber'), await value(page, 'name'), await value(page, 'cavityCount'), await value(page, 'year'), await value(page, 'location')],
        ['M-4002', 'Bad cavities', '0', '1850', 'Rack C1'],
      );
      assert.equal(await page.locator('[data-test=saved]').count(), 0, 'no success shown');
      assert.deepEqual(await formCounts(), before, 'nothing written');

      // A duplicate asset number is refused the same way.
      await fill(page, { assetNumber: 'M-3001', cavityCount: '2', year: '2020' });
      await page.click('[data-test=submit]');
      await page.waitForSelector('.v-input:has(input[name="assetNumber"]) .v-messages:has-text("M-3001")', { timeout: 15000 });
      assert.equal(await value(page, 'name'), 'Bad cavities');
      assert.deepEqual(await formCounts(), before, 'nothing written');

      // Corrected, the same form goes through.
      await fill(page, { assetNumber: 'M-4002' });
      await page.click('[data-test=submit]');
      await page.waitForSelector('[data-test=saved]', { timeout: 15000 });
      assert.ok(await toolRow('M-4002'));
    } finally {
      await context.close();
    }
  });

  it('the tool list searches and filters, and a tool opens its page', async () => {
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/tools', ready: '[data-asset]' });
    try {
      assert.match((await page.textContent('[data-test=count]'))!, /of 32 tools/);
      await screenshot(page, 'tools-list-tablet');
      assert.deepEqual(await smallTouchTargets(page), [], 'touch targets at least 48 px');

      await page.fill('[data-test=search] input', 'luer 8-cav');
      await eventually(ui.dash, 'search narrows the list', async () => {
        const assets = await page.$$eval('[data-asset]', (rows) => rows.map((r) => r.getAttribute('data-asset')));
        return assets.length > 0 && assets.every((a) => ['M-3004', 'M-3010', 'M-3016', 'M-3022', 'M-3028'].includes(a!)) && assets.length === 5;
      });
      await page.fill('[data-test=customer] input', 'beta medical');
      await page.fill('[data-test=search] input', 'luer');
      await eventually(ui.dash, 'customer filter', async () => {
        const assets = await page.$$eval('[data-asset]', (rows) => rows.map((r) => r.getAttribute('data-asset')));
        return assets.join(',') === 'M-3004,M-3010,M-3016,M-3022,M-3028';
      });
      await screenshot(page, 'tools-list-search-tablet');

      await page.click('[data-asset="M-3010"]');
      await page.waitForURL(/\/dashboard\/tool\?asset=M-3010$/);
      await page.waitForSelector('[data-test=title]:has-text("M-3010")');
      assert.match((await page.textContent('[data-test=title]'))!, /Luer cap 8-cav/);
      assert.match((await page.textContent('[data-test=meta]'))!, /Beta Medical/);
      await screenshot(page, 'tool-detail-tablet');
    } finally {
      await context.close();
    }
  });

  it("a tool's page opens by URL as from its QR label, blocked cavities with their reason", async () => {
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/tool?asset=m-3007', ready: '[data-test=title]' });
    try {
      assert.match((await page.textContent('[data-test=title]'))!, /M-3007/);
      assert.match((await page.textContent('[data-cavity="2"]'))!, /blocked: cracked insert/);
      assert.equal(await page.locator('[data-cavity].tr-blocked').count(), 1);
      // The shop-floor work on this tool starts from here, the tool chosen (the work pages take ?asset= too).
      await page.click('[data-test=inspect]');
      await page.waitForURL(/\/dashboard\/inspect\?asset=M-3007$/);
      await gotoDashboard(page, ui.dash.base, '/dashboard/tool?asset=M-3007', '[data-test=report-failure]');
      await page.click('[data-test=report-failure]');
      await page.waitForURL(/\/dashboard\/report-failure\?asset=M-3007$/);
      await gotoDashboard(page, ui.dash.base, '/dashboard/tool?asset=NOPE-1', '[data-test=error]');
      assert.match((await page.textContent('[data-test=error]'))!, /No tool NOPE-1/);
    } finally {
      await context.close();
    }
  });

  it("a tool's page shows its shots per day over 30 or 90 days and when each PM falls due at this week's pace", async () => {
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/tool?asset=M-3011', ready: '[data-test=shots-chart]' });
    try {
      const bars = () => page.$$eval('[data-test=shots-chart] [data-day]', (els) => els.map((e) => [e.getAttribute('data-day'), Number(e.getAttribute('data-shots'))] as [string, number]));
      // The first answer (the tool view) brings the 30 days along.
      const thirty = await bars();
      assert.equal(thirty.length, 30);
      assert.deepEqual(thirty.filter(([, n]) => n > 0), [[utcDay(3), 1400], [utcDay(0), 700]]);
      assert.match((await page.textContent('[data-test=trend-total]'))!, /2,100 shots in the last 30 days/);
      const forecast = (plan: string) => page.textContent(`[data-test=forecast] [data-plan="${plan}"]`);
      assert.match((await forecast('Shot PM'))!, /due in 3\.3 days at this week's pace \(300 shots a day\)/);
      assert.match((await forecast('Monthly check'))!, /due in (9\.9|10\.0) days by the calendar/);
      assert.deepEqual(await smallTouchTargets(page), [], 'touch targets at least 48 px');
      await screenshot(page, 'tool-trend-tablet');

      await page.click('[data-test=trend-90]');
      await page.waitForFunction(`document.querySelectorAll('[data-test=shots-chart] [data-day]').length === 90`, undefined, { timeout: 30000 });
      assert.deepEqual((await bars()).filter(([, n]) => n > 0), [[utcDay(60), 5000], [utcDay(3), 1400], [utcDay(0), 700]]);
      assert.match((await page.textContent('[data-test=trend-total]'))!, /7,100 shots in the last 90 days/);
      // The tallest column is the 5,000-shot day; the others in proportion.
      const heights = await page.$$eval('[data-test=shots-chart] [data-shots="5000"], [data-test=shots-chart] [data-shots="700"]', (els) => els.map((e) => Number(e.getAttribute('height'))));
      assert.deepEqual(heights.map((h) => Math.round(h)), [140, Math.round((140 * 700) / 5000)]);
      await page.click('[data-test=trend-30]');
      await page.waitForFunction(`document.querySelectorAll('[data-test=shots-chart] [data-day]').length === 30`, undefined, { timeout: 30000 });
    } finally {
      await context.close();
    }
  });

  it('mounts and unmounts a tool from its page', async () => {
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/tool?asset=M-3002', ready: '[data-test=mount]' });
    try {
      await page.click('[data-test=mount]');
      await page.click('[data-press="P02"]');
      await screenshot(page, 'tool-mount-dialog-tablet');
      await page.click('[data-test=confirm]');
      await page.waitForSelector('[data-test=press]:has-text("P02")', { timeout: 15000 });
      const tool = await toolRow('M-3002');
      assert.equal(tool.status, 'in_press');
      const open = await ui.dash.db('tool_mounts').where({ tool_id: tool.id }).whereNull('unmounted_at').first();
      assert.ok(open, 'an open mount');
      await page.waitForSelector('[data-test=timeline] [data-kind=mount]');

      await page.click('[data-test=unmount]');
      await page.check('input[type=radio][value=in_maintenance]');
      await page.click('[data-test=confirm]');
      await page.waitForSelector('[data-test=status]:has-text("In maintenance")', { timeout: 15000 });
      assert.equal((await toolRow('M-3002')).status, 'in_maintenance');
      assert.equal(await ui.dash.db('tool_mounts').where({ tool_id: tool.id }).whereNull('unmounted_at').count('* as n').first().then((r) => Number(r!.n)), 0);
    } finally {
      await context.close();
    }
  });

  it("edits a tool from its page; a stale edit is refused as a conflict and keeps the input", async () => {
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/tool?asset=M-3008', ready: '[data-test=edit]' });
    try {
      await page.click('[data-test=edit]');
      await page.waitForURL(/\/dashboard\/tool-form\?asset=M-3008$/);
      await page.waitForFunction(`document.querySelector('input[name="assetNumber"]')?.value === 'M-3008'`);
      assert.equal(await value(page, 'name'), 'Fan blade 8-cav');
      assert.deepEqual(await smallTouchTargets(page), [], 'touch targets at least 48 px');
      await fill(page, { location: 'Rack Z9' });
      await page.click('[data-test=add-blocked]');
      await fill(page, { blocked0number: '3', blocked0reason: 'flash on parting line' });
      await page.click('[data-test=submit]');
      await page.waitForSelector('[data-test=saved]:has-text("Saved M-3008")', { timeout: 15000 });
      const row = await toolRow('M-3008');
      assert.equal(row.location, 'Rack Z9');
      assert.equal(row.name, 'Fan blade 8-cav');
      const blocked = await ui.dash.db('tool_cavities').where({ tool_id: row.id, state: 'blocked' }).select('number', 'blocked_reason');
      assert.deepEqual(blocked.map((c) => [c.number, c.blocked_reason]), [[3, 'flash on parting line']]);
      const audit = await ui.dash.db('audit_events').where({ action: 'tool.update', entity_id: String(row.id) }).orderBy('id', 'desc').first();
      assert.ok(audit, 'the edit is audited');

      // Someone else changes the tool while this form is open: saving is refused, nothing of it written.
      await updateTool(ui.dash.db, systemActor('e2e'), { id: row.id, notes: 'changed elsewhere' });
      await fill(page, { location: 'Rack Q1' });
      await page.click('[data-test=submit]');
      await page.waitForSelector('[data-test=error]:has-text("reload")', { timeout: 15000 });
      assert.equal(await value(page, 'location'), 'Rack Q1', 'the input is kept');
      await screenshot(page, 'tool-form-conflict-tablet');
      assert.equal((await toolRow('M-3008')).location, 'Rack Z9');
      // Reloading shows the other change.
      await page.click('[data-test=reload]');
      await page.waitForFunction(`document.querySelector('textarea[name="notes"]')?.value === 'changed elsewhere'`, undefined, { timeout: 15000 });
      assert.equal(await value(page, 'location'), 'Rack Z9');
    } finally {
      await context.close();
    }
  });

  it('home: PM alerts, presses with their tools, and a tool opens from there', async () => {
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/home', ready: '[data-test=presses] [data-press]' });
    try {
      const alert = page.locator('[data-test=pm-alerts] [data-state]').first();
      assert.match((await alert.textContent())!, /Overdue\s*M-3005/);
      assert.match((await page.textContent('[data-test=presses] [data-press="P01"]'))!, /M-3006/);
      assert.match((await page.textContent('[data-test=presses] [data-press="P02"]'))!, /no tool mounted/);
      // "My" actions are the logged-in user's (the system actor of a setup without login has none).
      if (ui.dash.login) {
        assert.match((await page.textContent('[data-test=my-actions]'))!, /Polish parting line\s*M-3009/);
        assert.match((await page.textContent('h1'))!, /Hello, Tina Technician/);
      } else assert.match((await page.textContent('[data-test=my-actions]'))!, /Nothing assigned to you/);
      assert.deepEqual(await smallTouchTargets(page), [], 'touch targets at least 48 px');
      await screenshot(page, 'home-tablet');
      await page.click('[data-test=presses] [data-press="P01"]');
      await page.waitForURL(/\/dashboard\/tool\?asset=M-3006$/);
      await page.waitForSelector('[data-test=press]:has-text("P01")');
      assert.deepEqual(await smallTouchTargets(page), [], 'touch targets at least 48 px');
    } finally {
      await context.close();
    }
  });

  it('offers each role only what it may do: retire for engineers, not technicians', async function () {
    if (!ui.dash.login) this.skip(); // roles need the login (issue 5)
    const tech = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/tool?asset=M-3003', ready: '[data-test=edit]' });
    const eng = await openPage(ui.browser, ui.dash, { user: ui.users.engineer, path: '/dashboard/tool?asset=M-3003', ready: '[data-test=retire]' });
    try {
      assert.equal(await tech.page.locator('[data-test=retire]').count(), 0, 'no retire button for a technician');
      await eng.page.click('[data-test=retire]');
      await eng.page.fill('[name=reason]', 'end of programme');
      await eng.page.click('[data-test=confirm]');
      await eng.page.waitForSelector('[data-test=status]:has-text("Retired")', { timeout: 15000 });
      const row = await toolRow('M-3003');
      assert.equal(row.status, 'retired');
      const audit = await ui.dash.db('audit_events').where({ action: 'tool.retire', entity_id: String(row.id) }).first();
      assert.equal(audit.actor_id, ui.users.engineer.id);
    } finally {
      await tech.context.close();
      await eng.context.close();
    }
  });

  it("each browser sees only its own answers (one technician's search never lands on another's list)", async () => {
    const a = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/tools', ready: '[data-asset]' });
    const b = await openPage(ui.browser, ui.dash, { user: ui.users.engineer, path: '/dashboard/tools', ready: '[data-asset]' });
    try {
      const countB = await b.page.locator('[data-asset]').count();
      await a.page.fill('[data-test=search] input', 'fan blade');
      await eventually(ui.dash, "A's search applied", async () => (await a.page.locator('[data-asset]').count()) === 10);
      await b.page.waitForTimeout(1000);
      assert.equal(await b.page.locator('[data-asset]').count(), countB, "B's list is untouched");
      assert.equal(await b.page.inputValue('[data-test=search] input'), '');
    } finally {
      await a.context.close();
      await b.context.close();
    }
  });

  it('works at desktop and phone sizes and in the dark theme', async () => {
    for (const [viewport, colorScheme] of [['desktop', 'light'], ['phone', 'light'], ['tablet', 'dark']] as const) {
      const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/tool?asset=M-3002', viewport, colorScheme, ready: '[data-test=timeline] li' });
      try {
        await screenshot(page, `tool-detail-${viewport}-${colorScheme}`);
        // Nothing wider than the screen.
        const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        assert.ok(Number(overflow) <= 0, `${viewport}: page ${overflow} px wider than the screen`);
        if (colorScheme === 'dark') {
          const bg = await page.evaluate('getComputedStyle(document.querySelector(".tr-section")).backgroundColor');
          assert.match(String(bg), /rgb\((\d{1,2}), (\d{1,2}), (\d{1,2})\)/, `dark sections: ${bg}`);
        }
        await gotoDashboard(page, ui.dash.base, '/dashboard/tools', '[data-asset]');
        await screenshot(page, `tools-list-${viewport}-${colorScheme}`);
        await gotoDashboard(page, ui.dash.base, '/dashboard/home', '[data-test=presses]');
        await screenshot(page, `home-${viewport}-${colorScheme}`);
      } finally {
        await context.close();
      }
    }
  });
});
