import assert from 'node:assert/strict';
import { systemActor } from '../../core/auth/actor';
import { revokeAllSessions } from '../../core/accounts/sessions';
import { dashboardSuite, openPage, screenshot } from '../support/browser';

/**
 * The session seen from the pages: every page has a way out in its header, and a page whose
 * session ends elsewhere (an admin logs the user out everywhere) goes to the login page by itself,
 * coming back to where it was after.
 */
describe('dashboard: the session on every page', function () {
  this.timeout(300000);

  const ui = dashboardSuite('session');

  it('opens its socket as a WebSocket straight away: no long-polling round trips before the first data', async function () {
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/home' });
    try {
      const polling: string[] = [];
      const sockets: string[] = [];
      page.on('request', (r) => { if (/socket\.io\/.*transport=polling/.test(r.url())) polling.push(r.url()); });
      page.on('websocket', (ws) => sockets.push(ws.url()));
      await page.reload();
      await page.waitForSelector('[data-page=home] [data-test=my-actions]', { timeout: 30000 });
      assert.equal(polling.length, 0, `no polling request: ${polling.join(', ')}`);
      assert.ok(sockets.some((u) => /\/dashboard\/socket\.io\/.*transport=websocket/.test(u)), `a WebSocket to the dashboard: ${sockets.join(', ')}`);
    } finally {
      await context.close();
    }
  });

  it('offers Log out in the header, and sends a page whose session ended to the login page', async function () {
    if (!ui.dash.login) this.skip();
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/tools' });
    try {
      const logout = page.locator('header [data-test=logout], #app-bar-actions [data-test=logout]');
      await logout.waitFor({ timeout: 20000 });
      const box = (await logout.boundingBox())!;
      assert.ok(box.height >= 48, `the header link is a 48 px target (${box.height} px)`);
      await screenshot(page, 'session-header-tablet');

      await revokeAllSessions(ui.dash.db, systemActor('e2e'), { userId: ui.users.technician.id });
      await page.waitForURL(/\/toolroom\/login\?next=%2Fdashboard%2Ftools/, { timeout: 20000 });

      await page.goto(`${ui.dash.base}/toolroom/logout`);
      assert.equal(new URL(page.url()).pathname, '/toolroom/login', 'an ended session is asked to log in again');
    } finally {
      await context.close();
    }
  });
});
