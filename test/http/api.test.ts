import assert from 'node:assert/strict';
import { grantFor, PERMISSIONS, type Operation } from '../../core/auth/permissions';
import type { UserRole } from '../../core/auth/actor';
import type { Db } from '../../core/db/connect';
import { createApiToken } from '../../core/accounts/tokens';
import { createTool } from '../../core/tools/service';
import { apiRoutes } from '../../http/rest/router';
import { CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE } from '../../http/auth';
import { backends, resetData, tableCounts } from '../support/db';
import { Client, loggedIn, makeUser, PASSWORD, startApi, type TestServer } from '../support/api-server';

// The server suite: PostgreSQL when TEST_DATABASE_URL is set (the PGlite smoke suite is smoke.test.ts).
const backend = backends.find((b) => b.name === 'postgres') ?? backends[0];
const ROLES: UserRole[] = ['technician', 'engineer', 'admin'];
const POLICY = { maxFailuresPerAddress: 10_000 };

/** A path with its placeholders filled by values no record has. */
function samplePath(path: string): string {
  return path.replace(/\{(\w+)\}/g, (_, f: string) => (/id$/i.test(f) ? '999999' : f === 'code' ? 'NOPE-999' : f === 'username' ? 'nobody-here' : 'NOPE-999'));
}

