/**
 * Dashboard 2's built scripts, styles and fonts, served compressed and cached for good: a tablet on
 * plant Wi-Fi fetched 2.3 MB of script and 0.9 MB of CSS uncompressed with `max-age=0` on every
 * page load. Their names carry a content hash (Vite), so a browser may keep them a year
 * (`immutable`); Dashboard's page shell (index.html) is not served here and keeps revalidating.
 *
 * Brotli (quality 11, smallest) is made once per file in the background and kept on disk under the
 * data directory, so a Pi spends the CPU once per Dashboard version; until it exists, gzip (made on
 * the first request, kept in memory) or the plain file is sent.
 */
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

const TYPES: Record<string, { type: string; compress: boolean }> = {
  '.js': { type: 'text/javascript; charset=utf-8', compress: true },
  '.mjs': { type: 'text/javascript; charset=utf-8', compress: true },
  '.css': { type: 'text/css; charset=utf-8', compress: true },
  '.svg': { type: 'image/svg+xml', compress: true },
  '.json': { type: 'application/json', compress: true },
  '.ttf': { type: 'font/ttf', compress: true },
  '.eot': { type: 'application/vnd.ms-fontobject', compress: true },
  '.woff': { type: 'font/woff', compress: false },
  '.woff2': { type: 'font/woff2', compress: false },
  '.png': { type: 'image/png', compress: false },
};

const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);

type Encoding = 'br' | 'gzip' | 'identity';

/** The best encoding the client accepts among those we have now (q=0 refuses one). */
export function pickEncoding(acceptEncoding: string | undefined, have: { br: boolean; gzip: boolean }): Encoding {
  const accepted = new Map<string, number>();
  for (const part of (acceptEncoding ?? '').toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)/.exec(p)).find(Boolean);
    if (name) accepted.set(name.trim(), q ? Number(q[1]) : 1);
  }
  const ok = (name: string) => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0;
  if (have.br && ok('br')) return 'br';
  if (have.gzip && ok('gzip')) return 'gzip';
  return 'identity';
}

export interface DashboardAssetsOptions {
  /** Dashboard 2's dist/assets folder. */
  dir: string;
  /** Where brotli files are kept (created when missing). */
  cacheDir: string;
}

/** Where Dashboard 2's built assets are in this installation, or null without Dashboard 2. */
export function dashboardAssetsDir(): string | null {
  try {
    return path.join(path.dirname(require.resolve('@flowfuse/node-red-dashboard/package.json')), 'dist', 'assets');
  } catch {
    return null;
  }
}

/** Express-style middleware mounted at `<dashboard path>/assets`. */
export function dashboardAssets(options: DashboardAssetsOptions) {
  const files = new Map<string, { file: string; type: string; compress: boolean; size: number }>();
  for (const name of fs.existsSync(options.dir) ? fs.readdirSync(options.dir) : []) {
    const kind = TYPES[path.extname(name).toLowerCase()];
    const file = path.join(options.dir, name);
    if (kind && fs.statSync(file).isFile()) files.set(name, { file, ...kind, size: fs.statSync(file).size });
  }
  fs.mkdirSync(options.cacheDir, { recursive: true });
  const gzipped = new Map<string, Promise<Buffer>>();
  const brotliReady = new Set<string>(fs.readdirSync(options.cacheDir).filter((f) => f.endsWith('.br')).map((f) => f.slice(0, -3)));
  const brotliMaking = new Set<string>();
  // One brotli job at a time: a Pi's other cores stay with the shot counting.
  let queue = Promise.resolve();

  const makeBrotli = (name: string) => {
    if (brotliReady.has(name) || brotliMaking.has(name)) return;
    brotliMaking.add(name);
    queue = queue.then(async () => {
      try {
        const out = await brotli(await fs.promises.readFile(files.get(name)!.file), { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } });
        const target = path.join(options.cacheDir, `${name}.br`);
        await fs.promises.writeFile(`${target}.tmp`, out);
        await fs.promises.rename(`${target}.tmp`, target);
        brotliReady.add(name);
      } catch (err) {
        console.error(`Toolroom: could not compress ${name}: ${(err as Error).message}`);
      } finally {
        brotliMaking.delete(name);
      }
    });
  };

  return (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    // Names are plain (letters, digits, . _ -): no escapes to decode, nothing to traverse with.
    const name = (req.url ?? '').split('?')[0].replace(/^\/+/, '');
    const asset = /^[A-Za-z0-9._-]+$/.test(name) ? files.get(name) : undefined;
    if (!asset) return next();
    const encoding = asset.compress ? pickEncoding(req.headers['accept-encoding'], { br: brotliReady.has(name), gzip: true }) : 'identity';
    if (asset.compress) makeBrotli(name);
    const etag = `"${name}-${encoding}"`;
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.setHeader('Content-Type', asset.type);
    res.setHeader('ETag', etag);
    if (asset.compress) res.setHeader('Vary', 'Accept-Encoding');
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304).end();
      return;
    }
    const send = (body: Buffer | null, stream?: () => NodeJS.ReadableStream) => {
      if (encoding !== 'identity') res.setHeader('Content-Encoding', encoding);
      res.setHeader('Content-Length', String(body ? body.length : asset.size));
      res.writeHead(200);
      if (req.method === 'HEAD') return res.end();
      if (body) return res.end(body);
      stream!().pipe(res);
    };
    if (encoding === 'br') {
      fs.promises.readFile(path.join(options.cacheDir, `${name}.br`)).then((b) => send(b), next);
    } else if (encoding === 'gzip') {
      let made = gzipped.get(name);
      if (!made) {
        made = fs.promises.readFile(asset.file).then((b) => gzip(b, { level: 9 }));
        gzipped.set(name, made);
        made.catch(() => gzipped.delete(name));
      }
      made.then((b) => send(b), next);
    } else {
      send(null, () => fs.createReadStream(asset.file));
    }
  };
}
