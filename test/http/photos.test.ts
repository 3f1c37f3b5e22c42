import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import ExifReader from 'exifreader';
import sharp from 'sharp';
import type { UserRole } from '../../core/auth/actor';
import type { Db } from '../../core/db/connect';
import { createApiToken } from '../../core/accounts/tokens';
import { createTool } from '../../core/tools/service';
import { seedFailureCatalog } from '../../core/failures/seed';
import { reportFailure } from '../../core/failures/service';
import { backends, resetData, tableCounts } from '../support/db';
import { technician as techActor } from '../support/actors';
import { htmlNamedJpg, jpeg, jpegWithGps, filesUnder } from '../support/images';
import { Client, loggedIn, makeUser, startApi, type TestServer } from '../support/api-server';

// The server suite: PostgreSQL when TEST_DATABASE_URL is set, as the REST API suite.
const backend = backends.find((b) => b.name === 'postgres') ?? backends[0];
const ROLES: UserRole[] = ['technician', 'engineer', 'admin'];

const uploadsLeft = () => fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('toolroom-upload-'));

describe(`photos over HTTP (${backend.name})`, function () {
  this.timeout(60_000);
  let db: Db;
  let api: TestServer;
  let dataDir: string;
  let toolId: number;
  const saved = { data: process.env.TOOLROOM_DATA_DIR, key: process.env.TOOLROOM_PHOTO_KEY_FILE, max: process.env.TOOLROOM_PHOTO_MAX_BYTES };

  before(async () => {
    db = await backend.db();
    await resetData(db);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-photo-api-'));
    process.env.TOOLROOM_DATA_DIR = dataDir;
    delete process.env.TOOLROOM_PHOTO_KEY_FILE;
    api = await startApi(db, { policy: { maxFailuresPerAddress: 10_000 } });
    toolId = (await createTool(db, techActor, { assetNumber: 'M-5001', name: 'Lid', cavityCount: 1 })).id;
  });
  after(async () => {
    await api?.close();
    for (const [k, v] of [['TOOLROOM_DATA_DIR', saved.data], ['TOOLROOM_PHOTO_KEY_FILE', saved.key], ['TOOLROOM_PHOTO_MAX_BYTES', saved.max]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  for (const role of ROLES) {
    it(`${role}: uploads by session cookie + CSRF, lists, and gets it back decrypted without GPS, private and not sniffed`, async () => {
      const c = await loggedIn(db, api.url, role);
      const source = await jpegWithGps(1200, 900);
      const up = await c.call('POST', `/photos?toolId=${toolId}&caption=ejector%20side`, source, { 'content-type': 'image/png' });
      assert.equal(up.status, 201, up.text);
      assert.equal(up.json.caption, 'ejector side');
      assert.equal(up.json.mimeType, 'image/jpeg', 'the declared type is not believed');
      assert.equal(up.json.takenBy, String(c.userId));
      const list = await c.call('GET', `/photos?toolId=${toolId}`);
      assert.ok(list.json.items.some((p: { id: number }) => p.id === up.json.id));
      for (const variant of ['display', 'thumbnail', 'original']) {
        const img = await c.call('GET', `/photos/${up.json.id}/image?variant=${variant}`);
        assert.equal(img.status, 200, img.text);
        assert.equal(img.headers.get('content-type'), 'image/jpeg');
        assert.equal(img.headers.get('cache-control'), 'private');
        assert.equal(img.headers.get('x-content-type-options'), 'nosniff');
        assert.equal(Number(img.headers.get('content-length')), img.bytes.length);
        const meta = await sharp(img.bytes).metadata();
        assert.equal(meta.exif, undefined);
        assert.equal(Object.keys((ExifReader.load(img.bytes, { expanded: true }) as { gps?: object }).gps ?? {}).length, 0);
        if (variant === 'original') assert.equal(createHash('sha256').update(img.bytes).digest('hex'), up.json.sha256);
        if (variant === 'thumbnail') assert.equal(meta.width, 320);
      }
      const one = await c.call('GET', `/photos/${up.json.id}`);
      assert.deepEqual(one.json, up.json);
    });
  }

  it('an upload key makes a retried upload answer with the first photo: one row, one audit event', async () => {
    const c = await loggedIn(db, api.url, 'technician');
    const image = await jpeg(800, 600);
    const key = 'u-retry-http-0001';
    const first = await c.call('POST', `/photos?toolId=${toolId}&uploadKey=${key}`, image, { 'content-type': 'image/jpeg' });
    assert.equal(first.status, 201, first.text);
    const counts = await tableCounts(db);
    const again = await c.call('POST', `/photos?toolId=${toolId}&uploadKey=${key}`, image, { 'content-type': 'image/jpeg' });
    assert.equal(again.status, 201, again.text);
    assert.deepEqual(again.json, first.json);
    assert.deepEqual(await tableCounts(db), counts, 'no second row, no second audit event');
    const bad = await c.call('POST', `/photos?toolId=${toolId}&uploadKey=no`, image, { 'content-type': 'image/jpeg' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.errors[0].field, 'uploadKey');
  });

  it('takes an API token without CSRF; a cookie write without CSRF and an anonymous one are refused, nothing written', async () => {
    const u = await makeUser(db, 'technician');
    const t = new Client(api.url);
    t.bearer = (await createApiToken(db, { id: String(u.id), name: u.username, role: 'technician', via: 'test' }, { name: 'camera' })).secret;
    assert.equal((await t.call('POST', `/photos?toolId=${toolId}`, await jpeg())).status, 201);
    const before = await tableCounts(db);
    const files = filesUnder(dataDir).length;
    const c = await loggedIn(db, api.url, 'technician');
    const counts = await tableCounts(db); // the login wrote its session
    c.sendCsrf = false;
    const noCsrf = await c.call('POST', `/photos?toolId=${toolId}`, await jpeg());
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.json.errors[0].rule, 'csrf');
    const anonymous = await new Client(api.url).call('POST', `/photos?toolId=${toolId}`, await jpeg());
    assert.equal(anonymous.status, 401);
    assert.equal((await new Client(api.url).call('GET', `/photos/1/image`)).status, 401);
    // Nothing written but the refusal's own audit event (issue 15: refused requests are audited).
    assert.deepEqual(await tableCounts(db), { ...counts, audit_events: counts.audit_events + 1 });
    const refused = await db('audit_events').where('action', 'security.refused').orderBy('id', 'desc').first();
    assert.equal(refused.after.rule, 'csrf');
    assert.ok(before.photos === counts.photos);
    assert.equal(filesUnder(dataDir).length, files);
  });

  it('refuses bad bodies with the reason (400/404/413), leaving no file, no row, no temporary upload', async () => {
    const c = await loggedIn(db, api.url, 'technician');
    const before = await tableCounts(db);
    const files = filesUnder(dataDir).length;
    const html = await c.call('POST', `/photos?toolId=${toolId}`, htmlNamedJpg, { 'content-type': 'image/jpeg' });
    assert.equal(html.status, 400);
    assert.deepEqual([html.json.errors[0].field, html.json.errors[0].rule], ['image', 'type']);
    const empty = await c.call('POST', `/photos?toolId=${toolId}`, Buffer.alloc(0));
    assert.equal(empty.json.errors[0].rule, 'not_empty');
    const truncated = await c.call('POST', `/photos?toolId=${toolId}`, (await jpeg(800, 600)).subarray(0, 2000));
    assert.equal(truncated.json.errors[0].rule, 'decodable');
    const missing = await c.call('POST', '/photos?toolId=999999', await jpeg());
    assert.equal(missing.status, 404);
    assert.equal(missing.json.errors[0].field, 'toolId');
    const noLink = await c.call('POST', '/photos', await jpeg());
    assert.equal(noLink.status, 400);
    process.env.TOOLROOM_PHOTO_MAX_BYTES = '5000';
    try {
      const declared = await c.call('POST', `/photos?toolId=${toolId}`, Buffer.alloc(6000, 0xff));
      assert.equal(declared.status, 413);
      assert.equal(declared.json.errors[0].rule, 'max_bytes');
      // No Content-Length (chunked): counted while it streams in.
      const streamed = await chunkedUpload(c, `/photos?toolId=${toolId}`, [Buffer.alloc(3000, 0xff), Buffer.alloc(3000, 0xff)]);
      assert.equal(streamed.status, 413);
    } finally {
      delete process.env.TOOLROOM_PHOTO_MAX_BYTES;
    }
    assert.deepEqual(await tableCounts(db), before);
    assert.equal(filesUnder(dataDir).length, files);
    assert.deepEqual(uploadsLeft(), []);
  });

  it('lists per failure; annotates; withdraws by role (technician 403, engineer and admin 200)', async () => {
    await seedFailureCatalog(db);
    const failure = await reportFailure(db, techActor, { toolId, failureCode: 'EJ-PIN-BROKEN' });
    const clients = Object.fromEntries(await Promise.all(ROLES.map(async (r) => [r, await loggedIn(db, api.url, r)] as const)));
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const up = await clients.technician.call('POST', `/photos?failureReportId=${failure.id}`, await jpeg(400, 300));
      assert.equal(up.status, 201, up.text);
      ids.push(up.json.id);
    }
    const list = await clients.engineer.call('GET', `/photos?failureReportId=${failure.id}`);
    assert.deepEqual(list.json.items.map((p: { id: number }) => p.id), [...ids].reverse());
    const drawn = await clients.technician.call('POST', `/photos/${ids[0]}/annotate`, { annotations: [{ kind: 'arrow', from: { x: 0, y: 0 }, to: { x: 0.5, y: 0.5 }, colour: '#ff0000' }] });
    assert.equal(drawn.status, 200, drawn.text);
    const view = await clients.technician.call('GET', `/photos/${ids[0]}/image?variant=annotated`);
    assert.equal(view.status, 200);
    assert.equal((await sharp(view.bytes).metadata()).format, 'jpeg');
    const refused = await clients.technician.call('POST', `/photos/${ids[0]}/withdraw`, { reason: 'blurry' });
    assert.equal(refused.status, 403);
    assert.equal(refused.json.errors[0].rule, 'permission');
    assert.equal((await clients.engineer.call('POST', `/photos/${ids[0]}/withdraw`, { reason: 'blurry' })).status, 200);
    assert.equal((await clients.admin.call('POST', `/photos/${ids[1]}/withdraw`, { reason: 'duplicate' })).status, 200);
    const after = await clients.technician.call('GET', `/photos?failureReportId=${failure.id}`);
    assert.deepEqual(after.json.items.map((p: { id: number }) => p.id), [ids[2]]);
    const events = await db('audit_events').where('entity', 'photo').whereIn('entity_id', ids.map(String)).orderBy('id');
    assert.deepEqual(events.map((e) => e.action), ['photo.upload', 'photo.upload', 'photo.upload', 'photo.annotate', 'photo.withdraw', 'photo.withdraw']);
    assert.equal((await clients.technician.call('GET', '/photos/999999/image')).status, 404);
  });
});

/** A POST whose body comes in chunks without a Content-Length, as a phone streaming a camera file. */
function chunkedUpload(c: Client, pathAndQuery: string, chunks: Buffer[]): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const url = new URL(c.base + pathAndQuery);
    const headers: Record<string, string> = { 'content-type': 'image/jpeg', 'transfer-encoding': 'chunked' };
    headers.cookie = [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (c.csrf) headers['x-csrf-token'] = c.csrf;
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}
