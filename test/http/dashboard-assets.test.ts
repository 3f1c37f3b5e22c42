import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { dashboardAssets, dashboardAssetsDir, pickEncoding } from '../../http/dashboard-assets';
import { sleep } from '../support/e2e';

/**
 * Dashboard 2's built assets served compressed and immutable (issue 16), over a real HTTP server:
 * the bytes a browser decodes are the file's, whatever the encoding.
 */
describe('dashboard assets: compressed, cached for good', function () {
  this.timeout(60000);
  const dir = dashboardAssetsDir()!;
  let cacheDir: string;
  let server: http.Server;
  let base: string;

  before(async () => {
    assert.ok(dir && fs.existsSync(dir), 'Dashboard 2 is installed');
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-assets-'));
    const serve = dashboardAssets({ dir, cacheDir });
    server = http.createServer((req, res) =>
      serve(req, res, () => {
        res.writeHead(404).end('not here');
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => {
    server?.close();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  const get = (name: string, headers: Record<string, string> = {}, method = 'GET') =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      http
        .request(`${base}/${name}`, { method, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        })
        .on('error', reject)
        .end();
    });
  const biggestScript = () =>
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.js'))
      .sort((a, b) => fs.statSync(path.join(dir, b)).size - fs.statSync(path.join(dir, a)).size)[0];

  it('picks brotli, then gzip, as the client accepts them (q=0 refuses one)', () => {
    assert.equal(pickEncoding('gzip, deflate, br, zstd', { br: true, gzip: true }), 'br');
    assert.equal(pickEncoding('gzip, deflate, br', { br: false, gzip: true }), 'gzip');
    assert.equal(pickEncoding('br;q=0, gzip', { br: true, gzip: true }), 'gzip');
    assert.equal(pickEncoding('identity', { br: true, gzip: true }), 'identity');
    assert.equal(pickEncoding(undefined, { br: true, gzip: true }), 'identity');
    assert.equal(pickEncoding('*', { br: true, gzip: true }), 'br');
  });

  it('serves the main script gzip first, brotli once made, each decoding to the file, immutable', async () => {
    const name = biggestScript();
    const original = fs.readFileSync(path.join(dir, name));
    const first = await get(name, { 'accept-encoding': 'gzip, br' });
    assert.equal(first.status, 200);
    assert.equal(first.headers['content-encoding'], 'gzip');
    assert.equal(first.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(first.headers.vary, 'Accept-Encoding');
    assert.match(String(first.headers['content-type']), /javascript/);
    assert.ok(zlib.gunzipSync(first.body).equals(original));
    assert.ok(first.body.length < original.length / 2, `gzip ${first.body.length} of ${original.length}`);
    // Brotli is made in the background, then kept on disk.
    const deadline = Date.now() + 45000;
    while (!fs.existsSync(path.join(cacheDir, `${name}.br`)) && Date.now() < deadline) await sleep(200);
    const br = await get(name, { 'accept-encoding': 'gzip, br' });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.ok(zlib.brotliDecompressSync(br.body).equals(original));
    assert.ok(br.body.length < first.body.length, `brotli ${br.body.length} < gzip ${first.body.length}`);
    const plain = await get(name);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.ok(plain.body.equals(original));
    // A second visit revalidates nothing (immutable), and an ETag still answers 304.
    const again = await get(name, { 'accept-encoding': 'br', 'if-none-match': String(br.headers.etag) });
    assert.equal(again.status, 304);
    const head = await get(name, { 'accept-encoding': 'br' }, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(Number(head.headers['content-length']), br.body.length);
  });

  it('leaves already compressed fonts alone and passes on anything that is not an asset', async () => {
    const woff = fs.readdirSync(dir).find((f) => f.endsWith('.woff2') || f.endsWith('.woff'));
    if (woff) {
      const font = await get(woff, { 'accept-encoding': 'br, gzip' });
      assert.equal(font.status, 200);
      assert.equal(font.headers['content-encoding'], undefined);
    }
    for (const bad of ['../index.html', '..%2Findex.html', 'nope.js', '%2e%2e%2fpackage.json', '%E0%A4%A', 'index.html']) {
      assert.equal((await get(bad)).status, 404, bad);
    }
  });
});
