import assert from 'node:assert/strict';
import { createAction } from '../../core/actions/service';
import { grantFor, OPERATIONS } from '../../core/auth/permissions';
import type { Actor } from '../../core/auth/actor';
import { homeSummary } from '../../core/views/home';
import { me } from '../../core/views/me';
import { toolView } from '../../core/views/tool';
import type { Db } from '../../core/db/connect';
import { seedFailureCatalog } from '../../core/failures/seed';
import { reportFailure } from '../../core/failures/service';
import { mountTool, unmountTool } from '../../core/mounts/service';
import { createPlan } from '../../core/pm/service';
import { createPress } from '../../core/presses/service';
import { createTool } from '../../core/tools/service';
import { createUser } from '../../core/users/service';
import { backends, resetData, tableCounts, type Backend } from '../support/db';
import { rejects } from '../support/expect';
import { engineer, system } from '../support/actors';

/** The dashboard's read models (core/views): who am I, my home page, a tool's page. */
for (const backend of backends) {
  describe(`dashboard read models [${backend.name}]`, function () {
    this.timeout(30000);
    let db: Db;
    let tina: Actor;
    let tom: Actor;
    before(async () => {
      db = await (backend as Backend).db();
      await resetData(db);
      await seedFailureCatalog(db);
      const u1 = await createUser(db, system, { username: 'tina', displayName: 'Tina Technician', role: 'technician' });
      const u2 = await createUser(db, system, { username: 'tom', displayName: 'Tom Technician', role: 'technician' });
      tina = { id: String(u1.id), name: 'tina', role: 'technician', via: 'test' };
      tom = { id: String(u2.id), name: 'tom', role: 'technician', via: 'test' };

      // Three tools at different points of their PM interval (10 000 shots), one without a plan.
      const tools = [];
      for (const [asset, since] of [['D-1', 9500], ['D-2', 12000], ['D-3', 10000], ['D-4', 1000]] as const) {
        const t = await createTool(db, system, { assetNumber: asset, name: `Mould ${asset}`, cavityCount: 4, lifetimeShots: 50000 });
        tools.push(t);
        await createPlan(db, system, { toolId: t.id, name: 'PM', intervalShots: 10000, lastPmLifetimeShots: 50000 - since });
      }
      await createPress(db, system, { code: 'P01', name: 'Engel 120' });
      await createPress(db, system, { code: 'P02', name: 'Arburg 470' });
      await mountTool(db, tina, { assetNumber: 'D-1', pressCode: 'P02', at: new Date(Date.now() - 3_600_000).toISOString() });
      await unmountTool(db, tina, { assetNumber: 'D-1', at: new Date(Date.now() - 1_800_000).toISOString() });
      await mountTool(db, tina, { assetNumber: 'D-1', pressCode: 'P01' });
      const failure = await reportFailure(db, tina, { toolId: tools[0].id, failureCode: 'CL-WATER-LEAK', cavity: 2, description: 'leak at O-ring' });
      const due = await createAction(db, engineer, { toolId: tools[0].id, title: 'Replace O-ring', failureReportId: failure.id, assigneeId: tina.id });
      // Overdue: due a week ago (core refuses a past due date on create, so the row is dated back).
      await db('actions').where('id', due.id).update({ due_date: db.raw("CURRENT_DATE - 7") });
      await createAction(db, engineer, { toolId: tools[1].id, title: 'Check vents', assigneeId: tina.id });
      await createAction(db, engineer, { toolId: tools[1].id, title: "Tom's job", assigneeId: tom.id });
    });

    describe('me', () => {
      it("names the user and lists exactly the operations the permission table gives the role", async () => {
        const m = await me(db, tina);
        assert.deepEqual(m.user, { id: tina.id, username: 'tina', displayName: 'Tina Technician', role: 'technician' });
        assert.deepEqual(m.operations, OPERATIONS.filter((op) => grantFor('technician', op) !== false));
        assert.ok(m.operations.includes('tool.create') && !m.operations.includes('tool.retire') && !m.operations.includes('action.verify'));
        assert.deepEqual(m.own, OPERATIONS.filter((op) => grantFor('technician', op) === 'own'));
        assert.ok(m.own.includes('action.start'));
        const e = await me(db, engineer);
        assert.ok(e.operations.includes('tool.retire') && e.operations.includes('action.verify'));
      });

      it('a flow without a user is the system actor: no user, every operation', async () => {
        const m = await me(db, system);
        assert.equal(m.user, null);
        assert.deepEqual(m.operations, OPERATIONS);
      });
    });

    describe('home', () => {
      it("has the user's own open actions (overdue first), PM alerts by urgency, recent failures and every press with its tool", async () => {
        const h = await homeSummary(db, tina);
        assert.deepEqual(h.myActions.items.map((a) => a.title), ['Replace O-ring', 'Check vents']);
        assert.equal(h.myActions.items[0].overdue, true);
        assert.deepEqual(h.pmAlerts.items.map((p) => [p.assetNumber, p.status.state]), [['D-2', 'OVERDUE'], ['D-3', 'DUE'], ['D-1', 'WARNING']]);
        assert.equal(h.pmAlerts.total, 3);
        assert.deepEqual(h.recentFailures.items.map((f) => f.failureCode), ['CL-WATER-LEAK']);
        assert.deepEqual(h.presses.map((p) => [p.code, p.tool?.assetNumber ?? null]), [['P01', 'D-1'], ['P02', null]]);
        const other = await homeSummary(db, tom);
        assert.deepEqual(other.myActions.items.map((a) => a.title), ["Tom's job"]);
      });

      it('limits each list and refuses a bad limit, naming it', async () => {
        const h = await homeSummary(db, tina, { limit: 1 });
        assert.equal(h.pmAlerts.items.length, 1);
        assert.equal(h.pmAlerts.total, 3);
        await rejects(homeSummary(db, tina, { limit: 0 }), 'validation', 'limit');
        await rejects(homeSummary(db, tina, { limit: 5, extra: 1 }), 'validation');
      });
    });

    describe('tool', () => {
      it("is a tool's page by asset number (any case): tool, plans, pending actions and a newest-first timeline", async () => {
        const v = await toolView(db, tina, { assetNumber: 'd-1' });
        assert.equal(v.tool.assetNumber, 'D-1');
        assert.equal(v.tool.press?.code, 'P01');
        assert.deepEqual(v.plans.map((p) => p.status.state), ['WARNING']);
        assert.deepEqual(v.pendingActions.map((a) => a.title), ['Replace O-ring']);
        const kinds = v.timeline.map((e) => e.kind);
        for (const k of ['mount', 'unmount', 'failure', 'action']) assert.ok(kinds.includes(k as never), `${k} in the timeline`);
        assert.equal(kinds.filter((k) => k === 'mount').length, 2);
        const times = v.timeline.map((e) => e.at);
        assert.deepEqual(times, [...times].sort().reverse(), 'newest first');
        const failure = v.timeline.find((e) => e.kind === 'failure')!;
        assert.equal(failure.tag, 'critical');
        assert.match(failure.detail!, /cavity 2/);
        assert.equal((await toolView(db, tina, { id: v.tool.id, limit: 2 })).timeline.length, 2);
      });

      it("brings the tool's trend along: shots per UTC day over 30 days and each plan's forecast at this week's pace", async () => {
        const [tool] = await db('tools').where('asset_number', 'D-1').select('id');
        const at = new Date(Date.now() - 60_000);
        await db('shot_readings').insert({ source: 'manual:view-test', tool_id: tool.id, at, delta: 700, outcome: 'manual' });
        try {
          const { trend } = await toolView(db, tina, { assetNumber: 'D-1' });
          assert.equal(trend.shotsPerDay.length, 30);
          assert.deepEqual(trend.shotsPerDay.filter((d) => d.shots > 0), [{ day: at.toISOString().slice(0, 10), shots: 700 }]);
          const [plan] = trend.plans;
          assert.deepEqual([trend.plans.length, plan.planName, plan.shotsPerDay], [1, 'PM', 100]);
          // 500 shots to go at 700 / 7 = 100 a day.
          assert.ok(Math.abs(plan.dueInDays! - 5) < 0.01, `due in ${plan.dueInDays} days`);
        } finally {
          await db('shot_readings').where('source', 'manual:view-test').delete();
        }
      });

      it('names the field when the tool does not exist or the input is wrong, and writes nothing', async () => {
        const before = await tableCounts(db);
        await rejects(toolView(db, tina, { assetNumber: 'NOPE' }), 'not_found', 'assetNumber');
        await rejects(toolView(db, tina, { assetNumber: '' }), 'validation');
        await rejects(toolView(db, tina, {}), 'validation');
        assert.deepEqual(await tableCounts(db), before);
      });
    });
  });
}
