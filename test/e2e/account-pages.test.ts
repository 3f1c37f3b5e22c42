import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemActor } from '../../core/auth/actor';
import { newKeyPair } from '../../core/backup/age';
import { getNotificationSettings } from '../../core/notifications/settings';
import { createTool } from '../../core/tools/service';
import { dashboardSuite, eventually, gotoDashboard, openPage, screenshot, smallTouchTargets, type Page } from '../support/browser';

/**
 * The Account page (issue 13) and the Operations page (issue 12) in Debian's Chromium against the
 * real start command, set up for backups (a backup directory and an age recipient, as
 * test/http/operations-routes.test.ts does): what the pages change is read back through core and
 * the database, refusals come from the server.
 */
describe('dashboard: account and operations pages', function () {
  this.timeout(300000);
  let tmp = '';
  let share = '';
  const system = systemActor('e2e');
  // The app starts with a backup directory and an age recipient, made when the suite starts.
  const ui = dashboardSuite('account', {
    env: async () => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-account-pages-'));
      share = path.join(tmp, 'share');
      fs.mkdirSync(share);
      fs.writeFileSync(path.join(tmp, 'recipient'), (await newKeyPair()).recipient);
      return { TOOLROOM_BACKUP_DIR: share, TOOLROOM_BACKUP_RECIPIENT_FILE: path.join(tmp, 'recipient') };
    },
  });

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const settingsOf = (userId: string) => getNotificationSettings(ui.dash.db, system, { userId: Number(userId) });
  const subOf = async (userId: string, eventType: string, channel: string) =>
    (await settingsOf(userId)).subscriptions.find((s) => s.eventType === eventType && s.channel === channel)!;
  const notice = (page: Page, text: string) => page.waitForSelector(`[data-test=notice]:has-text("${text}")`, { timeout: 20000 });

  it('a technician turns off e-mail for an event and sets quiet hours; core has both', async function () {
    if (!ui.dash.login) this.skip();
    const tina = ui.users.technician;
    assert.deepEqual(await subOf(tina.id, 'failure.critical', 'email'), { eventType: 'failure.critical', channel: 'email', enabled: true, byDefault: true, roleDefault: true });
    const { context, page } = await openPage(ui.browser, ui.dash, { user: tina, path: '/dashboard/account', ready: '[data-sub="failure.critical:email"] select' });
    try {
      // A technician has no one else's account to pick.
      assert.equal(await page.$('[data-test=whose]'), null);
      await page.selectOption('[data-sub="failure.critical:email"] select', 'off');
      await notice(page, 'Saved');
      assert.deepEqual(await subOf(tina.id, 'failure.critical', 'email'), { eventType: 'failure.critical', channel: 'email', enabled: false, byDefault: false, roleDefault: true });
      assert.equal((await subOf(tina.id, 'failure.critical', 'inbox')).byDefault, true, 'the inbox left at the default');

      await page.fill('[name=email]', 'tina@plant.example');
      await page.fill('[name=quietFrom]', '22:00');
      await page.fill('[name=quietUntil]', '06:00');
      await page.click('[data-test=save-settings]');
      await notice(page, 'Notification settings saved');
      const s = await settingsOf(tina.id);
      assert.deepEqual([s.email, s.quietFrom, s.quietUntil], ['tina@plant.example', '22:00', '06:00']);
      const audit = await ui.dash.db('audit_events').where({ action: 'notification.settings', entity: 'user', entity_id: tina.id }).orderBy('id', 'desc').first();
      assert.equal(audit?.actor_id, tina.id, 'audited as Tina');
      await screenshot(page, 'account-technician-tablet');
      assert.deepEqual(await smallTouchTargets(page), [], 'every control at least 48 px');
    } finally {
      await context.close();
    }
  });

  it('a malformed e-mail address is refused naming the field, and nothing is written', async function () {
    if (!ui.dash.login) this.skip();
    const tina = ui.users.technician;
    const before = await settingsOf(tina.id);
    const { context, page } = await openPage(ui.browser, ui.dash, { user: tina, path: '/dashboard/account', ready: '[name=email]' });
    try {
      await page.waitForFunction(`document.querySelector('[name=email]').value === 'tina@plant.example'`, null, { timeout: 15000 });
      // Counted once logged in (the login is audited).
      const events = await ui.dash.db('audit_events').count<{ n: string }[]>({ n: '*' });
      await page.fill('[name=email]', 'tina.plant.example');
      await page.fill('[name=quietFrom]', '21:00');
      await page.click('[data-test=save-settings]');
      const err = await page.waitForSelector('[data-test=error]', { timeout: 20000 });
      assert.match((await err.textContent())!, /email: must be an e-mail address/);
      assert.match((await page.textContent('.v-input:has([name=email]) .v-messages'))!, /must be an e-mail address/, 'the message at the field');
      assert.deepEqual(await settingsOf(tina.id), before, 'the settings as they were (the quiet hours too)');
      assert.deepEqual(await ui.dash.db('audit_events').count<{ n: string }[]>({ n: '*' }), events, 'no audit event');
    } finally {
      await context.close();
    }
  });

  it('a technician logs out everywhere from the Account page: every session of theirs ends', async function () {
    if (!ui.dash.login) this.skip();
    const eric = ui.users.engineer;
    const other = await openPage(ui.browser, ui.dash, { user: eric, path: '/dashboard/home' });
    const { context, page } = await openPage(ui.browser, ui.dash, { user: eric, path: '/dashboard/account', ready: '[data-session]' });
    try {
      const open = await ui.dash.db('sessions').where('user_id', Number(eric.id)).whereNull('revoked_at');
      assert.equal(open.length, 2, 'two browsers, two sessions');
      await page.waitForFunction(`document.querySelectorAll('[data-session]').length === 2`, null, { timeout: 15000 });
      assert.equal(await page.$('[data-test=change-password]') !== null, true, 'the password form is offered for one\'s own account');
      await page.click('[data-test=logout-all]');
      // This browser's session ended too: the page goes to the login.
      await page.waitForURL(/\/toolroom\/login/, { timeout: 30000 });
      assert.deepEqual(await ui.dash.db('sessions').where('user_id', Number(eric.id)).whereNull('revoked_at'), [], 'no session left open');
      const audit = await ui.dash.db('audit_events').where({ action: 'session.revoke_all', entity_id: eric.id }).first();
      assert.deepEqual([audit?.actor_id, audit?.after], [eric.id, { revoked: 2 }]);
    } finally {
      await context.close();
      await other.context.close();
    }
  });

  it("an admin picks another user and changes that user's subscription", async function () {
    if (!ui.dash.login) this.skip();
    const { technician: tina, admin: ada } = ui.users;
    assert.deepEqual(await subOf(tina.id, 'shots.held', 'inbox'), { eventType: 'shots.held', channel: 'inbox', enabled: false, byDefault: true, roleDefault: false });
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ada, path: '/dashboard/account', ready: '[data-test=whose]' });
    try {
      await page.click('[data-test=whose]');
      await page.click('.v-overlay-container .v-list-item:has-text("Tina Technician")');
      await page.waitForSelector('[data-test=delivery] .tr-h2:has-text("Tina Technician")', { timeout: 15000 });
      // Tina's settings are on the page now: her address, not the admin's (none).
      await page.waitForFunction(`document.querySelector('[name=email]').value === 'tina@plant.example'`, null, { timeout: 15000 });
      assert.equal(await page.$('[data-test=change-password]'), null, "no password change for another's account");
      await page.selectOption('[data-sub="shots.held:inbox"] select', 'on');
      await notice(page, 'Saved');
      assert.deepEqual(await subOf(tina.id, 'shots.held', 'inbox'), { eventType: 'shots.held', channel: 'inbox', enabled: true, byDefault: false, roleDefault: false });
      const audit = await ui.dash.db('audit_events').where({ action: 'notification.subscriptions', entity: 'user', entity_id: tina.id }).orderBy('id', 'desc').first();
      assert.equal(audit?.actor_id, ada.id, 'audited as the admin');
      const own = await settingsOf(ada.id);
      assert.equal(own.subscriptions.every((s) => s.byDefault), true, "the admin's own subscriptions untouched");
      await screenshot(page, 'account-admin-other-user-tablet');
    } finally {
      await context.close();
    }
  });

  it('an admin changes a retention period, backs up now and sees the archive listed, purges, places and releases a legal hold', async function () {
    if (!ui.dash.login) this.skip();
    const ada = ui.users.admin;
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ada, path: '/dashboard/operations', ready: '[data-retention=sessions] input' });
    try {
      await page.waitForSelector('[data-test=health] [data-part=database]:has-text("ok")', { timeout: 20000 });
      await page.waitForSelector('[data-test=archives]:has-text("No archives yet")', { timeout: 20000 });

      await page.fill('[name=keepDays-sessions]', '200');
      await page.click('[data-retention=sessions] [data-test=save-period]');
      await notice(page, 'kept 200 days');
      const row = await ui.dash.db('retention_policies').where('record_type', 'sessions').first();
      assert.equal(row?.keep_days, 200);
      const changed = await ui.dash.db('audit_events').where({ action: 'retention.update', entity_id: 'sessions' }).orderBy('id', 'desc').first();
      assert.equal(changed?.actor_id, ada.id);

      await page.click('[data-test=backup-now]');
      await notice(page, 'Backed up');
      const archives = fs.readdirSync(share).filter((f) => f.endsWith('.tar.age'));
      assert.equal(archives.length, 1, 'one archive in the backup directory');
      const listed = await page.waitForSelector(`[data-archive="${archives[0]}"]`, { timeout: 20000 });
      assert.match((await listed.textContent())!, /\d+(\.\d)? (KB|MB)/, 'with its size');
      await page.waitForSelector('[data-test=backup-last][data-outcome=created]', { timeout: 20000 });
      const made = await ui.dash.db('audit_events').where({ action: 'backup.create', entity_id: archives[0] }).first();
      assert.equal(made?.actor_id, ada.id, 'the backup audited as the admin');

      await page.click('[data-test=purge-now]');
      await page.waitForSelector('[data-test=purged] [data-removed=sessions]', { timeout: 20000 });

      // A legal hold by asset number: without a reason refused at the field, with one placed, then released.
      const tool = await createTool(ui.dash.db, system, { assetNumber: 'M-8801', name: 'Cap 38 mm', cavityCount: 8 });
      await page.fill('[name=holdAsset]', 'M-8801');
      await page.click('[data-test=place-hold]');
      await page.waitForSelector('[data-test=error]:has-text("reason")', { timeout: 20000 });
      assert.match((await page.textContent('.v-input:has([name=holdReason]) .v-messages'))!, /\S/, 'the message at the reason');
      assert.equal(await ui.dash.db('legal_holds').first(), undefined, 'no hold written');
      await page.fill('[name=holdReason]', 'customer claim 4711');
      await page.click('[data-test=place-hold]');
      await page.waitForSelector('[data-hold="M-8801"]:has-text("customer claim 4711")', { timeout: 20000 });
      const hold = await ui.dash.db('legal_holds').where('tool_id', tool.id).first();
      assert.deepEqual([hold?.reason, hold?.placed_by, hold?.released_at], ['customer claim 4711', ada.username, null]);
      await page.click('[data-hold="M-8801"] [data-test=release]');
      await page.waitForSelector('[data-test=holds]:has-text("No tool is under a legal hold")', { timeout: 20000 });
      assert.ok((await ui.dash.db('legal_holds').where('tool_id', tool.id).first())?.released_at, 'released');
      await screenshot(page, 'operations-admin-tablet');
      assert.deepEqual(await smallTouchTargets(page), [], 'every control at least 48 px');
    } finally {
      await context.close();
    }
  });

  it("a technician is refused the operations by the server, forged writes included, and nothing is written", async function () {
    if (!ui.dash.login) this.skip();
    const tina = ui.users.technician;
    const archivesBefore = fs.readdirSync(share);
    const periodsBefore = await ui.dash.db('retention_policies').select('*').orderBy('record_type');
    const { context, page } = await openPage(ui.browser, ui.dash, { user: tina, path: '/dashboard/operations', ready: '[data-test=not-allowed]' });
    try {
      // The page's own requests: refused by core, the refusal shown.
      const err = await page.waitForSelector('[data-test=error]', { timeout: 20000 });
      assert.match((await err.textContent())!, /role technician may not (backup\.create|retention\.manage)/);
      assert.equal(await page.$('[data-test=backup-now]'), null, 'no backup button without the list');

      // Forged over the technician's own socket: the next list requests become a backup and a retention change;
      // the server's answers to them are caught on their way back.
      const forged = new Set<string>();
      const refusals = new Map<string, { code?: string; message?: string }>();
      let armed = false;
      await context.routeWebSocket(/socket\.io/, (ws) => {
        const server = ws.connectToServer();
        ws.onMessage((m) => {
          const text = String(m);
          if (armed && text.startsWith('42[') && text.includes('"widget-send"') && text.includes('"target":"operations"')) {
            const frame = JSON.parse(text.slice(2));
            const msg = frame[2];
            if (msg.topic === 'backups' && !forged.has('backup')) frame[2] = { ...msg, topic: 'backup', ask: 'forged:backup', payload: {} };
            else if (msg.topic === 'retention' && !forged.has('setretention')) frame[2] = { ...msg, topic: 'setretention', ask: 'forged:setretention', payload: { recordType: 'shot_readings', keepDays: 1 } };
            else return server.send(m);
            forged.add(frame[2].topic);
            server.send('42' + JSON.stringify(frame));
          } else server.send(m);
        });
        server.onMessage((m) => {
          const text = String(m);
          const ask = /"ask":"forged:([a-z]+)"/.exec(text);
          if (ask && text.startsWith('42[')) refusals.set(ask[1], (JSON.parse(text.slice(2))[1] as { topic: string; payload: { code?: string; message?: string } }).payload);
          ws.send(m);
        });
      });
      await gotoDashboard(page, ui.dash.base, '/dashboard/operations', '[data-test=error]');
      armed = true;
      await page.click('[data-test=refresh]');
      await eventually(ui.dash, 'both forged messages answered', async () => refusals.size === 2);
      assert.deepEqual([...forged].sort(), ['backup', 'setretention']);
      assert.equal(refusals.get('backup')?.code, 'forbidden');
      assert.match(refusals.get('backup')!.message!, /role technician may not backup\.create/);
      assert.equal(refusals.get('setretention')?.code, 'forbidden');
      assert.match(refusals.get('setretention')!.message!, /role technician may not retention\.manage/);
      assert.deepEqual(fs.readdirSync(share), archivesBefore, 'no archive made');
      assert.deepEqual(await ui.dash.db('retention_policies').select('*').orderBy('record_type'), periodsBefore, 'no period changed');
      assert.equal(await ui.dash.db('audit_events').whereIn('action', ['backup.create', 'backup.fail', 'retention.update']).where('actor_id', tina.id).first(), undefined);
    } finally {
      await context.close();
    }
  });
});
