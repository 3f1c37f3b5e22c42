import assert from 'node:assert/strict';
import { createTool, retireTool } from '../../core/tools/service';
import { seedFailureCatalog } from '../../core/failures/seed';
import { reportFailure } from '../../core/failures/service';
import {
  assignAction,
  cancelAction,
  completeAction,
  createAction,
  getAction,
  insertAction,
  listActions,
  startAction,
  verifyAction,
} from '../../core/actions/service';
import { today } from '../../core/actions/repository';
import { ACTION_STATUSES, ACTION_TRANSITIONS, type ActionStatus } from '../../core/actions/schema';
import { backends, resetData, tableCounts, type Backend } from '../support/db';
import { rejects } from '../support/expect';
import { admin, engineer, system, technician, technician2 } from '../support/actors';
import type { Actor } from '../../core/auth/actor';
import type { Db } from '../../core/db/connect';
import type { Tool } from '../../core/tools/schema';

const engineer2: Actor = { id: '22', name: 'eva.eng', role: 'engineer', via: 'test' };

/** 'YYYY-MM-DD' `days` after `day`. */
function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

for (const backend of backends) {
  describe(`actions [${backend.name}]`, function () {
    this.timeout(30000);
    let db: Db;
    let tool: Tool;
    let day: string;
    before(async () => {
      db = await (backend as Backend).db();
    });
    beforeEach(async () => {
      await resetData(db);
      // The users the actors stand for (ids as in test/support/actors), and one who has left.
      await db('users').insert([
        { id: 11, username: 'tina.tech', display_name: 'Tina Tech', role: 'technician' },
        { id: 12, username: 'tom.tech', display_name: 'Tom Tech', role: 'technician' },
        { id: 21, username: 'erik.eng', display_name: 'Erik Eng', role: 'engineer' },
        { id: 22, username: 'eva.eng', display_name: 'Eva Eng', role: 'engineer' },
        { id: 31, username: 'ada.admin', display_name: 'Ada Admin', role: 'admin' },
        { id: 40, username: 'left.tech', display_name: 'Left Tech', role: 'technician', active: false },
      ]);
      tool = await createTool(db, technician, { assetNumber: 'M-3001', name: 'Housing 2-cav', cavityCount: 2 });
      day = await today(db);
    });

    const audit = async () =>
      (await db('audit_events').where('entity', 'action').orderBy('id')) as {
        action: string;
        entity_id: string;
        actor_name: string;
        before: Record<string, unknown> | null;
        after: Record<string, unknown> | null;
      }[];

    const newAction = (patch: Record<string, unknown> = {}) =>
      createAction(db, engineer, { title: 'Replace ejector pin 12', toolId: tool.id, ...patch });

    /** An action put in a status directly (set up, not under test). */
    async function actionIn(status: ActionStatus, patch: Record<string, unknown> = {}) {
      const a = await newAction(patch);
      await db('actions').where('id', a.id).update({ status, completed_by: status === 'done' || status === 'verified' ? technician.id : null });
      return a;
    }

    describe('create', () => {
      it('creates an action with defaults and links, audited', async () => {
        await seedFailureCatalog(db);
        const failure = await reportFailure(db, technician, { toolId: tool.id, failureCode: 'EJ-PIN-BROKEN' });
        const a = await newAction({ description: 'pin 12, cavity 2', failureReportId: failure.id, assigneeId: 11, dueDate: addDays(day, 7) });
        assert.equal(a.kind, 'corrective');
        assert.equal(a.status, 'open');
        assert.equal(a.toolId, tool.id);
        assert.equal(a.assetNumber, 'M-3001');
        assert.equal(a.failureReportId, failure.id);
        assert.equal(a.inspectionId, null);
        assert.equal(a.assigneeId, 11);
        assert.equal(a.assigneeName, 'Tina Tech');
        assert.equal(a.dueDate, addDays(day, 7));
        assert.equal(a.overdue, false);
        assert.equal(a.createdBy, engineer.id);
        assert.equal(a.version, 1);
        const [event] = await audit();
        assert.equal(event.action, 'action.create');
        assert.equal(event.entity_id, String(a.id));
        assert.equal(event.actor_name, 'erik.eng');
        assert.deepEqual(event.after, a);
        assert.deepEqual(await getAction(db, technician, { id: a.id }), a);
        const preventive = await newAction({ kind: 'preventive', dueDate: day });
        assert.equal(preventive.kind, 'preventive');
        assert.equal(preventive.dueDate, day);
        assert.equal(preventive.assigneeId, null);
      });

      const invalid: [string, Record<string, unknown>, string, string | RegExp][] = [
        ['no title', { title: undefined }, 'title', /invalid_type/],
        ['an empty title', { title: '  ' }, 'title', /too_small/],
        ['a title too long', { title: 'x'.repeat(201) }, 'title', /too_big/],
        ['an unknown kind', { kind: 'urgent' }, 'kind', /invalid_value/],
        ['no tool', { toolId: undefined }, 'toolId', /invalid_type/],
        ['a malformed due date', { dueDate: '31.12.2030' }, 'dueDate', /invalid_format/],
        ['an impossible due date', { dueDate: '2030-02-30' }, 'dueDate', /invalid_format/],
        ['an assignee id that is not a number', { assigneeId: 'tina' }, 'assigneeId', /invalid_type/],
        ['a status on create', { status: 'done' }, '', /unrecognized_keys/],
      ];
      for (const [label, patch, field, rule] of invalid) {
        it(`rejects ${label}, writing nothing`, async () => {
          const before = await tableCounts(db);
          await rejects(newAction(patch), 'validation', field, rule);
          assert.deepEqual(await tableCounts(db), before);
        });
      }

      it('rejects a past due date, unknown or inactive assignee, unknown or retired tool, links to another tool, writing nothing', async () => {
        await seedFailureCatalog(db);
        const other = await createTool(db, technician, { assetNumber: 'M-3002', name: 'Other', cavityCount: 1 });
        const theirs = await reportFailure(db, technician, { toolId: other.id, failureCode: 'HR-DROOL' });
        const [{ id: templateId }] = await db('inspection_templates')
          .insert({ code: 't', name: 'T', kind: 'post_run', items: JSON.stringify([{ key: 'a', label: 'A' }]) })
          .returning('id');
        const [{ id: theirInspection }] = await db('inspections')
          .insert({ tool_id: other.id, template_id: templateId, kind: 'post_run', outcome: 'fail', performed_at: new Date(), performed_by: '11', lifetime_shots: 0 })
          .returning('id');
        const retired = await createTool(db, technician, { assetNumber: 'M-3003', name: 'Old', cavityCount: 1 });
        await retireTool(db, engineer, { id: retired.id, reason: 'scrapped' });
        const before = await tableCounts(db);
        await rejects(newAction({ dueDate: addDays(day, -1) }), 'validation', 'dueDate', 'not_in_past');
        await rejects(newAction({ assigneeId: 99 }), 'not_found', 'assigneeId');
        await rejects(newAction({ assigneeId: 40 }), 'conflict', 'assigneeId', 'active');
        await rejects(newAction({ toolId: 999 }), 'not_found', 'toolId');
        await rejects(newAction({ toolId: retired.id }), 'conflict', 'toolId', 'not_retired');
        await rejects(newAction({ failureReportId: 999 }), 'not_found', 'failureReportId');
        await rejects(newAction({ failureReportId: theirs.id }), 'validation', 'failureReportId', 'same_tool');
        await rejects(newAction({ inspectionId: 999 }), 'not_found', 'inspectionId');
        await rejects(newAction({ inspectionId: theirInspection }), 'validation', 'inspectionId', 'same_tool');
        assert.deepEqual(await tableCounts(db), before);
      });

      it('lets engineers, admins and flows create actions, not technicians', async () => {
        const before = await tableCounts(db);
        await rejects(createAction(db, technician, { title: 'x', toolId: tool.id }), 'forbidden');
        assert.deepEqual(await tableCounts(db), before);
        await createAction(db, admin, { title: 'x', toolId: tool.id });
        await createAction(db, system, { title: 'y', toolId: tool.id });
      });

      it('inserts in the caller’s transaction (for inspections): rolled back with it, and a past due date allowed', async () => {
        const before = await tableCounts(db);
        await db
          .transaction(async (trx) => {
            await insertAction(trx, system, { kind: 'corrective', title: 'from an inspection', toolId: tool.id });
            throw new Error('later step failed');
          })
          .catch(() => undefined);
        assert.deepEqual(await tableCounts(db), before);
        const late = await db.transaction((trx) => insertAction(trx, system, { kind: 'corrective', title: 'late', toolId: tool.id, dueDate: addDays(day, -2) }));
        assert.equal(late.overdue, true);
        assert.equal((await audit()).length, 1);
      });
    });

    describe('lifecycle', () => {
      it('assigns to an active user, reassigns, and hands an open action back, audited', async () => {
        const a = await newAction();
        const assigned = await assignAction(db, engineer, { id: a.id, version: 1, assigneeId: 12 });
        assert.equal(assigned.assigneeId, 12);
        assert.equal(assigned.assigneeName, 'Tom Tech');
        assert.equal(assigned.version, 2);
        await rejects(assignAction(db, engineer, { id: a.id, version: 1, assigneeId: 11 }), 'conflict', 'version', 'current_version');
        const before = await tableCounts(db);
        await rejects(assignAction(db, engineer, { id: a.id, assigneeId: 40 }), 'conflict', 'assigneeId', 'active');
        await rejects(assignAction(db, engineer, { id: a.id, assigneeId: 99 }), 'not_found', 'assigneeId');
        await rejects(assignAction(db, technician, { id: a.id, assigneeId: 11 }), 'forbidden');
        await rejects(assignAction(db, engineer, { id: a.id }), 'validation', 'assigneeId');
        await rejects(assignAction(db, engineer, { id: 999, assigneeId: 11 }), 'not_found', 'id');
        assert.deepEqual(await tableCounts(db), before);
        const back = await assignAction(db, engineer, { id: a.id, assigneeId: null });
        assert.equal(back.assigneeId, null);
        const events = await audit();
        assert.deepEqual(events.map((e) => e.action), ['action.create', 'action.assign', 'action.assign']);
        assert.equal(events[1].before!.assigneeId, null);
        assert.equal(events[1].after!.assigneeId, 12);
      });

      it('reassigns only pending actions and never leaves one in progress without an assignee', async () => {
        const started = await newAction({ assigneeId: 11 });
        await startAction(db, technician, { id: started.id });
        assert.equal((await assignAction(db, engineer, { id: started.id, assigneeId: 12 })).assigneeId, 12);
        await rejects(assignAction(db, engineer, { id: started.id, assigneeId: null }), 'conflict', 'assigneeId', 'assigned_in_progress');
        for (const status of ['done', 'verified', 'cancelled'] as const) {
          const a = await actionIn(status);
          await rejects(assignAction(db, engineer, { id: a.id, assigneeId: 11 }), 'conflict', 'status', 'pending');
        }
      });

      it('a technician starting an unassigned action takes it; another’s they may not start', async () => {
        const a = await newAction();
        const started = await startAction(db, technician, { id: a.id, version: 1 });
        assert.equal(started.status, 'in_progress');
        assert.equal(started.assigneeId, 11);
        assert.ok(started.startedAt);
        const theirs = await newAction({ assigneeId: 11 });
        const before = await tableCounts(db);
        await rejects(startAction(db, technician2, { id: theirs.id }), 'forbidden');
        assert.deepEqual(await tableCounts(db), before);
        assert.equal((await startAction(db, technician, { id: theirs.id })).assigneeId, 11);
        // An engineer may start anyone's; a flow starting an unassigned one leaves it unassigned.
        const hers = await newAction({ assigneeId: 12 });
        assert.equal((await startAction(db, engineer, { id: hers.id })).assigneeId, 12);
        const pool = await newAction();
        assert.equal((await startAction(db, system, { id: pool.id })).assigneeId, null);
      });

      it('a technician completes their own action with a resolution, not another’s', async () => {
        const mine = await newAction({ assigneeId: 11 });
        await startAction(db, technician, { id: mine.id });
        const before = await tableCounts(db);
        await rejects(completeAction(db, technician2, { id: mine.id, resolution: 'done it' }), 'forbidden');
        await rejects(completeAction(db, technician, { id: mine.id }), 'validation', 'resolution', /invalid_type/);
        await rejects(completeAction(db, technician, { id: mine.id, resolution: ' ' }), 'validation', 'resolution', /too_small/);
        assert.deepEqual(await tableCounts(db), before);
        const done = await completeAction(db, technician, { id: mine.id, resolution: 'Pin 12 replaced, ejection checked on 20 cycles' });
        assert.equal(done.status, 'done');
        assert.equal(done.completedBy, technician.id);
        assert.equal(done.resolution, 'Pin 12 replaced, ejection checked on 20 cycles');
        assert.ok(done.completedAt);
      });

      it('verifies with four eyes: not by the one who completed it, unless admin or a flow', async () => {
        const a = await newAction({ assigneeId: 21 });
        await startAction(db, engineer, { id: a.id });
        await completeAction(db, engineer, { id: a.id, resolution: 'done' });
        const before = await tableCounts(db);
        await rejects(verifyAction(db, engineer, { id: a.id }), 'forbidden', 'id', 'not_completer');
        await rejects(verifyAction(db, technician, { id: a.id }), 'forbidden');
        assert.deepEqual(await tableCounts(db), before);
        const verified = await verifyAction(db, engineer2, { id: a.id });
        assert.equal(verified.status, 'verified');
        assert.equal(verified.verifiedBy, engineer2.id);
        assert.ok(verified.verifiedAt);

        const own = await newAction();
        await startAction(db, admin, { id: own.id });
        await completeAction(db, admin, { id: own.id, resolution: 'done' });
        assert.equal((await verifyAction(db, admin, { id: own.id })).verifiedBy, admin.id);
      });

      it('cancels a pending action with a reason', async () => {
        const a = await newAction();
        await rejects(cancelAction(db, engineer, { id: a.id }), 'validation', 'reason', /invalid_type/);
        await rejects(cancelAction(db, technician, { id: a.id, reason: 'duplicate' }), 'forbidden');
        const cancelled = await cancelAction(db, engineer, { id: a.id, reason: 'duplicate of #1' });
        assert.equal(cancelled.status, 'cancelled');
        assert.equal(cancelled.cancelledReason, 'duplicate of #1');
        const started = await newAction({ assigneeId: 11 });
        await startAction(db, technician, { id: started.id });
        assert.equal((await cancelAction(db, engineer, { id: started.id, reason: 'tool scrapped' })).status, 'cancelled');
      });

      it('allows exactly the status changes in the transition table, naming status otherwise', async () => {
        const ops: Record<ActionStatus, ((id: number) => Promise<unknown>) | null> = {
          open: null,
          in_progress: (id) => startAction(db, engineer, { id }),
          done: (id) => completeAction(db, engineer, { id, resolution: 'r' }),
          verified: (id) => verifyAction(db, engineer, { id }),
          cancelled: (id) => cancelAction(db, engineer, { id, reason: 'r' }),
        };
        for (const from of ACTION_STATUSES) {
          for (const to of ACTION_STATUSES) {
            const op = ops[to];
            if (!op || from === to) continue;
            const a = await actionIn(from, { assigneeId: 21 });
            if (ACTION_TRANSITIONS[from].includes(to)) {
              await op(a.id);
              assert.equal((await getAction(db, engineer, { id: a.id })).status, to, `${from} → ${to}`);
            } else {
              const before = await tableCounts(db);
              await rejects(op(a.id), 'conflict', 'status', 'transition');
              assert.deepEqual(await tableCounts(db), before, `${from} → ${to} wrote nothing`);
            }
          }
        }
        assert.deepEqual(ACTION_TRANSITIONS.verified, []);
        assert.deepEqual(ACTION_TRANSITIONS.cancelled, []);
        assert.ok(!ACTION_TRANSITIONS.open.includes('done'), 'work is started before it is done');
      });

      it('reports not_found and stale versions for every change', async () => {
        for (const call of [
          () => startAction(db, engineer, { id: 999 }),
          () => completeAction(db, engineer, { id: 999, resolution: 'r' }),
          () => verifyAction(db, engineer, { id: 999 }),
          () => cancelAction(db, engineer, { id: 999, reason: 'r' }),
          () => assignAction(db, engineer, { id: 999, assigneeId: 11 }),
          () => getAction(db, engineer, { id: 999 }),
        ]) {
          await rejects(call(), 'not_found', 'id');
        }
        const a = await newAction();
        await rejects(startAction(db, engineer, { id: a.id, version: 2 }), 'conflict', 'version', 'current_version');
        await rejects(cancelAction(db, engineer, { id: a.id, version: 2, reason: 'r' }), 'conflict', 'version');
        await rejects(startAction(db, engineer, { id: 'x' }), 'validation', 'id');
      });

      it('audits every change with actor, before and after; none for reads or rejects', async () => {
        const a = await newAction();
        await assignAction(db, engineer, { id: a.id, assigneeId: 11 });
        await startAction(db, technician, { id: a.id });
        await rejects(completeAction(db, technician2, { id: a.id, resolution: 'r' }), 'forbidden');
        await completeAction(db, technician, { id: a.id, resolution: 'fixed' });
        await verifyAction(db, engineer, { id: a.id });
        const b = await newAction();
        await cancelAction(db, engineer, { id: b.id, reason: 'not needed' });
        await getAction(db, technician, { id: a.id });
        await listActions(db, technician, {});
        const events = await audit();
        assert.deepEqual(
          events.map((e) => [e.action, e.entity_id, e.actor_name]),
          [
            ['action.create', String(a.id), 'erik.eng'],
            ['action.assign', String(a.id), 'erik.eng'],
            ['action.start', String(a.id), 'tina.tech'],
            ['action.complete', String(a.id), 'tina.tech'],
            ['action.verify', String(a.id), 'erik.eng'],
            ['action.create', String(b.id), 'erik.eng'],
            ['action.cancel', String(b.id), 'erik.eng'],
          ],
        );
        for (const e of events.slice(1)) if (e.action !== 'action.create') assert.ok(e.before && e.after);
        assert.equal(events[2].before!.status, 'open');
        assert.equal(events[2].after!.status, 'in_progress');
        assert.equal(events[4].after!.status, 'verified');
        assert.equal(events[6].after!.cancelledReason, 'not needed');
      });
    });

    describe('lists', () => {
      it('puts overdue first, then by due date (none last), and marks overdue from one rule', async () => {
        const insert = (title: string, dueDate: string | null, patch: Record<string, unknown> = {}) =>
          db.transaction((trx) => insertAction(trx, system, { kind: 'corrective', title, toolId: tool.id, dueDate, ...patch }));
        const none = await insert('no due date', null);
        const nextWeek = await insert('next week', addDays(day, 7));
        const lateByOne = await insert('late by one day', addDays(day, -1));
        const dueToday = await insert('due today', day);
        const lateByTen = await insert('late by ten days', addDays(day, -10), { assigneeId: 11 });
        const doneLate = await insert('done, was due last week', addDays(day, -7));
        await db('actions').where('id', doneLate.id).update({ status: 'done' });
        const startedLate = await insert('started, late', addDays(day, -3), { assigneeId: 12 });
        await db('actions').where('id', startedLate.id).update({ status: 'in_progress' });

        const list = await listActions(db, technician, {});
        assert.deepEqual(
          list.items.map((a) => [a.title, a.overdue]),
          [
            ['late by ten days', true],
            ['started, late', true],
            ['late by one day', true],
            ['done, was due last week', false],
            ['due today', false],
            ['next week', false],
            ['no due date', false],
          ],
        );
        assert.equal(list.total, 7);
        assert.equal((await getAction(db, technician, { id: lateByOne.id })).overdue, true);
        assert.equal((await getAction(db, technician, { id: dueToday.id })).overdue, false);
        assert.equal((await getAction(db, technician, { id: none.id })).overdue, false);

        const ids = async (filter: Record<string, unknown>, actor: Actor = technician) => (await listActions(db, actor, filter)).items.map((a) => a.id);
        assert.deepEqual(await ids({ overdue: true }), [lateByTen.id, startedLate.id, lateByOne.id]);
        assert.deepEqual(await ids({ overdue: false }), [doneLate.id, dueToday.id, nextWeek.id, none.id]);
        assert.deepEqual(await ids({ mine: true }), [lateByTen.id]);
        assert.deepEqual(await ids({ mine: true }, technician2), [startedLate.id]);
        assert.deepEqual(await ids({ mine: true }, system), []);
        assert.deepEqual(await ids({ assigneeId: 12 }), [startedLate.id]);
        assert.deepEqual(await ids({ assigneeId: null, status: 'open' }), [lateByOne.id, dueToday.id, nextWeek.id, none.id]);
        assert.deepEqual(await ids({ status: ['in_progress', 'done'] }), [startedLate.id, doneLate.id]);
        const page = await listActions(db, technician, { limit: 2, offset: 2 });
        assert.deepEqual(page.items.map((a) => a.id), [lateByOne.id, doneLate.id]);
        assert.equal(page.total, 7);
        assert.equal((await listActions(db, technician, { overdue: true, limit: 1 })).total, 3);
      });

      it('filters by tool, failure report and inspection', async () => {
        await seedFailureCatalog(db);
        const other = await createTool(db, technician, { assetNumber: 'M-3004', name: 'Other', cavityCount: 1 });
        const failure = await reportFailure(db, technician, { toolId: tool.id, failureCode: 'SL-GALLING' });
        const forFailure = await newAction({ failureReportId: failure.id });
        const plain = await newAction();
        const elsewhere = await newAction({ toolId: other.id });
        const ids = async (filter: Record<string, unknown>) => (await listActions(db, engineer, filter)).items.map((a) => a.id);
        assert.deepEqual(await ids({ toolId: tool.id }), [forFailure.id, plain.id]);
        assert.deepEqual(await ids({ toolId: other.id }), [elsewhere.id]);
        assert.deepEqual(await ids({ failureReportId: failure.id }), [forFailure.id]);
        assert.deepEqual(await ids({ inspectionId: 1 }), []);
        await rejects(listActions(db, engineer, { status: 'late' }), 'validation', 'status');
        await rejects(listActions(db, engineer, { overdue: 'yes' }), 'validation', 'overdue');
        await rejects(listActions(db, engineer, { limit: 501 }), 'validation', 'limit');
      });
    });
  });
}
