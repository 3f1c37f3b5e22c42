import assert from 'node:assert/strict';
import { CookieJar, loginForm, request, type Answer } from '../support/app';
import {
  launchBrowser,
  login,
  requireDashboardServers,
  roleUsers,
  startDashboardApp,
  type Browser,
  type DashboardApp,
  type RoleUsers,
} from '../support/browser';

/**
 * Issue 15's probe as regression tests, against the real start command (PostgreSQL server,
 * Chromium): each finding that was fixed, and a sweep over routes for the habits (headers on every
 * answer, no stack to a caller, redirects that stay on the site). Findings 8, 9 and 11 are also in
 * test/core (accounts, pm); 5 in test/core/accounts.
 */
const API = '/toolroom/api/v1';

/** Where a browser goes with a Location header: another host is a failure. */
function staysOnSite(location: string | undefined): boolean {
  if (!location) return true;
  const resolved = new URL(location, 'http://toolroom.test/');
  return resolved.host === 'toolroom.test';
}

/** Open redirect payloads: normalisation, encodings, backslashes, tabs, schemes. */
const REDIRECTS = [
  '/.//evil.example/phish',
  '/..//evil.example',
  '/%2e//evil.example',
  '/a/..//evil.example',
  '/./\\evil.example',
  '//evil.example',
  '/\\evil.example',
  '\\\\evil.example',
  '/\t/evil.example',
  '/%09/evil.example',
  '/%2F/evil.example',
  '/%5C/evil.example',
  'https://evil.example/',
  'http:evil.example',
  '///evil.example',
  '/dashboard/../..//evil.example',
  'javascript:alert(1)',
  '/%0d%0aLocation:%20//evil.example',
];

/** No stack frame, file path or library internals in what a caller is told. */
function assertNoInternals(answer: Answer, what: string): void {
  assert.doesNotMatch(answer.body, /\n\s+at \S|node_modules|\/work\/|\/dist\/|\.js:\d+/, `${what} shows internals: ${answer.body.slice(0, 300)}`);
}

const REQUIRED_HEADERS = ['content-security-policy', 'x-content-type-options', 'referrer-policy'];

