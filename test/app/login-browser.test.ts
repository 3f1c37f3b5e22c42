import assert from 'node:assert/strict';
import fs from 'node:fs';
import { systemActor } from '../../core/auth/actor';
import { setPassword } from '../../core/accounts/service';
import type { Db } from '../../core/db/connect';
import { createTool } from '../../core/tools/service';
import { createUser } from '../../core/users/service';
import { launchBrowser, screenshot, smallTouchTargets, VIEWPORTS, type Browser } from '../support/browser';
import { appOnEmptyDatabase, type App, type AppOnEmptyDatabase } from '../support/app';

/**
 * The login pages in Debian's Chromium at tablet size, in front of the real Dashboard 2 client:
 * sent to log in, a refusal shown, logged in to the page first asked for (its socket carrying the
 * session), logged out, and sent to log in again.
 */
const serverUrl = process.env.TEST_DATABASE_URL;
const PASSWORD = 'Plant-Floor-Secret-42';

describe('login in a browser (issue 5): npm start + Chromium', function () {
  this.timeout(300000);
  let started: AppOnEmptyDatabase;
  let db: Db;
  let app: App;
  let browser: Browser;

  before(async function () {
    if (!serverUrl || !fs.existsSync(process.env.CHROMIUM_PATH || '/usr/bin/chromium')) {
      if (process.env.CI || process.env.TOOLROOM_REQUIRE_SERVER) throw new Error('this suite needs TEST_DATABASE_URL and Chromium');
      return this.skip();
    }
    started = await appOnEmptyDatabase('loginb', serverUrl, 'Toolroom-First-2026!');
    ({ app, db } = started);
    const system = systemActor('test');
    const tina = await createUser(db, system, { username: 'tina', displayName: 'Tina Technician', role: 'technician' });
    await setPassword(db, system, { userId: tina.id, password: PASSWORD, mustChange: false });
    await createTool(db, system, { assetNumber: 'LB-1', name: 'Browser login mould', cavityCount: 4 });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await started?.stop();
  });

  it('logs a technician in on a tablet, into the page she asked for, and out again', async () => {
    const context = await browser.newContext({ viewport: VIEWPORTS.tablet });
    const page = await context.newPage();
    try {
      await page.goto(`${app.base}/dashboard/tools`);
      await page.waitForURL(/\/toolroom\/login\?next=%2Fdashboard%2Ftools$/);
      assert.deepEqual(await smallTouchTargets(page, 48, 'main'), [], 'every input and button at least 48 px');
      await screenshot(page, 'login-tablet');

      await page.fill('input[name=username]', 'tina');
      await page.fill('input[name=password]', 'wrong-password');
      await page.click('button[type=submit]');
      await page.waitForSelector('.msg:has-text("Unknown username or wrong password")');
      assert.equal(await page.inputValue('input[name=username]'), 'tina', 'the username is kept');
      assert.equal(await page.inputValue('input[name=password]'), '', 'the password is not');
      await screenshot(page, 'login-refused-tablet');

      await page.fill('input[name=password]', PASSWORD);
      await Promise.all([page.waitForURL(`${app.base}/dashboard/tools`), page.click('button[type=submit]')]);
      // The Dashboard 2 client connected its socket with the session: the page's flow answers with her tools.
      await page.waitForSelector('[data-asset="LB-1"]', { timeout: 30000 });
      const cookies = await context.cookies();
      assert.equal(cookies.find((c) => c.name === 'toolroom_session')?.httpOnly, true);

      await page.goto(`${app.base}/toolroom/logout`);
      await page.waitForSelector('text=Logged in as');
      await Promise.all([page.waitForURL(/\/toolroom\/login\?loggedOut=1$/), page.click('button[type=submit]')]);
      await page.waitForSelector('.msg:has-text("You are logged out")');
      await page.goto(`${app.base}/dashboard/tools`);
      await page.waitForURL(/\/toolroom\/login\?next=/);
    } finally {
      await context.close();
    }
  });
});
