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
