/**
 * The few InfluxDB 1.x HTTP calls the outbox needs, over global fetch. Not a client library:
 * `@influxdata/influxdb-client` speaks the 2.x API (/api/v2/write), which Debian's InfluxDB 1.6
 * does not have, and the `influx` package (node-influx) is unmaintained and brings its own HTTP
 * stack for what is here one POST with a status check.
 */

export interface InfluxTarget {
  /** Server origin and path prefix, e.g. http://127.0.0.1:8086 */
  base: string;
  database: string;
  /** Retention policy from `?rp=` in the URL, if any. */
  retentionPolicy: string | null;
  /** Basic auth from user:password in the URL (fetch refuses credentials inside URLs). */
  authorization: string | null;
}

/** A failed call: `status` is the HTTP status, or null when InfluxDB could not be reached. */
export class InfluxError extends Error {
  constructor(message: string, readonly status: number | null) {
    super(message);
    this.name = 'InfluxError';
  }
}

/** `http://[user:password@]host:port/<db>[?rp=<policy>]` (INFLUX_URL) → where and how to write. */
export function parseInfluxUrl(url: string): InfluxTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`INFLUX_URL is not a URL: ${url}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`INFLUX_URL must be http(s)://host:port/<database>, got ${url}`);
  const parts = u.pathname.split('/').filter(Boolean);
  const database = decodeURIComponent(parts.pop() ?? '');
  if (!database) throw new Error(`INFLUX_URL names no database (http://host:port/<database>): ${url}`);
  const authorization = u.username
    ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`
    : null;
  const base = `${u.protocol}//${u.host}${parts.length ? `/${parts.join('/')}` : ''}`;
  return { base, database, retentionPolicy: u.searchParams.get('rp'), authorization };
}

function headers(target: InfluxTarget, contentType: string): Record<string, string> {
  const h: Record<string, string> = { 'content-type': contentType };
  if (target.authorization) h.authorization = target.authorization;
  return h;
}

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called once the request body has been written out to the connection. */
  onSent?: () => void;
}

/**
 * A POST whose body says when it has left: fetch (undici) asks a stream for its next chunk only
 * after handing the one before to the socket (and waiting for it to drain if the socket was full),
 * so the second ask means the body is out. Should a fetch ever ask earlier, `onSent` comes early:
 * the drainer's database work then merely competes with the write (slower, never wrong: rows are
 * marked on the 204 alone).
 */
function announcing(body: string, head: Record<string, string>, onSent: () => void): RequestInit & { duplex: 'half' } {
  const bytes = Buffer.from(body, 'utf8');
  let given = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (given) {
          controller.close();
          onSent();
        } else {
          given = true;
          controller.enqueue(bytes);
        }
      },
    },
    { highWaterMark: 0 },
  );
  return { method: 'POST', headers: { ...head, 'content-length': String(bytes.length) }, body: stream, duplex: 'half' };
}

async function call(url: string, init: RequestInit, timeoutMs: number, signal?: AbortSignal): Promise<Response> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    return await fetch(url, { ...init, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new InfluxError(`InfluxDB unreachable at ${url.split('?')[0]}: ${cause ?? (err as Error).message}`, null);
  }
}

async function failure(res: Response, what: string): Promise<InfluxError> {
  const body = (await res.text().catch(() => '')).trim().slice(0, 500);
  return new InfluxError(`InfluxDB ${what} failed with HTTP ${res.status}${body ? `: ${body}` : ''}`, res.status);
}

/** POST line protocol; resolves only on 204 (InfluxDB 1.x: all points written). */
export async function writeLines(target: InfluxTarget, body: string, opts: CallOptions = {}): Promise<void> {
  const q = new URLSearchParams({ db: target.database, precision: 'ns' });
  if (target.retentionPolicy) q.set('rp', target.retentionPolicy);
  const head = headers(target, 'text/plain; charset=utf-8');
  const init = opts.onSent ? announcing(body, head, opts.onSent) : { method: 'POST', headers: head, body };
  const res = await call(`${target.base}/write?${q}`, init, opts.timeoutMs ?? 30_000, opts.signal);
  if (res.status !== 204) throw await failure(res, 'write');
  await res.body?.cancel();
}

/** Run InfluxQL through POST /query; returns the parsed JSON (errors inside `results` are thrown). */
export async function query(target: InfluxTarget, q: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<InfluxResult[]> {
  const form = new URLSearchParams({ q, db: target.database, epoch: 'ns' });
  const res = await call(`${target.base}/query`, { method: 'POST', headers: headers(target, 'application/x-www-form-urlencoded'), body: form }, opts.timeoutMs ?? 30_000, opts.signal);
  if (res.status !== 200) throw await failure(res, 'query');
  const json = (await res.json()) as { results?: InfluxResult[]; error?: string };
  const error = json.error ?? json.results?.find((r) => r.error)?.error;
  if (error) throw new InfluxError(`InfluxDB query failed: ${error}`, res.status);
  return json.results ?? [];
}

export interface InfluxResult {
  statement_id?: number;
  error?: string;
  series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[];
}

/** CREATE DATABASE is idempotent in InfluxDB 1.x: safe on every start. */
export async function createDatabase(target: InfluxTarget, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
  await query(target, `CREATE DATABASE "${target.database.replace(/["\\]/g, (c) => `\\${c}`)}"`, opts);
}
