/**
 * Time to interactive of the dashboard's tool list and tool detail pages with 1,000 tools, as a
 * tablet meets them (issue 16): on loopback (target cold ≤ 1.0 s), and with Chromium's network and
 * CPU emulation of a tablet on plant Wi-Fi — 20 Mbit/s down, 5 up, 40 ms round trip, CPU 4× slower —
 * (targets cold ≤ 2.0 s, warm ≤ 0.6 s). Also what a cold load transfers, against the same assets
 * uncompressed (the baseline before issue 16: no compression, `max-age=0`). The real start command on a PostgreSQL database of its own
 * (BENCH_DATABASE_URL): the demo plant (40 tools with six weeks of mounts, PM plans, inspections,
 * failures, actions) plus 960 more tools; Debian's Chromium through playwright-core at 768×1024.
 *
 * "Interactive" = the page's data is on screen and its controls answer: the first table row (list)
 * or the tool's title and timeline (detail) rendered, measured in the page as ms since navigation
 * start (performance.now() when the element appeared). Each figure: several loads, median and p95.
 *   cold  a new browser context per load (no HTTP cache, a new Dashboard 2 socket)
 *   warm  a new page in a context that has loaded the dashboard before (cached assets)
 * "shell" is the median time until Dashboard 2 itself had mounted the page's widget (its bundle,
 * socket and page config): what Toolroom's own request and rendering add is the difference.
 * And the list's search: from typing to the narrowed rows on screen.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dashboardAssetsDir } from '../http/dashboard-assets';
import { performance } from 'node:perf_hooks';
import { systemActor } from '../core/auth/actor';
import { seedDemoPlant } from '../core/seed/demo';
import { createTool } from '../core/tools/service';
import { launchBrowser, login, roleUsers, startDashboardApp, VIEWPORTS, type Browser, type BrowserContext, type DashboardApp } from '../test/support/browser';

const TOOLS = Number(process.env.BENCH_TTI_TOOLS ?? 1000);
const LOADS = Number(process.env.BENCH_TTI_LOADS ?? 12);
/** A tablet on plant Wi-Fi (issue 16). */
const TABLET = { latency: 40, downloadThroughput: (20e6 / 8), uploadThroughput: (5e6 / 8), cpu: 4 };
const MODES = [
  { name: 'loopback', emulate: null, targets: { cold: 1000, warm: 600 } },
  { name: 'tablet', emulate: TABLET, targets: { cold: 2000, warm: 600 } },
] as const;

interface Figure {
  label: string;
  samples: number[];
  target?: number;
  /** When Dashboard 2 had mounted the page's widget (before its data arrived). */
  shell?: number[];
}

const pct = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

function print(figures: Figure[]): void {
  console.log(`\nDashboard time to interactive, ${TOOLS} tools, ${VIEWPORTS.tablet.width}×${VIEWPORTS.tablet.height}, ${LOADS} loads each (ms)`);
  console.log(`tablet = ${TABLET.downloadThroughput * 8e-6} Mbit/s down, ${TABLET.uploadThroughput * 8e-6} up, ${TABLET.latency} ms round trip, CPU ${TABLET.cpu}× slower (Chromium emulation)`);
  const [l1, l5] = os.loadavg();
  console.log(`load average ${l1.toFixed(2)} ${l5.toFixed(2)} on ${os.cpus().length} CPUs (the figures grow with it)`);
  console.log('  page'.padEnd(44) + 'median'.padStart(9) + 'p95'.padStart(9) + 'min'.padStart(9) + 'max'.padStart(9) + 'shell'.padStart(9) + '  vs target');
  for (const f of figures) {
    const s = [...f.samples].sort((a, b) => a - b);
    const p95 = pct(s, 0.95);
    console.log(
      `  ${f.label}`.padEnd(44) +
        pct(s, 0.5).toFixed(0).padStart(9) +
        p95.toFixed(0).padStart(9) +
        s[0].toFixed(0).padStart(9) +
        s[s.length - 1].toFixed(0).padStart(9) +
        (f.shell ? pct([...f.shell].sort((a, b) => a - b), 0.5).toFixed(0) : '').padStart(9) +
        (f.target === undefined ? '' : p95 <= f.target ? `  ok (p95 ≤ ${f.target})` : `  OVER (${f.target})`),
    );
  }
}

