import assert from 'node:assert/strict';
import { tableCounts } from '../support/db';
import { dashboardSuite, screenshot, VIEWPORTS } from '../support/browser';

/**
 * A dashboard message without a logged-in user must never act as the all-powerful `system` actor:
 * the pages' flows let through only messages carrying msg._client.user (set by the login plugin),
 * unless the start command runs without login (TOOLROOM_AUTH=off, loopback only). Here the app runs
 * with login: the dashboard sends the browser to log in; a page that is reached anyway answers
 * "Log in first" and nothing is written.
 */
describe('dashboard: no user, no action', function () {
  this.timeout(300000);
  const ui = dashboardSuite('guard', { roleUsers: false });

  it('refuses to read or register anything for a browser without a user', async () => {
    const context = await ui.browser.newContext({ viewport: VIEWPORTS.tablet });
    const page = await context.newPage();
    try {
      await page.goto(`${ui.dash.base}/dashboard/tool-form`);
      if (ui.dash.login) {
        await page.waitForURL(/\/toolroom\/login/, { timeout: 20000 });
        return;
      }
      await page.waitForSelector('[data-test=submit]', { timeout: 30000 });
      const before = await tableCounts(ui.dash.db);
      for (const [name, v] of Object.entries({ assetNumber: 'G-1', name: 'Guarded', cavityCount: '2' })) await page.fill(`[name="${name}"]`, v);
      await page.click('[data-test=submit]');
      await page.waitForSelector('[data-test=error]:has-text("Log in first")', { timeout: 15000 });
      assert.deepEqual(await tableCounts(ui.dash.db), before, 'nothing written');
      assert.equal(await page.inputValue('input[name="assetNumber"]'), 'G-1', 'the input is kept');
      await screenshot(page, 'guard-no-user-tablet');
      await page.goto(`${ui.dash.base}/dashboard/tools`);
      await page.waitForSelector('[data-test=error]:has-text("Log in first")', { timeout: 30000 });
      assert.equal(await page.locator('[data-asset]').count(), 0);
    } finally {
      await context.close();
    }
  });
});
