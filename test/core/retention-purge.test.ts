import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seedDemoPlant } from '../../core/seed/demo';
import { uploadPhoto } from '../../core/photos/service';
import { PhotoStore } from '../../core/photos/store';
import { placeLegalHold, releaseLegalHold, setRetention } from '../../core/retention/policy';
import { purgeExpired, type PurgeOptions } from '../../core/retention/purge';
import { auditPublicKey, ensureAuditKey, writeAnchor } from '../../core/audit/anchor';
import { verifyAuditChain } from '../../core/audit/verify';
import { createTool } from '../../core/tools/service';
import { createTemplate, getTemplate } from '../../core/inspections/templates';
import type { Db } from '../../core/db/connect';
import { backends, countRows, resetData } from '../support/db';
import { admin, engineer, system } from '../support/actors';
import { jpeg, filesUnder } from '../support/images';
import { rejects } from '../support/expect';

const NOW = new Date('2031-01-01T00:00:00Z');
const LONG_AGO = new Date('2027-01-01T00:00:00Z');
const RECENT = new Date('2030-10-01T00:00:00Z');

/** Every row of a tool, per table (inspection results through its inspections). */
async function toolRows(db: Db, toolId: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['photos', 'actions', 'pm_events', 'failure_reports', 'inspections', 'pm_plans', 'tool_mounts', 'shot_readings', 'shot_months', 'tool_cavities', 'notification_events', 'legal_holds', 'inspection_template_tools']) {
    out[table] = Number((await db(table).where('tool_id', toolId).count({ n: '*' }))[0].n);
  }
  out.inspection_results = Number((await db('inspection_results').whereIn('inspection_id', db('inspections').where('tool_id', toolId).select('id')).count({ n: '*' }))[0].n);
  out.tools = await db('tools').where('id', toolId).count({ n: '*' }).then((r) => Number(r[0].n));
  return out;
}

/** Retire a tool at `at` (the history the demo gave it stays), as if it had been retired then. */
async function retireAt(db: Db, toolId: number, at: Date): Promise<void> {
  await db('tool_mounts').where('tool_id', toolId).whereNull('unmounted_at').update({ unmounted_at: at, unmounted_by: 'test' });
  await db('tools').where('id', toolId).update({ status: 'retired', retired_at: at, retired_reason: 'end of programme' });
}

