import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PhotoStore } from '../../core/photos/store';
import { ensureAuditKey } from '../../core/audit/anchor';
import { createTool } from '../../core/tools/service';
import { createUser } from '../../core/users/service';
import { listRetention, placeLegalHold, releaseLegalHold, setRetention, RECORD_TYPES } from '../../core/retention/policy';
import { purgeExpired } from '../../core/retention/purge';
import { applyInfluxRetention } from '../../core/retention/influx';
import { parseInfluxUrl, query } from '../../core/outbox/influx';
import { verifyAuditChain } from '../../core/audit/verify';
import { rejects } from '../support/expect';
import type { Db } from '../../core/db/connect';
import { backends, countRows, resetData, tableCounts } from '../support/db';
import { admin, engineer, system } from '../support/actors';

const DAY = 86_400_000;
const NOW = new Date('2030-06-01T00:00:00Z');
const ago = (days: number) => new Date(NOW.getTime() - days * DAY);

for (const backend of backends) {
  describe(`retention and the purge [${backend.name}]`, function () {
    this.timeout(60000);
    let db: Db;
    let held: number;
    let free: number;
    // Photo files and the audit key of this run's own (never the checkout's ./data).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-retention-'));
    const options = { store: new PhotoStore(path.join(dir, 'photos'), path.join(dir, 'photo.key')), auditKey: () => ensureAuditKey(path.join(dir, 'audit.key')) };
    before(async () => {
      db = await backend.db();
      await resetData(db);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('has a default period per record type; admins change one, audited; others may not', async () => {
      const defaults = await listRetention(db, admin);
      assert.deepEqual(defaults.map((p) => [p.recordType, p.keepDays, p.changed]), Object.entries(RECORD_TYPES).map(([t, d]) => [t, d, false]));
      const changed = await setRetention(db, admin, { recordType: 'sessions', keepDays: 90 });
      assert.equal(changed.keepDays, 90);
      assert.equal(changed.updatedBy, admin.name);
      const event = await db('audit_events').where({ action: 'retention.update' }).first();
      assert.equal(event.before.keepDays, RECORD_TYPES.sessions);
      assert.equal(event.after.keepDays, 90);
      const counts = await tableCounts(db);
      await rejects(setRetention(db, engineer, { recordType: 'shot_readings', keepDays: 1 }), 'forbidden');
      await rejects(setRetention(db, admin, { recordType: 'shot_readings', keepDays: 0 }), 'validation', 'keepDays');
      await rejects(setRetention(db, admin, { recordType: 'login_attempts', keepDays: 30 }), 'validation', 'recordType');
      assert.deepEqual(await tableCounts(db), counts, 'nothing written');
    });

    it('places and releases a legal hold on a tool, once at a time, audited', async () => {
      held = (await createTool(db, admin, { assetNumber: 'HOLD-1', name: 'Claimed housing', cavityCount: 2 })).id;
      free = (await createTool(db, admin, { assetNumber: 'FREE-1', name: 'Plain bezel', cavityCount: 2 })).id;
      await placeLegalHold(db, admin, { toolId: held, reason: 'customer claim 2030-17' });
      await rejects(placeLegalHold(db, admin, { toolId: held, reason: 'again' }), 'conflict', 'toolId');
      await rejects(placeLegalHold(db, admin, { toolId: 999999, reason: 'no such tool' }), 'not_found', 'toolId');
      await rejects(releaseLegalHold(db, admin, { toolId: free }), 'not_found', 'toolId');
      assert.equal(await countRows(db, 'legal_holds'), 1);
    });

    it('purges what has expired, keeps held readings and tools under hold, and counts it in the audit trail', async () => {
      const user = await createUser(db, system, { username: 'purge.tester', displayName: 'Purge Tester', role: 'technician' });
      const session = (n: number, created: Date, expires: Date, revoked?: Date) => ({
        user_id: user.id, token_hash: `hash-${n}`, method: 'password', created_at: created, last_seen_at: created, expires_at: expires,
        address: '10.0.0.9', revoked_at: revoked ?? null, revoked_reason: revoked ? 'logout' : null,
      });
      await db('sessions').insert([
        session(1, ago(200), ago(199)), // ended 199 days ago: goes (90 days, set above)
        session(2, ago(200), ago(100), ago(95)), // revoked 95 days ago: goes
        session(3, ago(90), ago(80)), // ended 80 days ago: stays
        session(4, ago(1), new Date(NOW.getTime() + DAY)), // open: stays
      ]);
      const reading = (tool: number, days: number, outcome: string, n: number) => ({ source: `P${tool}`, tool_id: tool, at: new Date(ago(days).getTime() + n), delta: 1, outcome });
      await db('shot_readings').insert([
        reading(free, 1200, 'counted', 1), reading(free, 1200, 'held', 2), reading(free, 10, 'counted', 3),
        reading(held, 1200, 'counted', 4), reading(held, 10, 'counted', 5),
      ]);

      const r = await purgeExpired(db, system, { now: NOW }, options);
      assert.deepEqual(r.removed, { sessions: 2, shot_readings: 1, tool_records: 0, audit_events: 0 });
      assert.deepEqual((await db('sessions').pluck('token_hash')).sort(), ['hash-3', 'hash-4']);
      const left = (await db('shot_readings').orderBy('at').select('tool_id', 'outcome')) as { tool_id: number; outcome: string }[];
      assert.deepEqual(left.map((x) => [x.tool_id === held ? 'held tool' : 'free tool', x.outcome]).sort(), [
        ['free tool', 'counted'], ['free tool', 'held'], ['held tool', 'counted'], ['held tool', 'counted'],
      ].sort());
      const event = await db('audit_events').where({ action: 'retention.purge' }).orderBy('id', 'desc').first();
      assert.deepEqual(event.after.removed, r.removed);
      assert.ok((await verifyAuditChain(db)).ok, 'the trail stays whole');

      // Released, the hold no longer protects the tool's old readings.
      await releaseLegalHold(db, admin, { toolId: held });
      assert.equal((await purgeExpired(db, system, { now: NOW }, options)).removed.shot_readings, 1);
      await rejects(purgeExpired(db, engineer, { now: NOW }, options), 'forbidden');
    });
  });
}

(process.env.TEST_INFLUX_URL ? describe : describe.skip)('InfluxDB gets the shot readings period', function () {
  this.timeout(30000);
  const base = process.env.TEST_INFLUX_URL ? new URL(process.env.TEST_INFLUX_URL) : null;
  const database = `toolroom_rp_${process.pid}`;
  const target = (rp?: string) => parseInfluxUrl(`${base!.origin}/${database}${rp ? `?rp=${rp}` : ''}`);
  const policies = async () => {
    const [r] = await query(target(), `SHOW RETENTION POLICIES ON "${database}"`);
    const s = r.series![0];
    return Object.fromEntries(s.values.map((v) => [v[s.columns.indexOf('name')], v[s.columns.indexOf('duration')]]));
  };
  after(async () => {
    if (base) await query(target(), `DROP DATABASE "${database}"`);
  });

  it('alters the policy the app writes to, once, and creates a named one that is missing', async () => {
    assert.deepEqual(await applyInfluxRetention(target(), 30), { policy: 'autogen', duration: '720h0m0s', changed: true });
    assert.equal((await policies()).autogen, '720h0m0s');
    assert.equal((await applyInfluxRetention(target(), 30)).changed, false, 'nothing to do the second night');
    assert.equal((await applyInfluxRetention(target('shots_3y'), 1095)).changed, true);
    assert.deepEqual(await policies(), { autogen: '720h0m0s', shots_3y: '26280h0m0s' });
  });
});
