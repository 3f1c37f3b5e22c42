import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { setPassword } from '../../core/accounts/service';
import { systemActor } from '../../core/auth/actor';
import type { UserRole } from '../../core/auth/actor';
import type { Db } from '../../core/db/connect';
import { createUser, getUser } from '../../core/users/service';
import { ownDatabase, requireServers, root, startApp, until, type App } from './e2e';

/**
 * The shared browser harness of the dashboard end-to-end suites (issue 6): the real start command
 * on a database of the suite's own, Debian's Chromium driven by playwright-core, one browser
 * context (own cookies, own Dashboard 2 socket) per user, logged in through /toolroom/login when
 * the app has a login page, and screenshots under test-artifacts/screenshots/.
 *
 * Typical suite:
 *
 *   let dash: DashboardApp; let browser: Browser; let users: RoleUsers;
 *   before(async function () {
 *     this.timeout(240000);
 *     requireDashboardServers(this);
 *     dash = await startDashboardApp('tools');
 *     users = await roleUsers(dash.db);
 *     browser = await launchBrowser();
 *   });
 *   after(async () => { await browser?.close(); await dash?.stop(); });
 *   it('...', async () => {
 *     const { page, context } = await openPage(browser, dash, { user: users.technician, path: '/dashboard/tools' });
 *     ...
 *     await screenshot(page, 'tools-list');
 *     await context.close();
 *   });
 */

export type { Browser, BrowserContext, Page } from 'playwright-core';
export { until, sleep, root } from './e2e';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Sizes the issue names: a tablet in portrait (the screenshots' size), a desk, a phone. */
export const VIEWPORTS = {
  tablet: { width: 768, height: 1024 },
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;
export type ViewportName = keyof typeof VIEWPORTS;

export const SCREENSHOT_DIR = path.join(root, 'test-artifacts', 'screenshots');

/** The password every test user gets (passes core's password policy). */
export const TEST_PASSWORD = 'Mould-Maint-2026!';

/** Skip (or, under the test command, fail) when there is no PostgreSQL server or no Chromium. */
export function requireDashboardServers(ctx: Mocha.Context): void {
  requireServers(ctx, ['postgres']);
  if (!fs.existsSync(CHROMIUM)) {
    if (process.env.CI || process.env.TOOLROOM_REQUIRE_SERVER) throw new Error(`dashboard suite needs Chromium at ${CHROMIUM} (scripts/chromium.sh installs it)`);
    ctx.skip();
  }
}

let xdgDir: string | null = null;

/** Headless Chromium (Debian's), with its config and cache in a temp dir. */
export async function launchBrowser(): Promise<Browser> {
  xdgDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-chromium-'));
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    env: { ...process.env, XDG_CONFIG_HOME: xdgDir, XDG_CACHE_HOME: xdgDir },
  });
}

export interface DashboardApp {
  readonly app: App;
  /** http://127.0.0.1:<port> */
  readonly base: string;
  /** The app's database (PostgreSQL server), for arranging data and asserting what was written. */
  readonly db: Db;
  readonly dbUrl: string;
  /** Whether the app serves a login page (issue 5); without one pages work without a session. */
  readonly login: boolean;
  /** Stop the app, drop its database and data dir. */
  stop(): Promise<void>;
}

