/**
 * The API answers what its OpenAPI document says: the document is valid OpenAPI 3.1 (checked by a
 * validator of the specification's own schema), every JSON route documents a real response schema,
 * and a walk through every route over HTTP checks each successful answer against that schema.
 */
import assert from 'node:assert/strict';
import type { Db } from '../../core/db/connect';
import { apiRoutes } from '../../http/rest/router';
import { backends, resetData } from '../support/db';
import { Client, loggedIn, makeUser, PASSWORD, startApi, type Answer, type TestServer } from '../support/api-server';
import { ResponseChecker } from '../support/responses';
import { jpeg } from '../support/images';

type Json = Record<string, unknown>;

/** Every route answering JSON: the routes the walk below must see succeed. */
const jsonRoutes = apiRoutes().filter((r) => !r.produces && r.status !== 204);
/**
 * Routes the walk cannot make succeed here, each tested elsewhere: a backup needs the server's backup
 * target and key configured (test/http/operations-routes.test.ts, test/core/backup.test.ts).
 */
const NOT_WALKED = new Set(['POST /backups']);

for (const backend of backends) {
  describe(`REST API responses match the OpenAPI document (${backend.name})`, function () {
    this.timeout(120_000);
    let db: Db;
    let api: TestServer;
    let doc: Json;
    let checker: ResponseChecker;

    before(async () => {
      db = await backend.db();
      await resetData(db);
      api = await startApi(db, { policy: { maxFailuresPerAddress: 10_000 } });
      doc = (await new Client(api.url).call('GET', '/openapi.json')).json;
      checker = new ResponseChecker(doc);
    });
    after(async () => api?.close());

    it('the document is valid OpenAPI 3.1', async () => {
      const { Validator } = await import('@seriousme/openapi-schema-validator');
      const result = await new Validator().validate(doc);
      assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1)?.slice(0, 4000));
      assert.equal(doc.openapi, '3.1.0');
    });

    it('every JSON route documents its answer, lists as a page of named records', () => {
      const paths = doc.paths as Record<string, Record<string, Json>>;
      for (const route of jsonRoutes) {
        const answer = (paths[route.path][route.method.toLowerCase()].responses as Record<string, Json>)[String(route.status ?? 200)];
        const schema = (answer.content as Record<string, { schema: Json }>)['application/json'].schema;
        assert.ok(route.output, `${route.method} ${route.path} names no output schema`);
        assert.notDeepEqual(schema, {}, `${route.method} ${route.path} documents no response schema`);
      }
      const schemas = (doc.components as { schemas: Record<string, Json> }).schemas;
      assert.deepEqual(paths['/tools'].get.responses, { ...(paths['/tools'].get.responses as Json), 200: { description: 'OK', content: { 'application/json': { schema: { $ref: '#/components/schemas/ToolPage' } } } } });
      assert.deepEqual((schemas.ToolPage.properties as Json).items, { type: 'array', items: { $ref: '#/components/schemas/Tool' } });
      // Output schemas are closed: a field core does not describe (a hash, a secret) would fail the walk.
      assert.equal(schemas.User.additionalProperties, false);
    });

    it('every route answers as documented (a walk through all of them, over HTTP)', async () => {
      const original = Client.prototype.call;
      Client.prototype.call = async function (this: Client, method: string, path: string, ...rest: unknown[]): Promise<Answer> {
        const a = await original.call(this, method, path, ...(rest as [unknown, Record<string, string>]));
        checker.check(method, path, a);
        return a;
      };
      try {
        await walk(db, api.url);
      } finally {
        Client.prototype.call = original;
      }
      const missing = jsonRoutes.map((r) => `${r.method} ${r.path}`).filter((k) => !checker.seen.has(k) && !NOT_WALKED.has(k));
      assert.deepEqual(missing, [], 'routes the walk did not see succeed');
    });
  });
}