async function seed(dash: DashboardApp): Promise<void> {
  const t0 = performance.now();
  const demo = await seedDemoPlant(dash.db);
  const system = systemActor('bench');
  const customers = ['Acme Automotive', 'Beta Medical', 'Nordic Appliances', 'Vela Packaging', 'Orbit Electronics'];
  for (let i = demo.tools; i < TOOLS; i++) {
    await createTool(dash.db, system, {
      assetNumber: `B-${String(i).padStart(5, '0')}`,
      name: `Bench mould ${i} ${[2, 4, 8, 16][i % 4]}-cav`,
      customer: customers[i % customers.length],
      cavityCount: [2, 4, 8, 16][i % 4],
      partNumbers: [`BP-${i}`],
      lifetimeShots: (i * 7919) % 900000,
    });
  }
  console.log(`seeded ${TOOLS} tools (${demo.tools} demo tools with history) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/**
 * The baseline: Dashboard 2's scripts and styles as they went before issue 16 (uncompressed), against
 * what a browser that accepts brotli gets now (once the brotli files are made).
 */
async function printAssetBaseline(base: string): Promise<void> {
  const dir = dashboardAssetsDir();
  if (!dir) return;
  const assets = fs.readdirSync(dir).filter((f) => /^index-.*\.(js|css)$/.test(f));
  let plain = 0;
  let compressed = 0;
  for (const name of assets) {
    plain += fs.statSync(path.join(dir, name)).size;
    for (let i = 0; i < 60; i++) {
      const res = await fetch(`${base}/dashboard/assets/${name}`, { headers: { 'accept-encoding': 'br' } });
      const body = Buffer.from(await res.arrayBuffer());
      if (res.headers.get('content-encoding') === 'br' || i === 59) {
        compressed += Number(res.headers.get('content-length') ?? body.length);
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  console.log(`Dashboard 2's index script and style: ${(plain / 1e6).toFixed(2)} MB uncompressed (baseline, max-age=0) → ${(compressed / 1e6).toFixed(2)} MB brotli, immutable`);
}

async function main(): Promise<void> {
  process.env.TEST_DATABASE_URL ??= process.env.BENCH_DATABASE_URL;
  if (!process.env.TEST_DATABASE_URL) throw new Error('dashboard-tti: set BENCH_DATABASE_URL (a PostgreSQL server)');
  const dash = await startDashboardApp('bench_tti');
  let browser: Browser | null = null;
  try {
    await seed(dash);
    const users = await roleUsers(dash.db);
    browser = await launchBrowser();
    const b = browser;

    /** A context logged in (when the app has a login page) as a technician. */
    async function newContext(): Promise<BrowserContext> {
      const context = await b.newContext({ viewport: VIEWPORTS.tablet, baseURL: dash.base });
      if (dash.login) {
        const page = await context.newPage();
        await login(page, dash.base, users.technician);
        await page.close();
      }
      return context;
    }

    /**
     * Load `path` in a new page of `context`: ms from navigation start until Dashboard 2 has mounted
     * the page's widget (`[data-page]`, the shell's share) and until `selector` is on screen (the data),
     * both recorded in the page by a MutationObserver, so no round trip to the bench is counted.
     */
    async function load(context: BrowserContext, path: string, selector: string, emulate: typeof TABLET | null = null): Promise<{ shell: number; data: number; bytes: number }> {
      const page = await context.newPage();
      try {
        if (emulate) {
          const cdp = await context.newCDPSession(page);
          await cdp.send('Network.enable');
          await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: emulate.latency, downloadThroughput: emulate.downloadThroughput, uploadThroughput: emulate.uploadThroughput });
          await cdp.send('Emulation.setCPUThrottlingRate', { rate: emulate.cpu });
        }
        await page.addInitScript(`(() => {
          const seen = (window.__tti = {});
          const check = () => {
            for (const [key, sel] of [['shell', '[data-page]'], ['data', ${JSON.stringify(selector)}]]) {
              if (!seen[key] && document.querySelector(sel)) seen[key] = performance.now();
            }
          };
          new MutationObserver(check).observe(document, { childList: true, subtree: true, attributes: true });
        })()`);
        await page.goto(`${dash.base}${path}`, { waitUntil: 'commit' });
        await page.waitForSelector(selector, { timeout: 30000 });
        const t = (await page.evaluate('window.__tti')) as { shell?: number; data?: number };
        // What came over the wire for this load (0 for what the HTTP cache answered).
        const bytes = (await page.evaluate(
          "performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource')).reduce((n, e) => n + (e.transferSize || 0), 0)",
        )) as number;
        return { shell: t.shell ?? NaN, data: t.data ?? NaN, bytes };
      } finally {
        await page.close();
      }
    }

    const pages = [
      { label: 'tool list', path: '/dashboard/tools', selector: '[data-asset]' },
      { label: 'tool detail (M-1001, demo history)', path: '/dashboard/tool?asset=M-1001', selector: '[data-test=timeline] li' },
      { label: 'tool detail (B-00500)', path: '/dashboard/tool?asset=B-00500', selector: '[data-test=cavities] [data-cavity]' },
    ];
    const figures: Figure[] = [];
    // One untimed load of each first: Node-RED and PostgreSQL warm up as on a running plant.
    {
      const warmup = await newContext();
      for (const p of pages) await load(warmup, p.path, p.selector);
      await warmup.close();
    }
    const transfers: { mode: string; label: string; cold: number; warm: number }[] = [];
    for (const mode of MODES) {
      for (const p of pages) {
        const cold: { shell: number; data: number; bytes: number }[] = [];
        for (let i = 0; i < LOADS; i++) {
          const context = await newContext();
          cold.push(await load(context, p.path, p.selector, mode.emulate));
          await context.close();
        }
        figures.push({ label: `${mode.name}: ${p.label}, cold`, samples: cold.map((c) => c.data), shell: cold.map((c) => c.shell), target: mode.targets.cold });
        const context = await newContext();
        await load(context, p.path, p.selector, mode.emulate);
        const warm: { shell: number; data: number; bytes: number }[] = [];
        for (let i = 0; i < LOADS; i++) warm.push(await load(context, p.path, p.selector, mode.emulate));
        await context.close();
        figures.push({ label: `${mode.name}: ${p.label}, warm`, samples: warm.map((c) => c.data), shell: warm.map((c) => c.shell), target: mode.targets.warm });
        transfers.push({ mode: mode.name, label: p.label, cold: cold[0].bytes, warm: warm[0].bytes });
      }
    }

    // Search: type a word, until the first row is one that matches and the count says so.
    {
      const context = await newContext();
      const page = await context.newPage();
      await page.goto(`${dash.base}/dashboard/tools`);
      await page.waitForSelector('[data-asset]');
      const searches: number[] = [];
      for (let i = 0; i < LOADS; i++) {
        const asset = `B-00${String(100 + i * 37).padStart(3, '0')}`;
        const t0 = performance.now();
        await page.fill('[data-test=search] input', asset);
        await page.waitForSelector(`[data-asset="${asset}"]:first-child`, { timeout: 30000 });
        await page.waitForFunction(`document.querySelectorAll('[data-asset]').length === 1`, undefined, { timeout: 30000 });
        searches.push(performance.now() - t0);
      }
      await context.close();
      figures.push({ label: 'search to result (incl. 250 ms debounce)', samples: searches });
    }
    print(figures);
    console.log('\nBytes over the wire per load (navigation + resources):');
    for (const t of transfers.filter((x) => x.mode === 'loopback')) console.log(`  ${t.label.padEnd(40)} cold ${(t.cold / 1e6).toFixed(2)} MB, warm ${(t.warm / 1e6).toFixed(2)} MB`);
    await printAssetBaseline(dash.base);
  } finally {
    await browser?.close();
    await dash.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