export interface StartDashboardOptions {
  /** Seed the demo plant (6 presses, 40 tools, history). Default false (`--no-seed`). */
  seed?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** The first-start admin's password the harness sets (TOOLROOM_ADMIN_PASSWORD). */
export const ADMIN_PASSWORD = 'Plant-Keeper-2026!';

/**
 * `npm start`'s command on a free port with a fresh data dir and a fresh PostgreSQL database
 * (`toolroom_e2e_<name>_<pid>`, migrated before the start): the application flows (flows/ and
 * dashboards/) deployed as on a first start.
 */
export async function startDashboardApp(name: string, options: StartDashboardOptions = {}): Promise<DashboardApp> {
  const own = await ownDatabase(name);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `toolroom-dash-${name}-`));
  let app: App;
  try {
    app = await startApp(
      { DATABASE_URL: own.url, INFLUX_URL: '', TOOLROOM_ADMIN_PASSWORD: ADMIN_PASSWORD, ...options.env },
      options.seed ? [] : ['--no-seed'],
      { dataDir },
    );
  } catch (err) {
    await own.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const res = await fetch(`${app.base}/toolroom/login`, { redirect: 'manual' }).catch(() => null);
  const login = res !== null && res.status === 200;
  // Suites skip their role and forgery cases without a login page: in CI a broken one must fail, not skip them.
  if (!login && (process.env.CI || process.env.TOOLROOM_REQUIRE_SERVER) && options.env?.TOOLROOM_AUTH !== 'off') {
    await app.stop();
    await own.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`dashboard suite ${name}: the login page answered ${res ? res.status : 'nothing'}`);
  }
  return {
    app,
    base: app.base,
    db: own.db,
    dbUrl: own.url,
    login,
    async stop() {
      await app.stop();
      await own.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestUser {
  id: string;
  username: string;
  displayName: string;
  role: UserRole;
  password: string;
}
export type RoleUsers = Record<UserRole, TestUser>;

/** A user with a password (not temporary), made with core as the system actor; an existing one is reused. */
export async function ensureUser(db: Db, user: { username: string; role: UserRole; displayName?: string; password?: string }): Promise<TestUser> {
  const actor = systemActor('e2e');
  const password = user.password ?? TEST_PASSWORD;
  const existing = await getUser(db, actor, { username: user.username }).catch(() => null);
  const made =
    existing ?? (await createUser(db, actor, { username: user.username, displayName: user.displayName ?? user.username, role: user.role }));
  await setPassword(db, actor, { userId: made.id, password, mustChange: false });
  return { id: String(made.id), username: made.username, displayName: made.displayName, role: made.role, password };
}

/** One user per role: tina (technician), eric (engineer), ada (admin). */
export async function roleUsers(db: Db): Promise<RoleUsers> {
  return {
    technician: await ensureUser(db, { username: 'tina', displayName: 'Tina Technician', role: 'technician' }),
    engineer: await ensureUser(db, { username: 'eric', displayName: 'Eric Engineer', role: 'engineer' }),
    admin: await ensureUser(db, { username: 'ada', displayName: 'Ada Admin', role: 'admin' }),
  };
}

/** What a dashboard suite shares: the app (own database), the role users and one Chromium. */
export interface DashboardSuite {
  dash: DashboardApp;
  browser: Browser;
  /** Empty when the suite was started with `roleUsers: false`. */
  users: RoleUsers;
}

export interface DashboardSuiteOptions extends Omit<StartDashboardOptions, 'env'> {
  /** The app's environment, or a function that makes it (and what it names) once the suite starts. */
  env?: NodeJS.ProcessEnv | (() => Promise<NodeJS.ProcessEnv>);
  roleUsers?: boolean;
}

/**
 * A dashboard suite's fixture, made in a `before` hook registered by this call and dropped in an
 * `after` hook: startDashboardApp(name), the role users (unless `roleUsers: false`) and one
 * Chromium. Its fields are there once that `before` has run (in the suite's own hooks and tests).
 */
export function dashboardSuite(name: string, options: DashboardSuiteOptions = {}): DashboardSuite {
  const suite = { users: {} } as DashboardSuite;
  before(async function () {
    requireDashboardServers(this);
    const env = typeof options.env === 'function' ? await options.env() : options.env;
    suite.dash = await startDashboardApp(name, { seed: options.seed, env });
    if (options.roleUsers !== false) suite.users = await roleUsers(suite.dash.db);
    suite.browser = await launchBrowser();
  });
  after(async () => {
    await suite.browser?.close();
    await suite.dash?.stop();
  });
  return suite;
}

/** Log in through the app's login page; resolves on the page it redirects to. */
export async function login(page: Page, base: string, user: TestUser, next = '/dashboard'): Promise<void> {
  await page.goto(`${base}/toolroom/login?next=${encodeURIComponent(next)}`);
  await page.fill('input[name=username]', user.username);
  await page.fill('input[name=password]', user.password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/toolroom/login'), { timeout: 20000 }), page.click('button[type=submit]')]);
}

export interface OpenPageOptions {
  /** Who logs in (null: nobody). */
  user?: TestUser | null;
  /** A path under the app, e.g. '/dashboard/tools' or '/dashboard/tool?asset=M-1001'. */
  path?: string;
  viewport?: ViewportName | { width: number; height: number };
  colorScheme?: 'light' | 'dark';
  /** Wait for this selector after navigating (default: a rendered Dashboard 2 page). */
  ready?: string;
}

/**
 * A fresh browser context (own cookies and socket: one per user, so users never share a session),
 * logged in as `user` when the app has a login page, on `path`, once the dashboard has rendered.
 */
export async function openPage(browser: Browser, dash: DashboardApp, options: OpenPageOptions = {}): Promise<{ context: BrowserContext; page: Page }> {
  const viewport = typeof options.viewport === 'object' ? options.viewport : VIEWPORTS[options.viewport ?? 'tablet'];
  const context = await browser.newContext({ viewport, colorScheme: options.colorScheme ?? 'light', baseURL: dash.base });
  const page = await context.newPage();
  const target = options.path ?? '/dashboard';
  if (options.user && dash.login) await login(page, dash.base, options.user, target);
  if (!options.user || !dash.login || new URL(page.url()).pathname + new URL(page.url()).search !== target) {
    await page.goto(`${dash.base}${target}`);
  }
  if (target.startsWith('/dashboard')) await dashboardReady(page, options.ready);
  else if (options.ready) await page.waitForSelector(options.ready, { timeout: 30000 });
  return { context, page };
}

/** Dashboard 2 has connected its socket and rendered the page's widgets (and `selector`, if given). */
export async function dashboardReady(page: Page, selector?: string, timeout = 30000): Promise<void> {
  await page.waitForSelector('.nrdb-layout-group, .nrdb-ui-widget, [data-widget-type]', { timeout });
  if (selector) await page.waitForSelector(selector, { timeout });
}

/** Navigate within an open page (keeps the login) and wait for the dashboard. */
export async function gotoDashboard(page: Page, base: string, target: string, selector?: string): Promise<void> {
  await page.goto(`${base}${target}`);
  await dashboardReady(page, selector);
}

/** Save a full-page PNG as test-artifacts/screenshots/<name>.png (gitignored); returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^a-zA-Z0-9._-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Interactive elements smaller than `min` px in either dimension that a user could tap
 * (buttons, inputs, links, selects, table rows with a click handler excluded), as text lines.
 */
export async function smallTouchTargets(page: Page, min = 48, within = 'main'): Promise<string[]> {
  return page.evaluate(
    ({ min, within }) => {
      const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<unknown> } }).document;
      const out: string[] = [];
      const els = Array.from(doc.querySelectorAll(`${within} button, ${within} a[href], ${within} input:not([type=hidden]), ${within} select, ${within} [role=button]`)) as {
        getBoundingClientRect(): { width: number; height: number };
        closest(s: string): unknown;
        tagName: string;
        textContent: string | null;
        getAttribute(n: string): string | null;
        offsetParent: unknown;
      }[];
      for (const el of els) {
        if (el.offsetParent === null) continue;
        // An input's touch target is its field (Vuetify wraps it), a radio/checkbox its control.
        const box = (el.closest('.v-field, .v-selection-control, .v-btn') as typeof el | null) ?? el;
        const r = box.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue;
        if (r.width < min || r.height < min) {
          out.push(`${el.tagName.toLowerCase()} "${(el.textContent || el.getAttribute('aria-label') || el.getAttribute('name') || '').trim().slice(0, 40)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
        }
      }
      return out;
    },
    { min, within },
  );
}

/** Wait until `check` is truthy (database state, page text): `until` with the app's output on failure. */
export async function eventually<T>(dash: DashboardApp, what: string, check: () => Promise<T | undefined | null | false>, ms = 20000): Promise<T> {
  try {
    return await until(what, check, ms);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- app output ---\n${dash.app.output().slice(-3000)}`);
  }
}
