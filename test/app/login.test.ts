import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { systemActor } from '../../core/auth/actor';
import { setPassword, setPin } from '../../core/accounts/service';
import type { Db } from '../../core/db/connect';
import { createTool } from '../../core/tools/service';
import { createUser } from '../../core/users/service';
import { csrfTokenFor } from '../../http/auth';
import { appOnEmptyDatabase, CookieJar, editorToken, formField, freePort, loginForm, PollingSocket, request, startApp, type App, type AppOnEmptyDatabase } from '../support/app';

/**
 * Issue 5 through `npm start`'s own command: the dashboard, its socket, the login pages and the
 * editor, with users made by core in the app's PostgreSQL database. The technician's "browser" is
 * a Socket.IO client holding her session cookie, sending what a browser console could send.
 */
const serverUrl = process.env.TEST_DATABASE_URL;
const ADMIN_PASSWORD = 'Toolroom-First-2026!';
const PASSWORD = 'Plant-Floor-Secret-42';
const TOOL_PAGE_TEMPLATE = 'c1a0e6d1c0000010';

interface Person {
  id: number;
  username: string;
}

describe('login across the app (issue 5): npm start', function () {
  this.timeout(300000);
  let started: AppOnEmptyDatabase;
  let db: Db;
  let app: App;
  const people: Record<'tina' | 'eric' | 'ada', Person> = {} as never;
  let toolId: number;

  before(async function () {
    if (!serverUrl) return this.skip();
    started = await appOnEmptyDatabase('login', serverUrl, ADMIN_PASSWORD);
    ({ app, db } = started);
    const system = systemActor('test');
    for (const [username, role] of [['tina', 'technician'], ['eric', 'engineer'], ['ada', 'admin']] as const) {
      const user = await createUser(db, system, { username, displayName: username, role });
      await setPassword(db, system, { userId: user.id, password: PASSWORD, mustChange: false });
      people[username] = { id: user.id, username };
    }
    toolId = (await createTool(db, system, { assetNumber: 'LG-1', name: 'Login guard mould', cavityCount: 2 })).id;
  });
  after(async () => {
    await started?.stop();
  });

  const audit = async (action: string) =>
    (await db('audit_events').where({ action }).orderBy('seq', 'desc')) as { actor_id: string; actor_name: string; after: Record<string, unknown>; via: string }[];
  const toolStatus = async () => (await db('tools').where({ id: toolId }).first('status')).status as string;

  async function loggedIn(who: Person, next = '/dashboard'): Promise<CookieJar> {
    const jar = new CookieJar();
    const res = await loginForm(app.base, jar, { username: who.username, password: PASSWORD }, { next });
    assert.equal(res.status, 303, res.body.slice(0, 500));
    return jar;
  }

  it('sends a browser without a session from any dashboard page to the login page, and answers data requests 401', async () => {
    const page = await request(`${app.base}/dashboard/tools?asset=LG-1`);
    assert.equal(page.status, 302);
    assert.equal(page.headers.location, `/toolroom/login?next=${encodeURIComponent('/dashboard/tools?asset=LG-1')}`);
    const setup = await request(`${app.base}/dashboard/_setup`);
    assert.equal(setup.status, 401);
    assert.equal(setup.json().code, 'unauthenticated');
    // A session cookie that is not a session is no session.
    const forged = await request(`${app.base}/dashboard`, { headers: { cookie: 'toolroom_session=' + 'A'.repeat(43) } });
    assert.equal(forged.status, 302);
  });

  it('shows a wrong password on the login page keeping the username, audits it, then logs in and goes to next', async () => {
    const jar = new CookieJar();
    const form = await request(`${app.base}/toolroom/login?next=${encodeURIComponent('/dashboard/tools')}`, { jar });
    assert.equal(form.status, 200);
    assert.match(form.headers['content-type']!, /text\/html/);
    assert.match(String(form.headers['content-security-policy']), /default-src 'none'/);
    assert.doesNotMatch(form.body, /<script|<link|src=/, 'no scripts, no external assets');
    assert.match(form.body, /name="viewport"/);
    assert.match(form.body, /min-height:48px/);

    const before = (await audit('login.failed')).length;
    const wrong = await loginForm(app.base, jar, { username: 'tina', password: 'not-her-password' }, { next: '/dashboard/tools' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.body, /Unknown username or wrong password/);
    assert.match(wrong.body, /name="username"[^>]*value="tina"/);
    assert.equal(formField(wrong.body, 'next'), '/dashboard/tools');
    assert.equal(jar.get('toolroom_session'), undefined, 'no session cookie');
    const failed = await audit('login.failed');
    assert.equal(failed.length, before + 1);
    assert.equal(failed[0].after.username, 'tina');
    assert.equal(failed[0].after.address, '127.0.0.1');
    assert.equal(failed[0].after.reason, 'wrong_password');

    const ok = await loginForm(app.base, jar, { username: 'tina', password: PASSWORD }, { next: '/dashboard/tools' });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.location, '/dashboard/tools');
    const cookies = ok.headers['set-cookie']!.join('\n');
    assert.match(cookies, /toolroom_session=[^;]+; HttpOnly; Path=\/; SameSite=Lax/);
    assert.doesNotMatch(cookies, /Secure/, 'plain HTTP: no Secure flag');
    const dash = await request(`${app.base}/dashboard/tools`, { jar });
    assert.equal(dash.status, 200);
    assert.match(dash.body, /<div id="app"|<!DOCTYPE html>/i);
    const debug = await request(`${app.base}/dashboard/_debug/datastore/${TOOL_PAGE_TEMPLATE}`, { jar });
    assert.equal(debug.status, 404, "Dashboard 2's debug endpoints (any widget's last message) are closed");
    assert.equal((await audit('login.succeeded'))[0].actor_name, 'tina');
  });

  it('logs in with a PIN on the same form, and refuses a wrong one as a PIN', async () => {
    await setPin(db, systemActor('test'), { userId: people.tina.id, pin: '4711' });
    const wrong = await loginForm(app.base, new CookieJar(), { username: 'tina', pin: '1234' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.body, /Unknown username or wrong PIN/);
    assert.equal((await audit('login.failed'))[0].after.reason, 'wrong_pin');
    const both = await loginForm(app.base, new CookieJar(), { username: 'tina', pin: '4711', password: PASSWORD });
    assert.equal(both.status, 400);
    assert.match(both.body, /not both/);
    const jar = new CookieJar();
    const ok = await loginForm(app.base, jar, { username: 'tina', pin: '4711' });
    assert.equal(ok.status, 303);
    assert.equal((await request(`${app.base}/dashboard/tools`, { jar })).status, 200);
    assert.equal((await audit('login.succeeded'))[0].after.method, 'pin');
  });

  it('refuses a login form from another site or without its token, and never redirects off the site', async () => {
    const jar = new CookieJar();
    const page = await request(`${app.base}/toolroom/login`, { jar });
    const csrf = formField(page.body, 'csrf');
    const sessions = async () => Number((await db('sessions').count({ n: '*' }))[0].n);
    const before = await sessions();
    const crossSite = await request(`${app.base}/toolroom/login`, {
      jar,
      headers: { origin: 'https://evil.example' },
      form: { csrf, username: 'tina', password: PASSWORD, next: '/dashboard' },
    });
    assert.equal(crossSite.status, 403);
    const noToken = await request(`${app.base}/toolroom/login`, { form: { csrf, username: 'tina', password: PASSWORD } });
    assert.equal(noToken.status, 403, 'the token without its cookie');
    assert.equal(await sessions(), before, 'no session made');
    for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)', '/toolroom/login']) {
      const res = await loginForm(app.base, new CookieJar(), { username: 'tina', password: PASSWORD }, { next });
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, '/dashboard', next);
    }
  });

  it('refuses a socket without a session, and connects one with', async () => {
    const anonymous = new PollingSocket(app.base, new CookieJar());
    const answer = await anonymous.connect();
    assert.equal(answer.type, 'connect_error');
    assert.match(String((answer as { data: { message?: string } }).data.message), /refused: unauthenticated/);
    const jar = await loggedIn(people.tina);
    const socket = new PollingSocket(app.base, jar);
    assert.equal((await socket.connect()).type, 'connect');
    await socket.close();
  });

  it('lets a WebSocket opened by a page of this site straight in, and refuses one from another site (cross-site WebSocket hijacking)', async () => {
    const jar = await loggedIn(people.tina);
    /** Open a WebSocket as a browser at `origin` would (cookie included), connect to '/', and return the server's answer packet. */
    const connectAs = (origin: string) =>
      new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(`${app.base.replace(/^http/, 'ws')}/dashboard/socket.io/?EIO=4&transport=websocket`, { headers: { cookie: jar.header(), origin } });
        ws.on('message', (data) => {
          const packet = String(data);
          if (packet.startsWith('0')) ws.send('40');
          else if (packet.startsWith('40') || packet.startsWith('44')) {
            ws.close();
            resolve(packet);
          }
        });
        ws.on('error', reject);
      });
    assert.match(await connectAs(app.base), /^40\{"sid":/, 'same origin: connected');
    for (const origin of ['http://evil.example', `${app.base}.evil.example`, 'null']) {
      assert.match(await connectAs(origin), /^44.*refused: cross-site socket/, origin);
    }
    // A polling handshake that names another origin is refused the same way.
    const polling = await request(`${app.base}/dashboard/socket.io/?EIO=4&transport=polling&t=1`, { jar, headers: { origin: 'http://evil.example' } });
    const sid = (JSON.parse(polling.body.slice(1)) as { sid: string }).sid;
    await request(`${app.base}/dashboard/socket.io/?EIO=4&transport=polling&sid=${sid}`, { jar, method: 'POST', body: '40', headers: { origin: 'http://evil.example', 'content-type': 'text/plain;charset=UTF-8' } });
    const answer = await request(`${app.base}/dashboard/socket.io/?EIO=4&transport=polling&sid=${sid}`, { jar, headers: { origin: 'http://evil.example' } });
    assert.match(answer.body, /44.*refused: cross-site socket/);
  });

  it("a technician's socket cannot retire a tool, even naming an engineer in the message; an engineer's can", async () => {
    const jar = await loggedIn(people.tina);
    const socket = new PollingSocket(app.base, jar);
    assert.equal((await socket.connect()).type, 'connect');
    const eric = { id: String(people.eric.id), username: 'eric', role: 'engineer', displayName: 'eric' };
    const forgedBefore = (await audit('dashboard.identity_forged')).length;
    // A page re-sending a message it got (her own identity in it) is no forgery: not audited, so the
    // one-a-minute audit of this socket is still free for the forged message below.
    const tina = { id: String(people.tina.id), username: 'tina', role: 'technician', displayName: 'tina' };
    await socket.emit('widget-send', TOOL_PAGE_TEMPLATE, { target: 'user', topic: 'me', payload: {}, ask: 'own', _client: { user: tina } });
    const own = await socket.waitFor(`msg-input:${TOOL_PAGE_TEMPLATE}`);
    assert.equal((own!.args[0] as { ask: string }).ask, 'own');
    socket.received.length = 0;
    await socket.emit('widget-send', TOOL_PAGE_TEMPLATE, {
      target: 'tool',
      topic: 'retire',
      payload: { id: toolId, reason: 'forged' },
      ask: 'r1',
      _client: { user: eric, socketId: 'someone-else' },
      user: eric,
    });
    const reply = await socket.waitFor(`msg-input:${TOOL_PAGE_TEMPLATE}`);
    assert.ok(reply, 'the page gets an answer');
    const msg = reply.args[0] as { topic: string; ask: string; payload: { code?: string; message?: string } };
    assert.equal(msg.topic, 'error');
    assert.equal(msg.ask, 'r1');
    assert.match(JSON.stringify(msg.payload), /forbidden|technician|may not/i);
    assert.equal(await toolStatus(), 'in_store', 'nothing written');
    assert.equal((await audit('tool.retire')).length, 0);
    // Audited beside the message (the refusal may answer first).
    let forged = await audit('dashboard.identity_forged');
    for (let i = 0; i < 50 && forged.length === forgedBefore; i++) {
      await new Promise((r) => setTimeout(r, 100));
      forged = await audit('dashboard.identity_forged');
    }
    assert.equal(forged.length, forgedBefore + 1, 'the forgery is audited');
    assert.equal(forged[0].actor_name, 'tina', 'naming the technician');
    assert.equal(forged[0].actor_id, String(people.tina.id));
    assert.match(String(forged[0].after.claimed), /eric/);
    await socket.close();

    // The same message from the engineer's own session does it (so the refusal above is the role's).
    const ericSocket = new PollingSocket(app.base, await loggedIn(people.eric));
    assert.equal((await ericSocket.connect()).type, 'connect');
    await ericSocket.emit('widget-send', TOOL_PAGE_TEMPLATE, { target: 'tool', topic: 'retire', payload: { id: toolId, reason: 'worn out' }, ask: 'r2' });
    const done = await ericSocket.waitFor(`msg-input:${TOOL_PAGE_TEMPLATE}`);
    assert.notEqual((done!.args[0] as { topic: string }).topic, 'error', JSON.stringify(done!.args[0]));
    assert.equal(await toolStatus(), 'retired');
    const retired = await audit('tool.retire');
    assert.equal(retired.length, 1);
    assert.equal(retired[0].actor_name, 'eric');
    await ericSocket.close();
  });

  it("logout ends the socket's rights at once, and its cookie opens nothing after", async () => {
    const jar = await loggedIn(people.tina);
    const socket = new PollingSocket(app.base, jar);
    assert.equal((await socket.connect()).type, 'connect');
    const session = jar.get('toolroom_session')!;
    const logoutPage = await request(`${app.base}/toolroom/logout`, { jar });
    assert.equal(logoutPage.status, 200);
    assert.equal(formField(logoutPage.body, 'csrf'), csrfTokenFor(session));
    // Another site's form cannot log her out.
    const crossSite = await request(`${app.base}/toolroom/logout`, { jar, headers: { origin: 'https://evil.example' }, form: { csrf: csrfTokenFor(session) } });
    assert.equal(crossSite.status, 403);
    const stale = new CookieJar();
    stale.take([`toolroom_session=${session}`]);
    const out = await request(`${app.base}/toolroom/logout`, { jar, form: { csrf: csrfTokenFor(session) } });
    assert.equal(out.status, 303);
    assert.equal(out.headers.location, '/toolroom/login?loggedOut=1');
    assert.equal(jar.get('toolroom_session'), undefined, 'cookie cleared');
    // The open socket is told and dropped; a message sent on it does nothing.
    const ended = await socket.waitFor('toolroom-session-ended', 10000);
    assert.deepEqual(ended?.args, [{ reason: 'logout', login: '/toolroom/login' }]);
    const deadline = Date.now() + 10000;
    while (!socket.closed && Date.now() < deadline) await socket.poll();
    assert.ok(socket.closed, 'the server closed the socket');
    const late = await socket.emit('widget-send', TOOL_PAGE_TEMPLATE, { target: 'user', topic: 'me', payload: {}, ask: 'late' });
    assert.equal(late.status, 400, 'a message on it has nowhere to go');
    assert.equal((await request(`${app.base}/dashboard`, { jar: stale })).status, 302);
    const again = new PollingSocket(app.base, stale);
    assert.equal((await again.connect()).type, 'connect_error');
    assert.equal((await audit('session.logout'))[0].actor_name, 'tina');
  });

  it('a session ended elsewhere (user disabled) stops its socket within the check interval', async () => {
    const jar = await loggedIn(people.eric);
    const socket = new PollingSocket(app.base, jar);
    assert.equal((await socket.connect()).type, 'connect');
    await db('users').where({ id: people.eric.id }).update({ active: false });
    try {
      const t0 = Date.now();
      const ended = await socket.waitFor('toolroom-session-ended', 20000);
      assert.ok(ended || socket.closed, 'the socket ended');
      assert.ok(Date.now() - t0 < 16000, `within three check intervals (${Date.now() - t0} ms)`);
      assert.match(JSON.stringify(ended?.args ?? []), /disabled/);
    } finally {
      await db('users').where({ id: people.eric.id }).update({ active: true });
    }
  });

  it('guards the editor: no editor access is refused, read cannot deploy, full can; every attempt audited', async () => {
    const none = await editorToken(app.base, 'tina', PASSWORD);
    assert.equal(none.status, 403, 'technician: editor access none');
    const refusal = (await audit('editor.login_refused'))[0];
    assert.equal(refusal.actor_name, 'tina');
    assert.equal(refusal.after.reason, 'no_editor_access');
    const wrong = await editorToken(app.base, 'eric', 'wrong-password');
    assert.equal(wrong.status, 403);
    assert.equal((await audit('login.failed'))[0].after.username, 'eric');
    assert.equal((await request(`${app.base}/flows`)).status, 401, 'no token, no flows');

    const read = await editorToken(app.base, 'eric', PASSWORD);
    assert.equal(read.status, 200);
    const auth = (token: string) => ({ authorization: `Bearer ${token}`, 'Node-RED-API-Version': 'v2' });
    const flows = await request(`${app.base}/flows`, { headers: auth(read.token!) });
    assert.equal(flows.status, 200);
    const { flows: nodes } = flows.json<{ rev: string; flows: object[] }>();
    const tab = { id: 'login0test0tab01', type: 'tab', label: 'by eric' };
    const deployAs = async (token: string, extra: object) => {
      const { rev } = (await request(`${app.base}/flows`, { headers: auth(read.token!) })).json<{ rev: string }>();
      return request(`${app.base}/flows`, {
        method: 'POST',
        headers: { ...auth(token), 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'flows' },
        body: JSON.stringify({ rev, flows: [...nodes, extra] }),
      });
    };
    // Node-RED answers a missing permission 401 (its needsPermission).
    assert.equal((await deployAs(read.token!, tab)).status, 401, 'read access cannot deploy');

    const full = await editorToken(app.base, 'ada', PASSWORD);
    assert.equal(full.status, 200);
    const deployed = await deployAs(full.token!, { ...tab, label: 'by ada' });
    assert.equal(deployed.status, 200, deployed.body);
    const now = await request(`${app.base}/flows`, { headers: auth(full.token!) });
    assert.ok(now.json<{ flows: { id: string; label?: string }[] }>().flows.some((n) => n.id === tab.id && n.label === 'by ada'));
    const logins = await audit('login.succeeded');
    assert.deepEqual(logins.slice(0, 2).map((e) => e.actor_name), ['ada', 'eric']);

    // Taking the access away ends the editor token at once (Node-RED asks for the user every request).
    await db('users').where({ id: people.ada.id }).update({ editor_access: 'read' });
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await deployAs(full.token!, { ...tab, label: 'again' })).status, 401, 'read access now: the full token is gone');
    assert.equal((await request(`${app.base}/flows`, { headers: auth(full.token!) })).status, 401);
    const reread = await editorToken(app.base, 'ada', PASSWORD);
    assert.equal(reread.status, 200, 'a new login gets read access');
    assert.equal((await request(`${app.base}/flows`, { headers: auth(reread.token!) })).status, 200);
    assert.equal((await deployAs(reread.token!, { ...tab, label: 'again' })).status, 401);
    await db('users').where({ id: people.ada.id }).update({ active: false });
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await request(`${app.base}/flows`, { headers: auth(reread.token!) })).status, 401, 'disabled: no editor');
    await db('users').where({ id: people.ada.id }).update({ active: true, editor_access: 'full' });
  });
});

