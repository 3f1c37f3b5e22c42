import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExifReader from 'exifreader';
import sharp from 'sharp';
import { createTool } from '../../core/tools/service';
import { seedFailureCatalog } from '../../core/failures/seed';
import { reportFailure } from '../../core/failures/service';
import { createAction } from '../../core/actions/service';
import { annotatePhoto, getPhoto, listPhotos, readPhoto, uploadPhoto, withdrawPhoto } from '../../core/photos/service';
import { PhotoStore } from '../../core/photos/store';
import { rotatePhotoKey } from '../../core/photos/rotate';
import { annotationSvg } from '../../core/photos/annotate';
import { main as rotateScript } from '../../scripts/rotate-photo-key';
import { backends, resetData, tableCounts, type Backend } from '../support/db';
import { rejects } from '../support/expect';
import { admin, engineer, system, technician, technician2 } from '../support/actors';
import { decompressionBomb, htmlNamedJpg, jpeg, jpegWithGps, png, polyglot, svgNamedJpg, webp, filesUnder } from '../support/images';
import type { Db } from '../../core/db/connect';
import type { Tool } from '../../core/tools/schema';

function hasGps(bytes: Buffer): boolean {
  try {
    const tags = ExifReader.load(bytes, { expanded: true }) as { gps?: Record<string, unknown>; exif?: Record<string, unknown> };
    return Boolean(tags.gps && Object.keys(tags.gps).length) || Boolean(tags.exif?.GPSLatitude);
  } catch {
    return false; // no metadata at all
  }
}

