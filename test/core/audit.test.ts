import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTool, updateTool, retireTool } from '../../core/tools/service';
import { recordAudit } from '../../core/audit/record';
import { listAuditEvents } from '../../core/audit/query';
import { verifyAuditChain, type AuditChainReport } from '../../core/audit/verify';
import { contentHash, linkHash } from '../../core/audit/chain';
import { inTransaction } from '../../core/db/transaction';
import { migrationSource } from '../../migrations';
import { ensureAuditKey } from '../../core/audit/anchor';
import { PhotoStore } from '../../core/photos/store';
import { setRetention } from '../../core/retention/policy';
import { purgeExpired } from '../../core/retention/purge';
import { backends, resetData, type Backend } from '../support/db';
import { rejects } from '../support/expect';
import { admin, engineer, technician, technician2 } from '../support/actors';
import { openDatabase, migrateLatest, type Db } from '../../core/db/connect';

interface EventRow {
  id: number;
  seq: number;
  prev_hash: string | null;
  hash: string;
  content_hash: string;
}

const tool = (n: number) => ({ assetNumber: `M-${1000 + n}`, name: `Bezel ${n}`, cavityCount: 2, location: 'Rack A1' });

/** A trail of ten events through the tool services: 4 created, 4 moved, 2 retired. */
async function writeTrail(db: Db): Promise<EventRow[]> {
  const ids: number[] = [];
  for (let n = 1; n <= 4; n++) ids.push((await createTool(db, n % 2 ? technician : technician2, tool(n))).id);
  for (const id of ids) await updateTool(db, technician, { id, location: `Rack B${id}` });
  await retireTool(db, engineer, { id: ids[0], reason: 'scrapped' });
  await retireTool(db, engineer, { id: ids[1], reason: 'sold' });
  return events(db);
}

async function events(db: Db): Promise<EventRow[]> {
  return (await db('audit_events').orderBy('seq').select('id', 'seq', 'prev_hash', 'hash', 'content_hash')).map((r: EventRow) => ({
    ...r,
    id: Number(r.id),
    seq: Number(r.seq),
  }));
}

/** SQL as someone with table rights but without the app would run it: the chain trigger is off meanwhile. */
async function tamper(db: Db, sql: string, bindings: unknown[] = []): Promise<void> {
  await db.transaction(async (trx) => {
    await trx.raw('ALTER TABLE audit_events DISABLE TRIGGER audit_events_chain');
    await trx.raw(sql, bindings as never[]);
    await trx.raw('ALTER TABLE audit_events ENABLE TRIGGER audit_events_chain');
  });
}

function firstBad(report: AuditChainReport) {
  assert.equal(report.ok, false, 'the chain should be broken');
  const { seq, id, problem } = report.firstBad!;
  return { seq, id, problem };
}

