import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { archiveName, archiveTime, archivesToKeep, isoWeek, type ArchiveFile } from '../../core/backup/retention';
import { extractTar, safeEntryName, writeTar } from '../../core/backup/tar';
import { pruneArchives } from '../../core/backup/service';

const at = (iso: string): ArchiveFile => ({ name: archiveName(new Date(iso)), at: new Date(iso) });

/** Nightly archives at 02:00 UTC from `from` for `days` days. */
function nightly(from: string, days: number): ArchiveFile[] {
  const start = new Date(from).getTime();
  return Array.from({ length: days }, (_, i) => at(new Date(start + i * 86_400_000).toISOString()));
}

describe('backup retention (which archives to keep)', () => {
  it('names archives by their UTC time and reads the time back; other files are not archives', () => {
    const d = new Date('2026-12-04T02:00:07.042Z');
    assert.equal(archiveName(d), 'toolroom-20261204-020007-042.tar.age');
    assert.equal(archiveTime(archiveName(d))!.toISOString(), d.toISOString());
    for (const other of ['toolroom-20261204-020007-042.tar', 'notes.txt', '.toolroom-20261204-020007-042.tar.age.partial', 'toolroom-20261399-020007-042.tar.age']) {
      assert.equal(archiveTime(other), null, other);
    }
  });

  it('counts ISO weeks (the week of its Thursday decides the year)', () => {
    assert.equal(isoWeek(new Date('2026-12-31T12:00:00Z')), '2026-W53');
    assert.equal(isoWeek(new Date('2027-01-03T12:00:00Z')), '2026-W53');
    assert.equal(isoWeek(new Date('2027-01-04T12:00:00Z')), '2027-W01');
  });

  it('keeps the newest of each of the last 7 days, 4 weeks and 12 months', () => {
    const all = nightly('2026-01-01T02:00:00Z', 400);
    const keep = archivesToKeep(all, { daily: 7, weekly: 4, monthly: 12 });
    const kept = all.filter((a) => keep.has(a.name)).map((a) => a.at.toISOString().slice(0, 10));
    // 7 days back from 2027-02-04; Sundays ending the weeks before; month ends before.
    assert.deepEqual(kept.slice(-7), ['2027-01-29', '2027-01-30', '2027-01-31', '2027-02-01', '2027-02-02', '2027-02-03', '2027-02-04']);
    assert.ok(kept.includes('2027-01-24') && kept.includes('2027-01-17'), 'Sundays of the earlier weeks');
    for (const monthEnd of ['2026-03-31', '2026-06-30', '2026-12-31']) assert.ok(kept.includes(monthEnd), monthEnd);
    assert.ok(!kept.includes('2026-02-28'), '12 months only: February 2026 is the 13th');
    assert.ok(!kept.includes('2027-01-20'), 'a mid-week day of an older week goes');
    assert.equal(kept.length, new Set(kept).size);
  });

  it('counts only periods that have an archive: a month of failed backups prunes no good one', () => {
    const all = [...nightly('2026-10-01T02:00:00Z', 10), ...nightly('2026-12-01T02:00:00Z', 2)];
    const keep = archivesToKeep(all, { daily: 7, weekly: 0, monthly: 0 });
    assert.equal(keep.size, 7);
    assert.ok(keep.has(archiveName(new Date('2026-10-06T02:00:00Z'))), 'five days from before the gap are still kept');
  });

  it('always keeps the newest archive, whatever the policy; several a day keep the newest of that day', () => {
    const all = [at('2026-12-04T02:00:00Z'), at('2026-12-04T13:30:00Z'), at('2026-12-03T02:00:00Z')];
    assert.deepEqual([...archivesToKeep(all, { daily: 0, weekly: 0, monthly: 0 })], [all[1].name]);
    assert.deepEqual([...archivesToKeep(all, { daily: 2, weekly: 0, monthly: 0 })].sort(), [all[1].name, all[2].name].sort());
    assert.equal(archivesToKeep([], { daily: 7, weekly: 4, monthly: 12 }).size, 0);
  });

  it('prunes only archive files in the backup directory', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-prune-'));
    try {
      const all = nightly('2026-11-01T02:00:00Z', 10);
      for (const a of all) fs.writeFileSync(path.join(dir, a.name), 'x');
      fs.writeFileSync(path.join(dir, 'README.txt'), 'the share holds other things too');
      const pruned = pruneArchives(dir, { daily: 3, weekly: 0, monthly: 0 });
      assert.equal(pruned.length, 7);
      assert.deepEqual(fs.readdirSync(dir).sort(), ['README.txt', ...all.slice(-3).map((a) => a.name)].sort());
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('backup tar', () => {
  it('accepts only relative names without . or .. parts', () => {
    for (const good of ['manifest.json', 'photos/2026/a.jpg', 'node-red/.config.runtime.json']) assert.ok(safeEntryName(good), good);
    for (const bad of ['', '/etc/passwd', '../x', 'photos/../../x', 'a//b', 'a/./b', 'a\\b', 'a\nb', 'x'.repeat(256)]) assert.ok(!safeEntryName(bad), bad);
  });

  it('round-trips long names and sizes on and off the 512-byte block, and refuses a tar with a bad name', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-tar-'));
    try {
      const long = `photos/${'a'.repeat(90)}/${'b'.repeat(90)}.jpg`;
      const data = [Buffer.alloc(0), Buffer.alloc(512, 1), Buffer.alloc(70_001, 2)];
      const names = ['empty', long, 'big.bin'];
      const entries = names.map((name, i) => ({ name, size: data[i].length, content: async function* () { yield data[i]; } }));
      const chunks: Uint8Array[] = [];
      for await (const c of writeTar(entries)) chunks.push(c);
      const out = await extractTar((async function* () { yield* chunks; })(), dir);
      assert.deepEqual(out.map((e) => e.name), names);
      assert.deepEqual(fs.readFileSync(path.join(dir, long)), data[1]);
      // A header naming ../evil (checksum made right) is refused before anything is written.
      const tar = Buffer.concat(chunks);
      const h = Buffer.from(tar.subarray(0, 512));
      h.fill(0, 0, 100).write('../evil', 0);
      h.fill(32, 148, 156);
      let sum = 0;
      for (const b of h) sum += b;
      h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
      const evilDir = path.join(dir, 'evil-target');
      fs.mkdirSync(evilDir);
      await assert.rejects(extractTar((async function* () { yield Buffer.concat([h, tar.subarray(512)]); })(), evilDir), /unsafe path/);
      assert.deepEqual(fs.readdirSync(evilDir), []);
      assert.equal(fs.existsSync(path.join(dir, 'evil')), false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