for (const backend of backends) {
  describe(`photos [${backend.name}]`, function () {
    this.timeout(60000);
    let db: Db;
    let tool: Tool;
    let dir: string;
    let store: PhotoStore;
    before(async () => {
      db = await (backend as Backend).db();
    });
    beforeEach(async () => {
      await resetData(db);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-photos-'));
      store = new PhotoStore(path.join(dir, 'photos'), path.join(dir, 'keys', 'photo.key'));
      tool = await createTool(db, technician, { assetNumber: 'M-4001', name: 'Cover 4-cav', cavityCount: 4 });
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const upload = (image: Buffer, input: Record<string, unknown> = { toolId: tool.id }, actor = technician) => uploadPhoto(db, actor, input, image, { store });

    describe('upload', () => {
      it('stores a JPEG encrypted, with display and thumbnail, audited; the key file is made 0600', async () => {
        const photo = await upload(await jpeg(3000, 2000), { toolId: tool.id, caption: 'flash on parting line' });
        assert.equal(photo.entity, 'tool');
        assert.equal(photo.toolId, tool.id);
        assert.equal(photo.mimeType, 'image/jpeg');
        assert.deepEqual([photo.width, photo.height], [3000, 2000]);
        assert.equal(photo.caption, 'flash on parting line');
        assert.equal(photo.takenBy, technician.id);
        assert.match(photo.sha256, /^[0-9a-f]{64}$/);
        assert.equal((fs.statSync(store.keyFile).mode & 0o777).toString(8), '600');
        const files = filesUnder(store.dir);
        assert.equal(files.length, 3);
        for (const f of files) {
          const raw = fs.readFileSync(path.join(store.dir, f));
          await assert.rejects(sharp(raw).metadata(), 'a file on disk must not decode as an image');
          assert.equal(raw.subarray(0, 4).toString(), 'TRP1');
        }
        const display = await readPhoto(db, technician, { id: photo.id, variant: 'display' }, { store });
        assert.deepEqual([(await sharp(display.bytes).metadata()).width, display.mimeType], [2048, 'image/jpeg']);
        const thumb = await readPhoto(db, technician, { id: photo.id, variant: 'thumbnail' }, { store });
        assert.equal((await sharp(thumb.bytes).metadata()).width, 320);
        const original = await readPhoto(db, technician, { id: photo.id, variant: 'original' }, { store });
        assert.equal(original.bytes.length, photo.bytes);
        const events = await db('audit_events').where({ entity: 'photo', entity_id: String(photo.id) });
        assert.deepEqual(events.map((e) => e.action), ['photo.upload']);
        const row = await db('photos').where('id', photo.id).first();
        assert.equal(row.key_id, (await store.keyring())[0].id);
        assert.ok(!JSON.stringify(row).includes((await store.keyring())[0].key.toString('base64')), 'the key is not in the row');
      });

      it('takes PNG and WebP by their bytes; PNG stays PNG', async () => {
        const p = await upload(await png());
        assert.equal(p.mimeType, 'image/png');
        assert.equal((await sharp((await readPhoto(db, technician, { id: p.id, variant: 'original' }, { store })).bytes).metadata()).format, 'png');
        assert.equal((await upload(await webp())).mimeType, 'image/webp');
      });

      it('strips GPS and all metadata, keeping the capture time in the row', async () => {
        const source = await jpegWithGps();
        assert.ok(hasGps(source), 'the test file has GPS');
        const photo = await upload(source);
        assert.equal(photo.capturedAt, '2026-11-26T13:30:05.000Z');
        for (const variant of ['original', 'display', 'thumbnail'] as const) {
          const { bytes } = await readPhoto(db, technician, { id: photo.id, variant }, { store });
          assert.equal(hasGps(bytes), false, `${variant} has no GPS`);
          const meta = await sharp(bytes).metadata();
          assert.equal(meta.exif, undefined, `${variant} has no EXIF`);
          assert.equal(meta.xmp, undefined);
        }
      });

      it('turns a photo upright by its EXIF orientation before stripping it', async () => {
        const sideways = await sharp({ create: { width: 600, height: 400, channels: 3, background: '#808080' } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
        assert.equal((await sharp(sideways).metadata()).orientation, 6);
        const photo = await upload(sideways);
        assert.deepEqual([photo.width, photo.height], [400, 600]);
        const { bytes } = await readPhoto(db, technician, { id: photo.id, variant: 'original' }, { store });
        const meta = await sharp(bytes).metadata();
        assert.deepEqual([meta.width, meta.height, meta.orientation], [400, 600, undefined]);
      });

      it('links to an inspection item, a failure report and an action (before/after), with the tool', async () => {
        await seedFailureCatalog(db);
        const failure = await reportFailure(db, technician, { toolId: tool.id, failureCode: 'EJ-PIN-BROKEN' });
        const action = await createAction(db, engineer, { title: 'Replace ejector pin', toolId: tool.id, failureReportId: failure.id });
        const [template] = await db('inspection_templates').insert({ code: 'T1', name: 'Post-run', kind: 'post_run', items: JSON.stringify([{ key: 'vents', label: 'Vents' }]) }).returning('id');
        const [inspection] = await db('inspections')
          .insert({ tool_id: tool.id, template_id: template.id, kind: 'post_run', outcome: 'fail', performed_at: new Date(), performed_by: '11', lifetime_shots: 0 })
          .returning('id');
        await db('inspection_results').insert({ inspection_id: inspection.id, item_key: 'vents', label: 'Vents', result: 'fail' });
        const a = await upload(await jpeg(), { failureReportId: failure.id });
        const b = await upload(await jpeg(), { actionId: action.id, phase: 'before' });
        const c = await upload(await jpeg(), { inspectionId: inspection.id, inspectionItemKey: 'vents' });
        assert.deepEqual([a.entity, a.entityId, a.toolId], ['failure', failure.id, tool.id]);
        assert.deepEqual([b.entity, b.phase], ['action', 'before']);
        assert.deepEqual([c.entity, c.inspectionItemKey], ['inspection', 'vents']);
        await rejects(upload(await jpeg(), { inspectionId: inspection.id, inspectionItemKey: 'nope' }), 'not_found', 'inspectionItemKey');
        await rejects(upload(await jpeg(), { toolId: tool.id, phase: 'after' }), 'validation', 'phase', 'with_action');
        await rejects(upload(await jpeg(), { toolId: tool.id, actionId: action.id }), 'validation', 'actionId', 'one_of');
        const timeline = await listPhotos(db, technician, { toolId: tool.id });
        assert.deepEqual(timeline.items.map((p) => p.id), [c.id, b.id, a.id]);
        assert.deepEqual((await listPhotos(db, engineer, { failureReportId: failure.id })).items.map((p) => p.id), [a.id]);
        assert.deepEqual((await listPhotos(db, engineer, { actionId: action.id, phase: 'before' })).items.map((p) => p.id), [b.id]);
        assert.deepEqual((await listPhotos(db, engineer, { inspectionId: inspection.id })).items.map((p) => p.id), [c.id]);
      });
    });

    it('an upload key makes a retry answer with the photo the first attempt made: one row, one audit event, even when two race', async () => {
      const image = await jpeg();
      const key = 'k-3f1c2a9b-0001';
      const first = await upload(image, { toolId: tool.id, uploadKey: key });
      const counts = await tableCounts(db);
      const files = filesUnder(store.dir);
      assert.deepEqual(await upload(image, { toolId: tool.id, uploadKey: key }), first);
      assert.deepEqual(await tableCounts(db), counts, 'no second row, no second audit event');
      assert.deepEqual(filesUnder(store.dir), files, 'no second set of files');
      // Two attempts at once (the first answer lost while the second was already on its way): one photo.
      const raced = await Promise.all([upload(image, { toolId: tool.id, uploadKey: 'k-race-0002' }), upload(image, { toolId: tool.id, uploadKey: 'k-race-0002' })]);
      assert.equal(raced[0].id, raced[1].id);
      assert.equal((await db('photos').where('upload_key', 'k-race-0002')).length, 1);
      assert.equal(filesUnder(store.dir).length, files.length + 3, 'the losing attempt left no files');
      // Another person's key is theirs alone; a key reused for another record is refused, naming it.
      const other = await upload(image, { toolId: tool.id, uploadKey: key }, technician2);
      assert.notEqual(other.id, first.id);
      const tool2 = await createTool(db, technician, { assetNumber: 'M-4002', name: 'Cover 2-cav', cavityCount: 2 });
      await rejects(upload(image, { toolId: tool2.id, uploadKey: key }), 'conflict', 'uploadKey', 'same_record');
      await rejects(upload(image, { toolId: tool.id, uploadKey: 'short' }), 'validation', 'uploadKey');
    });

    it('processes one photo at a time by default (one sharp task at a time)', async () => {
      const images = await Promise.all([jpeg(2400, 1800), jpeg(2400, 1800, '#102030'), jpeg(2400, 1800, '#405060')]);
      let most = 0;
      const sampler = setInterval(() => (most = Math.max(most, sharp.counters().process)), 1);
      try {
        await Promise.all(images.map((image) => upload(image)));
      } finally {
        clearInterval(sampler);
      }
      assert.ok(most >= 1, 'sharp was seen working');
      assert.ok(most <= 1, `one photo's images one after the other, saw ${most} sharp tasks at once`);
    });

    describe('bad input: a clear reason, and no file, no row, no audit event', () => {
      const cases: [string, () => Promise<Buffer> | Buffer, string, string?][] = [
        ['a decompression bomb (30000×30000 PNG)', () => decompressionBomb(), 'max_pixels'],
        ['an HTML file named .jpg', () => htmlNamedJpg, 'type'],
        ['an SVG file named .jpg', () => svgNamedJpg, 'type'],
        ['a truncated JPEG', async () => (await jpeg(800, 600)).subarray(0, 3000), 'decodable'],
        ['a 0-byte body', () => Buffer.alloc(0), 'not_empty'],
        // The sharp bundled here reads AVIF only, not the HEVC of a phone's HEIC: refused by name, not as garbage.
        ['a HEIC file (this sharp cannot read it)', () => Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic\0\0\0\0mif1heic')]), 'type'],
        ['a polyglot (JPEG header + script)', () => polyglot, 'decodable'],
      ];
      for (const [what, make, rule] of cases) {
        it(`refuses ${what}`, async () => {
          const image = await make();
          const before = await tableCounts(db);
          const err = await rejects(upload(image), 'validation', 'image', rule);
          assert.match(err.message, /image/);
          assert.deepEqual(await tableCounts(db), before);
          assert.deepEqual(filesUnder(store.dir), []);
        });
      }

      it('refuses a body over the limit (in memory and from a file, the file never read whole)', async () => {
        const image = await jpeg(800, 600);
        const before = await tableCounts(db);
        await rejects(uploadPhoto(db, technician, { toolId: tool.id }, image, { store, limits: { maxBytes: image.length - 1, maxPixels: 50e6 } }), 'validation', 'image', 'max_bytes');
        const file = path.join(dir, 'big.jpg');
        fs.writeFileSync(file, image);
        await rejects(uploadPhoto(db, technician, { toolId: tool.id }, { file }, { store, limits: { maxBytes: 100, maxPixels: 50e6 } }), 'validation', 'image', 'max_bytes');
        assert.deepEqual(await tableCounts(db), before);
        assert.deepEqual(filesUnder(store.dir), []);
      });

      it('accepts a JPEG with a script appended, and what it keeps has no script', async () => {
        const photo = await upload(Buffer.concat([await jpeg(), Buffer.from('<script>alert(1)</script>')]));
        const { bytes } = await readPhoto(db, technician, { id: photo.id, variant: 'original' }, { store });
        assert.equal(bytes.includes('<script>'), false);
      });

      it('refuses a photo of a record that does not exist, before processing', async () => {
        const before = await tableCounts(db);
        await rejects(upload(await jpeg(), { toolId: 999 }), 'not_found', 'toolId');
        await rejects(upload(await jpeg(), { failureReportId: 999 }), 'not_found', 'failureReportId');
        await rejects(upload(await jpeg(), {}), 'validation', 'toolId', 'required');
        assert.deepEqual(await tableCounts(db), before);
        assert.deepEqual(filesUnder(store.dir), []);
      });

      it('removes the files it wrote when the transaction fails after writing them (no orphans)', async () => {
        await db.raw(`CREATE FUNCTION photo_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.action = 'photo.upload' THEN RAISE EXCEPTION 'audit refused (test)'; END IF; RETURN NEW; END $$`);
        await db.raw('CREATE TRIGGER photo_test_fail BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION photo_test_fail()');
        try {
          const before = await tableCounts(db);
          await assert.rejects(upload(await jpeg()), /audit refused/);
          assert.deepEqual(await tableCounts(db), before);
          assert.deepEqual(filesUnder(store.dir), []);
        } finally {
          await db.raw('DROP TRIGGER photo_test_fail ON audit_events');
          await db.raw('DROP FUNCTION photo_test_fail()');
        }
      });
    });

    describe('encryption', () => {
      it('detects one flipped byte, a swapped file, a wrong key and a missing key file, naming the photo', async () => {
        const a = await upload(await jpeg());
        const b = await upload(await jpeg(320, 200, '#00ff00'));
        const rowA = await db('photos').where('id', a.id).first();
        const rowB = await db('photos').where('id', b.id).first();
        const fileA = path.join(store.dir, rowA.display_path);
        const good = fs.readFileSync(fileA);
        const flipped = Buffer.from(good);
        flipped[Math.floor(flipped.length / 2)] ^= 0x01;
        fs.writeFileSync(fileA, flipped);
        const err = await rejects(readPhoto(db, technician, { id: a.id }, { store }), 'conflict', 'id', 'integrity');
        assert.match(err.message, new RegExp(`photo ${a.id}`));
        // Another photo's (valid) file in its place: bound to its own name, so refused too.
        fs.copyFileSync(path.join(store.dir, rowB.display_path), fileA);
        await rejects(readPhoto(db, technician, { id: a.id }, { store }), 'conflict', 'id', 'integrity');
        fs.writeFileSync(fileA, good);
        assert.ok((await readPhoto(db, technician, { id: a.id }, { store })).bytes.length > 0);
        // A different key file (lost or wrong): a clear error, never garbage.
        const otherKey = new PhotoStore(store.dir, path.join(dir, 'other.key'));
        const wrong = await rejects(readPhoto(db, technician, { id: a.id }, { store: otherKey }), 'conflict', 'id', 'key_missing');
        assert.match(wrong.message, new RegExp(`photo ${a.id}.*key`));
        fs.writeFileSync(path.join(dir, 'bad.key'), 'not a key\n');
        await rejects(readPhoto(db, technician, { id: a.id }, { store: new PhotoStore(store.dir, path.join(dir, 'bad.key')) }), 'conflict', 'keyFile', 'photo_key');
        fs.rmSync(path.join(store.dir, rowA.thumbnail_path));
        await rejects(readPhoto(db, technician, { id: a.id, variant: 'thumbnail' }, { store }), 'not_found');
      });

      it('rotation re-encrypts every file with a new key and keeps every photo readable', async () => {
        const a = await upload(await jpeg());
        const b = await upload(await png());
        await annotatePhoto(db, technician, { id: a.id, annotations: [{ kind: 'circle', centre: { x: 0.5, y: 0.5 }, radius: 0.1, colour: '#ff0000' }] }, { store });
        await withdrawPhoto(db, engineer, { id: b.id, reason: 'duplicate' });
        const oldKey = (await store.keyring())[0];
        const before = await Promise.all([a, b].map((p) => readPhoto(db, technician, { id: p.id, variant: 'original' }, { store })));
        const report = await rotatePhotoKey(db, store);
        assert.deepEqual([report.photos, report.files], [2, 7]);
        const keys = await store.keyring();
        assert.equal(keys.length, 1);
        assert.notEqual(keys[0].id, oldKey.id);
        assert.deepEqual((await db('photos').distinct('key_id')).map((r) => r.key_id), [keys[0].id]);
        for (const [i, p] of [a, b].entries()) {
          assert.deepEqual((await readPhoto(db, technician, { id: p.id, variant: 'original' }, { store })).bytes, before[i].bytes);
        }
        assert.ok((await readPhoto(db, technician, { id: a.id, variant: 'annotated' }, { store })).bytes.length);
        // The old key no longer opens them.
        fs.writeFileSync(path.join(dir, 'old.key'), oldKey.key.toString('base64'));
        await rejects(readPhoto(db, technician, { id: a.id }, { store: new PhotoStore(store.dir, path.join(dir, 'old.key')) }), 'conflict', 'id', 'key_missing');
      });
    });

    if (backend.name === 'postgres') {
      it('scripts/rotate-photo-key rotates the store the environment names and says how many files', async () => {
        const a = await upload(await jpeg());
        const lines: string[] = [];
        const log = console.log;
        console.log = (line: string) => lines.push(line);
        let code: number;
        try {
          code = await rotateScript({ DATABASE_URL: process.env.TEST_DATABASE_URL, TOOLROOM_DATA_DIR: dir });
        } finally {
          console.log = log;
        }
        assert.equal(code, 0);
        assert.match(lines.join('\n'), /re-encrypted 3 files of 1 photos/);
        const reread = new PhotoStore(store.dir, store.keyFile);
        assert.ok((await readPhoto(db, technician, { id: a.id, variant: 'original' }, { store: reread })).bytes.length);
      });
    }

    describe('annotate and withdraw', () => {
      const shapes = [
        { kind: 'arrow', from: { x: 0.1, y: 0.1 }, to: { x: 0.5, y: 0.5 }, colour: '#ff0000' },
        { kind: 'circle', centre: { x: 0.5, y: 0.5 }, radius: 0.2, colour: '#ffff00' },
        { kind: 'freehand', points: [{ x: 0.2, y: 0.8 }, { x: 0.3, y: 0.7 }, { x: 0.4, y: 0.8 }], colour: '#00ff00' },
        { kind: 'text', at: { x: 0.1, y: 0.9 }, text: 'flash <here> & "there"', colour: '#ffffff' },
      ];

      it('renders the shapes onto the display image; the original is unaltered; audited', async () => {
        const photo = await upload(await jpeg(800, 600, '#000000'));
        const original = (await readPhoto(db, technician, { id: photo.id, variant: 'original' }, { store })).bytes;
        await rejects(readPhoto(db, technician, { id: photo.id, variant: 'annotated' }, { store }), 'not_found');
        const after = await annotatePhoto(db, technician, { id: photo.id, version: photo.version, annotations: shapes }, { store });
        assert.equal(after.annotated, true);
        assert.equal(after.version, photo.version + 1);
        assert.deepEqual(after.annotations, shapes);
        const view = await readPhoto(db, technician, { id: photo.id, variant: 'annotated' }, { store });
        // Red where the arrow runs on a black photo.
        const { data, info } = await sharp(view.bytes).raw().toBuffer({ resolveWithObject: true });
        const at = (x: number, y: number) => data.subarray((Math.round(y * info.height) * info.width + Math.round(x * info.width)) * info.channels);
        const red = at(0.3, 0.3);
        assert.ok(red[0] > 180 && red[1] < 80, `arrow pixel ${[...red.subarray(0, 3)]}`);
        assert.deepEqual((await readPhoto(db, technician, { id: photo.id, variant: 'original' }, { store })).bytes, original);
        assert.equal(filesUnder(store.dir).length, 4);
        // Annotating again replaces the view (the old file goes); an empty list clears it.
        await annotatePhoto(db, technician, { id: photo.id, annotations: shapes.slice(0, 1) }, { store });
        assert.equal(filesUnder(store.dir).length, 4);
        const cleared = await annotatePhoto(db, technician, { id: photo.id, annotations: [] }, { store });
        assert.equal(cleared.annotated, false);
        assert.equal(filesUnder(store.dir).length, 3);
        const events = await db('audit_events').where({ entity: 'photo' }).orderBy('id');
        assert.deepEqual(events.map((e) => e.action), ['photo.upload', 'photo.annotate', 'photo.annotate', 'photo.annotate']);
        await rejects(annotatePhoto(db, technician, { id: photo.id, version: 1, annotations: [] }, { store }), 'conflict', 'version');
      });

      it('validates the shapes with the field and rule, and escapes text in the SVG', async () => {
        const photo = await upload(await jpeg());
        const before = await tableCounts(db);
        await rejects(annotatePhoto(db, technician, { id: photo.id, annotations: [{ kind: 'circle', centre: { x: 2, y: 0 }, radius: 0.1, colour: '#ff0000' }] }, { store }), 'validation', 'annotations.0.centre.x');
        await rejects(annotatePhoto(db, technician, { id: photo.id, annotations: [{ kind: 'text', at: { x: 0, y: 0 }, text: 'x', colour: 'red"/><script>' }] }, { store }), 'validation', 'annotations.0.colour');
        await rejects(annotatePhoto(db, technician, { id: photo.id, annotations: [{ kind: 'star', colour: '#ff0000' }] }, { store }), 'validation', 'annotations.0.kind');
        assert.deepEqual(await tableCounts(db), before);
        const svg = annotationSvg([{ kind: 'text', at: { x: 0, y: 0 }, text: '<script>&', colour: '#ffffff' }], 100, 100);
        assert.ok(!svg.includes('<script>') && svg.includes('&#60;script&#62;&#38;'));
      });

      it('engineers and admins withdraw with a reason (soft, audited); technicians may not', async () => {
        const photo = await upload(await jpeg());
        await rejects(withdrawPhoto(db, technician, { id: photo.id, reason: 'blurry' }), 'forbidden');
        await rejects(withdrawPhoto(db, engineer, { id: photo.id }), 'validation', 'reason');
        const w = await withdrawPhoto(db, engineer, { id: photo.id, reason: 'wrong tool' });
        assert.deepEqual([w.withdrawn, w.withdrawnReason, w.withdrawnBy], [true, 'wrong tool', engineer.id]);
        await rejects(withdrawPhoto(db, admin, { id: photo.id, reason: 'again' }), 'conflict', 'id', 'not_withdrawn');
        await rejects(annotatePhoto(db, technician, { id: photo.id, annotations: [] }, { store }), 'conflict', 'id', 'not_withdrawn');
        assert.deepEqual((await listPhotos(db, technician, { toolId: tool.id })).items, []);
        assert.deepEqual((await listPhotos(db, technician, { toolId: tool.id, withdrawn: true })).items.map((p) => p.id), [photo.id]);
        // The bytes stay (evidence) until retention purges them.
        assert.ok((await readPhoto(db, engineer, { id: photo.id }, { store })).bytes.length);
        assert.equal((await getPhoto(db, system, { id: photo.id })).withdrawn, true);
        const events = await db('audit_events').where({ entity: 'photo', action: 'photo.withdraw' });
        assert.equal(events.length, 1);
        assert.equal(events[0].after.withdrawnReason, 'wrong tool');
      });

      it('a photo that does not exist is not found', async () => {
        await rejects(getPhoto(db, technician, { id: 4242 }), 'not_found', 'id');
        await rejects(readPhoto(db, technician, { id: 4242 }, { store }), 'not_found', 'id');
        await rejects(withdrawPhoto(db, engineer, { id: 4242, reason: 'x' }), 'not_found', 'id');
      });
    });
  });
}