for (const backend of backends) {
  describe(`purge of retired tools and of the audit trail [${backend.name}]`, function () {
    this.timeout(600000);
    let db: Db;
    let dir: string;
    let store: PhotoStore;
    let keyFile: string;
    let options: PurgeOptions;
    /** Demo tools with a full history: failures (with actions), inspections, PM events, mounts, readings. */
    let rich: number[];

    before(async () => {
      db = await backend.db();
      await resetData(db);
      await seedDemoPlant(db);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-purge-'));
      store = new PhotoStore(path.join(dir, 'photos'), path.join(dir, 'keys', 'photo.key'));
      keyFile = path.join(dir, 'keys', 'audit.key');
      options = { store, auditKey: () => ensureAuditKey(keyFile) };
      const rows = (await db('tools as t')
        .whereExists((q) => q.select(db.raw('1')).from('actions as a').whereRaw('a.tool_id = t.id').whereNotNull('a.failure_report_id'))
        .whereExists((q) => q.select(db.raw('1')).from('inspections as i').whereRaw('i.tool_id = t.id'))
        .whereExists((q) => q.select(db.raw('1')).from('pm_plans as p').whereRaw('p.tool_id = t.id'))
        .orderBy('t.id')
        .select('t.id')) as { id: number }[];
      rich = rows.map((r) => r.id).slice(0, 4);
      assert.equal(rich.length, 4, 'the demo has tools with failures, actions, inspections and PM plans');
      // The demo's six weeks have no readings and few PMs: a year of production before retirement.
      for (const toolId of rich) {
        const plan = (await db('pm_plans').where('tool_id', toolId).first('id')).id as number;
        await db('pm_events').insert({ pm_plan_id: plan, tool_id: toolId, performed_at: new Date('2026-03-01T06:00:00Z'), performed_by: 'test', lifetime_shots: 5000 });
        await db('shot_readings').insert([1, 2, 3].map((m) => ({ source: `T${toolId}`, tool_id: toolId, at: new Date(Date.UTC(2026, m, 1)), delta: 1000, counter: 1000 * m, outcome: 'counted' })));
      }
    });

    after(() => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('purges a retired tool past its period with every row and photo file; keeps one under hold, one within its period, active ones', async () => {
      const [gone, held, recent] = rich;
      const inspection = (await db('inspections').where('tool_id', gone).first('id')).id as number;
      await uploadPhoto(db, engineer, { toolId: gone, caption: 'worn parting line' }, await jpeg(), { store });
      await uploadPhoto(db, engineer, { inspectionId: inspection }, await jpeg(), { store });
      await uploadPhoto(db, engineer, { toolId: held }, await jpeg(), { store });
      await retireAt(db, gone, LONG_AGO);
      await retireAt(db, held, LONG_AGO);
      await retireAt(db, recent, RECENT);
      await placeLegalHold(db, admin, { toolId: held, reason: 'customer claim 2030-41' });
      const goneBefore = await toolRows(db, gone);
      for (const t of ['photos', 'actions', 'inspection_results', 'pm_events', 'failure_reports', 'inspections', 'pm_plans', 'tool_mounts', 'shot_readings', 'tools']) {
        assert.ok(goneBefore[t] > 0, `the purged tool has ${t}`);
      }
      const heldBefore = await toolRows(db, held);
      const recentBefore = await toolRows(db, recent);
      const active = () => db('tools').whereNot('status', 'retired').count({ n: '*' }).then((x) => Number(x[0].n));
      const others = await active();
      assert.equal(filesUnder(store.dir).length, 9, 'three files per photo');

      // The demo retires a tool or two itself (today): by 2031 they are past their period as well.
      const demoRetired = await db('tools').where('status', 'retired').whereNotIn('id', [gone, held, recent]).pluck('id');
      const r = await purgeExpired(db, system, { now: NOW }, options);
      assert.equal(r.removed.tool_records, 1 + demoRetired.length);
      assert.equal(await db('tools').whereIn('id', demoRetired).count({ n: '*' }).then((x) => Number(x[0].n)), 0);
      assert.deepEqual(r.failedTools, []);
      const event = await db('audit_events').where({ action: 'retention.purge_tool', entity_id: String(gone) }).first();
      assert.deepEqual(event.after.removed, goneBefore, 'the tool’s event counts every row per table');
      assert.equal(event.after.files, 6);
      assert.deepEqual(Object.values(await toolRows(db, gone)), Object.values(goneBefore).map(() => 0), 'nothing of the tool is left');
      assert.equal(r.photoFiles, 6);
      assert.equal(r.toolRecords.photos, 2);
      assert.equal(filesUnder(store.dir).length, 3, 'only the held tool’s photo files are left');
      assert.deepEqual(await toolRows(db, held), heldBefore, 'the tool under hold is whole');
      // Its raw readings have their own, shorter period (3 years): only they went.
      assert.deepEqual(await toolRows(db, recent), { ...recentBefore, shot_readings: 0 }, 'the tool retired 3 months ago is whole');
      assert.equal(await active(), others, 'tools in use stay');

      const run = await db('audit_events').where({ action: 'retention.purge' }).orderBy('id', 'desc').first();
      assert.deepEqual(run.after.toolRecords, r.toolRecords);
      assert.equal(r.anchor, null, 'no audit event is 10 years old');
      assert.ok((await verifyAuditChain(db)).ok);
    });

    it('takes a checklist for chosen tools out of use when the purged tool was its only one (it would apply to every tool); others keep their tools', async () => {
      const [retired, kept] = await Promise.all(['PURGE-T1', 'PURGE-T2'].map((assetNumber) => createTool(db, engineer, { assetNumber, name: assetNumber, cavityCount: 1 })));
      const items = [{ key: 'vents', label: 'Vents clear' }];
      const only = await createTemplate(db, engineer, { code: 'PURGE-ONLY', name: 'Only the retired tool', kind: 'post_run', items, toolIds: [retired.id] });
      const both = await createTemplate(db, engineer, { code: 'PURGE-BOTH', name: 'Both tools', kind: 'post_run', items, toolIds: [retired.id, kept.id] });
      await retireAt(db, retired.id, LONG_AGO);
      const r = await purgeExpired(db, system, { now: NOW }, options);
      assert.deepEqual(r.failedTools, []);
      assert.equal(await db('tools').where('id', retired.id).count({ n: '*' }).then((x) => Number(x[0].n)), 0, 'the tool is purged');
      const afterOnly = await getTemplate(db, engineer, { id: only.id });
      assert.equal(afterOnly.active, false, 'no longer in use rather than for every tool');
      const afterBoth = await getTemplate(db, engineer, { id: both.id });
      assert.equal(afterBoth.active, true);
      assert.deepEqual(afterBoth.tools.map((t) => t.id), [kept.id]);
      const event = await db('audit_events').where({ action: 'retention.purge_tool', entity_id: String(retired.id) }).first();
      assert.deepEqual(event.after.templatesTakenOutOfUse, [only.id]);
      assert.equal(event.after.removed.inspection_template_tools, 2);
    });

    it('removes photo files no row names (a purge stopped after its commit), but not files written just now', async () => {
      const stray = path.join(store.dir, 'ab', 'abababababababababababababababab.original');
      const fresh = path.join(store.dir, 'ab', 'abcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd.original');
      fs.mkdirSync(path.dirname(stray), { recursive: true });
      fs.writeFileSync(stray, 'left behind');
      fs.writeFileSync(fresh, 'an upload whose row is not committed yet');
      fs.utimesSync(fresh, NOW, NOW);
      const kept = filesUnder(store.dir).length;
      const r = await purgeExpired(db, system, { now: NOW }, options);
      assert.equal(r.photoFiles, 1);
      assert.ok(!fs.existsSync(stray));
      assert.ok(fs.existsSync(fresh));
      assert.equal(filesUnder(store.dir).length, kept - 1);
      fs.rmSync(fresh);
    });

    it('rolls a tool back whole when its purge fails, reports it, and purges it the next time', async () => {
      const broken = rich[3];
      await uploadPhoto(db, engineer, { toolId: broken }, await jpeg(), { store });
      await retireAt(db, broken, LONG_AGO);
      // Another tool's action names this tool's failure: the failure cannot go, so nothing of the tool may.
      const failure = (await db('failure_reports').where('tool_id', broken).first('id')).id as number;
      const other = (await db('actions').whereNot('tool_id', broken).first('id', 'failure_report_id')) as { id: number; failure_report_id: number | null };
      await db('actions').where('id', other.id).update({ failure_report_id: failure });
      const before = await toolRows(db, broken);
      const files = filesUnder(store.dir).length;

      const r = await purgeExpired(db, system, { now: NOW }, options);
      assert.deepEqual(r.failedTools.map((f) => f.toolId), [broken]);
      assert.match(r.failedTools[0].error, /nothing of it was deleted.*still referenced from table "actions"/);
      assert.equal(r.removed.tool_records, 0);
      assert.deepEqual(await toolRows(db, broken), before, 'every row of the tool is still there');
      assert.equal(filesUnder(store.dir).length, files, 'and its photo files');
      assert.equal(await db('audit_events').where({ action: 'retention.purge_tool', entity_id: String(broken) }).count({ n: '*' }).then((x) => Number(x[0].n)), 0);

      await db('actions').where('id', other.id).update({ failure_report_id: other.failure_report_id });
      const again = await purgeExpired(db, system, { now: NOW }, options);
      assert.equal(again.removed.tool_records, 1);
      assert.equal((await toolRows(db, broken)).tools, 0);
      assert.equal(filesUnder(store.dir).length, files - 3);
    });

    it('purges the audit trail only as a whole prefix, under a signed anchor, stopping before a held tool’s events; the chain verifies', async () => {
      await releaseLegalHold(db, admin, { toolId: rich[1] });
      const holdTool = (await createTool(db, admin, { assetNumber: 'CLAIM-7', name: 'Claimed lens', cavityCount: 1 })).id;
      await placeLegalHold(db, admin, { toolId: holdTool, reason: 'warranty case 7' });
      const firstHeld = Number((await db('audit_events').where({ entity: 'tool', entity_id: String(holdTool) }).min({ s: 'seq' }))[0].s);
      await setRetention(db, admin, { recordType: 'audit_events', keepDays: 365 });
      const oldest = Number((await db('audit_events').min({ s: 'seq' }))[0].s);
      assert.equal(oldest, 1);
      assert.ok(!fs.existsSync(keyFile), 'no key until it is first needed');

      const r = await purgeExpired(db, system, { now: NOW }, options);
      assert.equal(r.removed.audit_events, firstHeld - 1);
      assert.equal(r.anchor!.seq, firstHeld - 1);
      assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600, 'the audit key was made, 0600');
      assert.equal(Number((await db('audit_events').min({ s: 'seq' }))[0].s), firstHeld, 'the held tool’s events and all after them stay');
      const anchor = await db('audit_anchors').where('id', r.anchor!.id).first();
      assert.equal(Number(anchor.purged), firstHeld - 1);
      assert.equal(anchor.public_key, auditPublicKey(keyFile));
      const trusted = { trustedKey: auditPublicKey(keyFile) };
      const report = await verifyAuditChain(db, {}, trusted);
      assert.ok(report.ok, JSON.stringify(report.firstBad));
      assert.deepEqual([report.purgeAnchor!.seq, report.purgeAnchor!.keyTrusted], [firstHeld - 1, true]);
      const run = await db('audit_events').where({ action: 'retention.purge' }).orderBy('seq', 'desc').first();
      assert.equal(run.after.removed.audit_events, firstHeld - 1);
      assert.deepEqual(run.after.anchor, r.anchor);

      // Released, the hold no longer stops the cut: everything old goes, under a second anchor naming the first.
      await releaseLegalHold(db, admin, { toolId: holdTool });
      const head = Number((await db('audit_chain_head').first('seq')).seq);
      const r2 = await purgeExpired(db, system, { now: NOW }, options);
      assert.equal(r2.anchor!.seq, head);
      const second = await db('audit_anchors').where('id', r2.anchor!.id).first();
      assert.equal(second.previous_id, anchor.id);
      assert.equal(await countRows(db, 'audit_events'), 1, 'only the purge’s own event is left');
      const after = await verifyAuditChain(db, {}, trusted);
      assert.ok(after.ok, JSON.stringify(after.firstBad));
      assert.equal(after.checked, 1);
      await rejects(purgeExpired(db, engineer, { now: NOW }, options), 'forbidden');
    });

    it('names a tampered anchor, a removed event and a forged anchor', async () => {
      // A few new events after the anchor, so there is a middle to remove.
      for (let i = 0; i < 3; i++) await createTool(db, admin, { assetNumber: `LATE-${i}`, name: 'Late tool', cavityCount: 1 });
      const trusted = { trustedKey: auditPublicKey(keyFile) };
      assert.ok((await verifyAuditChain(db, {}, trusted)).ok);

      const newest = await db('audit_anchors').orderBy('id', 'desc').first();
      await db('audit_anchors').where('id', newest.id).update({ purged: Number(newest.purged) + 5 });
      const tampered = await verifyAuditChain(db, {}, trusted);
      assert.equal(tampered.ok, false);
      assert.deepEqual([tampered.firstBad!.problem, tampered.firstBad!.anchorId], ['edited', newest.id]);
      assert.match(tampered.firstBad!.detail, /signature does not match/);
      await db('audit_anchors').where('id', newest.id).update({ purged: newest.purged });
      assert.ok((await verifyAuditChain(db, {}, trusted)).ok, 'put back, it verifies again');

      // A removed middle event, put back afterwards as it was (past the chain trigger).
      const events = await db('audit_events').orderBy('seq').select('*');
      const middle = events[2];
      await db('audit_events').where('id', middle.id).delete();
      const removed = await verifyAuditChain(db, {}, trusted);
      assert.deepEqual([removed.ok, removed.firstBad!.problem, removed.firstBad!.seq], [false, 'deleted', Number(middle.seq)]);
      await db.raw('ALTER TABLE audit_events DISABLE TRIGGER audit_events_chain');
      try {
        await db('audit_events').insert({ ...middle, before: JSON.stringify(middle.before), after: JSON.stringify(middle.after) });
      } finally {
        await db.raw('ALTER TABLE audit_events ENABLE TRIGGER audit_events_chain');
      }
      assert.ok((await verifyAuditChain(db, {}, trusted)).ok, 'put back, it verifies again');

      // Someone who can write the database deletes the oldest events and signs an anchor over them with a key of their own.
      const { privateKey } = generateKeyPairSync('ed25519');
      const forger = { privateKey, publicKey: createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).toString('base64') };
      const first = events[0];
      await db.transaction(async (trx) => {
        await writeAnchor(trx, forger, { seq: Number(first.seq), eventId: Number(first.id), eventAt: first.at, hash: first.hash, firstSeq: Number(newest.seq) + 1, purged: 1, createdBy: 'intruder' });
        await trx('audit_events').where('id', first.id).delete();
      });
      const forged = await verifyAuditChain(db, {}, trusted);
      assert.deepEqual([forged.ok, forged.firstBad!.problem], [false, 'forged']);
      assert.match(forged.firstBad!.detail, /not the audit key/);
      const unpinned = await verifyAuditChain(db);
      assert.deepEqual([unpinned.ok, unpinned.firstBad!.problem], [false, 'forged'], 'without the key file: not the first anchor’s key');
      assert.match(unpinned.firstBad!.detail, /not the key of the first anchor/);
      // Dropping the forged anchor only shows the events it hid.
      await db('audit_anchors').where('created_by', 'intruder').delete();
      const hole = await verifyAuditChain(db, {}, trusted);
      assert.deepEqual([hole.ok, hole.firstBad!.problem, hole.firstBad!.seq], [false, 'deleted', Number(first.seq)]);
    });
  });
}
