import assert from 'node:assert/strict';
import { actorFromUser } from '../../core/auth/actor';
import * as kpi from '../../core/kpi/service';
import { dashboardSuite, openPage, screenshot, type Page } from '../support/browser';

/**
 * The engineers' Reliability page (issue 11) on the demo plant's history, in Chromium against the
 * real start command: the Pareto bars and the MTBF/MTTR table show core's KPI answers for the same
 * range; a technician is told the page is not for them and the server refuses the KPIs.
 */
describe('dashboard: reliability page', function () {
  this.timeout(300000);

  const ui = dashboardSuite('reliability', { seed: true });

  /** The page's range: whole UTC days ending at tonight's midnight. */
  function range(days: number) {
    const to = new Date();
    to.setUTCHours(24, 0, 0, 0);
    return { from: new Date(to.getTime() - days * 86400000).toISOString(), to: to.toISOString() };
  }

  const fixed = (n: number | null, digits: number) =>
    n == null ? '–' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

  async function shown(page: Page) {
    const bars = await page.$$eval('[data-test=pareto] [data-code]', (els) => els.map((e) => [e.getAttribute('data-code'), Number(e.getAttribute('data-failures'))]));
    const rows = await page.$$eval('[data-test=reliability] [data-tool]', (els) =>
      els.map((e) => [e.getAttribute('data-tool'), ...['failures', 'mtbfShots', 'mttrHours'].map((c) => e.querySelector(`[data-col=${c}]`)!.textContent!.trim())]),
    );
    return { bars, rows };
  }

  it("shows an engineer the failure Pareto and MTBF/MTTR per tool (those that ran or failed, most failures first) as core's KPIs give them, for the chosen range", async () => {
    const engineer = actorFromUser({ id: ui.users.engineer.id, username: ui.users.engineer.username, role: 'engineer' }, 'e2e');
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.engineer, path: '/dashboard/reliability', ready: '[data-test=pareto] [data-code]' });
    try {
      for (const days of [90, 365]) {
        if (days !== 90) {
          await page.click(`[data-test=range-${days}]`);
          await page.waitForSelector('[data-test=pareto]', { timeout: 15000 });
        }
        const span = range(days);
        const expect = async () => {
          const pareto = await kpi.failurePareto(ui.dash.db, engineer, { ...span, dimension: 'code' });
          const tools = await kpi.reliability(ui.dash.db, engineer, { ...span, by: 'tool' });
          assert.ok(pareto.length > 0 && tools.some((t) => t.failures > 0), `the demo seed has failures in the last ${days} days`);
          return {
            bars: pareto.map((r) => [r.key, r.failures]),
            rows: tools
              .filter((t) => t.failures || t.operatingShots || t.operatingHours)
              .sort((a, b) => b.failures - a.failures || (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0))
              .map((t) => [t.subject, t.failures.toLocaleString('en-US'), fixed(t.mtbfShots, 0), fixed(t.mttrHours, 1)]),
          };
        };
        // The page answers asynchronously after a range change, and the demo's presses keep counting shots
        // (MTBF in shots grows): wait until the page shows this range's figures as core gives them then.
        let [got, expected] = [await shown(page), await expect()];
        for (let i = 0; i < 50 && JSON.stringify(got) !== JSON.stringify(expected); i++) {
          await page.waitForTimeout(200);
          [got, expected] = [await shown(page), await expect()];
        }
        assert.deepEqual(got, expected, `last ${days} days`);
      }
      assert.ok((await page.$$('[data-test=compliance] [data-month]')).length > 0, 'PM compliance per month drawn');
      assert.ok((await page.$$('[data-test=maintenance] [data-month]')).length > 0, 'scheduled vs unscheduled per month drawn');
      assert.equal(await page.$('[data-test=not-allowed]'), null);
      await screenshot(page, 'reliability-engineer-tablet');
    } finally {
      await context.close();
    }
  });

  it('refuses a technician: the page says so and the server answers forbidden', async function () {
    if (!ui.dash.login) this.skip();
    const { context, page } = await openPage(ui.browser, ui.dash, { user: ui.users.technician, path: '/dashboard/reliability', ready: '[data-test=not-allowed]' });
    try {
      await page.waitForSelector('[data-test=error][data-code=forbidden]', { timeout: 15000 });
      assert.equal(await page.$('[data-test=pareto]'), null, 'no Pareto');
      assert.equal(await page.$('[data-test=reliability]'), null, 'no MTBF table');
      await screenshot(page, 'reliability-technician-tablet');
    } finally {
      await context.close();
    }
  });
});