describe('security (issue 15): the probe as regression tests', function () {
  this.timeout(240000);
  let dash: DashboardApp;
  let users: RoleUsers;
  let browser: Browser | undefined;
  const jars: Partial<Record<'technician' | 'engineer' | 'admin', CookieJar>> = {};

  const loggedIn = async (role: 'technician' | 'engineer' | 'admin') => {
    if (jars[role]) return jars[role]!;
    const jar = new CookieJar();
    const answer = await loginForm(dash.base, jar, { username: users[role].username, password: users[role].password });
    assert.equal(answer.status, 303, answer.body.slice(0, 300));
    jars[role] = jar;
    return jar;
  };
  const api = async (jar: CookieJar, method: string, path: string, body?: unknown, raw?: Buffer | string) =>
    request(`${dash.base}${API}${path}`, {
      method,
      jar,
      headers: { 'content-type': 'application/json', 'x-csrf-token': jar.get('toolroom_csrf') ?? '' },
      body: raw !== undefined ? (raw as string) : body === undefined ? undefined : JSON.stringify(body),
    });
  const audits = (action: string) => dash.db('audit_events').where('action', action).orderBy('id');

  before(async function () {
    requireDashboardServers(this);
    dash = await startDashboardApp('security');
    users = await roleUsers(dash.db);
  });
  after(async () => {
    await browser?.close();
    await dash?.stop();
  });

  it('1. keeps every redirect after login on this site (the normalised target is checked)', async () => {
    const jar = await loggedIn('technician');
    for (const payload of REDIRECTS) {
      const answer = await request(`${dash.base}/toolroom/login?next=${encodeURIComponent(payload)}`, { jar });
      assert.ok([200, 303].includes(answer.status), `${payload}: ${answer.status}`);
      assert.ok(staysOnSite(answer.headers.location), `${payload} sent a logged-in user to ${answer.headers.location}`);
      assert.ok(!String(answer.headers.location ?? '').startsWith('//'), `${payload} → ${answer.headers.location}`);
    }
    // The form's `next` after a successful login too.
    for (const payload of REDIRECTS.slice(0, 6)) {
      const fresh = new CookieJar();
      const answer = await loginForm(dash.base, fresh, { username: users.engineer.username, password: users.engineer.password }, { next: payload });
      assert.equal(answer.status, 303);
      assert.ok(staysOnSite(answer.headers.location) && !String(answer.headers.location).startsWith('//'), `${payload} → ${answer.headers.location}`);
    }
  });

  it("2. blocks Dashboard 2's /_debug routes in any letter case or encoding", async () => {
    const jar = await loggedIn('admin');
    for (const path of ['/dashboard/_debug/datastore/x', '/dashboard/_DEBUG/datastore/x', '/dashboard/_Debug/statestore/x', '/dashboard/%5Fdebug/datastore/x', '/dashboard/%5fDEBUG/x', '/dashboard//_debug/datastore/x']) {
      const answer = await request(`${dash.base}${path}`, { jar });
      assert.equal(answer.status, 404, `${path} answered ${answer.status}`);
    }
  });

  it('3. answers malformed requests without a stack, a path or a library name', async () => {
    const cases: [string, Parameters<typeof request>[1]][] = [
      ['/locales/%E0%A4%A', {}],
      ['/auth/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"client_id": ' }],
      ['/auth/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(6 * 1024 * 1024) }) }],
      ['/auth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=%E0%A4%A&'.repeat(10) }],
      ['/nodes/%E0%A4%A', {}],
      [`${API}/tools/%E0%A4%A`, {}],
      [`${API}/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":' }],
    ];
    for (const [path, options] of cases) {
      const answer = await request(`${dash.base}${path}`, options);
      assert.ok(answer.status >= 400 && answer.status < 500, `${path}: ${answer.status} ${answer.body.slice(0, 200)}`);
      assertNoInternals(answer, path);
      assert.equal(answer.headers['x-powered-by'], undefined, path);
    }
  });

  it('6. sets the security headers on every answer, with HSTS only over TLS, and no X-Powered-By', async () => {
    const jar = await loggedIn('admin');
    const token = (await request(`${dash.base}/auth/token`, { form: { client_id: 'node-red-editor', grant_type: 'password', scope: '', username: users.admin.username, password: users.admin.password } })).json<{ access_token: string }>().access_token;
    const paths = ['/', '/red/main.min.js', '/locales/editor', '/settings', '/dashboard/', '/dashboard/home', '/toolroom/login', `${API}/tools`, `${API}/openapi.json`, `${API}/docs`, `${API}/nope`, '/no/such/page'];
    for (const path of paths) {
      const answer = await request(`${dash.base}${path}`, { jar, headers: path.startsWith('/settings') || path.startsWith('/locales') ? { authorization: `Bearer ${token}` } : {} });
      for (const h of REQUIRED_HEADERS) assert.ok(answer.headers[h], `${path} (${answer.status}) has no ${h}`);
      const csp = String(answer.headers['content-security-policy']);
      assert.ok(answer.headers['x-frame-options'] || /frame-ancestors/.test(csp), `${path} may be framed`);
      assert.equal(answer.headers['x-content-type-options'], 'nosniff', path);
      assert.equal(answer.headers['x-powered-by'], undefined, `${path} says what serves it`);
      assert.equal(answer.headers['strict-transport-security'], undefined, `${path}: no HSTS over plain HTTP`);
      assert.doesNotMatch(csp, /\*/, `${path}: no wildcard source in ${csp}`);
    }
  });

  it('6. the CSPs let the dashboard and the editor work in Chromium without a violation', async function () {
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const violations: string[] = [];
    await page.exposeFunction('__cspViolation', (text: string) => violations.push(text));
    await page.addInitScript({
      content: "document.addEventListener('securitypolicyviolation', (e) => window.__cspViolation(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber));",
    });
    await login(page, dash.base, users.engineer, '/dashboard/tools');
    await page.waitForSelector('.nrdb-layout-group, .nrdb-ui-widget, [data-widget-type]', { timeout: 30000 });
    await page.goto(`${dash.base}/dashboard/home`);
    await page.waitForSelector('.nrdb-layout-group, .nrdb-ui-widget, [data-widget-type]', { timeout: 30000 });
    // The editor: its login form, then the workspace with the palette.
    await page.goto(`${dash.base}/`);
    await page.waitForSelector('#node-dialog-login-username', { timeout: 30000 });
    await page.fill('#node-dialog-login-username', users.admin.username);
    await page.fill('#node-dialog-login-password', users.admin.password);
    await page.click('#node-dialog-login-submit');
    await page.waitForSelector('#red-ui-palette .red-ui-palette-node[data-palette-type="toolroom-tool"]', { timeout: 60000 });
    await context.close();
    assert.deepEqual(violations, []);
  });

  it('7. audits refused requests (permission, CSRF, bad token), one event per caller and rule in a window', async () => {
    const jar = await loggedIn('technician');
    for (let i = 0; i < 5; i++) {
      const answer = await api(jar, 'POST', '/presses', { code: `PX${i}`, name: 'not mine to add' });
      assert.equal(answer.status, 403);
    }
    const refused = (await audits('security.refused')).filter((e) => e.actor_name === users.technician.username || e.actor_id === users.technician.id);
    assert.equal(refused.length, 1, JSON.stringify(refused.map((e) => e.after)));
    assert.equal(refused[0].after.rule, 'permission');
    // A write without the CSRF header.
    const noCsrf = await request(`${dash.base}${API}/tools`, { method: 'POST', jar, headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(noCsrf.status, 403);
    // A bad API token: nobody we know, audited as the gatekeeper with the address.
    const bad = await request(`${dash.base}${API}/tools`, { headers: { authorization: 'Bearer toolroom_0000000000000000000000000000000000000000' } });
    assert.equal(bad.status, 401);
    const rules = (await audits('security.refused')).map((e) => e.after.rule);
    assert.ok(rules.includes('csrf'), rules.join());
    assert.ok(rules.some((r) => r === 'invalid_token'), rules.join());
  });

  it('10. refuses invalid UTF-8 and lone surrogates, naming the field, writing nothing', async () => {
    const jar = await loggedIn('engineer');
    const tools = Number((await dash.db('tools').count<{ n: string }[]>({ n: '*' }))[0].n);
    const invalid = Buffer.concat([Buffer.from('{"assetNumber":"M-9001","name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('","cavities":1}')]);
    // request() sends strings as UTF-8: the raw bytes go out through node:http.
    const raw = await new Promise<Answer>((resolve, reject) => {
      const url = new URL(`${dash.base}${API}/tools`);
      void import('node:http').then(({ default: http }) => {
        const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(invalid.length), cookie: jar.header(), 'x-csrf-token': jar.get('toolroom_csrf') ?? '' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), json: () => JSON.parse(Buffer.concat(chunks).toString()) }));
        });
        req.on('error', reject);
        req.end(invalid);
      });
    });
    assert.equal(raw.status, 400, raw.body);
    assert.equal(raw.json<{ errors: { rule: string }[] }>().errors[0].rule, 'utf8');
    const lone = await api(jar, 'POST', '/tools', undefined, '{"assetNumber":"M-9002","name":"half \\ud800 a char","cavities":1}');
    assert.equal(lone.status, 400, lone.body);
    const problem = lone.json<{ errors: { field: string; rule: string }[] }>();
    assert.deepEqual(problem.errors.map((e) => [e.field, e.rule]), [['name', 'unicode']]);
    assert.equal(Number((await dash.db('tools').count<{ n: string }[]>({ n: '*' }))[0].n), tools);
  });

  it('11. a PM record must say what was done', async () => {
    const jar = await loggedIn('engineer');
    const answer = await api(jar, 'POST', '/pm/plans/1/record', {});
    assert.equal(answer.status, 400, answer.body);
    assert.ok(answer.json<{ errors: { field: string }[] }>().errors.some((e) => e.field === 'notes'));
  });
  // Last: it spends this address's login budget.
  it('4. limits the login form per address and audits a locked account once, not per attempt', async () => {
    const before = (await audits('login.failed')).length + (await audits('login.locked')).length;
    const jar = new CookieJar();
    const statuses: number[] = [];
    for (let i = 0; i < 45; i++) {
      const answer = await loginForm(dash.base, jar, { username: 'nobody-here', password: `flood guess ${i}` }).catch(() => null);
      statuses.push(answer?.status ?? 0);
    }
    assert.ok(statuses.includes(429), `a flood of logins is cut: ${statuses.join(',')}`);
    const written = (await audits('login.failed')).length + (await audits('login.locked')).length - before;
    // 5 failures lock the pair; the rest are counted in login_attempts, audited once.
    assert.ok(written >= 5 && written <= 6, `${written} audit events for one flood (the 5 failures that lock, and the lock once)`);
  });
});
