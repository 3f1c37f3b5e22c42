import assert from 'node:assert/strict';
import { createTool } from '../../core/tools/service';
import { systemActor } from '../../core/auth/actor';
import { seedFailureCatalog } from '../../core/failures/seed';
import { seedInspectionTemplates, POST_RUN_TEMPLATE } from '../../core/inspections/seed';
import { resetData, tableCounts } from '../support/db';
import { assertCaught, catchTo, configNode, exchange, helper, holdDatabase, nodeBackends, statuses, statusUntil } from '../support/nodes';
import type { Db } from '../../core/db/connect';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const inspectionNode = require('../../nodes/toolroom-inspection');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const failureNode = require('../../nodes/toolroom-failure');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const actionNode = require('../../nodes/toolroom-action');

/**
 * toolroom-inspection, toolroom-failure and toolroom-action on one config: the shop-floor path from
 * a failed checklist item to a verified fix, and each node's errors at a Catch node.
 */
for (const backend of nodeBackends) {
  describe(`toolroom-inspection, -failure and -action nodes [${backend.name}]`, function () {
    this.timeout(30000);
    const held = holdDatabase(backend);
    let db: Db;
    let toolId: number;
    let tina: { id: number; username: string; role: string };
    let tom: { id: number; username: string; role: string };
    let erik: { id: number; username: string; role: string };

    async function deploy() {
      const cfg = backend.config('cfg');
      await helper.load(
        [configNode, inspectionNode, failureNode, actionNode],
        [
          { id: 'flow', type: 'tab' },
          cfg.node,
          { id: 'inspection', type: 'toolroom-inspection', z: 'flow', config: 'cfg', wires: [['out']] },
          { id: 'failure', type: 'toolroom-failure', z: 'flow', config: 'cfg', wires: [['out']] },
          { id: 'action', type: 'toolroom-action', z: 'flow', config: 'cfg', wires: [['out']] },
          { id: 'out', type: 'helper', z: 'flow' },
          ...catchTo('errors'),
        ],
        cfg.credentials,
      );
      for (const id of ['inspection', 'failure', 'action']) await statusUntil(helper.getNode(id), (s) => s.fill === 'grey');
      const out = helper.getNode('out');
      const errors = helper.getNode('errors');
      return (node: 'inspection' | 'failure' | 'action', topic: string, payload: unknown, user?: object) =>
        exchange(helper.getNode(node), { topic, payload, ...(user ? { user } : {}) }, out, errors);
    }

    const user = async (username: string, role: string) => {
      const [{ id }] = await db('users').insert({ username, display_name: username, role }).returning('id');
      return { id: Number(id), username, role };
    };

    beforeEach(async function () {
      db = held.db();
      await resetData(db);
      await seedFailureCatalog(db);
      await seedInspectionTemplates(db);
      toolId = (await createTool(db, systemActor('test'), { assetNumber: 'M-1001', name: 'Door handle', cavityCount: 4, lifetimeShots: 5000 })).id;
      tina = await user('tina.tech', 'technician');
      tom = await user('tom.tech', 'technician');
      erik = await user('erik.eng', 'engineer');
      await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
    });
    afterEach(function (done) {
      helper.unload().then(() => helper.stopServer(done), done);
    });

    it('records an inspection whose failed item raises an action and a failure, triaged and worked to verified', async () => {
      const call = await deploy();
      const template = (await call('inspection', 'template', { code: 'post-run' })).output!.payload as { items: { key: string }[] };
      assert.deepEqual(template.items.map((i) => i.key), POST_RUN_TEMPLATE.items.map((i) => i.key));
      const templates = (await call('inspection', 'templates', { kind: 'post_run' })).output!.payload as { code: string }[];
      assert.ok(templates.some((t) => t.code === 'post-run'));

      const results = template.items.map((i) =>
        i.key === 'ejector_pins_return' ? { itemKey: i.key, result: 'fail', note: 'pin 7 bent', cavity: 2 } : { itemKey: i.key, result: 'pass' },
      );
      const inspection = (await call('inspection', 'record', { assetNumber: 'M-1001', templateCode: 'post-run', results, minutesSpent: 35 }, tina)).output!
        .payload as { id: number; outcome: string; actionIds: number[]; failureReportIds: number[]; performedBy: string };
      assert.equal(inspection.outcome, 'fail');
      assert.equal(inspection.performedBy, String(tina.id));
      assert.equal(inspection.actionIds.length, 1);
      assert.equal(inspection.failureReportIds.length, 1);

      const failed = (await call('inspection', 'list', { outcome: 'fail' })).output!.payload as { items: { id: number }[] };
      assert.deepEqual(failed.items.map((i) => i.id), [inspection.id]);
      assert.equal(((await call('inspection', 'get', { id: inspection.id })).output!.payload as { results: unknown[] }).results.length, results.length);

      const [failureId] = inspection.failureReportIds;
      const failure = (await call('failure', 'get', { id: failureId })).output!.payload as { failureCode: string; cavity: number; shotCount: number };
      assert.deepEqual([failure.failureCode, failure.cavity, failure.shotCount], ['EJ-PIN-BROKEN', 2, 5000]);
      const triaged = (await call('failure', 'triage', { id: failureId, status: 'investigating', rootCause: 'pin fatigue' }, erik)).output!.payload as { status: string };
      assert.equal(triaged.status, 'investigating');
      const reported = (await call('failure', 'report', { toolId, failureCode: 'cl-water-leak', description: 'circuit 3' }, tom)).output!.payload as {
        severity: string;
        component: string;
      };
      assert.deepEqual([reported.component], ['cooling'], 'component from the catalog code');
      const open = (await call('failure', 'list', { toolId, status: ['open', 'investigating'] })).output!.payload as { total: number };
      assert.equal(open.total, 2);
      const catalog = (await call('failure', 'catalog', {})).output!.payload as { component: string; codes: { code: string }[] }[];
      assert.equal(catalog[0].component, 'ejector_system', 'grouped by component in the fixed order');
      assert.ok(catalog.find((g) => g.component === 'cooling')!.codes.some((c) => c.code === 'CL-WATER-LEAK'));
      const code = (await call('failure', 'code', { code: 'ej-pin-broken' })).output!.payload as { component: string };
      assert.equal(code.component, 'ejector_system');

      const [actionId] = inspection.actionIds;
      const assigned = (await call('action', 'assign', { id: actionId, assigneeId: tina.id }, erik)).output!.payload as { assigneeId: number };
      assert.equal(assigned.assigneeId, tina.id);
      const mine = (await call('action', 'list', { mine: true }, tina)).output!.payload as { items: { id: number }[] };
      assert.deepEqual(mine.items.map((a) => a.id), [actionId]);
      await call('action', 'start', { id: actionId }, tina);
      await call('action', 'complete', { id: actionId, resolution: 'pin replaced' }, tina);
      const verified = (await call('action', 'verify', { id: actionId }, erik)).output!.payload as { status: string; verifiedBy: string };
      assert.equal(verified.status, 'verified');
      const created = (await call('action', 'create', { toolId, title: 'Check all pins at next PM', kind: 'preventive' }, erik)).output!.payload as { id: number };
      const cancelled = (await call('action', 'cancel', { id: created.id, reason: 'covered by the PM plan' }, erik)).output!.payload as { status: string };
      assert.equal(cancelled.status, 'cancelled');
      assert.equal(((await call('action', 'get', { id: actionId })).output!.payload as { status: string }).status, 'verified');
      for (const id of ['inspection', 'failure', 'action']) assert.equal(statuses(helper.getNode(id)).at(-1)?.fill, 'green');
    });

    it('sends each node\'s errors to the Catch node with code and fields, writing nothing', async () => {
      const call = await deploy();
      const [actionId] = (
        (await call('inspection', 'record', {
          toolId,
          templateCode: 'post-run',
          results: POST_RUN_TEMPLATE.items.map((i) => ({ itemKey: i.key, result: i.key === 'closed_strapped' ? 'fail' : 'pass', note: 'no strap' })),
        })).output!.payload as { actionIds: number[] }
      ).actionIds;
      await call('action', 'assign', { id: actionId, assigneeId: tina.id });
      const before = await tableCounts(db);

      // validation: a checklist with an item missing, and one not on it
      const some = POST_RUN_TEMPLATE.items.slice(1).map((i) => ({ itemKey: i.key, result: 'pass' }));
      const err = assertCaught(await call('inspection', 'record', { toolId, templateCode: 'post-run', results: [...some, { itemKey: 'nope', result: 'pass' }] }), 'validation');
      assert.ok(err.cause.details.length >= 1 && err.cause.details.every((d) => d.field.startsWith('results')), JSON.stringify(err.cause.details));
      assertCaught(await call('failure', 'report', { toolId, failureCode: 'CL-WATER-LEAK', severity: 'fatal' }), 'validation', 'severity');
      assertCaught(await call('action', 'create', { toolId, title: 'x', dueDate: '2001-01-01' }), 'validation', 'dueDate', 'not_in_past');
      // not_found
      assertCaught(await call('inspection', 'template', { code: 'no-such' }), 'not_found');
      assertCaught(await call('failure', 'report', { toolId, failureCode: 'XX-NOPE' }), 'validation', 'failureCode');
      assertCaught(await call('action', 'get', { id: 999 }), 'not_found', 'id', 'exists');
      // forbidden: a technician triaging, or working someone else's action
      assertCaught(await call('failure', 'triage', { id: 1, status: 'investigating' }, tina), 'forbidden', '', 'permission');
      assertCaught(await call('action', 'start', { id: actionId }, tom), 'forbidden', '', 'permission');
      // conflict: verifying an action that is not done
      assertCaught(await call('action', 'verify', { id: actionId }, erik), 'conflict', 'status', 'transition');
      assert.deepEqual(await tableCounts(db), before);
      for (const id of ['inspection', 'failure', 'action']) assert.equal(statuses(helper.getNode(id)).at(-1)?.fill, 'red');
    });
  });
}
