import assert from 'node:assert/strict';
import type { Db } from '../../core/db/connect';
import { backends, resetData } from '../support/db';
import { Client, loggedIn, makeUser, PASSWORD, startApi, type TestServer } from '../support/api-server';

// On embedded PGlite (as a Pi runs it): a shift's work end to end through the API,
// each role doing its part by cookie or token, and the 'own' grants of the permission table.
const backend = backends.find((b) => b.name === 'pglite')!;

describe(`REST API: a shift through the API (${backend.name})`, function () {
  this.timeout(120_000);
  let db: Db;
  let api: TestServer;

  before(async () => {
    db = await backend.db();
    await resetData(db);
    api = await startApi(db, { policy: { maxFailuresPerAddress: 10_000 } });
  });
  after(async () => api?.close());

  it('admin sets up people, engineer plans, technicians work, the audit trail holds it all', async () => {
    const admin = await loggedIn(db, api.url, 'admin');
    const ok = (a: { status: number; text: string }, status = 200) => assert.equal(a.status, status, a.text);

    // Admin: people, with passwords and a PIN, through the API.
    const people: Record<string, { id: number; username: string }> = {};
    for (const [username, role] of [['eng-smoke', 'engineer'], ['tech-ann', 'technician'], ['tech-bob', 'technician']] as const) {
      const u = await admin.call('POST', '/users', { username, displayName: username, role });
      ok(u, 201);
      ok(await admin.call('PUT', `/users/${u.json.id}/password`, { password: PASSWORD, mustChange: false }));
      people[username] = { id: u.json.id, username };
    }
    ok(await admin.call('PUT', `/users/${people['tech-ann'].id}/pin`, { pin: '480213' }));
    const eng = new Client(api.url);
    ok(await eng.login('eng-smoke'), 201);
    const ann = new Client(api.url);
    const annLogin = await ann.call('POST', '/session', { username: 'tech-ann', pin: '480213' });
    ok(annLogin, 201);
    ann.csrf = annLogin.json.csrfToken;
    const bob = new Client(api.url);
    ok(await bob.login('tech-bob'), 201);

    // Engineer: a press, a mould on it, a PM plan, the catalog.
    const press = await eng.call('POST', '/presses', { code: 'P-SMOKE', name: 'Engel 200', tonnage: 200 });
    ok(press, 201);
    const tool = await ann.call('POST', '/tools', { assetNumber: 'SM-001', name: 'Door handle', cavityCount: 4 });
    ok(tool, 201);
    ok(await ann.call('POST', '/mounts', { assetNumber: 'SM-001', pressCode: 'P-SMOKE', at: new Date(Date.now() - 60_000).toISOString() }), 201);
    const plan = await eng.call('POST', '/pm/plans', { toolId: tool.json.id, name: 'Clean vents', intervalShots: 1000 });
    ok(plan, 201);
    const code = await eng.call('POST', '/failure-codes', { code: 'EJ-PIN', title: 'Ejector pin broken', component: 'ejector_system', defaultSeverity: 'major' });
    ok(code, 201);

    // The press counts shots (a machine's API token: no CSRF header).
    const counterUser = await makeUser(db, 'technician');
    const counter = new Client(api.url);
    ok(await counter.login(counterUser.username), 201);
    const tokenAnswer = await counter.call('POST', '/tokens', { name: 'press gateway' });
    ok(tokenAnswer, 201);
    const gateway = new Client(api.url);
    gateway.bearer = tokenAnswer.json.secret;
    // The press counter (first reading is the baseline, then 50 shots), and a typed count of 1,200.
    const readings = await gateway.call('POST', '/shot-readings', [
      { press: 'P-SMOKE', counter: 100, at: new Date(Date.now() - 2000).toISOString() },
      { press: 'P-SMOKE', counter: 150, at: new Date(Date.now() - 1000).toISOString() },
      { tool: 'SM-001', shots: 1200 },
    ]);
    ok(readings);
    assert.equal(readings.json.readings.length, 3);
    assert.equal((await ann.call('GET', `/tools/${tool.json.id}`)).json.lifetimeShots, 1250);
    // A typed extra zero is held until an engineer looks at it; technicians may not review.
    ok(await gateway.call('POST', '/shot-readings', [{ tool: 'SM-001', shots: 50_000 }]));
    const held = await eng.call('GET', `/held-readings?toolId=${tool.json.id}`);
    ok(held);
    assert.equal(held.json.items.length, 1, held.text);
    assert.equal((await ann.call('POST', `/held-readings/${held.json.items[0].id}/reject`, { reason: 'typo' })).status, 403);
    ok(await eng.call('POST', `/held-readings/${held.json.items[0].id}/reject`, { reason: 'an extra zero' }));
    assert.equal((await ann.call('GET', `/tools/${tool.json.id}`)).json.lifetimeShots, 1250);
    const planNow = await ann.call('GET', `/pm/plans/${plan.json.id}`);
    ok(planNow);
    assert.equal(planNow.json.status.state, 'OVERDUE', JSON.stringify(planNow.json.status));

    // A technician records the PM; the plan starts over.
    ok(await ann.call('POST', `/pm/plans/${plan.json.id}/record`, { notes: 'vents cleaned' }), 201);
    assert.equal((await ann.call('GET', `/pm/plans/${plan.json.id}`)).json.status.state, 'NOT_DUE');

    // A failure, an action for Ann: only Ann (or nobody's yet) may start it; Bob gets 403.
    const failure = await ann.call('POST', '/failures', { toolId: tool.json.id, failureCode: 'EJ-PIN', cavity: 2 });
    ok(failure, 201);
    assert.equal(failure.json.severity, 'major');
    ok(await eng.call('POST', `/failures/${failure.json.id}/triage`, { status: 'investigating', rootCause: 'worn pin' }));
    const action = await eng.call('POST', '/actions', { title: 'Replace ejector pin 2', toolId: tool.json.id, failureReportId: failure.json.id, assigneeId: people['tech-ann'].id });
    ok(action, 201);
    const bobTry = await bob.call('POST', `/actions/${action.json.id}/start`, { version: action.json.version });
    assert.equal(bobTry.status, 403, bobTry.text);
    assert.equal(bobTry.json.errors[0].rule, 'permission');
    const started = await ann.call('POST', `/actions/${action.json.id}/start`, { version: action.json.version });
    ok(started);
    const bobDone = await bob.call('POST', `/actions/${action.json.id}/complete`, { version: started.json.version, resolution: 'not mine' });
    assert.equal(bobDone.status, 403, bobDone.text);
    const done = await ann.call('POST', `/actions/${action.json.id}/complete`, { version: started.json.version, resolution: 'pin replaced' });
    ok(done);
    assert.equal((await ann.call('POST', `/actions/${action.json.id}/verify`, { version: done.json.version })).status, 403);
    const verified = await eng.call('POST', `/actions/${action.json.id}/verify`, { version: done.json.version });
    ok(verified);
    assert.equal(verified.json.status, 'verified');
    // Nobody's action: any technician may pick it up.
    const open = await eng.call('POST', '/actions', { title: 'Check cooling', toolId: tool.json.id });
    ok(open, 201);
    ok(await bob.call('POST', `/actions/${open.json.id}/start`, { version: open.json.version }));

    // Own tokens only: Bob may not revoke the gateway's token; its owner may.
    const tokens = await counter.call('GET', '/tokens');
    ok(tokens);
    assert.equal(tokens.json.items.length, 1);
    assert.ok(!JSON.stringify(tokens.json).includes(tokenAnswer.json.secret), 'the secret is never listed');
    assert.equal((await bob.call('DELETE', `/tokens/${tokenAnswer.json.token?.id ?? tokenAnswer.json.id}`)).status, 403);
    ok(await counter.call('DELETE', `/tokens/${tokens.json.items[0].id}`));
    assert.equal((await gateway.call('GET', '/tools')).status, 401);

    // Unmount; the history shows the mount.
    ok(await ann.call('POST', '/mounts/unmount', { pressCode: 'P-SMOKE' }));
    const history = await ann.call('GET', '/mounts?assetNumber=SM-001');
    ok(history);
    assert.equal(history.json.items.length, 1);
    assert.ok(history.json.items[0].unmountedAt);

    // Admin: the audit trail has the shift, its chain verifies, the export streams it.
    const trail = await admin.call('GET', `/audit?entity=action&entityId=${action.json.id}`);
    ok(trail);
    assert.deepEqual(
      trail.json.items.map((e: { action: string }) => e.action).reverse(),
      ['action.create', 'action.start', 'action.complete', 'action.verify'],
    );
    const chain = await admin.call('POST', '/audit/verify', {});
    ok(chain);
    assert.equal(chain.json.ok, true, JSON.stringify(chain.json));
    const nd = await admin.call('GET', '/audit/export.ndjson?entity=action');
    ok(nd);
    assert.equal(nd.headers.get('content-type'), 'application/x-ndjson');
    assert.equal(nd.text.trim().split('\n').length, (await admin.call('GET', '/audit?entity=action')).json.total);

    // Admin disables Bob: his session ends at once.
    ok(await admin.call('POST', `/users/${people['tech-bob'].id}/disable`));
    const out = await bob.call('GET', '/tools');
    assert.equal(out.status, 401, out.text);
  });
});
