import assert from 'node:assert/strict';
import { systemActor } from '../../core/auth/actor';
import { createAction } from '../../core/actions/service';
import { createTool } from '../../core/tools/service';
import { dashboardSuite, ensureUser, eventually, openPage, screenshot, smallTouchTargets, type Page, type TestUser } from '../support/browser';

/**
 * The inbox (issue 13) in Debian's Chromium against the real start command: two technicians logged
 * in side by side in their own browser contexts; an action assigned to one is in that one's inbox
 * and header count only, and acknowledging it takes the count to 0.
 */
describe('dashboard: inbox', function () {
  this.timeout(300000);
  let anna: TestUser;
  let ben: TestUser;
  const system = systemActor('e2e');

  const ui = dashboardSuite('inbox', { roleUsers: false });

  before(async () => {
    anna = await ensureUser(ui.dash.db, { username: 'anna', displayName: 'Anna Technician', role: 'technician' });
    ben = await ensureUser(ui.dash.db, { username: 'ben', displayName: 'Ben Technician', role: 'technician' });
  });

  const unread = (page: Page) => page.textContent('[data-test=unread-count]', { timeout: 15000 });
  /** The header's count reaches `n` (it asks on load, every 60 s and when the inbox acknowledges). */
  const countIs = (page: Page, n: number) =>
    page.waitForFunction(`document.querySelector('[data-test=unread-count]')?.textContent?.trim() === '${n}'`, null, { timeout: 15000 });

  it("shows an assigned action in the assignee's inbox only, with the header's count; acknowledging takes it to 0", async () => {
    assert.ok(ui.dash.login, 'the app serves a login page (an inbox is a logged-in user’s)');
    const a = await openPage(ui.browser, ui.dash, { user: anna, path: '/dashboard/inbox', ready: '[data-test=unread-count]' });
    const b = await openPage(ui.browser, ui.dash, { user: ben, path: '/dashboard/inbox', ready: '[data-test=unread-count]' });
    try {
      assert.equal((await unread(a.page))!.trim(), '0');
      assert.equal((await unread(b.page))!.trim(), '0');

      const tool = await createTool(ui.dash.db, system, { assetNumber: 'M-7001', name: 'Closure 28 mm', cavityCount: 4 });
      const action = await createAction(ui.dash.db, system, { toolId: tool.id, title: 'Replace ejector pin 3', assigneeId: Number(anna.id) });
      const note = await eventually(ui.dash, 'the inbox notification', () => ui.dash.db('notifications').where({ user_id: Number(anna.id), channel: 'inbox' }).first());

      // Both reload (the header asks on load): Anna sees it, bold, with the count 1; Ben nothing.
      await a.page.reload();
      await b.page.reload();
      const card = await a.page.waitForSelector(`[data-notification="${note.id}"]`, { timeout: 15000 });
      assert.match((await card.textContent())!, /Replace ejector pin 3.*M-7001/);
      assert.equal(await card.getAttribute('data-read'), 'no');
      assert.equal(await a.page.$eval(`[data-notification="${note.id}"] .tr-note-title`, (el) => (globalThis as unknown as { getComputedStyle(e: unknown): { fontWeight: string } }).getComputedStyle(el).fontWeight), '700');
      await countIs(a.page, 1);
      await b.page.waitForSelector('[data-test=count]:has-text("0 of 0")', { timeout: 15000 });
      assert.equal((await unread(b.page))!.trim(), '0', "not in Ben's count");
      assert.equal(await b.page.$(`[data-notification="${note.id}"]`), null, "not in Ben's inbox");
      await screenshot(a.page, 'inbox-unread-tablet');
      assert.deepEqual(await smallTouchTargets(a.page), [], 'every control at least 48 px');
      assert.deepEqual(await smallTouchTargets(a.page, 48, '#app-bar-actions'), [], 'the header count and log out at least 48 px');

      // Anna acknowledges: read on the page, the header at 0 without a reload, and in the database.
      await a.page.click(`[data-notification="${note.id}"] [data-test=acknowledge]`);
      await a.page.waitForSelector(`[data-notification="${note.id}"][data-read="yes"]`, { timeout: 15000 });
      await countIs(a.page, 0);
      const row = await ui.dash.db('notifications').where('id', note.id).first();
      assert.ok(row.read_at, 'read_at set');
      const audit = await ui.dash.db('audit_events').where({ entity: 'notification', entity_id: String(note.id) }).first();
      assert.equal(audit?.actor_id, anna.id, 'the acknowledgement is audited as Anna');

      // The link opens the record's page.
      await a.page.click(`[data-notification="${note.id}"] [data-test=open]`);
      await a.page.waitForURL(/\/dashboard\/actions/);
      await a.page.waitForSelector(`[data-action="${action.id}"]`, { timeout: 15000 });
    } finally {
      await a.context.close();
      await b.context.close();
    }
  });
});
