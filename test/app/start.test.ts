import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { applicationFlows } from '../../app/start';
import { freePort, startApp as startAppProcess, type App } from '../support/app';

/**
 * The real start command (`npm start` runs exactly this) on a free port with a temp data dir:
 * first start against a PostgreSQL server, an example flow deployed through Node-RED's admin
 * API and driven over HTTP, then a restart that must keep data and edited flows and seed nothing.
 */
const root = path.resolve(__dirname, '../../..');
const serverUrl = process.env.TEST_DATABASE_URL;

/** The password the first start gives user admin here (TOOLROOM_ADMIN_PASSWORD). */
const ADMIN_PASSWORD = 'Toolroom-First-2026!';

type EditorApp = App & { token: string };

/** The start command, and the first admin's Node-RED admin token: the editor and its API need a login (issue 5). */
async function startApp(env: NodeJS.ProcessEnv, args: string[] = []): Promise<EditorApp> {
  const app = await startAppProcess(env, args);
  const login = await fetch(`${app.base}/auth/token`, {
    method: 'POST',
    body: new URLSearchParams({ client_id: 'node-red-admin', grant_type: 'password', scope: '*', username: 'admin', password: ADMIN_PASSWORD }),
  });
  assert.equal(login.status, 200, `the admin logs in to the editor: ${await login.clone().text()}`);
  return Object.assign(app, { token: ((await login.json()) as { access_token: string }).access_token });
}

interface FlowNode {
  id: string;
  type: string;
  z?: string;
  label?: string;
  name?: string;
  x?: number;
  [key: string]: unknown;
}

async function getFlows(app: EditorApp): Promise<{ rev: string; flows: FlowNode[] }> {
  const res = await fetch(`${app.base}/flows`, { headers: { 'Node-RED-API-Version': 'v2', Authorization: `Bearer ${app.token}` } });
  assert.equal(res.status, 200);
  return (await res.json()) as { rev: string; flows: FlowNode[] };
}