for (const backend of backends) {
  describe(`audit chain [${backend.name}]`, function () {
    this.timeout(60000);
    let db: Db;
    before(async () => {
      db = await (backend as Backend).db();
    });
    beforeEach(() => resetData(db));

    it('chains every event written through the services, in commit order, and verifies it', async () => {
      const trail = await writeTrail(db);
      assert.deepEqual(trail.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.deepEqual(trail.map((e) => e.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.equal(trail[0].prev_hash, null);
      for (let i = 1; i < trail.length; i++) assert.equal(trail[i].prev_hash, trail[i - 1].hash);
      // The link is recomputable outside the database: sha256(prev + content) over the stored content.
      const rows = await db('audit_events').orderBy('seq');
      for (const r of rows) {
        assert.equal(r.content_hash, contentHash(r));
        assert.equal(r.hash, linkHash(r.prev_hash, r.content_hash));
      }
      const report = await verifyAuditChain(db);
      assert.deepEqual(report, { ok: true, checked: 10, head: { seq: 10, hash: trail[9].hash } });
      const page = await listAuditEvents(db, admin, { limit: 3 });
      assert.deepEqual(page.items.map((e) => [e.seq, e.action]), [[10, 'tool.retire'], [9, 'tool.retire'], [8, 'tool.update']]);
    });

    it('hashes what jsonb and timestamptz give back: key order, numbers, unicode, dropped undefined', async () => {
      const after = {
        z: 1, a: { 'é': 'ü', b: [3, 2, 1], aa: null, ab: undefined }, '10': 'ten', '9': 'nine', B: 'upper',
        nums: [1e21, 1e-7, 0.1 + 0.2, -0, 5e-324, Number.MAX_VALUE, 2 ** 53 + 2, -123.456e-10, 100],
        text: 'Formenbau Müller 🛠️ "quoted" \\ back\nslash\t',
        when: new Date('2024-05-06T07:08:09.123Z'),
      };
      await inTransaction(db, async (trx) => {
        await recordAudit(trx, technician, { action: 'odd.values', entity: 'tool', entityId: 7, before: ['x', { y: true }], after });
        await recordAudit(trx, technician, { action: 'odd.nothing', entity: 'tool', entityId: 'T 7' });
      });
      await createTool(db, technician, tool(1));
      const report = await verifyAuditChain(db);
      assert.deepEqual([report.ok, report.checked], [true, 3]);
      // jsonb handed the keys back in another order than they were written, and nothing finer than a millisecond was stored.
      const [row] = await db('audit_events').where('action', 'odd.values').select('after', db.raw('extract(microseconds from at)::int % 1000 AS sub_ms'));
      assert.notDeepEqual(Object.keys(row.after), Object.keys(JSON.parse(JSON.stringify(after))));
      assert.equal(Number(row.sub_ms), 0);
    });

    it('reports an edited event: its content, its time by a millisecond, or its hash', async () => {
      const edits: [string, string][] = [
        ['after', `UPDATE audit_events SET after = jsonb_set(after, '{location}', '"Rack Z9"') WHERE seq = 6`],
        ['actor', `UPDATE audit_events SET actor_name = 'someone.else', actor_id = '99' WHERE seq = 6`],
        ['time', `UPDATE audit_events SET at = at + interval '1 millisecond' WHERE seq = 6`],
        ['before', `UPDATE audit_events SET before = NULL WHERE seq = 6`],
        ['hash', `UPDATE audit_events SET hash = md5(hash) || md5(hash) WHERE seq = 6`],
        ['content hash', `UPDATE audit_events SET content_hash = md5(content_hash) || md5(content_hash) WHERE seq = 6`],
      ];
      for (const [what, sql] of edits) {
        await resetData(db);
        const trail = await writeTrail(db);
        assert.equal((await verifyAuditChain(db)).ok, true);
        await tamper(db, sql);
        const report = await verifyAuditChain(db);
        assert.deepEqual(firstBad(report), { seq: 6, id: trail[5].id, problem: 'edited' }, `${what}: ${report.firstBad?.detail}`);
        assert.equal(report.checked, 5);
      }
    });

    it('reports a deleted event at its place, also when the later ones were renumbered', async () => {
      let trail = await writeTrail(db);
      await tamper(db, 'DELETE FROM audit_events WHERE seq = 4');
      let report = await verifyAuditChain(db);
      assert.deepEqual(firstBad(report), { seq: 4, id: null, problem: 'deleted' });
      assert.match(report.firstBad!.detail, /seq 4 is missing/);

      await resetData(db);
      trail = await writeTrail(db);
      await tamper(db, 'DELETE FROM audit_events WHERE seq IN (4, 5)');
      assert.match((await verifyAuditChain(db)).firstBad!.detail, /events seq 4–5 are missing/);

      // Closing the gap does not hide it: the event now numbered 4 links to the deleted one.
      await resetData(db);
      trail = await writeTrail(db);
      await tamper(db, 'DELETE FROM audit_events WHERE seq = 4');
      await tamper(db, 'UPDATE audit_events SET seq = seq - 1 WHERE seq > 4');
      await tamper(db, 'UPDATE audit_chain_head SET seq = seq - 1');
      report = await verifyAuditChain(db);
      assert.deepEqual(firstBad(report), { seq: 4, id: null, problem: 'deleted' });
      assert.match(report.firstBad!.detail, new RegExp(`event ${trail[4].id}, now numbered 4`));

      // The first event too.
      await resetData(db);
      await writeTrail(db);
      await tamper(db, 'DELETE FROM audit_events WHERE seq = 1');
      assert.deepEqual(firstBad(await verifyAuditChain(db)), { seq: 1, id: null, problem: 'deleted' });
    });

    it('reports reordered events: numbers swapped, or whole rows swapped; content alone swapped reads as edited', async () => {
      let trail = await writeTrail(db);
      await tamper(db, 'UPDATE audit_events SET seq = -seq WHERE seq IN (3, 7)');
      await tamper(db, 'UPDATE audit_events SET seq = CASE seq WHEN -3 THEN 7 ELSE 3 END WHERE seq < 0');
      const report = await verifyAuditChain(db);
      assert.deepEqual(firstBad(report), { seq: 3, id: trail[6].id, problem: 'reordered' });
      assert.match(report.firstBad!.detail, new RegExp(`the event that follows seq 2 is ${trail[2].id}, numbered 7`));

      // Neighbours swapped.
      await resetData(db);
      trail = await writeTrail(db);
      await tamper(db, 'UPDATE audit_events SET seq = CASE seq WHEN 5 THEN -6 ELSE -5 END WHERE seq IN (5, 6)');
      await tamper(db, 'UPDATE audit_events SET seq = -seq WHERE seq < 0');
      assert.deepEqual(firstBad(await verifyAuditChain(db)), { seq: 5, id: trail[5].id, problem: 'reordered' });

      // Every column but id and seq swapped between two rows.
      const columns = 'at, actor_id, actor_name, actor_role, via, action, entity, entity_id, before, after, prev_hash, hash, content_hash';
      const swap = (cols: string) =>
        `UPDATE audit_events a SET (${cols}) = (SELECT ${cols} FROM audit_events b WHERE b.seq = CASE a.seq WHEN 2 THEN 8 ELSE 2 END) WHERE a.seq IN (2, 8)`;
      await resetData(db);
      trail = await writeTrail(db);
      await tamper(db, swap(columns));
      assert.deepEqual(firstBad(await verifyAuditChain(db)), { seq: 2, id: trail[1].id, problem: 'reordered' });

      // Only the recorded content swapped, hashes left in place: the first of the two no longer matches its hash.
      await resetData(db);
      trail = await writeTrail(db);
      await tamper(db, swap('at, actor_id, actor_name, actor_role, via, action, entity, entity_id, before, after'));
      assert.deepEqual(firstBad(await verifyAuditChain(db)), { seq: 2, id: trail[1].id, problem: 'edited' });
    });

    it('reports inserted events: off the chain, slipped in with made-up hashes, or with hashes computed right', async () => {
      await writeTrail(db);
      const forged = { at: new Date(), actor_id: '31', actor_name: 'ada.admin', actor_role: 'admin', via: null, action: 'tool.update', entity: 'tool', entity_id: '1', before: null, after: { location: 'nowhere' } };
      const insert = (seq: number | null, prev: string | null, hash: string | null) =>
        tamper(
          db,
          `INSERT INTO audit_events (id, seq, at, actor_id, actor_name, actor_role, action, entity, entity_id, after, prev_hash, hash, content_hash)
           VALUES (1000, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?)`,
          [seq, forged.at, forged.actor_id, forged.actor_name, forged.actor_role, forged.action, forged.entity, forged.entity_id, JSON.stringify(forged.after), prev, hash, contentHash(forged)],
        );
      const shift = () => tamper(db, 'UPDATE audit_events SET seq = -(seq + 1) WHERE seq >= 6').then(() => tamper(db, 'UPDATE audit_events SET seq = -seq WHERE seq < 0'));

      await insert(null, null, null);
      let report = await verifyAuditChain(db);
      assert.deepEqual(firstBad(report), { seq: null, id: 1000, problem: 'inserted' });
      assert.equal(report.checked, 10);

      await resetData(db);
      await writeTrail(db);
      await shift();
      await insert(6, null, 'f'.repeat(64));
      assert.deepEqual(firstBad(await verifyAuditChain(db)), { seq: 6, id: 1000, problem: 'inserted' });

      await resetData(db);
      let trail = await writeTrail(db);
      await shift();
      await insert(6, trail[4].hash, linkHash(trail[4].hash, contentHash(forged)));
      report = await verifyAuditChain(db);
      assert.deepEqual(firstBad(report), { seq: 6, id: 1000, problem: 'inserted' });
      assert.equal(report.checked, 6);

      // An insert that skips core has no content hash and is refused.
      await resetData(db);
      trail = await writeTrail(db);
      await assert.rejects(
        db('audit_events').insert({ actor_id: '1', actor_name: 'x', actor_role: 'admin', action: 'a', entity: 'e', entity_id: '1' }),
        /content_hash/,
      );
      assert.equal((await verifyAuditChain(db)).ok, true);
    });

    it('deleting the newest event: the chain head shows it; head and event rewritten together, only an anchor does', async () => {
      const trail = await writeTrail(db);
      const anchor = (await verifyAuditChain(db)).head!;
      assert.deepEqual(anchor, { seq: 10, hash: trail[9].hash });
      await tamper(db, 'DELETE FROM audit_events WHERE seq = 10');
      let report = await verifyAuditChain(db);
      assert.deepEqual(firstBad(report), { seq: 10, id: null, problem: 'deleted' });
      assert.match(report.firstBad!.detail, /missing from the end/);

      // Someone who also moves the head back leaves a chain that is whole in itself ...
      await tamper(db, 'UPDATE audit_chain_head SET seq = 9, hash = ?', [trail[8].hash]);
      assert.equal((await verifyAuditChain(db)).ok, true);
      // ... which a head kept elsewhere exposes.
      report = await verifyAuditChain(db, { anchor });
      assert.deepEqual(firstBad(report), { seq: 10, id: null, problem: 'deleted' });
      // And when new events have been written since, the anchored one is not the one recorded.
      await createTool(db, technician, tool(9));
      assert.equal((await verifyAuditChain(db)).ok, true);
      assert.deepEqual(firstBad(await verifyAuditChain(db, { anchor })), { seq: 10, id: 11, problem: 'edited' });
      // An emptied head with events left is reported too.
      await tamper(db, 'DELETE FROM audit_chain_head');
      assert.equal(firstBad(await verifyAuditChain(db)).problem, 'deleted');
    });

    it('verifies in batches and from a given number; rejects bad options naming the field', async () => {
      const trail = await writeTrail(db);
      for (let n = 5; n <= 40; n++) await createTool(db, technician, tool(n));
      assert.deepEqual(await verifyAuditChain(db, { batch: 3 }), { ok: true, checked: 46, head: { seq: 46, hash: (await events(db))[45].hash } });
      await tamper(db, `UPDATE audit_events SET entity_id = 'x' WHERE seq = 44`);
      await tamper(db, `UPDATE audit_events SET entity_id = 'x' WHERE seq = 2`);
      assert.deepEqual(firstBad(await verifyAuditChain(db, { batch: 3 })), { seq: 2, id: trail[1].id, problem: 'edited' });
      const report = await verifyAuditChain(db, { from: 3, batch: 7 });
      assert.deepEqual(firstBad(report), { seq: 44, id: 44, problem: 'edited' });
      assert.equal(report.checked, 41);
      await rejects(verifyAuditChain(db, { batch: 0 }), 'validation', 'batch');
      await rejects(verifyAuditChain(db, { from: 1.5 }), 'validation', 'from');
      await rejects(verifyAuditChain(db, { anchor: { seq: 1, hash: 'ABC' } }), 'validation', 'anchor.hash');
      await rejects(verifyAuditChain(db, { limit: 1 }), 'validation');
    });

    it('chains the events recorded before migration 008 in id order, then goes on from them', async function () {
      await db.migrate.down({ migrationSource, name: '008_audit_chain' } as never);
      try {
        await db.raw(`INSERT INTO audit_events (actor_id, actor_name, actor_role, via, action, entity, entity_id, after, at)
          SELECT '11', 'tina.tech', 'technician', 'old', 'tool.update', 'tool', i::text, jsonb_build_object('n', i, 'b', 'x'), now() - (i || ' seconds')::interval
          FROM generate_series(1, 2500) AS i`);
      } finally {
        await db.migrate.latest({ migrationSource });
      }
      const old = await events(db);
      assert.deepEqual([old.length, old[0].seq, old[2499].seq], [2500, 1, 2500]);
      assert.ok(old.every((e, i) => e.id === i + 1), 'numbered in id order');
      await createTool(db, technician, tool(1));
      const report = await verifyAuditChain(db);
      assert.deepEqual([report.ok, report.checked, report.head?.seq], [true, 2501, 2501]);
    });

    if (backend.name === 'postgres') {
      it('stays one valid chain under concurrent writers on separate connections', async () => {
        const ids = await Promise.all(Array.from({ length: 30 }, (_, n) => createTool(db, technician, tool(n)).then((t) => t.id)));
        await Promise.all([
          ...ids.map((id) => updateTool(db, technician2, { id, location: `Rack C${id}` })),
          ...ids.slice(0, 10).map((id) => retireTool(db, engineer, { id, reason: 'scrapped' })),
          ...Array.from({ length: 10 }, (_, n) =>
            inTransaction(db, async (trx) => {
              for (let k = 0; k < 5; k++) await recordAudit(trx, admin, { action: 'batch', entity: 'test', entityId: `${n}.${k}` });
            }),
          ),
        ].map((p) => p.catch((err: { code?: string }) => (err.code === 'conflict' ? null : Promise.reject(err)))));
        const trail = await events(db);
        assert.deepEqual(trail.map((e) => e.seq), trail.map((_, i) => i + 1));
        const report = await verifyAuditChain(db);
        assert.deepEqual([report.ok, report.checked, report.head?.seq], [true, trail.length, trail.length]);
        assert.ok(trail.length >= 30 + 10 + 20 + 50, `${trail.length} events`);
        // The five events of one transaction stay next to each other: linked at its commit.
        const batch = await db('audit_events').where('action', 'batch').orderBy('seq').select('seq', 'entity_id');
        for (let i = 0; i < batch.length; i += 5) {
          assert.deepEqual(batch.slice(i, i + 5).map((b: { seq: number }) => Number(b.seq) - Number(batch[i].seq)), [0, 1, 2, 3, 4]);
        }
      });

      it('never deadlocks: audit-then-lock and lock-then-audit transactions at once', async () => {
        const { id } = await createTool(db, technician, tool(1));
        const pause = () => new Promise((r) => setTimeout(r, 5));
        const auditThenLock = (n: number) =>
          inTransaction(db, async (trx) => {
            await recordAudit(trx, technician, { action: 'a.then.lock', entity: 'tool', entityId: n });
            await pause();
            await trx('tools').where('id', id).forUpdate().first();
          });
        const lockThenAudit = (n: number) =>
          inTransaction(db, async (trx) => {
            await trx('tools').where('id', id).forUpdate().first();
            await pause();
            await recordAudit(trx, technician, { action: 'lock.then.a', entity: 'tool', entityId: n });
          });
        await Promise.all(Array.from({ length: 20 }, (_, n) => (n % 2 ? auditThenLock(n) : lockThenAudit(n))));
        const report = await verifyAuditChain(db);
        assert.deepEqual([report.ok, report.checked], [true, 21]);
      });
    }
  });
}

/** Run the verify command; its exit code and output. */
function verifyCommand(env: NodeJS.ProcessEnv, args: string[] = []): Promise<{ code: number; out: string; err: string }> {
  const script = path.join(__dirname, '../../scripts/verify-audit.js');
  const clean = { ...process.env, DATABASE_URL: '', TOOLROOM_DATA_DIR: '', ...env };
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { env: clean }, (error, out, err) => resolve({ code: error ? Number(error.code) : 0, out, err }));
  });
}

