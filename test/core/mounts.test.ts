import assert from 'node:assert/strict';
import { mountHistory, mountTool, unmountTool } from '../../core/mounts/service';
import { toolMountedAt } from '../../core/mounts/repository';
import { createPress, getPress, updatePress } from '../../core/presses/service';
import { createTool, getTool, retireTool } from '../../core/tools/service';
import { inTransaction } from '../../core/db/transaction';
import { ToolroomError } from '../../core/errors';
import type { Press } from '../../core/presses/schema';
import type { Tool } from '../../core/tools/schema';
import { backends, countRows, resetData, tableCounts, type Backend } from '../support/db';
import { rejects } from '../support/expect';
import { engineer, technician, technician2 } from '../support/actors';
import type { Db } from '../../core/db/connect';

const HOUR = 3600_000;
/** A whole second some days ago, so spans can be laid out in the past. */
const T0 = new Date(Math.floor((Date.now() - 10 * 24 * HOUR) / 1000) * 1000);
const t = (hours: number) => new Date(T0.getTime() + hours * HOUR);

for (const backend of backends) {
  describe(`mounts [${backend.name}]`, function () {
    this.timeout(20000);
    let db: Db;
    let toolA: Tool;
    let toolB: Tool;
    let press1: Press;
    let press2: Press;
    before(async () => {
      db = await (backend as Backend).db();
    });
    beforeEach(async () => {
      await resetData(db);
      toolA = await createTool(db, technician, { assetNumber: 'M-100', name: 'Bezel', cavityCount: 4 });
      toolB = await createTool(db, technician, { assetNumber: 'M-200', name: 'Cap', cavityCount: 8 });
      press1 = await createPress(db, engineer, { code: 'P-01', name: 'Engel 200' });
      press2 = await createPress(db, engineer, { code: 'P-02', name: 'Arburg 470' });
    });

    const openMounts = async () => Number((await db('tool_mounts').whereNull('unmounted_at').count({ n: '*' }))[0].n);

    it('mounts a tool on a press: the tool is in_press and both show each other', async () => {
      const mount = await mountTool(db, technician, { toolId: toolA.id, pressId: press1.id, note: 'job 4711' });
      assert.deepEqual(mount.tool, { id: toolA.id, assetNumber: 'M-100', name: 'Bezel', status: 'in_press' });
      assert.deepEqual(mount.press, { id: press1.id, code: 'P-01', name: 'Engel 200' });
      assert.equal(mount.unmountedAt, null);
      assert.equal(mount.mountedBy, technician.id);
      assert.equal(mount.note, 'job 4711');
      assert.ok(Math.abs(Date.parse(mount.mountedAt) - Date.now()) < 60_000);
      const tool = await getTool(db, technician, { id: toolA.id });
      assert.equal(tool.status, 'in_press');
      assert.equal(tool.version, toolA.version + 1);
      assert.deepEqual(tool.press, { id: press1.id, code: 'P-01', mountedAt: mount.mountedAt });
      assert.equal((await getPress(db, technician, { id: press1.id })).tool?.id, toolA.id);
    });

    it('mounts by asset number and press code, whatever their case, at a past instant', async () => {
      const mount = await mountTool(db, technician, { assetNumber: 'm-100', pressCode: 'p-02', at: t(0).toISOString() });
      assert.equal(mount.tool.id, toolA.id);
      assert.equal(mount.press.id, press2.id);
      assert.equal(mount.mountedAt, t(0).toISOString());
    });

    const invalidMounts: [string, () => Record<string, unknown>, string, string | RegExp][] = [
      ['no tool', () => ({ pressId: press1.id }), 'toolId', 'required'],
      ['both tool id and asset number', () => ({ toolId: toolA.id, assetNumber: 'M-100', pressId: press1.id }), 'assetNumber', 'one_of'],
      ['no press', () => ({ toolId: toolA.id }), 'pressId', 'required'],
      ['both press id and code', () => ({ toolId: toolA.id, pressId: press1.id, pressCode: 'P-01' }), 'pressCode', 'one_of'],
      ['a tool id of 0', () => ({ toolId: 0, pressId: press1.id }), 'toolId', /too_small/],
      ['a press code with a space', () => ({ toolId: toolA.id, pressCode: 'P 01' }), 'pressCode', /invalid_format/],
      ['an unreadable time', () => ({ toolId: toolA.id, pressId: press1.id, at: 'yesterday-ish' }), 'at', /invalid_type|custom/],
      ['a time 6 minutes ahead', () => ({ toolId: toolA.id, pressId: press1.id, at: new Date(Date.now() + 6 * 60_000) }), 'at', 'not_in_future'],
      ['a note too long', () => ({ toolId: toolA.id, pressId: press1.id, note: 'x'.repeat(2001) }), 'note', /too_big/],
      ['a status (mounting makes it in_press)', () => ({ toolId: toolA.id, pressId: press1.id, status: 'in_press' }), '', /unrecognized_keys/],
    ];
    for (const [label, input, field, rule] of invalidMounts) {
      it(`rejects mounting with ${label} naming ${field || 'the input'}, writing nothing`, async () => {
        const before = await tableCounts(db);
        await rejects(mountTool(db, technician, input()), 'validation', field, rule);
        assert.deepEqual(await tableCounts(db), before);
      });
    }

    it('allows a tablet clock up to 5 minutes ahead, and null as now', async () => {
      const ahead = new Date(Date.now() + 4 * 60_000);
      assert.equal((await mountTool(db, technician, { toolId: toolA.id, pressId: press1.id, at: ahead })).mountedAt, ahead.toISOString());
      const now = await mountTool(db, technician, { toolId: toolB.id, pressId: press2.id, at: null });
      assert.ok(Math.abs(Date.parse(now.mountedAt) - Date.now()) < 60_000);
    });

    it('reports an unknown tool or press as not_found naming the field given', async () => {
      const before = await tableCounts(db);
      await rejects(mountTool(db, technician, { toolId: 999, pressId: press1.id }), 'not_found', 'toolId');
      await rejects(mountTool(db, technician, { assetNumber: 'NOPE', pressId: press1.id }), 'not_found', 'assetNumber');
      await rejects(mountTool(db, technician, { toolId: toolA.id, pressId: 999 }), 'not_found', 'pressId');
      await rejects(mountTool(db, technician, { toolId: toolA.id, pressCode: 'NOPE' }), 'not_found', 'pressCode');
      await rejects(unmountTool(db, technician, { toolId: 999 }), 'not_found', 'toolId');
      await rejects(unmountTool(db, technician, { pressCode: 'NOPE' }), 'not_found', 'pressCode');
      assert.deepEqual(await tableCounts(db), before);
    });

    it('does not mount a retired tool or onto an inactive press', async () => {
      await retireTool(db, engineer, { id: toolB.id, reason: 'end of programme' });
      await updatePress(db, engineer, { id: press2.id, active: false });
      const before = await tableCounts(db);
      await rejects(mountTool(db, technician, { toolId: toolB.id, pressId: press1.id }), 'conflict', 'toolId', 'not_retired');
      await rejects(mountTool(db, technician, { assetNumber: 'M-200', pressId: press1.id }), 'conflict', 'assetNumber', 'not_retired');
      await rejects(mountTool(db, technician, { toolId: toolA.id, pressId: press2.id }), 'conflict', 'pressId', 'press_active');
      await rejects(mountTool(db, technician, { toolId: toolA.id, pressCode: 'P-02' }), 'conflict', 'pressCode', 'press_active');
      assert.deepEqual(await tableCounts(db), before);
    });

    it('does not move a mounted tool, nor mount onto an occupied press: conflicts naming the field', async () => {
      await mountTool(db, technician, { toolId: toolA.id, pressId: press1.id });
      const before = await tableCounts(db);
      const moved = await rejects(mountTool(db, technician, { toolId: toolA.id, pressId: press2.id }), 'conflict', 'toolId', 'one_open_mount_per_tool');
      assert.match(moved.message, /M-100.*P-01/);
      await rejects(mountTool(db, technician, { assetNumber: 'M-100', pressId: press2.id }), 'conflict', 'assetNumber', 'one_open_mount_per_tool');
      // Mounting it again where it already is is no different.
      await rejects(mountTool(db, technician, { toolId: toolA.id, pressId: press1.id }), 'conflict', 'toolId', 'one_open_mount_per_tool');
      const occupied = await rejects(mountTool(db, technician, { toolId: toolB.id, pressId: press1.id }), 'conflict', 'pressId', 'one_open_mount_per_press');
      assert.match(occupied.message, /P-01.*M-100/);
      await rejects(mountTool(db, technician, { toolId: toolB.id, pressCode: 'P-01' }), 'conflict', 'pressCode', 'one_open_mount_per_press');
      assert.deepEqual(await tableCounts(db), before);
      assert.equal((await getTool(db, technician, { id: toolA.id })).press?.id, press1.id);
      assert.equal((await getTool(db, technician, { id: toolB.id })).status, 'in_store');
    });

    it('the database refuses a second open mount even past core (last line of defence)', async () => {
      await mountTool(db, technician, { toolId: toolA.id, pressId: press1.id });
      const insert = (toolId: number, pressId: number) =>
        inTransaction(db, (trx) => trx('tool_mounts').insert({ tool_id: toolId, press_id: pressId, mounted_at: new Date(), mounted_by: 'test' }));
      await rejects(insert(toolA.id, press2.id), 'conflict', 'toolId', 'one_open_mount_per_tool');
      await rejects(insert(toolB.id, press1.id), 'conflict', 'pressId', 'one_open_mount_per_press');
      assert.equal(await openMounts(), 1);
    });

    it('a back-dated mount may not start before the tool or the press was last unmounted', async () => {
      await mountTool(db, technician, { toolId: toolA.id, pressId: press1.id, at: t(0) });
      await unmountTool(db, technician, { toolId: toolA.id, at: t(10) });
      await mountTool(db, technician, { toolId: toolB.id, pressId: press2.id, at: t(0) });
      await unmountTool(db, technician, { toolId: toolB.id, at: t(20) });
      const press3 = await createPress(db, engineer, { code: 'P-03', name: 'Krauss 350' });
      const before = await tableCounts(db);
      // Tool A left press 1 at t10: not on a fresh press 3 before that.
      const early = await rejects(mountTool(db, technician, { toolId: toolA.id, pressId: press3.id, at: t(9) }), 'validation', 'at', 'not_before_previous_unmount');
      assert.match(early.message, /M-100/);
      // Press 2 held tool B until t20: tool A not on it before that, though A itself was free from t10.
      const err = await rejects(mountTool(db, technician, { toolId: toolA.id, pressId: press2.id, at: t(15) }), 'validation', 'at', 'not_before_previous_unmount');
      assert.match(err.message, /P-02/);
      assert.deepEqual(await tableCounts(db), before);
      // Exactly at the previous unmount is fine: spans are [mounted, unmounted).
      const m = await mountTool(db, technician, { toolId: toolA.id, pressId: press2.id, at: t(20) });
      assert.equal(m.mountedAt, t(20).toISOString());
    });

    it('unmounts by tool id, asset number, press id or press code, to store or where asked', async () => {
      const m = await mountTool(db, technician, { toolId: toolA.id, pressId: press1.id, at: t(0) });
      const off = await unmountTool(db, technician2, { toolId: toolA.id, at: t(5) });
      assert.equal(off.id, m.id);
      assert.equal(off.unmountedAt, t(5).toISOString());
      assert.equal(off.unmountedBy, technician2.id);
      assert.equal(off.mountedBy, technician.id);
      assert.equal(off.tool.status, 'in_store');
      const toolNow = await getTool(db, technician, { id: toolA.id });
      assert.deepEqual([toolNow.status, toolNow.press, toolNow.version], ['in_store', null, toolA.version + 2]);
      assert.equal((await getPress(db, technician, { id: press1.id })).tool, null);

      await mountTool(db, technician, { toolId: toolA.id, pressId: press1.id, at: t(6) });
      assert.equal((await unmountTool(db, technician, { pressId: press1.id, at: t(7), status: 'in_maintenance' })).tool.status, 'in_maintenance');
      await mountTool(db, technician, { toolId: toolA.id, pressId: press1.id, at: t(8) });
      assert.equal((await unmountTool(db, technician, { pressCode: 'p-01', at: t(9), status: 'at_toolmaker' })).tool.status, 'at_toolmaker');
      await mountTool(db, technician, { toolId: toolA.id, pressId: press2.id, at: t(10), note: 'job 12' });
      const last = await unmountTool(db, technician, { assetNumber: 'm-100', note: 'ejector pin broken' });
      assert.ok(Math.abs(Date.parse(last.unmountedAt!) - Date.now()) < 60_000);
      assert.equal(last.note, 'job 12\nUnmount: ejector pin broken');
      assert.equal(await openMounts(), 0);
    });

    it('rejects bad unmounts naming the field, writing nothing', async () => {
      await mountTool(db, technician, { toolId: toolA.id, pressId: press1.id, at: t(0) });
      const before = await tableCounts(db);
      await rejects(unmountTool(db, technician, {}), 'validation', 'toolId', 'required');
      await rejects(unmountTool(db, technician, { toolId: toolA.id, pressId: press1.id }), 'validation', 'pressId', 'one_of');
      await rejects(unmountTool(db, technician, { toolId: toolA.id, status: 'retired' }), 'validation', 'status', /invalid_value/);
      await rejects(unmountTool(db, technician, { toolId: toolA.id, status: 'in_press' }), 'validation', 'status', /invalid_value/);
      await rejects(unmountTool(db, technician, { toolId: toolA.id, at: t(-1) }), 'validation', 'at', 'not_before_mounted_at');
      await rejects(unmountTool(db, technician, { toolId: toolA.id, at: new Date(Date.now() + 6 * 60_000) }), 'validation', 'at', 'not_in_future');
      await rejects(unmountTool(db, technician, { toolId: toolA.id, note: 'x'.repeat(2001) }), 'validation', 'note');
      await rejects(unmountTool(db, technician, { toolId: toolB.id }), 'conflict', 'toolId', 'mounted');
      await rejects(unmountTool(db, technician, { assetNumber: 'M-200' }), 'conflict', 'assetNumber', 'mounted');
      await rejects(unmountTool(db, technician, { pressId: press2.id }), 'conflict', 'pressId', 'mounted');
      assert.deepEqual(await tableCounts(db), before);
      assert.equal(await openMounts(), 1);
      // Unmounting at the very instant of mounting is an empty span, not an error.
      assert.equal((await unmountTool(db, technician, { toolId: toolA.id, at: t(0) })).unmountedAt, t(0).toISOString());
      await rejects(unmountTool(db, technician, { toolId: toolA.id }), 'conflict', 'toolId', 'mounted');
    });

    it('records an audit event for every mount and unmount, with the tool status in after', async () => {
      const m = await mountTool(db, technician, { toolId: toolA.id, pressId: press1.id, at: t(0) });
      await unmountTool(db, engineer, { pressId: press1.id, at: t(3), status: 'in_maintenance' });
      await mountHistory(db, technician, {});
      await rejects(mountTool(db, technician, { toolId: toolA.id, pressId: press1.id, at: t(1) }), 'validation');
      await rejects(unmountTool(db, technician, { toolId: toolA.id }), 'conflict');
      const events = await db('audit_events').where('entity', 'tool_mount').orderBy('id');
      assert.deepEqual(events.map((e) => [e.action, e.entity, e.entity_id, e.actor_id, e.actor_name, e.actor_role, e.via]), [
        ['mount.mount', 'tool_mount', String(m.id), '11', 'tina.tech', 'technician', 'test'],
        ['mount.unmount', 'tool_mount', String(m.id), '21', 'erik.eng', 'engineer', 'test'],
      ]);
      assert.equal(events[0].before, null);
      assert.deepEqual(
        [events[0].after.tool.id, events[0].after.tool.status, events[0].after.press.code, events[0].after.mountedAt, events[0].after.unmountedAt],
        [toolA.id, 'in_press', 'P-01', t(0).toISOString(), null],
      );
      assert.deepEqual([events[1].before.tool.status, events[1].before.unmountedAt], ['in_press', null]);
      assert.deepEqual([events[1].after.tool.status, events[1].after.unmountedAt, events[1].after.unmountedBy], ['in_maintenance', t(3).toISOString(), '21']);
      // Besides the mount events, only the set-up writes (tools, presses) are audited.
      assert.equal(await countRows(db, 'audit_events'), 4 + 2);
    });

    it('every role may mount, unmount and read mounts', async () => {
      for (const [i, actor] of [technician, engineer].entries()) {
        await mountTool(db, actor, { toolId: toolA.id, pressId: press1.id, at: t(i * 2) });
        await unmountTool(db, actor, { toolId: toolA.id, at: t(i * 2 + 1) });
        assert.equal((await mountHistory(db, actor, { toolId: toolA.id })).total, i + 1);
      }
    });

    it('lists mount history by tool, press or both, newest first, with pagination', async () => {
      // A: P1 [0,1) P2 [2,3) P1 [4,…); B: P2 [0,1) P1 [2,3)
      await mountTool(db, technician, { toolId: toolA.id, pressId: press1.id, at: t(0) });
      await mountTool(db, technician, { toolId: toolB.id, pressId: press2.id, at: t(0) });
      await unmountTool(db, technician, { toolId: toolA.id, at: t(1) });
      await unmountTool(db, technician, { toolId: toolB.id, at: t(1) });
      await mountTool(db, technician, { toolId: toolA.id, pressId: press2.id, at: t(2) });
      await mountTool(db, technician, { toolId: toolB.id, pressId: press1.id, at: t(2) });
      await unmountTool(db, technician, { toolId: toolA.id, at: t(3) });
      await unmountTool(db, technician, { toolId: toolB.id, at: t(3) });
      await mountTool(db, technician, { toolId: toolA.id, pressId: press1.id, at: t(4) });
      const spans = (page: { items: { tool: { assetNumber: string }; press: { code: string }; mountedAt: string }[] }) =>
        page.items.map((m) => `${m.tool.assetNumber}@${m.press.code}@${(Date.parse(m.mountedAt) - T0.getTime()) / HOUR}`);
      const all = await mountHistory(db, technician, {});
      assert.equal(all.total, 5);
      assert.deepEqual(spans(all), ['M-100@P-01@4', 'M-200@P-01@2', 'M-100@P-02@2', 'M-200@P-02@0', 'M-100@P-01@0']);
      assert.deepEqual(spans(await mountHistory(db, technician, { toolId: toolA.id })), ['M-100@P-01@4', 'M-100@P-02@2', 'M-100@P-01@0']);
      assert.deepEqual(spans(await mountHistory(db, technician, { pressCode: 'p-01' })), ['M-100@P-01@4', 'M-200@P-01@2', 'M-100@P-01@0']);
      assert.deepEqual(spans(await mountHistory(db, technician, { assetNumber: 'M-200', pressId: press1.id })), ['M-200@P-01@2']);
      const page = await mountHistory(db, technician, { toolId: toolA.id, limit: 1, offset: 1 });
      assert.deepEqual([page.total, page.limit, page.offset, spans(page)], [3, 1, 1, ['M-100@P-02@2']]);
      await rejects(mountHistory(db, technician, { toolId: 999 }), 'not_found', 'toolId');
      await rejects(mountHistory(db, technician, { pressCode: 'NOPE' }), 'not_found', 'pressCode');
      await rejects(mountHistory(db, technician, { toolId: toolA.id, assetNumber: 'M-100' }), 'validation', 'assetNumber', 'one_of');
      await rejects(mountHistory(db, technician, { limit: 0 }), 'validation', 'limit');
    });

    it('toolMountedAt names the tool on a press at an instant, spans being [mounted, unmounted)', async () => {
      // Press 1: A [0,10), B [10,20), nothing [20,22), A [22,…). Press 2: A [11,21).
      await mountTool(db, technician, { toolId: toolA.id, pressId: press1.id, at: t(0) });
      await unmountTool(db, technician, { toolId: toolA.id, at: t(10) });
      await mountTool(db, technician, { toolId: toolB.id, pressId: press1.id, at: t(10) });
      await mountTool(db, technician, { toolId: toolA.id, pressId: press2.id, at: t(11) });
      await unmountTool(db, technician, { pressId: press1.id, at: t(20) });
      await unmountTool(db, technician, { pressId: press2.id, at: t(21) });
      await mountTool(db, technician, { toolId: toolA.id, pressId: press1.id, at: t(22) });
      const ms = (d: Date, delta: number) => new Date(d.getTime() + delta);
      const expectations: [Press, Date, Tool | null][] = [
        [press1, ms(t(0), -1), null],
        [press1, t(0), toolA],
        [press1, ms(t(10), -1), toolA],
        [press1, t(10), toolB],
        [press1, t(15), toolB],
        [press1, ms(t(20), -1), toolB],
        [press1, t(20), null],
        [press1, t(21), null],
        [press1, ms(t(22), -1), null],
        [press1, t(22), toolA],
        [press1, new Date(), toolA],
        [press2, ms(t(11), -1), null],
        [press2, t(15), toolA],
        [press2, t(21), null],
        [press2, new Date(), null],
      ];
      for (const [press, at, tool] of expectations) {
        assert.equal(await toolMountedAt(db, press.id, at), tool?.id ?? null, `${press.code} at +${(at.getTime() - T0.getTime()) / HOUR}h`);
      }
      // Inside a caller's transaction too (shot counting attributes readings that way).
      assert.equal(await db.transaction((trx) => toolMountedAt(trx, press1.id, t(5))), toolA.id);
      assert.equal(await toolMountedAt(db, 999, t(5)), null);
    });

    // On PGlite (one connection) the calls serialise; on the server they race for real: the rows the
    // mounts lock are held by another transaction until both mounts are waiting on them.
    async function race(calls: () => Promise<unknown>[], lockRow: { table: string; id: number }) {
      if (backend.name === 'pglite') return Promise.allSettled(calls());
      const holder = await db.transaction();
      try {
        await holder(lockRow.table).where('id', lockRow.id).forUpdate();
        const pending = Promise.allSettled(calls());
        const deadline = Date.now() + 5000;
        for (;;) {
          const { rows } = await db.raw<{ rows: { n: number }[] }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
          );
          if (rows[0].n >= 2) break;
          if (Date.now() > deadline) throw new Error(`only ${rows[0].n} mount(s) waiting on the lock`);
          await new Promise((r) => setTimeout(r, 10));
        }
        await holder.commit();
        return pending;
      } finally {
        if (!holder.isCompleted()) await holder.rollback();
      }
    }

    function oneWins(results: PromiseSettledResult<unknown>[], field: string, rule: string) {
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(won.length, 1, JSON.stringify(results));
      assert.ok(lost[0].reason instanceof ToolroomError, String(lost[0].reason));
      assert.equal(lost[0].reason.code, 'conflict');
      assert.deepEqual([lost[0].reason.cause.details[0].field, lost[0].reason.cause.details[0].rule], [field, rule]);
      return (won[0] as PromiseFulfilledResult<{ tool: { id: number }; press: { id: number } }>).value;
    }

    it('two concurrent mounts of one tool onto two presses: one wins, the other is a conflict', async () => {
      const results = await race(
        () => [
          mountTool(db, technician, { toolId: toolA.id, pressId: press1.id }),
          mountTool(db, technician2, { toolId: toolA.id, pressId: press2.id }),
        ],
        { table: 'tools', id: toolA.id },
      );
      const won = oneWins(results, 'toolId', 'one_open_mount_per_tool');
      assert.equal(await openMounts(), 1);
      assert.equal(await db('audit_events').where('action', 'mount.mount').count({ n: '*' }).then((r) => Number(r[0].n)), 1);
      const tool = await getTool(db, technician, { id: toolA.id });
      assert.deepEqual([tool.status, tool.press?.id, tool.version], ['in_press', won.press.id, toolA.version + 1]);
      const other = won.press.id === press1.id ? press2 : press1;
      assert.equal((await getPress(db, technician, { id: other.id })).tool, null);
    });

    it('two concurrent mounts of two tools onto one press: one wins, the other is a conflict', async () => {
      const results = await race(
        () => [
          mountTool(db, technician, { toolId: toolA.id, pressId: press1.id }),
          mountTool(db, technician2, { toolId: toolB.id, pressId: press1.id }),
        ],
        { table: 'presses', id: press1.id },
      );
      const won = oneWins(results, 'pressId', 'one_open_mount_per_press');
      assert.equal(await openMounts(), 1);
      assert.equal((await getPress(db, technician, { id: press1.id })).tool?.id, won.tool.id);
      const loser = won.tool.id === toolA.id ? toolB : toolA;
      const loserNow = await getTool(db, technician, { id: loser.id });
      assert.deepEqual([loserNow.status, loserNow.press, loserNow.version], ['in_store', null, loser.version]);
    });
  });
}