/** Calls every JSON route once with a success, as an admin (cookie) and a technician (token) would. */
async function walk(db: Db, base: string): Promise<void> {
  const ok = (a: Answer, status = 200) => {
    assert.equal(a.status, status, a.text);
    return a.json;
  };
  const admin = await loggedIn(db, base, 'admin');
  ok(await admin.call('GET', '/session'));

  // People and accounts.
  const user = ok(await admin.call('POST', '/users', { username: 'walk-tech', displayName: 'Walk Tech', role: 'technician' }), 201);
  ok(await admin.call('GET', '/users?role=technician'));
  ok(await admin.call('GET', `/users/${user.id}`));
  ok(await admin.call('GET', '/users/by-username/walk-tech'));
  ok(await admin.call('PATCH', `/users/${user.id}`, { displayName: 'Walker' }));
  ok(await admin.call('PUT', `/users/${user.id}/password`, { password: PASSWORD, mustChange: false }));
  ok(await admin.call('PUT', `/users/${user.id}/pin`, { pin: '480213' }));
  ok(await admin.call('POST', `/users/${user.id}/password/reset`, {}));
  ok(await admin.call('PUT', `/users/${user.id}/password`, { password: PASSWORD, mustChange: false }));
  const tech = new Client(base);
  ok(await tech.login('walk-tech'), 201);
  ok(await tech.call('POST', '/session/password', { currentPassword: PASSWORD, password: `${PASSWORD} again` }));
  const token = ok(await tech.call('POST', '/tokens', { name: 'walk' }), 201);
  const gateway = new Client(base);
  gateway.bearer = token.secret;
  ok(await gateway.call('GET', '/tokens'));
  ok(await admin.call('GET', `/sessions?userId=${user.id}`));

  // Registry: press, tool, mount.
  const press = ok(await admin.call('POST', '/presses', { code: 'P-WALK', name: 'Arburg 470', tonnage: 100 }), 201);
  ok(await admin.call('GET', '/presses'));
  ok(await admin.call('GET', `/presses/${press.id}`));
  ok(await admin.call('GET', '/presses/by-code/P-WALK'));
  ok(await admin.call('PATCH', `/presses/${press.id}`, { location: 'Hall 2' }));
  const idle = ok(await admin.call('POST', '/presses', { code: 'P-IDLE', name: 'Engel 80' }), 201);
  ok(await admin.call('POST', `/presses/${idle.id}/deactivate`, {}));
  const tool = ok(await admin.call('POST', '/tools', { assetNumber: 'WALK-1', name: 'Cap', cavityCount: 4, blockedCavities: [{ number: 4, reason: 'cracked insert' }] }), 201);
  ok(await admin.call('PATCH', `/tools/${tool.id}`, { customer: 'ACME', expectedLifetimeShots: 1_000_000 }));
  ok(await admin.call('POST', '/mounts', { toolId: tool.id, pressId: press.id, at: new Date(Date.now() - 120_000).toISOString() }), 201);
  ok(await admin.call('GET', '/tools?q=walk'));
  ok(await admin.call('GET', `/tools/${tool.id}`));
  ok(await admin.call('GET', '/tools/by-asset/WALK-1'));

  // Catalog, templates, PM plan.
  ok(await admin.call('POST', '/failure-codes', { code: 'WALK-EJ', title: 'Ejector pin broken', component: 'ejector_system' }), 201);
  ok(await admin.call('PATCH', '/failure-codes/WALK-EJ', { description: 'pin snapped' }));
  ok(await admin.call('GET', '/failure-codes/WALK-EJ'));
  ok(await admin.call('GET', '/failure-codes'));
  ok(await admin.call('GET', '/failure-catalog'));
  const template = ok(await admin.call('POST', '/inspection-templates', {
    code: 'walk-post-run',
    name: 'Post-run',
    kind: 'post_run',
    items: [
      { key: 'vents', label: 'Vents clean' },
      { key: 'pins', label: 'Ejector pins', failureCode: 'WALK-EJ' },
    ],
  }), 201);
  ok(await admin.call('PATCH', `/inspection-templates/${template.id}`, { name: 'Post-run check' }));
  ok(await admin.call('GET', `/inspection-templates/${template.id}`));
  ok(await admin.call('GET', `/inspection-templates/${template.id}?version=1`));
  ok(await admin.call('GET', '/inspection-templates/by-code/walk-post-run'));
  ok(await admin.call('GET', '/inspection-templates'));
  const plan = ok(await admin.call('POST', '/pm/plans', { toolId: tool.id, name: 'Clean vents', intervalShots: 100, intervalDays: 90 }), 201);
  ok(await admin.call('PATCH', `/pm/plans/${plan.id}`, { warningPercent: 80 }));

  // Shots: counted, then one held and accepted, one held and rejected; the plan falls due.
  ok(await gateway.call('POST', '/shot-readings', [
    { press: 'P-WALK', counter: 1000, at: new Date(Date.now() - 60_000).toISOString(), cycleTimeMs: 12_000 },
    { press: 'P-WALK', counter: 1090, at: new Date(Date.now() - 30_000).toISOString() },
  ]));
  ok(await gateway.call('POST', '/shot-readings', [{ tool: 'WALK-1', shots: 900_000, at: new Date(Date.now() - 5000).toISOString() }]));
  ok(await gateway.call('POST', '/shot-readings', [{ tool: 'WALK-1', shots: 800_000, at: new Date(Date.now() - 2000).toISOString() }]));
  const held = ok(await admin.call('GET', `/held-readings?toolId=${tool.id}`));
  assert.equal(held.items.length, 2, JSON.stringify(held));
  ok(await admin.call('POST', `/held-readings/${held.items[0].id}/accept`, { note: 'a long run' }));
  ok(await admin.call('POST', `/held-readings/${held.items[1].id}/reject`, { reason: 'an extra zero' }));
  ok(await admin.call('POST', '/manual-shots', { tool: 'WALK-1', shots: 40, reason: 'counter off for a shift' }), 201);
  ok(await admin.call('POST', '/pm/transitions', {}));
  ok(await admin.call('GET', '/pm/plans'));
  ok(await admin.call('GET', `/pm/plans/${plan.id}`));

  // Inspection with a failed item: a failure report; the PM recorded against it.
  const inspection = ok(await tech.call('POST', '/inspections', {
    toolId: tool.id,
    templateCode: 'walk-post-run',
    results: [
      { itemKey: 'vents', result: 'pass' },
      { itemKey: 'pins', result: 'fail', note: 'pin 3 broken', severity: 'major', cavity: 3 },
    ],
    spareParts: [{ partNumber: 'EJ-3', quantity: 1 }],
    minutesSpent: 25,
    cost: 12.5,
  }), 201);
  ok(await tech.call('GET', `/inspections/${inspection.id}`));
  ok(await tech.call('GET', `/inspections?toolId=${tool.id}`));
  ok(await tech.call('POST', `/pm/plans/${plan.id}/record`, { notes: 'vents cleaned' }), 201);

  // Failures and actions through every step.
  const failure = ok(await tech.call('POST', '/failures', { toolId: tool.id, failureCode: 'WALK-EJ', description: 'flash on cavity 2', cavity: 2 }), 201);
  ok(await admin.call('GET', `/failures/${failure.id}`));
  ok(await admin.call('GET', '/failures?severity=major'));
  ok(await admin.call('POST', `/failures/${failure.id}/triage`, { status: 'investigating', rootCause: 'worn pin' }));
  let action = ok(await admin.call('POST', '/actions', { title: 'Replace pin', toolId: tool.id, failureReportId: failure.id, dueDate: '2030-01-31' }), 201);
  action = ok(await admin.call('POST', `/actions/${action.id}/assign`, { version: action.version, assigneeId: user.id }));
  action = ok(await tech.call('POST', `/actions/${action.id}/start`, { version: action.version }));
  action = ok(await tech.call('POST', `/actions/${action.id}/complete`, { version: action.version, resolution: 'pin replaced' }));
  ok(await admin.call('POST', `/actions/${action.id}/verify`, { version: action.version }));
  const spare = ok(await admin.call('POST', '/actions', { title: 'Check cooling', toolId: tool.id }), 201);
  ok(await admin.call('POST', `/actions/${spare.id}/cancel`, { version: spare.version, reason: 'done with the PM' }));
  ok(await admin.call('GET', `/actions/${action.id}`));
  ok(await admin.call('GET', '/actions?overdue=false'));

  // Photos: one on the failure, listed, annotated, withdrawn (the image itself is no JSON route).
  const photo = ok(await tech.call('POST', `/photos?failureReportId=${failure.id}&caption=pin%203`, await jpeg(), { 'content-type': 'image/jpeg' }), 201);
  ok(await tech.call('GET', `/photos?toolId=${tool.id}`));
  ok(await tech.call('GET', `/photos/${photo.id}`));
  const annotated = ok(await tech.call('POST', `/photos/${photo.id}/annotate`, { version: photo.version, annotations: [{ kind: 'circle', centre: { x: 0.5, y: 0.5 }, radius: 0.1, colour: '#ff0000' }] }));
  ok(await admin.call('POST', `/photos/${photo.id}/withdraw`, { version: annotated.version, reason: 'blurred' }));

  // KPIs over what the walk has done so far: rows in every answer (null-able columns included).
  const nonEmpty = (a: Answer) => {
    const rows = ok(a);
    assert.ok(rows.length > 0, a.text);
    return rows;
  };
  nonEmpty(await admin.call('GET', '/kpi/reliability?by=tool'));
  nonEmpty(await admin.call('GET', '/kpi/failure-pareto?dimension=component'));
  nonEmpty(await admin.call('GET', '/kpi/pm-compliance?by=customer'));
  nonEmpty(await admin.call('GET', '/kpi/pm-forecast'));
  nonEmpty(await admin.call('GET', '/kpi/maintenance?by=press'));
  nonEmpty(await admin.call('GET', '/kpi/utilisation'));
  nonEmpty(await admin.call('GET', '/kpi/end-of-life'));
  const trend = ok(await tech.call('GET', '/tools/by-asset/WALK-1/trend?days=7'));
  assert.equal(trend.shotsPerDay.length, 7, trend);

  // Notifications: the assignment left an item in the technician's inbox; settings, subscriptions, a system event.
  ok(await tech.call('GET', '/notifications/unread-count'));
  const inbox = ok(await tech.call('GET', '/notifications?unreadOnly=true'));
  assert.ok(inbox.items.some((n: Json) => n.type === 'action.assigned'), JSON.stringify(inbox));
  ok(await tech.call('POST', `/notifications/${inbox.items[0].id}/acknowledge`, {}));
  ok(await tech.call('GET', '/notification-settings'));
  ok(await tech.call('PATCH', '/notification-settings', { email: 'walk-tech@example.com', quietFrom: '22:00', quietUntil: '06:00', timeZone: 'Europe/Berlin' }));
  ok(await admin.call('PUT', '/notification-settings/subscriptions', { userId: user.id, subscriptions: [{ eventType: 'pm.due', channel: 'email', enabled: true }] }));
  ok(await admin.call('POST', '/notifications/backup-failed', { archive: 'walk-backup.tar', error: 'disk full' }), 201);

  // Unmount, history, retire.
  ok(await admin.call('POST', '/mounts/unmount', { pressCode: 'P-WALK' }));
  ok(await admin.call('GET', `/mounts?toolId=${tool.id}`));
  ok(await admin.call('POST', `/tools/${tool.id}/retire`, { reason: 'end of the programme' }));

  // Retention and a legal hold (admins).
  ok(await admin.call('GET', '/retention'));
  ok(await admin.call('PUT', '/retention/sessions', { keepDays: 400 }));
  ok(await admin.call('POST', `/tools/${tool.id}/legal-hold`, { reason: 'customer claim' }), 201);
  ok(await admin.call('GET', '/legal-holds'));
  ok(await admin.call('GET', '/backups'));
  ok(await admin.call('POST', '/retention/purge', {}));
  ok(await admin.call('DELETE', `/tools/${tool.id}/legal-hold`));

  // Accounts wind down; the audit trail holds it all.
  const tokens = ok(await tech.call('GET', '/tokens'));
  ok(await tech.call('DELETE', `/tokens/${tokens.items[0].id}`));
  ok(await admin.call('POST', '/sessions/revoke-all', { userId: user.id }));
  ok(await admin.call('POST', `/users/${user.id}/disable`));
  ok(await admin.call('POST', `/users/${user.id}/enable`));
  ok(await admin.call('GET', '/audit?entity=tool'));
  ok(await admin.call('POST', '/audit/verify', {}));
  ok(await new Client(base).call('POST', '/session', { username: (await makeUser(db, 'engineer')).username, password: PASSWORD }), 201);
}
