import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newKeyPair } from '../../core/backup/age';
import { restoreBackup, verifyArchive, RestoreRefused } from '../../core/backup/restore';
import { createBackup, type BackupInput } from '../../core/backup/service';
import { verifyAuditChain } from '../../core/audit/verify';
import { openDatabase, type Db } from '../../core/db/connect';
import { seedDemoPlant } from '../../core/seed/demo';
import { setRetention } from '../../core/retention/policy';
import { purgeExpired } from '../../core/retention/purge';
import { PhotoStore } from '../../core/photos/store';
import { ensureAuditKey } from '../../core/audit/anchor';
import { backends, freshServerDatabase, resetData, tableCounts } from '../support/db';
import { admin, technician } from '../support/actors';
import { rejects } from '../support/expect';

/** Every table's rows as sorted JSON lines (row order is not part of a database's content). */
async function allRows(db: Db): Promise<Record<string, string[]>> {
  const { rows } = await db.raw<{ rows: { tablename: string }[] }>('SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename');
  const out: Record<string, string[]> = {};
  for (const { tablename } of rows) {
    const r = await db.raw<{ rows: { j: string }[] }>(`SELECT row_to_json(t)::text AS j FROM "${tablename}" t`);
    out[tablename] = r.rows.map((x) => x.j).sort();
  }
  return out;
}

/** sha256 of every file under `dir`, by relative name, skipping the PGlite files (compared as rows). */
function fileHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const name = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) {
        if (name !== 'pglite') walk(name);
      } else out[name] = createHash('sha256').update(fs.readFileSync(path.join(dir, name))).digest('hex');
    }
  };
  walk('');
  return out;
}

function writeFile(dir: string, name: string, data: string | Buffer, mode = 0o600): void {
  fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
  fs.writeFileSync(path.join(dir, name), data, { mode });
}

/** A data dir as a running instance leaves it: photos, flows, credentials, the key file. */
function plantDataDir(dir: string): void {
  writeFile(dir, 'photos/2026/11/tool-17-a1b2.jpg.enc', randomBytes(70_000));
  writeFile(dir, 'photos/2026/12/failure-3-c3d4.jpg.enc', randomBytes(1_234));
  writeFile(dir, 'node-red/flows.json', JSON.stringify([{ id: 'f1', type: 'tab', label: 'Presses' }]));
  writeFile(dir, 'node-red/flows_cred.json', JSON.stringify({ $: 'c0ffee' + randomBytes(40).toString('hex') }));
  writeFile(dir, 'node-red/.config.runtime.json', JSON.stringify({ instanceId: 'abc' }));
  writeFile(dir, 'keys/credential-secret', randomBytes(32).toString('base64url'));
  writeFile(dir, 'toolroom.json', JSON.stringify({ firstStartedAt: '2026-12-01T00:00:00.000Z', seeded: true }));
}

async function refused(call: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(call, (err: Error) => {
    assert.ok(err instanceof RestoreRefused, `expected RestoreRefused, got ${err.name}: ${err.message}`);
    assert.match(err.message, pattern);
    return true;
  });
}