describe('the start command: HTTPS, first admin, bind rules', function () {
  this.timeout(300000);
  const dirs: string[] = [];
  const apps: App[] = [];
  after(async () => {
    for (const a of apps) await a.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  const tempDir = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-tls-'));
    dirs.push(d);
    return d;
  };

  it('serves HTTPS with a self-signed certificate, Secure cookies, and prints a generated admin password once', async () => {
    const dir = tempDir();
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
    const ca = fs.readFileSync(cert);
    const dataDir = path.join(dir, 'data');
    const env = { PORT: String(await freePort()), TOOLROOM_DATA_DIR: dataDir, DATABASE_URL: '', TOOLROOM_TLS_CERT: cert, TOOLROOM_TLS_KEY: key, TOOLROOM_ADMIN_PASSWORD: '' };
    const first = await startApp(env, ['--no-seed'], { ca });
    apps.push(first);
    assert.match(first.base, /^https:/);
    assert.match(first.output(), /editor +https:\/\/127\.0\.0\.1:\d+\//);
    const lines = first.output().split('\n').filter((l) => /created user admin with the password/.test(l));
    assert.equal(lines.length, 1, first.output());
    const generated = /password (\S+) — shown this once/.exec(lines[0])![1];
    assert.ok(generated.length >= 16);

    const jar = new CookieJar();
    const res = await loginForm(first.base, jar, { username: 'admin', password: generated }, { ca, next: '/dashboard/tools' });
    assert.equal(res.status, 303, res.body);
    assert.equal(res.headers.location, `/toolroom/password?next=${encodeURIComponent('/dashboard/tools')}`, 'a generated password must be changed first');
    for (const c of res.headers['set-cookie']!.filter((c) => c.startsWith('toolroom_'))) assert.match(c, /; Secure/, c);
    // Over TLS browsers are told to keep to HTTPS (issue 15, finding 6), on the editor and the dashboard alike.
    for (const p of ['/', '/dashboard/', '/toolroom/login']) {
      assert.equal((await request(`${first.base}${p}`, { ca })).headers['strict-transport-security'], 'max-age=31536000', p);
    }
    assert.equal((await request(`${first.base}/dashboard/tools`, { jar, ca })).headers.location, `/toolroom/password?next=${encodeURIComponent('/dashboard/tools')}`);
    assert.equal((await editorToken(first.base, 'admin', generated, ca)).status, 403, 'not even the editor before the change');
    const form = await request(`${first.base}/toolroom/password?next=%2Fdashboard%2Ftools`, { jar, ca });
    assert.equal(form.status, 200);
    const change = (password: string, repeat = password) =>
      request(`${first.base}/toolroom/password`, {
        jar,
        ca,
        form: { csrf: formField(form.body, 'csrf'), next: '/dashboard/tools', currentPassword: generated, password, repeat },
      });
    const weak = await change('password');
    assert.equal(weak.status, 400);
    assert.match(weak.body, /New password: /);
    assert.equal((await change('Toolroom-Chief-Own-9', 'something else')).status, 400);
    const changed = await change('Toolroom-Chief-Own-9');
    assert.equal(changed.status, 303, changed.body);
    assert.equal(changed.headers.location, '/dashboard/tools');
    assert.equal((await request(`${first.base}/dashboard/tools`, { jar, ca })).status, 200);
    assert.equal((await editorToken(first.base, 'admin', 'Toolroom-Chief-Own-9', ca)).status, 200);
    assert.equal(await first.stop(), 0);

    const second = await startApp(env, ['--no-seed'], { ca });
    apps.push(second);
    assert.doesNotMatch(second.output(), /created user admin/, 'printed once: the second start has nothing to print');
    assert.equal(await second.stop(), 0);
  });

  it('with TOOLROOM_AUTH=off (development) runs without any login, on loopback, and says so', async () => {
    const dataDir = tempDir();
    const off = await startApp({ PORT: String(await freePort()), TOOLROOM_DATA_DIR: dataDir, DATABASE_URL: '', TOOLROOM_AUTH: 'off', TOOLROOM_HOST: '' }, ['--no-seed']);
    apps.push(off);
    assert.match(off.output(), /TOOLROOM_AUTH=off — no login anywhere/);
    assert.doesNotMatch(off.output(), /created user admin/);
    assert.equal((await request(`${off.base}/flows`)).status, 200, 'the editor is open');
    assert.equal((await request(`${off.base}/dashboard/tools`)).status, 200, 'so are the pages');
    assert.equal((await request(`${off.base}/toolroom/login`)).status, 404, 'no login page');
    assert.equal((await request(`${off.base}/toolroom/api/v1/session`)).status, 401, 'the REST API still asks who is calling');
    assert.equal(await off.stop(), 0);
  });

  async function refusedStart(env: NodeJS.ProcessEnv): Promise<string> {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync('bash', ['scripts/node24.sh', 'bash', 'scripts/start.sh', '--no-seed'], {
      cwd: path.resolve(__dirname, '../../..'),
      env: { ...process.env, PORT: '0', TOOLROOM_DATA_DIR: tempDir(), DATABASE_URL: '', ...env },
      encoding: 'utf8',
      timeout: 120000,
    });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    return r.stdout + r.stderr;
  }

  it('refuses half a TLS setting, naming the missing variable, and login off beyond loopback', async () => {
    assert.match(await refusedStart({ TOOLROOM_TLS_CERT: '/nonexistent/cert.pem', TOOLROOM_TLS_KEY: '' }), /TOOLROOM_TLS_KEY is not set/);
    assert.match(await refusedStart({ TOOLROOM_TLS_CERT: '/nonexistent/cert.pem', TOOLROOM_TLS_KEY: '/nonexistent/key.pem' }), /TOOLROOM_TLS_CERT=\/nonexistent\/cert.pem cannot be read/);
    assert.match(await refusedStart({ TOOLROOM_AUTH: 'off', TOOLROOM_HOST: '0.0.0.0' }), /TOOLROOM_HOST=0\.0\.0\.0 needs login/);
    const weak = await refusedStart({ TOOLROOM_ADMIN_PASSWORD: 'Admin-2026-plant' });
    assert.match(weak, /TOOLROOM_ADMIN_PASSWORD is not a usable password for user admin: must not contain the username/);
    assert.doesNotMatch(weak, /\n\s+at /, 'a sentence, not a stack');
  });
});
