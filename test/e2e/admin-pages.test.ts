import assert from 'node:assert/strict';
import { systemActor } from '../../core/auth/actor';
import { createTool } from '../../core/tools/service';
import { createTemplate } from '../../core/inspections/templates';
import { getInspection, recordInspection } from '../../core/inspections/service';
import { tableCounts } from '../support/db';
import { dashboardReady, dashboardSuite, gotoDashboard, openPage, screenshot, smallTouchTargets, type BrowserContext } from '../support/browser';

/**
 * The admin pages (issue 14) in Chromium against the real start command and PostgreSQL: an admin
 * adds a press (with its OPC-UA endpoint) and a technician with a PIN; the technician logs in with
 * the PIN and finds the press on the home page; a password reset shows the temporary password once;
 * the server refuses the pages' operations to the roles that may not use them; a checklist edited
 * after an inspection becomes version 2 while the inspection keeps version 1's items.
 */
describe('dashboard: admin pages', function () {
  this.timeout(300000);
  const ui = dashboardSuite('admin');
  const system = systemActor('e2e');

  /**
   * Once armed, the page's next request for `match` (target and topic) goes out as `topic` with
   * `payload` instead, over the user's own logged-in socket: what a forged message gets from the server.
   */
  async function forge(context: BrowserContext, match: { target: string; topic: string }, topic: string, payload: unknown) {
    const state = { armed: false, forged: 0 };
    await context.routeWebSocket(/socket\.io/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => {
        const text = String(m);
        if (state.armed && !state.forged && text.startsWith('42[') && text.includes('"widget-send"')) {
          const frame = JSON.parse(text.slice(2));
          if (frame[2]?.target === match.target && frame[2]?.topic === match.topic) {
            frame[2] = { ...frame[2], topic, ask: 'forged', payload };
            state.forged++;
            server.send('42' + JSON.stringify(frame));
            return;
          }
        }
        server.send(m);
      });
      server.onMessage((m) => ws.send(m));
    });
    return state;
  }

  it('an admin adds a press with its OPC-UA endpoint, edits and lists it', async () => {
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.admin, path: '/dashboard/presses', ready: '[data-test=new-press]' });
    try {
      await page.click('[data-test=new-press]');
      await page.fill('[name=code]', 'p-77');
      await page.fill('[name=name]', 'Arburg 470');
      await page.fill('[name=tonnage]', '110');
      await page.fill('[name=location]', 'Hall 2');
      await page.fill('[name=opcuaEndpoint]', 'http://10.0.0.77');
      await page.click('[data-test=save-press]');
      await page.waitForSelector('[data-test=error]:has-text("opcuaEndpoint")', { timeout: 15000 });
      assert.equal(await ui.dash.db('presses').where('code', 'P-77').first(), undefined, 'a bad endpoint writes nothing');
      await page.fill('[name=opcuaEndpoint]', 'opc.tcp://10.0.0.77:4840');
      await page.click('[data-test=save-press]');
      await page.waitForSelector('[data-test=notice]:has-text("P-77 saved")', { timeout: 15000 });
      await page.waitForSelector('[data-press="P-77"] [data-test=endpoint]:has-text("opc.tcp://10.0.0.77:4840")', { timeout: 15000 });
      const press = await ui.dash.db('presses').where('code', 'P-77').first();
      assert.deepEqual([press.name, press.tonnage, press.location, press.active], ['Arburg 470', 110, 'Hall 2', true]);

      await page.click('[data-press="P-77"]');
      await page.fill('[name=name]', 'Arburg 470 A');
      await page.click('[data-test=save-press]');
      await page.waitForSelector('[data-press="P-77"]:has-text("Arburg 470 A")', { timeout: 15000 });
      const audit = await ui.dash.db('audit_events').where({ entity: 'press', entity_id: String(press.id) }).orderBy('id').pluck('action');
      assert.deepEqual(audit, ['press.create', 'press.update']);
      await screenshot(page, 'admin-presses-tablet');
      assert.deepEqual(await smallTouchTargets(page), [], 'presses: every control at least 48 px');
    } finally {
      await context.close();
    }
  });

  it('an admin adds a technician with a PIN, who logs in with it and sees the press at home', async () => {
    const admin = await openPage(ui.browser, ui.dash, { user: ui.users.admin, path: '/dashboard/users', ready: '[data-user="ada"]' });
    try {
      const { page } = admin;
      await page.click('[data-test=new-user]');
      await page.fill('[name=username]', 'Theo');
      await page.fill('[name=displayName]', 'Theo Toolmaker');
      await page.click('[data-test=role] [data-role=technician]');
      await page.fill('[name=pin]', '12');
      await page.click('[data-test=save-user]');
      await page.waitForSelector('[data-test=user-form] :text("must be 4 to 8 digits")', { timeout: 15000 });
      await page.fill('[name=pin]', '4711');
      await page.click('[data-test=save-user]');
      await page.waitForSelector('[data-test=notice]:has-text("theo saved, PIN set")', { timeout: 15000 });
      await page.waitForSelector('[data-user="theo"] [data-test=user-role]:has-text("technician")', { timeout: 15000 });
      const theo = await ui.dash.db('users').where('username', 'theo').first();
      assert.deepEqual([theo.display_name, theo.role, theo.editor_access, theo.active], ['Theo Toolmaker', 'technician', 'none', true]);
      assert.ok(theo.pin_hash, 'the PIN is set');
      assert.deepEqual(await ui.dash.db('audit_events').where({ entity: 'user', entity_id: String(theo.id) }).orderBy('id').pluck('action'), ['user.create', 'user.pin.set']);
      await screenshot(page, 'admin-users-tablet');
      assert.deepEqual(await smallTouchTargets(page), [], 'users: every control at least 48 px');
    } finally {
      await admin.context.close();
    }

    // The shop-floor login: username and PIN, no password.
    const context = await ui.browser.newContext({ viewport: { width: 1024, height: 768 }, baseURL: ui.dash.base });
    try {
      const page = await context.newPage();
      await page.goto(`${ui.dash.base}/toolroom/login?next=${encodeURIComponent('/dashboard/home')}`);
      await page.fill('input[name=username]', 'theo');
      await page.fill('input[name=pin]', '4711');
      await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/dashboard'), { timeout: 20000 }), page.click('button[type=submit]')]);
      await dashboardReady(page, '[data-test=presses] [data-press="P-77"]');
      assert.match((await page.textContent('h1'))!, /Theo Toolmaker/);
      const session = await ui.dash.db('sessions').join('users', 'users.id', 'sessions.user_id').where('users.username', 'theo').first('sessions.method');
      assert.equal(session.method, 'pin');
    } finally {
      await context.close();
    }
  });

  it('a password reset shows the temporary password once; disable and enable', async () => {
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.admin, path: '/dashboard/users', ready: '[data-user="theo"]' });
    try {
      await page.click('[data-user="theo"] [data-test=reset-password]');
      const secret = (await (await page.waitForSelector('[data-test=temporary-secret]', { timeout: 15000 })).textContent())!.trim();
      assert.ok(secret.length >= 8, 'a temporary password is shown');
      const theo = await ui.dash.db('users').where('username', 'theo').first();
      assert.equal(theo.must_change_password, true, 'to be changed at the next login');
      assert.ok(!theo.password_hash.includes(secret), 'only its hash is kept');
      const events = await ui.dash.db('audit_events').where({ entity: 'user', entity_id: String(theo.id), action: 'user.password.set' });
      assert.equal(events.length, 1);
      assert.ok(!JSON.stringify(events[0]).includes(secret), 'the audit trail does not hold it');

      await gotoDashboard(page, ui.dash.base, '/dashboard/users', '[data-user="theo"]');
      assert.equal(await page.$('[data-test=temporary-secret]'), null, 'shown once: gone after a reload');

      await page.click('[data-user="theo"] [data-test=disable]');
      await page.waitForSelector('[data-test=notice]:has-text("theo disabled")', { timeout: 15000 });
      assert.equal((await ui.dash.db('users').where('username', 'theo').first()).active, false);
      await page.click('[data-test=show-disabled]');
      await page.click('[data-user="theo"] [data-test=enable]', { timeout: 15000 });
      await page.waitForSelector('[data-test=notice]:has-text("theo enabled")', { timeout: 15000 });
      assert.equal((await ui.dash.db('users').where('username', 'theo').first()).active, true);
    } finally {
      await context.close();
    }
  });

  for (const role of ['technician', 'engineer'] as const) {
    it(`the server refuses the users page to a ${role}`, async function () {
      if (!ui.dash.login) this.skip();
      const before = await tableCounts(ui.dash.db);
      const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users[role], path: '/dashboard/users', ready: '[data-test=not-allowed]' });
      try {
        const err = await page.waitForSelector('[data-test=error][data-code=forbidden]', { timeout: 15000 });
        assert.match((await err.textContent())!, /may not user\.read/);
        assert.equal(await page.$('[data-user]'), null, 'no user listed');
        assert.equal(await page.$('[data-test=new-user]'), null, 'no Add user');

        // The page's own message, forged into a create: refused by core, nothing written.
        const forged = await forge(context, { target: 'account', topic: 'list' }, 'create', { username: 'mallory', displayName: 'Mallory', role: 'admin' });
        await gotoDashboard(page, ui.dash.base, '/dashboard/users', '[data-test=error][data-code=forbidden]');
        forged.armed = true;
        await page.click('[data-test=show-disabled]');
        await page.waitForSelector('[data-test=error][data-code=forbidden]:has-text("user.manage")', { timeout: 15000 });
        assert.equal(forged.forged, 1, 'the forged message went out');
      } finally {
        await context.close();
      }
      assert.equal(await ui.dash.db('users').where('username', 'mallory').first(), undefined);
      const after = await tableCounts(ui.dash.db);
      assert.equal(after.users, before.users, 'no user written');
    });
  }

  it('the server refuses a technician who sends the presses and templates pages\' writes', async function () {
    if (!ui.dash.login) this.skip();
    const press = await ui.dash.db('presses').where('code', 'P-77').first();
    const template = await createTemplate(ui.dash.db, system, { code: 'guarded', name: 'Guarded', kind: 'post_run', items: [{ key: 'a', label: 'A' }] });
    const cases = [
      { path: '/dashboard/presses', ready: '[data-press="P-77"]', match: { target: 'press', topic: 'list' }, topic: 'deactivate', payload: { id: press.id }, op: 'press.update' },
      { path: '/dashboard/templates', ready: '[data-template="guarded"]', match: { target: 'inspection', topic: 'templates' }, topic: 'edittemplate', payload: { id: template.id, name: 'forged' }, op: 'template.manage' },
    ];
    for (const c of cases) {
      const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: c.path, ready: c.ready });
      try {
        await page.waitForSelector('[data-test=not-allowed]', { timeout: 15000 });
        const forged = await forge(context, c.match, c.topic, c.payload);
        await gotoDashboard(page, ui.dash.base, c.path, c.ready);
        forged.armed = true;
        await page.click('[data-test=show-inactive]');
        const err = await page.waitForSelector('[data-test=error][data-code=forbidden]', { timeout: 15000 });
        assert.match((await err.textContent())!, new RegExp(`may not ${c.op.replace('.', '\\.')}`));
        assert.equal(forged.forged, 1, 'the forged message went out');
      } finally {
        await context.close();
      }
    }
    assert.equal((await ui.dash.db('presses').where('id', press.id).first()).active, true, 'the press is still in use');
    assert.equal((await ui.dash.db('inspection_templates').where('id', template.id).first()).name, 'Guarded');
  });

  it('editing a checklist used by an inspection makes version 2; the inspection keeps its own items', async () => {
    const tool = await createTool(ui.dash.db, system, { assetNumber: 'M-6001', name: 'Lid 2-cav', cavityCount: 2 });
    const template = await createTemplate(ui.dash.db, system, {
      code: 'lid-check',
      name: 'Lid post-run',
      kind: 'post_run',
      items: [{ key: 'vents', label: 'Vents cleaned' }, { key: 'grease', label: 'Guide pins greased' }],
    });
    const old = await recordInspection(ui.dash.db, system, { toolId: tool.id, templateId: template.id, results: [{ itemKey: 'vents', result: 'pass' }, { itemKey: 'grease', result: 'pass' }] });

    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.engineer, path: '/dashboard/templates', ready: '[data-template="lid-check"]' });
    try {
      await page.click('[data-template="lid-check"]');
      await page.waitForSelector('[data-test=template-form]');
      // Move "Guide pins greased" up, drop "Vents cleaned", add a new check, for this tool only.
      await page.click('[data-test=up-1]');
      await page.click('[data-test=remove-1]');
      await page.click('[data-test=add-item]');
      await page.fill('[name=item1label]', 'Cooling circuits blown out');
      await page.click('[data-applies=some]');
      await page.fill('[name=toolQ]', 'M-6001');
      await page.click('[data-test=tool-hits] [data-asset="M-6001"]', { timeout: 15000 });
      await page.waitForSelector('[data-chosen="M-6001"]');
      await screenshot(page, 'admin-templates-edit-tablet');
      assert.deepEqual(await smallTouchTargets(page), [], 'templates: every control at least 48 px');
      await page.click('[data-test=save-template]');
      await page.waitForSelector('[data-test=notice]:has-text("saved as version 2")', { timeout: 15000 });
      await page.waitForSelector('[data-template="lid-check"] [data-test=version]:has-text("v2")');

      const row = await ui.dash.db('inspection_templates').where('id', template.id).first();
      assert.equal(row.version, 2);
      assert.deepEqual(row.items.map((i: { key: string }) => i.key), ['grease', 'cooling_circuits_blown_out']);
      assert.deepEqual(await ui.dash.db('inspection_template_tools').where('template_id', template.id).pluck('tool_id'), [tool.id]);

      // The inspection done before still reads as it was done, with version 1's checklist.
      const again = await getInspection(ui.dash.db, system, { id: old.id });
      assert.equal(again.templateVersion, 1);
      assert.deepEqual(again.results.map((r) => r.label), ['Vents cleaned', 'Guide pins greased']);

      // And the page shows version 1 as that inspection was recorded with it.
      await page.click('[data-template="lid-check"]');
      await page.click('[data-version="1"]');
      await page.waitForSelector('[data-test=old-version] [data-old-item="vents"]', { timeout: 15000 });
      assert.deepEqual(await page.$$eval('[data-old-item]', (els) => els.map((e) => e.textContent!.trim())), ['Vents cleaned', 'Guide pins greased']);
    } finally {
      await context.close();
    }
  });
});