describe(`REST API (${backend.name})`, function () {
  this.timeout(60_000);
  let db: Db;
  let api: TestServer;

  before(async () => {
    db = await backend.db();
    await resetData(db);
    api = await startApi(db, { policy: POLICY });
  });
  after(async () => api?.close());

  describe('role × operation, derived from the permission table', () => {
    const tokenOf: Partial<Record<UserRole, string>> = {};
    before(async () => {
      for (const role of ROLES) {
        const u = await makeUser(db, role);
        const actor = { id: String(u.id), name: u.username, role, via: 'test' };
        tokenOf[role] = (await createApiToken(db, actor, { name: 'matrix' })).secret;
      }
    });

    const routes = apiRoutes().filter((r) => typeof r.permission === 'string' && r.permission !== 'anonymous');

    it('covers every operation of the permission table', () => {
      const covered = new Set(routes.map((r) => r.permission));
      assert.deepEqual(Object.keys(PERMISSIONS).filter((op) => !covered.has(op as Operation)), []);
    });

    for (const route of routes) {
      const op = route.permission as Operation;
      const path = samplePath(route.path);
      for (const role of ROLES) {
        const grant = grantFor(role, op);
        it(`${route.method} ${route.path} as ${role}: ${grant === false ? '403' : 'allowed'} (${op} = ${String(grant)})`, async () => {
          const c = new Client(api.url);
          c.bearer = tokenOf[role];
          const a = await c.call(route.method, path, route.method === 'GET' || route.method === 'DELETE' ? undefined : {});
          assert.ok(a.status < 500, `${a.status} ${a.text}`);
          if (grant === false) {
            assert.equal(a.status, 403, a.text);
            assert.equal(a.headers.get('content-type'), 'application/problem+json');
            assert.equal(a.json.errors[0].rule, 'permission');
          } else {
            assert.ok([200, 201, 204, 400, 404, 409].includes(a.status), `${a.status} ${a.text}`);
          }
        });
      }
      it(`${route.method} ${route.path} anonymous: 401`, async () => {
        const a = await new Client(api.url).call(route.method, path, route.method === 'GET' ? undefined : {});
        assert.equal(a.status, 401, a.text);
        assert.match(a.headers.get('www-authenticate') ?? '', /^Bearer/);
        assert.equal(a.json.errors[0].rule, 'unauthenticated');
      });
    }

    for (const route of apiRoutes().filter((r) => r.permission === null)) {
      it(`${route.method} ${route.path} (own account): every role allowed, anonymous 401`, async () => {
        for (const role of ROLES) {
          const c = new Client(api.url);
          c.bearer = tokenOf[role];
          const a = await c.call(route.method, route.path, route.method === 'GET' || route.method === 'DELETE' ? undefined : {});
          assert.ok([200, 204, 400].includes(a.status), `${role}: ${a.status} ${a.text}`);
        }
        const anon = await new Client(api.url).call(route.method, route.path, route.method === 'GET' ? undefined : {});
        assert.equal(anon.status, 401, anon.text);
      });
    }

    it('anonymous may read the OpenAPI document and the docs page, and nothing else without logging in', async () => {
      const c = new Client(api.url);
      const doc = await c.call('GET', '/openapi.json');
      assert.equal(doc.status, 200);
      assert.equal(doc.json.openapi, '3.1.0');
      const page = await c.call('GET', '/docs');
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type')!, /text\/html/);
      assert.equal((await c.call('GET', '/session')).status, 401);
    });
  });

  describe('sessions', () => {
    it('logs in with a cookie pair and tells who it is, with the operations the role may do', async () => {
      const u = await makeUser(db, 'technician');
      const c = new Client(api.url);
      const a = await c.login(u.username);
      assert.equal(a.status, 201, a.text);
      assert.equal(a.json.user.username, u.username);
      assert.ok(a.json.csrfToken);
      assert.ok(!('token' in a.json), 'the session secret is only in the HttpOnly cookie');
      const cookies = a.headers.getSetCookie();
      assert.ok(cookies.some((s) => s.startsWith(`${SESSION_COOKIE}=`) && /HttpOnly/.test(s) && /SameSite=Lax/.test(s)));
      assert.ok(cookies.some((s) => s.startsWith(`${CSRF_COOKIE}=${a.json.csrfToken}`) && !/HttpOnly/.test(s)));
      const me = await c.call('GET', '/session');
      assert.equal(me.status, 200);
      assert.equal(me.json.user.id, u.id);
      assert.equal(me.json.csrfToken, a.json.csrfToken);
      assert.deepEqual(
        me.json.operations,
        Object.keys(PERMISSIONS).filter((op) => grantFor('technician', op as Operation) !== false),
      );
    });

    it('a wrong password is 401 with one answer for unknown users too, and nothing about which', async () => {
      const u = await makeUser(db, 'engineer');
      const wrong = await new Client(api.url).login(u.username, 'not the password at all');
      const unknown = await new Client(api.url).login('nobody-at-all', 'not the password at all');
      assert.equal(wrong.status, 401);
      assert.equal(unknown.status, 401);
      assert.equal(wrong.json.detail, unknown.json.detail);
      assert.equal(wrong.json.errors[0].rule, 'invalid_credentials');
    });

    it('logout ends the session and clears the cookies; the old cookie is refused after', async () => {
      const c = await loggedIn(db, api.url, 'engineer');
      const old = new Map(c.cookies);
      const out = await c.call('DELETE', '/session');
      assert.equal(out.status, 204);
      assert.equal(c.cookies.size, 0);
      const replay = new Client(api.url);
      replay.cookies = old;
      const a = await replay.call('GET', '/tools');
      assert.equal(a.status, 401);
      assert.equal(a.json.errors[0].rule, 'revoked');
    });

    it('a cookie write without the CSRF header, or with a wrong one, is refused and writes nothing; with it, it works', async () => {
      const c = await loggedIn(db, api.url, 'engineer');
      const before = await tableCounts(db);
      c.sendCsrf = false;
      const none = await c.call('POST', '/tools', { assetNumber: 'CSRF-1', name: 'Cap', cavityCount: 1 });
      assert.equal(none.status, 403);
      assert.equal(none.json.errors[0].field, CSRF_HEADER);
      assert.equal(none.json.errors[0].rule, 'csrf');
      const wrong = await c.call('POST', '/tools', { assetNumber: 'CSRF-1', name: 'Cap', cavityCount: 1 }, { [CSRF_HEADER]: 'x'.repeat(43) });
      assert.equal(wrong.status, 403);
      // Nothing written but one audit event of the refusal (the second, same caller and rule, is counted, not written).
      assert.deepEqual(await tableCounts(db), { ...before, audit_events: before.audit_events + 1 });
      assert.equal((await db('audit_events').where('action', 'security.refused').orderBy('id', 'desc').first()).after.rule, 'csrf');
      c.sendCsrf = true;
      const ok = await c.call('POST', '/tools', { assetNumber: 'CSRF-1', name: 'Cap', cavityCount: 1 });
      assert.equal(ok.status, 201, ok.text);
      assert.equal(ok.json.assetNumber, 'CSRF-1');
      // Reads need no header.
      c.sendCsrf = false;
      assert.equal((await c.call('GET', `/tools/${ok.json.id}`)).status, 200);
    });

    it('a disabled user is out at once: session (ended) and token (revoked) both 401', async () => {
      const boss = await loggedIn(db, api.url, 'admin');
      const victim = await loggedIn(db, api.url, 'technician');
      const tok = await victim.call('POST', '/tokens', { name: 'mes' });
      assert.equal(tok.status, 201, tok.text);
      const byToken = new Client(api.url);
      byToken.bearer = tok.json.secret;
      assert.equal((await byToken.call('GET', '/tools')).status, 200);
      const off = await boss.call('POST', `/users/${victim.userId}/disable`);
      assert.equal(off.status, 200, off.text);
      assert.equal(off.json.active, false);
      const a = await victim.call('GET', '/tools');
      assert.equal(a.status, 401);
      // Disabling ends the user's sessions (core); a session that survived would say disabled.
      assert.ok(['revoked', 'disabled'].includes(a.json.errors[0].rule), a.text);
      const b = await byToken.call('GET', '/tools');
      assert.equal(b.status, 401);
      // Disabling revokes the user's API tokens too (issue 15, finding 9).
      assert.equal(b.json.errors[0].rule, 'revoked');
      // And logging in again is refused too.
      const again = await new Client(api.url).login(victim.username);
      assert.equal(again.status, 401);
      assert.equal(again.json.errors[0].rule, 'disabled');
    });

    it('disable takes only the id: other fields in the body are refused, nothing changes', async () => {
      const boss = await loggedIn(db, api.url, 'admin');
      const u = await makeUser(db, 'technician');
      const a = await boss.call('POST', `/users/${u.id}/disable`, { role: 'admin' });
      assert.equal(a.status, 400);
      const got = await boss.call('GET', `/users/${u.id}`);
      assert.equal(got.json.role, 'technician');
      assert.equal(got.json.active, true);
    });

    it("revoke-all logs a user out everywhere; a technician may not end someone else's sessions", async () => {
      const tech = await loggedIn(db, api.url, 'technician');
      const other = await loggedIn(db, api.url, 'technician');
      const list = await other.call('GET', '/sessions');
      assert.equal(list.status, 200);
      assert.equal(list.json.length, 1);
      const refused = await tech.call('POST', '/sessions/revoke-all', { userId: other.userId });
      assert.equal(refused.status, 403);
      const own = await other.call('POST', '/sessions/revoke-all', {});
      assert.equal(own.status, 200);
      assert.equal(own.json.revoked, 1);
      assert.equal((await other.call('GET', '/session')).status, 401);
      assert.equal((await tech.call('GET', '/session')).status, 200);
    });

    it('changes its own password (proving the current one); the new one logs in', async () => {
      const c = await loggedIn(db, api.url, 'technician');
      const wrong = await c.call('POST', '/session/password', { currentPassword: 'nope nope nope', password: 'Another long phrase 42' });
      assert.equal(wrong.status, 400);
      assert.equal(wrong.json.errors[0].field, 'currentPassword');
      const ok = await c.call('POST', '/session/password', { currentPassword: PASSWORD, password: 'Another long phrase 42' });
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await new Client(api.url).login(c.username, 'Another long phrase 42')).status, 201);
      assert.equal((await new Client(api.url).login(c.username)).status, 401);
    });

    it('with a temporary password, only the session routes work until it is changed', async () => {
      const boss = await loggedIn(db, api.url, 'admin');
      const u = await makeUser(db, 'technician');
      const reset = await boss.call('PUT', `/users/${u.id}/password`, { password: 'Temporary pass 2030' });
      assert.equal(reset.status, 200, reset.text);
      const c = new Client(api.url);
      const a = await c.login(u.username, 'Temporary pass 2030');
      assert.equal(a.status, 201);
      assert.equal(a.json.mustChangePassword, true);
      const refused = await c.call('GET', '/tools');
      assert.equal(refused.status, 403);
      assert.equal(refused.json.errors[0].rule, 'password_change_required');
      const me = await c.call('GET', '/session');
      assert.equal(me.status, 200);
      assert.equal(me.json.mustChangePassword, true);
      const changed = await c.call('POST', '/session/password', { currentPassword: 'Temporary pass 2030', password: 'My own long phrase 77' });
      assert.equal(changed.status, 200, changed.text);
      assert.equal((await c.call('GET', '/tools')).status, 200);
    });
  });

  describe('API tokens', () => {
    it('shows the secret once, lists without it, and a revoked token stops at once (no CSRF header needed)', async () => {
      const c = await loggedIn(db, api.url, 'engineer');
      const made = await c.call('POST', '/tokens', { name: 'ERP import' });
      assert.equal(made.status, 201, made.text);
      assert.match(made.json.secret, /^toolroom_/);
      const list = await c.call('GET', '/tokens');
      assert.equal(list.status, 200);
      assert.equal(list.json.items.length, 1);
      assert.ok(!JSON.stringify(list.json).includes(made.json.secret));
      const t = new Client(api.url);
      t.bearer = made.json.secret;
      const w = await t.call('POST', '/tools', { assetNumber: 'TOK-1', name: 'Lid', cavityCount: 2 });
      assert.equal(w.status, 201, w.text);
      const me = await t.call('GET', '/session');
      assert.equal(me.json.via, 'token');
      assert.equal(me.json.csrfToken, null);
      const gone = await c.call('DELETE', `/tokens/${made.json.token.id}`);
      assert.equal(gone.status, 200, gone.text);
      assert.ok(gone.json.revokedAt);
      const after = await t.call('GET', '/tools');
      assert.equal(after.status, 401);
      assert.equal(after.json.errors[0].rule, 'revoked');
    });

    it('a malformed or unknown bearer token is 401 invalid_token, never a session fallback', async () => {
      const c = await loggedIn(db, api.url, 'admin');
      c.bearer = 'toolroom_' + 'A'.repeat(43);
      const a = await c.call('GET', '/tools');
      assert.equal(a.status, 401);
      assert.equal(a.json.errors[0].rule, 'invalid_token');
    });
  });

  describe('HTTP errors are problem+json', () => {
    let c: Client;
    before(async () => {
      c = await loggedIn(db, api.url, 'admin');
    });

    it('unknown route 404, wrong method 405 with Allow', async () => {
      const a = await c.call('GET', '/no-such-thing');
      assert.equal(a.status, 404);
      assert.equal(a.headers.get('content-type'), 'application/problem+json');
      const b = await c.call('PUT', '/tools');
      assert.equal(b.status, 405);
      assert.equal(b.headers.get('allow'), 'GET, POST');
    });

    it('413 for a body over the limit, naming the body; 415 for a body that is not JSON; 400 for broken JSON', async () => {
      const big = await c.call('POST', '/tools', JSON.stringify({ name: 'x'.repeat(3 * 1024 * 1024) }));
      assert.equal(big.status, 413);
      assert.equal(big.json.errors[0].field, 'body');
      const text = await c.call('POST', '/tools', 'name=x', { 'content-type': 'text/plain' });
      assert.equal(text.status, 415);
      const broken = await c.call('POST', '/tools', '{"name":');
      assert.equal(broken.status, 400);
      assert.equal(broken.json.errors[0].rule, 'json');
    });

    it('validation names the field and the rule', async () => {
      const a = await c.call('POST', '/tools', { assetNumber: 'V-1', name: 'Cup', cavityCount: 0 });
      assert.equal(a.status, 400);
      assert.deepEqual(a.json.errors.map((e: { field: string }) => e.field), ['cavityCount']);
      assert.equal(a.json.code, 'validation');
    });

    it('query strings are typed by the schema: booleans, numbers and lists', async () => {
      await c.call('POST', '/tools', { assetNumber: 'Q-1', name: 'Cup', cavityCount: 1 });
      await c.call('POST', '/tools', { assetNumber: 'Q-2', name: 'Cup', cavityCount: 1, status: 'in_maintenance' });
      const a = await c.call('GET', '/tools?status=in_store&status=in_maintenance&limit=1&includeRetired=true&q=Q-');
      assert.equal(a.status, 200, a.text);
      assert.equal(a.json.limit, 1);
      assert.equal(a.json.total, 2);
      const bad = await c.call('GET', '/tools?limit=lots');
      assert.equal(bad.status, 400);
      assert.equal(bad.json.errors[0].field, 'limit');
      const unknown = await c.call('GET', '/tools?__proto__=1');
      assert.equal(unknown.status, 400);
    });

    it('prototype keys are refused as unknown fields and pollute nothing', async () => {
      const a = await c.call('POST', '/tools', '{"assetNumber":"PP-1","name":"x","cavityCount":1,"__proto__":{"polluted":true}}');
      assert.equal(a.status, 400, a.text);
      assert.equal(a.json.errors[0].rule, 'unrecognized_keys');
      assert.match(a.json.errors[0].message, /__proto__/);
      const b = await c.call('PATCH', '/tools/1', '{"constructor":{"prototype":{"polluted":true}}}');
      assert.equal(b.status, 400, b.text);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });

    it('a conflict is 409, not found 404', async () => {
      const dup = await c.call('POST', '/tools', { assetNumber: 'Q-1', name: 'Cup', cavityCount: 1 });
      assert.equal(dup.status, 409, dup.text);
      // An id beyond PostgreSQL's integer is a 400 naming it, not a database error.
      const huge = await c.call('GET', '/actions/2147483648');
      assert.equal(huge.status, 400, huge.text);
      assert.equal(huge.json.errors[0].field, 'id');
      const missing = await c.call('GET', '/tools/999999');
      assert.equal(missing.status, 404);
      assert.equal(missing.json.errors[0].field, 'id');
    });
  });

  describe("'own' grants over HTTP", () => {
    it("a technician starts an action assigned to them, not one assigned to someone else; an engineer may", async () => {
      const eng = await loggedIn(db, api.url, 'engineer');
      const tina = await loggedIn(db, api.url, 'technician');
      const tom = await loggedIn(db, api.url, 'technician');
      const tool = await eng.call('POST', '/tools', { assetNumber: 'OWN-1', name: 'Cap', cavityCount: 1 });
      assert.equal(tool.status, 201, tool.text);
      const mine = await eng.call('POST', '/actions', { title: 'Polish', toolId: tool.json.id, assigneeId: tina.userId });
      const his = await eng.call('POST', '/actions', { title: 'Vent', toolId: tool.json.id, assigneeId: tom.userId });
      assert.equal(mine.status, 201, mine.text);
      const refused = await tina.call('POST', `/actions/${his.json.id}/start`, { version: his.json.version });
      assert.equal(refused.status, 403, refused.text);
      assert.equal(refused.json.errors[0].rule, 'permission');
      const ok = await tina.call('POST', `/actions/${mine.json.id}/start`, { version: mine.json.version });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json.status, 'in_progress');
      const byEngineer = await eng.call('POST', `/actions/${his.json.id}/start`, { version: his.json.version });
      assert.equal(byEngineer.status, 200, byEngineer.text);
    });

    it("a technician may not list or revoke someone else's API tokens; an admin may", async () => {
      const boss = await loggedIn(db, api.url, 'admin');
      const tina = await loggedIn(db, api.url, 'technician');
      const tom = await loggedIn(db, api.url, 'technician');
      const t = await tom.call('POST', '/tokens', { name: 'scanner' });
      assert.equal(t.status, 201);
      assert.equal((await tina.call('GET', `/tokens?userId=${tom.userId}`)).status, 403);
      assert.equal((await tina.call('DELETE', `/tokens/${t.json.token.id}`)).status, 403);
      assert.equal((await tina.call('POST', '/tokens', { name: 'x', userId: tom.userId })).status, 403);
      const all = await boss.call('GET', `/tokens?userId=${tom.userId}`);
      assert.equal(all.status, 200);
      assert.equal(all.json.items.length, 1);
      assert.equal((await boss.call('DELETE', `/tokens/${t.json.token.id}`)).status, 200);
    });
  });

  describe('audit trail', () => {
    it('exports CSV and NDJSON streamed, every event of the filter once; technicians get 403', async () => {
      const boss = await loggedIn(db, api.url, 'admin');
      const list = await boss.call('GET', '/audit?limit=1');
      assert.equal(list.status, 200);
      const total = list.json.total as number;
      const nd = await boss.call('GET', '/audit/export.ndjson');
      assert.equal(nd.status, 200);
      assert.match(nd.headers.get('content-type')!, /ndjson/);
      const lines = nd.text.trim().split('\n').map((l) => JSON.parse(l));
      assert.ok(lines.length >= total);
      assert.equal(new Set(lines.map((e) => e.id)).size, lines.length);
      const csv = await boss.call('GET', '/audit/export.csv?entity=tool');
      assert.equal(csv.status, 200);
      const rows = csv.text.trim().split('\r\n');
      assert.equal(rows[0], 'seq,id,at,actorId,actorName,actorRole,via,action,entity,entityId,before,after');
      assert.ok(rows.length > 1);
      const tech = await loggedIn(db, api.url, 'technician');
      const refused = await tech.call('GET', '/audit/export.csv');
      assert.equal(refused.status, 403);
      assert.equal(refused.headers.get('content-type'), 'application/problem+json');
      // Over more than one page (500 events a page), each event once, newest first.
      const sys = { id: 'system', name: 'bulk', role: 'system' as const, via: 'test' };
      for (let i = 0; i < 60; i++) {
        await Promise.all(Array.from({ length: 10 }, (_, j) => createTool(db, sys, { assetNumber: `AUD-${i}-${j}`, name: 'Bulk', cavityCount: 1 })));
      }
      const all = await boss.call('GET', '/audit/export.ndjson');
      const events = all.text.trim().split('\n').map((l) => JSON.parse(l) as { seq: number });
      const [{ count }] = await db('audit_events').count<{ count: string }[]>({ count: '*' });
      assert.ok(events.length > 600);
      assert.equal(events.length, Number(count));
      assert.equal(new Set(events.map((e) => e.seq)).size, events.length);
      assert.ok(events.every((e, i) => i === 0 || e.seq < events[i - 1].seq), 'newest first');
      const csvAll = await boss.call('GET', '/audit/export.csv');
      assert.equal(csvAll.text.trim().split('\r\n').length, events.length + 1);
      // A client that leaves mid-export leaves the server answering.
      const abort = new AbortController();
      const h: Record<string, string> = { cookie: [...boss.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
      const res = await fetch(`${api.url}/audit/export.ndjson`, { headers: h, signal: abort.signal });
      const reader = res.body!.getReader();
      await reader.read();
      abort.abort();
      await reader.cancel().catch(() => undefined);
      assert.equal((await boss.call('GET', '/audit?limit=1')).status, 200);
      const verify = await boss.call('POST', '/audit/verify', {});
      assert.equal(verify.status, 200, verify.text);
      assert.equal(verify.json.ok, true);
    });
  });

  // Each test here starts a server of its own, with the policy it is about (the suite's stays up beside it).
  describe('session policy and lockout', () => {
    let server: TestServer;
    before(async () => {
      await resetData(db);
    });
    afterEach(async () => server?.close());

    it('a session unused past the idle timeout ends (401 expired)', async () => {
      server = await startApi(db, { policy: { ...POLICY, idleTimeoutMs: 800, touchIntervalMs: 0 } });
      const c = await loggedIn(db, server.url, 'technician');
      assert.equal((await c.call('GET', '/session')).status, 200);
      await new Promise((r) => setTimeout(r, 1000));
      const a = await c.call('GET', '/session');
      assert.equal(a.status, 401);
      assert.equal(a.json.errors[0].rule, 'expired');
    });

    it('a session in use still ends at its absolute lifetime', async () => {
      server = await startApi(db, { policy: { ...POLICY, sessionLifetimeMs: 1500, idleTimeoutMs: 60_000, touchIntervalMs: 0 } });
      const c = await loggedIn(db, server.url, 'engineer');
      const started = Date.now();
      let last = 200;
      while (Date.now() - started < 3000 && last === 200) {
        last = (await c.call('GET', '/session')).status;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(last, 401);
      assert.ok(Date.now() - started >= 1300, 'not before the lifetime');
    });

    it('locks a username after repeated failures: 429 with Retry-After, even with the right password', async () => {
      server = await startApi(db, { policy: { ...POLICY, maxFailuresPerUser: 3 } });
      const u = await makeUser(db, 'technician');
      for (let i = 0; i < 3; i++) assert.equal((await new Client(server.url).login(u.username, 'wrong wrong wrong')).status, 401);
      const locked = await new Client(server.url).login(u.username);
      assert.equal(locked.status, 429);
      assert.equal(locked.json.errors[0].rule, 'locked');
      assert.equal(locked.json.code, 'locked', "core's code, from which the status comes");
      assert.ok(Number(locked.headers.get('retry-after')) > 0);
    });

    it('rate-limits per caller: 429 problem+json with Retry-After', async () => {
      server = await startApi(db, { policy: POLICY, rateLimit: { user: { burst: 5, perSecond: 1 }, address: { burst: 5, perSecond: 1 } } });
      const c = await loggedIn(db, server.url, 'technician');
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await c.call('GET', '/tools')).status);
      assert.ok(statuses.includes(200));
      const a = await c.call('GET', '/tools');
      assert.equal(a.status, 429);
      assert.equal(a.headers.get('content-type'), 'application/problem+json');
      assert.ok(Number(a.headers.get('retry-after')) >= 1);
    });
  });
});