describe('verify-audit command', function () {
  this.timeout(120000);

  it('reports an intact chain (exit 0), a broken one (exit 1) and no database (exit 2) on PGlite files', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-audit-'));
    try {
      const db = openDatabase({ dataDir: path.join(dir, 'pglite') });
      await migrateLatest(db);
      await writeTrail(db);
      await db.destroy();
      let run = await verifyCommand({ TOOLROOM_DATA_DIR: dir });
      assert.equal(run.code, 0, run.err);
      assert.match(run.out, /audit chain intact: 10 events checked/);
      const head = /chain head: seq 10, hash ([0-9a-f]{64})/.exec(run.out)![1];

      const tampered = openDatabase({ dataDir: path.join(dir, 'pglite') });
      await tamper(tampered, 'DELETE FROM audit_events WHERE seq = 10');
      await tamper(tampered, 'UPDATE audit_chain_head SET seq = 9, hash = (SELECT hash FROM audit_events WHERE seq = 9)');
      await tampered.destroy();
      run = await verifyCommand({ TOOLROOM_DATA_DIR: dir }, ['--batch', '4']);
      assert.equal(run.code, 0, run.err);
      run = await verifyCommand({ TOOLROOM_DATA_DIR: dir }, ['--anchor', `10:${head}`, '--json']);
      assert.equal(run.code, 1, run.err);
      assert.deepEqual(JSON.parse(run.out).firstBad.problem, 'deleted');

      run = await verifyCommand({ TOOLROOM_DATA_DIR: dir }, ['--batch', '0']);
      assert.equal(run.code, 2);
      assert.match(run.err, /batch/);
      run = await verifyCommand({ TOOLROOM_DATA_DIR: path.join(dir, 'nothing') });
      assert.equal(run.code, 2);
      assert.match(run.err, /no database at/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts from the signed purge anchor, checked against the audit key file, and names an anchor signed by another key', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-audit-'));
    try {
      const db = openDatabase({ dataDir: path.join(dir, 'pglite') });
      await migrateLatest(db);
      await writeTrail(db);
      await setRetention(db, admin, { recordType: 'audit_events', keepDays: 1 });
      // The key where the app keeps it by default (keys/audit.key in the data dir), so the command finds it.
      const options = { store: new PhotoStore(path.join(dir, 'photos'), path.join(dir, 'keys', 'photo.key')), auditKey: () => ensureAuditKey(path.join(dir, 'keys', 'audit.key')) };
      const purge = await purgeExpired(db, admin, { now: new Date(Date.now() + 2 * 86_400_000) }, options);
      await db.destroy();
      let run = await verifyCommand({ TOOLROOM_DATA_DIR: dir });
      assert.equal(run.code, 0, run.err);
      assert.match(run.out, new RegExp(`purged up to seq ${purge.anchor!.seq} \\(anchor ${purge.anchor!.id},.*\\(the audit key\\)`));

      // An auditor's copy of another key: the anchor is not signed by it.
      const other = path.join(dir, 'other.pem');
      fs.writeFileSync(other, generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }));
      run = await verifyCommand({ TOOLROOM_DATA_DIR: dir }, ['--public-key', other, '--json']);
      assert.equal(run.code, 1, run.err);
      const report = JSON.parse(run.out) as AuditChainReport;
      assert.deepEqual([report.firstBad!.problem, report.firstBad!.anchorId], ['forged', purge.anchor!.id]);
      assert.match(report.firstBad!.detail, /not the audit key/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  if (process.env.TEST_DATABASE_URL) {
    it('names the first bad event on the server (DATABASE_URL)', async () => {
      const db = await backends.find((b) => b.name === 'postgres')!.db();
      await resetData(db);
      const trail = await writeTrail(db);
      await tamper(db, `UPDATE audit_events SET actor_name = 'nobody' WHERE seq = 3`);
      const run = await verifyCommand({ DATABASE_URL: process.env.TEST_DATABASE_URL });
      assert.equal(run.code, 1, run.err);
      assert.match(run.out, new RegExp(`audit chain BROKEN: edited at seq 3, event id ${trail[2].id}`));
      assert.match(run.out, /2 events intact before it/);
    });
  }
});