for (const backend of backends) {
  describe(`backup and restore [${backend.name}]`, function () {
    this.timeout(120000);
    let db: Db;
    let tmp: string;
    let identityFile: string;
    let identities: string[];
    let input: BackupInput;
    let archive: string;
    const created: (() => Promise<void>)[] = [];
    let restoredTarget: Awaited<ReturnType<typeof target>>;

    /** A target to restore into: a new data dir, and for the server a new database. */
    async function target(label: string): Promise<{ dataDir: string; url?: string; open(): Db }> {
      const dataDir = path.join(tmp, `restored-${label}`);
      if (backend.name === 'pglite') return { dataDir, open: () => openDatabase({ dataDir: path.join(dataDir, 'pglite') }) };
      const { url, drop } = await freshServerDatabase(db, label);
      created.push(drop);
      return { dataDir, url, open: () => openDatabase({ url, poolMax: 2 }) };
    }

    before(async () => {
      db = await backend.db();
      await resetData(db);
      await seedDemoPlant(db);
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-backup-'));
      plantDataDir(path.join(tmp, 'data'));
      // A purged audit trail: its signed anchor must come along, and the audit key with the other keys.
      await setRetention(db, admin, { recordType: 'audit_events', keepDays: 1 });
      const data = path.join(tmp, 'data');
      const purge = await purgeExpired(db, admin, { now: new Date(Date.now() + 2 * 86_400_000) }, {
        store: new PhotoStore(path.join(data, 'photos'), path.join(data, 'keys', 'photo.key')),
        auditKey: () => ensureAuditKey(path.join(data, 'keys', 'audit.key')),
      });
      assert.ok(purge.anchor, 'the seeded trail was purged under an anchor');
      const pair = await newKeyPair();
      identityFile = pair.identityFile;
      identities = [identityFile.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!];
      fs.mkdirSync(path.join(tmp, 'share'));
      input = { dir: path.join(tmp, 'share'), dataDir: path.join(tmp, 'data'), recipients: [pair.recipient] };
    });

    after(async () => {
      for (const drop of created) await drop();
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it('writes one encrypted archive to the backup directory, audited', async () => {
      const r = await createBackup(db, admin, input);
      archive = r.path;
      assert.deepEqual(fs.readdirSync(input.dir), [r.archive], 'only the finished archive, no partial file');
      assert.match(r.archive, /^toolroom-\d{8}-\d{6}-\d{3}\.tar\.age$/);
      assert.equal(r.files, 5);
      const head = fs.readFileSync(archive).subarray(0, 100).toString('latin1');
      assert.match(head, /^age-encryption\.org\/v1\n/, 'an age file');
      assert.ok(!fs.readFileSync(archive).includes(Buffer.from('Door handle bezel')), 'no plain text of the plant in it');
      assert.ok(!fs.readdirSync(input.dataDir).some((n) => n.startsWith('.backup-')), 'the staged dump is gone');
      const event = await db('audit_events').where({ action: 'backup.create' }).orderBy('id', 'desc').first();
      assert.equal(event.entity_id, r.archive);
      // The app's session is left as it was: views still answer (PGlite's pg_dump restricts them for its session).
      await db.raw('SELECT count(*) FROM kpi_failures');
      assert.equal(event.actor_name, admin.name);
      const check = await verifyArchive(archive, identities, tmp);
      assert.equal(check.manifest.database.backend, backend.name);
      assert.equal(check.keys, true);
    });

    it('restores into a fresh database and data dir: every row, the audit chain and every file', async () => {
      const t = (restoredTarget = await target('fresh'));
      const r = await restoreBackup({ archive, identities, dataDir: t.dataDir, url: t.url });
      assert.equal(r.keys, 'restored');
      const restored = t.open();
      try {
        const before = await allRows(db);
        const after = await allRows(restored);
        assert.deepEqual(Object.keys(after), Object.keys(before), 'the same tables');
        for (const table of Object.keys(before)) {
          if (table === 'audit_events' || table === 'audit_chain_head') continue;
          assert.deepEqual(after[table], before[table], `rows of ${table}`);
        }
        // The trail is the source's plus the restore itself, and still verifies.
        const restoreEvent = await restored('audit_events').orderBy('seq', 'desc').first();
        assert.equal(restoreEvent.action, 'backup.restore');
        assert.equal(restoreEvent.entity_id, path.basename(archive));
        // The source's trail as it was at the dump: its newer events are the backup's own.
        const withoutRestore = after.audit_events.filter((j) => JSON.parse(j).id !== restoreEvent.id);
        const atDump = before.audit_events.filter((j) => JSON.parse(j).seq < restoreEvent.seq);
        assert.deepEqual(withoutRestore, atDump, 'every audit event of the source');
        assert.deepEqual(before.audit_events.filter((j) => JSON.parse(j).seq >= restoreEvent.seq).map((j) => JSON.parse(j).action), ['backup.create']);
        const sourceChain = await verifyAuditChain(db);
        const chain = await verifyAuditChain(restored);
        assert.ok(chain.ok, JSON.stringify(chain.firstBad));
        assert.equal(before.audit_anchors.length, 1);
        assert.deepEqual(chain.purgeAnchor, sourceChain.purgeAnchor, 'it starts from the same signed anchor');
        assert.equal(chain.checked, sourceChain.checked, 'the source (with its backup event) and the restored trail (with its restore event) are as long');
        // Sequences came along: new rows do not collide with restored ones.
        await restored.transaction((trx) => trx('presses').insert({ code: 'P99', name: 'new press after restore' }));
      } finally {
        await restored.destroy();
      }
      assert.deepEqual(fileHashes(t.dataDir), fileHashes(input.dataDir), 'photos, flows, credentials and keys, byte for byte');
      assert.equal(fs.statSync(path.join(t.dataDir, 'keys/credential-secret')).mode & 0o777, 0o600);
    });

    it('refuses a target that is not empty, and restores over it with force', async () => {
      const t = restoredTarget;
      const db2 = t.open();
      try {
        await db2.transaction((trx) => trx('presses').insert({ code: 'P77', name: 'written after the restore' }));
        const counts = await tableCounts(db2);
        await refused(restoreBackup({ archive, identities, dataDir: t.dataDir, url: t.url }), /not empty \(.*--force/);
        assert.deepEqual(await tableCounts(db2), counts, 'nothing written');
      } finally {
        await db2.destroy();
      }
      fs.writeFileSync(path.join(t.dataDir, 'photos', 'stray.jpg'), 'not in the backup');
      await restoreBackup({ archive, identities, dataDir: t.dataDir, url: t.url, force: true });
      const db3 = t.open();
      try {
        assert.equal(await db3('presses').where({ code: 'P77' }).first(), undefined, 'the later write is gone');
        assert.ok((await verifyAuditChain(db3)).ok);
      } finally {
        await db3.destroy();
      }
      assert.deepEqual(fileHashes(t.dataDir), fileHashes(input.dataDir));
    });

    it('refuses a truncated, a tampered and a foreign archive, writing nothing', async () => {
      const bytes = fs.readFileSync(archive);
      const cases: [string, Buffer, RegExp][] = [
        ['truncated', bytes.subarray(0, bytes.length - 1000), /damaged, truncated or was altered|truncated/],
        ['cut at half', bytes.subarray(0, Math.floor(bytes.length / 2)), /damaged, truncated or was altered|truncated/],
        ['tampered', Buffer.from(bytes).fill(0x41, Math.floor(bytes.length / 2), Math.floor(bytes.length / 2) + 1), /damaged, truncated or was altered/],
        ['tampered header', Buffer.from(bytes.toString('latin1').replace('X25519', 'X25518'), 'latin1'), /refused/],
      ];
      const t = await target('refused');
      const counts = async () => {
        const check = t.open();
        try {
          return await tableCounts(check);
        } finally {
          await check.destroy();
        }
      };
      const emptyBefore = t.url ? await counts() : null;
      for (const [label, data, pattern] of cases) {
        const file = path.join(tmp, `${label}.tar.age`);
        fs.writeFileSync(file, data);
        await refused(restoreBackup({ archive: file, identities, dataDir: t.dataDir, url: t.url }), pattern);
        assert.equal(fs.existsSync(t.dataDir), false, `${label}: no data dir written`);
      }
      const other = await newKeyPair();
      const otherId = other.identityFile.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
      await refused(restoreBackup({ archive, identities: [otherId], dataDir: t.dataDir, url: t.url }), /none of the identities/);
      assert.equal(fs.existsSync(t.dataDir), false);
      if (t.url) assert.deepEqual(await counts(), emptyBefore, 'the database stays empty');
    });

    it('keeps the keys apart: a keys part for another recipient needs its identity, or --without-keys', async () => {
      const keysPair = await newKeyPair();
      const r = await createBackup(db, admin, { ...input, keysRecipients: [keysPair.recipient] });
      const t = await target('keys');
      await refused(restoreBackup({ archive: r.path, identities, dataDir: t.dataDir, url: t.url }), /keys part.*--without-keys/);
      assert.equal(fs.existsSync(t.dataDir), false);
      const keyId = keysPair.identityFile.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
      assert.equal((await verifyArchive(r.path, identities, tmp)).keys, false, 'the data identity alone does not open the keys');
      assert.equal((await verifyArchive(r.path, [...identities, keyId], tmp)).keys, true);
    });

    it('refuses a backup to technicians, and audits a failed one', async () => {
      await rejects(createBackup(db, technician, input), 'forbidden');
      const missing = path.join(tmp, 'unmounted-share');
      await assert.rejects(createBackup(db, admin, { ...input, dir: missing }), /does not exist \(is the share mounted\?\)/);
      const event = await db('audit_events').where({ action: 'backup.fail' }).orderBy('id', 'desc').first();
      assert.match(event.after.error, /does not exist/);
      // The admins hear of it (issue 12 and 13): one backup.failed event, raised with the audit.
      const raised = await db('notification_events').where({ type: 'backup.failed', entity_id: event.entity_id });
      assert.equal(raised.length, 1);
      assert.equal(fs.existsSync(missing), false);
    });
  });
}