/** Deploy (full) and wait until the new flows have started: the admin API answers before they do. */
async function deploy(app: EditorApp, flows: FlowNode[], rev: string): Promise<void> {
  const started = () => app.output().split('Started flows').length - 1;
  const before = started();
  const res = await fetch(`${app.base}/flows`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full', Authorization: `Bearer ${app.token}` },
    body: JSON.stringify({ flows, rev }),
  });
  assert.equal(res.status, 200, await res.text());
  const deadline = Date.now() + 30000;
  while (started() === before) {
    if (Date.now() > deadline) throw new Error(`the deployed flows did not start:\n${app.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function post(app: EditorApp, url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${app.base}${url}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    throw new Error(`POST ${url} answered ${res.status} with no JSON: ${text.slice(0, 200)}\n--- app output ---\n${app.output().slice(-3000)}`);
  }
}

/** An example flow as a tab of its own: the nodes with a position go on it, config nodes stay global. */
function exampleAsTab(file: string, tabId: string, label: string): FlowNode[] {
  const nodes = JSON.parse(fs.readFileSync(path.join(root, 'examples', file), 'utf8')) as FlowNode[];
  return [{ id: tabId, type: 'tab', label }, ...nodes.map((n) => (n.x !== undefined ? { ...n, z: tabId } : n))];
}

describe('the app: npm start', function () {
  this.timeout(300000);
  const apps: EditorApp[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const app of apps) await app.stop();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });
  function tempDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-app-'));
    dirs.push(dir);
    return dir;
  }

  describe('on a PostgreSQL server', function () {
    let admin: pg.Client;
    let dbUrl: string;
    let dbName: string;
    let db: pg.Client;
    before(async function () {
      if (!serverUrl) return this.skip();
      admin = new pg.Client({ connectionString: serverUrl });
      await admin.connect();
      // A database of its own: the first start must meet an empty one.
      dbName = `toolroom_app_${process.pid}_${Date.now()}`;
      await admin.query(`CREATE DATABASE ${dbName}`);
      const u = new URL(serverUrl);
      u.pathname = `/${dbName}`;
      dbUrl = u.toString();
      db = new pg.Client({ connectionString: dbUrl });
      await db.connect();
    });
    after(async () => {
      if (!admin) return;
      await db?.end();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
    });
    const count = async (table: string) => Number((await db.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

    it('runs, keeps data and edited flows across a restart, and never seeds twice', async () => {
      const dataDir = tempDir();
      const env = { PORT: String(await freePort()), TOOLROOM_DATA_DIR: dataDir, DATABASE_URL: dbUrl, TOOLROOM_SEED: '', TOOLROOM_ADMIN_PASSWORD: ADMIN_PASSWORD };

      // First start: migrated, seeded (when the demo seed exists), application flows deployed.
      const first = await startApp(env);
      apps.push(first);
      assert.match(first.output(), /Toolroom: first start/);
      assert.match(first.output(), new RegExp(`editor +${first.base}/`));
      assert.match(first.output(), new RegExp(`dashboard +${first.base}/dashboard`));
      const state = JSON.parse(fs.readFileSync(path.join(dataDir, 'toolroom.json'), 'utf8'));
      assert.equal(state.seeded, true, state.note);
      assert.ok((await count('tools')) >= 30, 'the demo plant has its tools');
      assert.ok((await count('failure_codes')) >= 30, 'and the failure catalog');
      assert.match(first.output(), /reference data added/);
      assert.ok(fs.existsSync(path.join(dataDir, 'node-red', 'flows.json')), 'user dir under the data dir');
      assert.ok(fs.existsSync(path.join(dataDir, 'photos')));
      assert.ok(!fs.existsSync(path.join(dataDir, 'pglite')), 'no embedded database with DATABASE_URL');
      const nodes = await (await fetch(`${first.base}/nodes`, { headers: { Accept: 'application/json', Authorization: `Bearer ${first.token}` } })).json() as { id: string; enabled: boolean; err?: string }[];
      for (const id of ['toolroom-config', 'toolroom-tool', 'ui-base']) {
        const set = nodes.find((n) => n.id.endsWith(`/${id}`));
        assert.ok(set && set.enabled && !set.err, `${id} is installed: ${JSON.stringify(set)}`);
      }
      const dash = await fetch(`${first.base}/dashboard/`);
      assert.equal(dash.status, 200, 'Dashboard 2 serves the application pages');
      assert.match(dash.url, /\/toolroom\/login\?next=/, 'behind the login page');

      let { rev, flows } = await getFlows(first);
      assert.ok(flows.some((n) => n.type === 'tab' && n.label === 'Toolroom'), 'the application flow is deployed');

      // Deploy every example flow through the admin API, each on its own tab, and drive them over HTTP.
      // (Only the record nodes' examples: other nodes' may need services this test does not start.)
      const examples = ['toolroom-tool', 'toolroom-mount', 'toolroom-pm', 'toolroom-inspection', 'toolroom-failure', 'toolroom-action'].map((t) => `${t}.json`);
      flows = [...flows, ...examples.flatMap((f, i) => exampleAsTab(f, `it0example0tab${String(i).padStart(2, '0')}`, f))];
      await deploy(first, flows, rev);
      const created = await post(first, '/toolroom/tools/create', { assetNumber: 'it-1', name: 'Integration mould', cavityCount: 2, customer: 'Acme' });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal(created.body.assetNumber, 'IT-1');
      const row = (await db.query("SELECT id, name, cavity_count FROM tools WHERE asset_number = 'IT-1'")).rows[0];
      assert.deepEqual([row.name, row.cavity_count], ['Integration mould', 2]);
      const audit = (await db.query("SELECT actor_id, via FROM audit_events WHERE action = 'tool.create' AND entity_id = $1", [String(row.id)])).rows[0];
      assert.deepEqual(audit, { actor_id: 'system', via: '7e1a0c1d5b2f4a10' }, 'the system actor, audited with the example node id');

      const duplicate = await post(first, '/toolroom/tools/create', { assetNumber: 'IT-1', name: 'Again', cavityCount: 1 });
      assert.equal(duplicate.status, 409);
      assert.equal(duplicate.body.code, 'conflict');
      assert.equal((duplicate.body.details as { field: string }[])[0].field, 'assetNumber');
      const invalid = await post(first, '/toolroom/tools/create', { assetNumber: 'IT-2', cavityCount: 0 });
      assert.equal(invalid.status, 400);
      assert.deepEqual((invalid.body.details as { field: string }[]).map((d) => d.field).sort(), ['cavityCount', 'name']);
      assert.equal((await post(first, '/toolroom/tools/get', { id: 999999 })).status, 404);
      assert.equal((await post(first, '/toolroom/tools/frobnicate', {})).status, 400);

      // The other record nodes' examples, on the same database.
      await db.query("INSERT INTO presses (code, name) VALUES ('IT-P1', 'Integration press')");
      const mounted = await post(first, '/toolroom/mounts/mount', { assetNumber: 'IT-1', pressCode: 'it-p1' });
      assert.equal(mounted.status, 200, JSON.stringify(mounted.body));
      assert.equal((await db.query("SELECT status FROM tools WHERE asset_number = 'IT-1'")).rows[0].status, 'in_press');
      assert.equal((await post(first, '/toolroom/mounts/mount', { assetNumber: 'IT-1', pressCode: 'IT-P1' })).status, 409);
      assert.equal((await post(first, '/toolroom/mounts/unmount', { assetNumber: 'IT-1' })).status, 200);
      const plan = await post(first, '/toolroom/pm/create', { assetNumber: 'IT-1', intervalShots: 50000, intervalDays: 90 });
      assert.equal(plan.status, 200, JSON.stringify(plan.body));
      assert.equal(Number((await db.query('SELECT interval_shots FROM pm_plans WHERE id = $1', [plan.body.id])).rows[0].interval_shots), 50000);
      const template = await post(first, '/toolroom/inspections/template', { code: 'post-run' });
      assert.equal(template.status, 200, 'the checklist templates are there on a fresh database');
      const results = (template.body.items as { key: string }[]).map((i) => ({ itemKey: i.key, result: i.key === 'water_leak_test' ? 'fail' : 'pass' }));
      const inspection = await post(first, '/toolroom/inspections/record', { assetNumber: 'IT-1', templateCode: 'post-run', results, minutesSpent: 20 });
      assert.equal(inspection.status, 200, JSON.stringify(inspection.body));
      assert.equal(inspection.body.outcome, 'fail');
      const failures = await post(first, '/toolroom/failures/list', { toolId: row.id });
      assert.deepEqual((failures.body.items as { failureCode: string }[]).map((f) => f.failureCode), ['CL-WATER-LEAK']);
      const actions = await post(first, '/toolroom/actions/list', { toolId: row.id });
      assert.equal(actions.body.total, 1);
      assert.equal(Number((await db.query('SELECT count(*) AS n FROM actions WHERE tool_id = $1', [row.id])).rows[0].n), 1);
      const retired = await post(first, '/toolroom/tools/retire', { id: row.id, reason: 'worn out' });
      assert.equal(retired.status, 200, 'the system actor (the flow) may retire');
      assert.equal((await db.query("SELECT status FROM tools WHERE asset_number = 'IT-1'")).rows[0].status, 'retired');
      const toolsBefore = await count('tools');

      // The user edits the flow: renames the tab and deploys.
      ({ rev, flows } = await getFlows(first));
      flows = flows.map((n) => (n.id === 'it0example0tab00' ? { ...n, label: 'edited by the user' } : n));
      await deploy(first, flows, rev);
      assert.equal(await first.stop(), 0, 'SIGTERM stops cleanly');
      assert.match(first.output(), /Stopped flows/);

      // Second start: same data dir and database.
      const second = await startApp(env);
      apps.push(second);
      assert.doesNotMatch(second.output(), /first start/, 'nothing of the first start repeats');
      assert.doesNotMatch(second.output(), /application flows deployed/);
      assert.doesNotMatch(second.output(), /reference data added/);
      assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dataDir, 'toolroom.json'), 'utf8')), state);
      assert.equal(await count('tools'), toolsBefore, 'no re-seed, no lost tool');
      const after = await getFlows(second);
      assert.ok(after.flows.some((n) => n.id === 'it0example0tab00' && n.label === 'edited by the user'), 'the edited flow survived');
      // The user's example tabs beside the application's own (flows/ and the dashboard pages in dashboards/).
      const appTabs = (applicationFlows() as { type: string }[]).filter((n) => n.type === 'tab').length;
      assert.equal(after.flows.filter((n) => n.type === 'tab').length, examples.length + appTabs);
      assert.ok(after.flows.some((n) => n.type === 'tab' && n.label === 'Toolroom'));
      assert.equal(after.flows.filter((n) => n.type === 'tab' && n.label === 'Toolroom').length, 1, 'the application flow was not added again');
      const got = await post(second, '/toolroom/tools/get', { assetNumber: 'it-1' });
      assert.equal(got.status, 200);
      assert.equal(got.body.status, 'retired');
      assert.equal(await second.stop(), 0);
    });
  });

  it('runs on embedded PGlite in the data dir, without the demo plant when asked', async () => {
    const dataDir = tempDir();
    const env = { PORT: String(await freePort()), TOOLROOM_DATA_DIR: dataDir, DATABASE_URL: '', TOOLROOM_ADMIN_PASSWORD: ADMIN_PASSWORD };
    const app = await startApp(env, ['--no-seed']);
    apps.push(app);
    assert.match(app.output(), /demo seed skipped \(--no-seed/);
    assert.match(app.output(), new RegExp(`PGlite ${dataDir}/pglite`));
    assert.equal(JSON.parse(fs.readFileSync(path.join(dataDir, 'toolroom.json'), 'utf8')).seeded, false);
    const { flows, rev } = await getFlows(app);
    await deploy(app, [...flows, ...exampleAsTab('toolroom-tool.json', 'it0example0tab02', 'example')], rev);
    const created = await post(app, '/toolroom/tools/create', { assetNumber: 'PG-1', name: 'Embedded', cavityCount: 1 });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const list = await post(app, '/toolroom/tools/list', {});
    assert.equal(list.body.total, 1, 'only the tool just made: nothing seeded');
    assert.equal(await app.stop(), 0);
    assert.ok(fs.readdirSync(path.join(dataDir, 'pglite')).length > 0, 'PGlite files under the data dir');
  });
});
