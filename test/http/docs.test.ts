/**
 * The OpenAPI document matches the route table, and the docs page renders it in a real Chromium
 * with no network beyond the API itself (it must work offline on a Pi) and no CSP violation.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { PERMISSIONS } from '../../core/auth/permissions';
import { apiRoutes, API_BASE } from '../../http/rest/router';
import * as tools from '../../core/tools/service';
import * as users from '../../core/users/service';
import * as presses from '../../core/presses/service';
import * as mounts from '../../core/mounts/service';
import * as pm from '../../core/pm/service';
import * as inspections from '../../core/inspections/service';
import * as templates from '../../core/inspections/templates';
import * as failures from '../../core/failures/service';
import * as catalog from '../../core/failures/catalog';
import * as actions from '../../core/actions/service';
import * as shots from '../../core/shots/service';
import * as shotReview from '../../core/shots/review';
import * as accounts from '../../core/accounts/service';
import * as sessions from '../../core/accounts/sessions';
import * as apiTokens from '../../core/accounts/tokens';
import * as inbox from '../../core/notifications/inbox';
import * as notificationSettings from '../../core/notifications/settings';
import * as notificationSystem from '../../core/notifications/system';
import { backends } from '../support/db';
import { Client, startApi, type TestServer } from '../support/api-server';

const backend = backends.find((b) => b.name === 'postgres') ?? backends[0];
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

describe('REST API documentation', function () {
  this.timeout(120_000);
  let api: TestServer;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let doc: any;

  before(async () => {
    api = await startApi(await backend.db());
    const a = await new Client(api.url).call('GET', '/openapi.json');
    assert.equal(a.status, 200);
    doc = a.json;
  });
  after(async () => api?.close());

  it('is OpenAPI 3.1 with one operation per route, unique ids, both security schemes and problem+json errors', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(doc.servers, [{ url: API_BASE }]);
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['bearerToken', 'sessionCookie']);
    assert.equal(doc.components.securitySchemes.sessionCookie.in, 'cookie');
    const routes = apiRoutes();
    const ids = new Set<string>();
    for (const r of routes) {
      const op = doc.paths[r.path]?.[r.method.toLowerCase()];
      assert.ok(op, `${r.method} ${r.path} missing`);
      assert.ok(!ids.has(op.operationId), `duplicate ${op.operationId}`);
      ids.add(op.operationId);
      assert.equal(op['x-permission'], r.permission);
      if (r.permission !== 'anonymous') {
        assert.equal(op.responses['401'].content['application/problem+json'].schema.$ref, '#/components/schemas/Problem');
        assert.ok(op.responses['403']);
      } else assert.deepEqual(op.security, []);
      for (const p of r.path.match(/\{\w+\}/g) ?? []) {
        assert.ok(op.parameters.some((x: { name: string; in: string }) => x.in === 'path' && `{${x.name}}` === p), `${r.path} parameter ${p}`);
      }
    }
    const count = Object.values(doc.paths).reduce((n: number, p) => n + Object.keys(p as object).length, 0);
    assert.equal(count, routes.length);
    // Request bodies come from core's schemas: e.g. creating a tool names its required fields.
    const createTool = doc.paths['/tools'].post.requestBody.content['application/json'].schema;
    assert.deepEqual(createTool.required.sort(), ['assetNumber', 'cavityCount', 'name']);
    assert.equal(createTool.additionalProperties, false);
    // The path's field is not asked for again in the body.
    const patchTool = doc.paths['/tools/{id}'].patch.requestBody.content['application/json'].schema;
    assert.ok(!('id' in patchTool.properties));
    // Query parameters of a list carry their types.
    const listTools = doc.paths['/tools'].get.parameters;
    assert.equal(listTools.find((p: { name: string }) => p.name === 'includeRetired').schema.type, 'boolean');
    // A list answers with core's Page.
    assert.equal(doc.paths['/tools'].get.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/ToolPage');
    // Every $ref resolves.
    for (const ref of JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? []) {
      const target = ref.slice(8, -1).replace(/^#\//, '').split('/');
      assert.ok(target.reduce((o, k) => o?.[k], doc), `${ref} resolves`);
    }
  });

  it('reaches every core service operation (the route table names each one)', () => {
    const source = ['operations.ts', 'router.ts'].map((f) => fs.readFileSync(path.join(process.cwd(), 'http', 'rest', f), 'utf8')).join('\n');
    // Not operations a caller asks for: helpers inside another service's transaction, the first start,
    // and login plumbing the router and http/auth.ts use directly.
    const notOperations = /InTransaction$|^insert|^lock|^addDays$|^ensureAdmin$|^authenticate|^actorOf$|^ownUserId$|^authorizeSome$|^targetUserId$/;
    const missing: string[] = [];
    const services = { tools, users, presses, mounts, pm, inspections, templates, failures, catalog, actions, shots, shotReview, accounts, sessions, apiTokens, inbox, notificationSettings, notificationSystem };
    for (const [ns, mod] of Object.entries(services)) {
      const named = (name: string) => new RegExp(`\\b${name}\\b`).test(source);
      for (const [name, value] of Object.entries(mod)) {
        if (typeof value !== 'function' || notOperations.test(name)) continue;
        // An alias (updateFailure = triageFailure) is reached when any of its names is.
        const aliases = Object.entries(mod).filter(([, v]) => v === value).map(([n]) => n);
        if (!aliases.some(named)) missing.push(`${ns}.${name}`);
      }
    }
    for (const name of ['listAuditEvents', 'verifyAuditChain']) if (!source.includes(name)) missing.push(name);
    assert.deepEqual(missing, []);
  });

  it('renders every operation and the roles table in Chromium, offline, without CSP errors', async function () {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (scripts/chromium.sh installs it)`);
    const xdg = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-chromium-'));
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
        env: { ...process.env, XDG_CONFIG_HOME: xdg, XDG_CACHE_HOME: xdg },
      });
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`${api.url}/docs`);
      await page.waitForSelector('details.op');
      const ops = await page.locator('details.op').count();
      assert.equal(ops, apiRoutes().length);
      const roleRows = await page.locator('table').first().locator('tbody tr').count();
      assert.equal(roleRows, Object.keys(PERMISSIONS).length);
      // Open one operation: its body fields are listed.
      await page.locator('details.op', { hasText: 'Register a tool' }).locator('summary').click();
      const text = await page.locator('details.op[open]').innerText();
      assert.match(text, /assetNumber/);
      assert.match(text, /cavityCount/);
      // The filter narrows the list.
      await page.fill('#filter', 'retire');
      const visible = await page.locator('details.op:visible').count();
      assert.ok(visible >= 1 && visible < ops, `visible after filter: ${visible}`);
      assert.deepEqual(problems, []);
      const origin = new URL(api.url).origin;
      assert.deepEqual(requests.filter((u) => !u.startsWith(origin)), [], 'no request leaves the server');
      const dir = path.join(process.cwd(), 'test-artifacts', 'screenshots');
      fs.mkdirSync(dir, { recursive: true });
      await page.fill('#filter', '');
      await page.screenshot({ path: path.join(dir, 'api-docs.png'), fullPage: false });
    } finally {
      await browser?.close();
      fs.rmSync(xdg, { recursive: true, force: true });
    }
  });
});
