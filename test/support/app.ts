import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import http from 'node:http';
import https from 'node:https';
import { freePort } from '../../lib/net';
import pg from 'pg';
import { openDatabase, type Db } from '../../core/db/connect';
import path from 'node:path';

/**
 * The real start command as a child process, and a small HTTP client for it: a cookie jar, form
 * posts, HTTPS with a test CA, and a Socket.IO (Engine.IO 4, polling) client that speaks to
 * Dashboard 2's socket the way its browser client does — so a test can send the crafted messages
 * a browser's console could.
 */
export { freePort };

export const root = path.resolve(__dirname, '../../..');


export interface App {
  readonly proc: ChildProcess;
  readonly base: string;
  readonly dataDir: string;
  output(): string;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: no close handler runs, nothing is flushed. */
  kill9(): Promise<void>;
}

/**
 * `npm start`'s command (`bash scripts/node24.sh bash scripts/start.sh`, which ends in `exec node`, so
 * the child's pid is Node-RED's); resolves once the editor answers and the flows have started. PORT and
 * TOOLROOM_DATA_DIR come from `env` when given, else a free port and a new temp dir (or `options.dataDir`).
 */
export async function startApp(env: NodeJS.ProcessEnv, args: string[] = [], options: { ca?: Buffer; dataDir?: string } = {}): Promise<App> {
  const dir = options.dataDir ?? env.TOOLROOM_DATA_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-app-'));
  const port = env.PORT ?? String(await freePort());
  const proc = spawn('bash', ['scripts/node24.sh', 'bash', 'scripts/start.sh', ...args], {
    cwd: root,
    env: { ...process.env, ...env, PORT: port, TOOLROOM_DATA_DIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const app: App = {
    proc,
    base: `${env.TOOLROOM_TLS_CERT ? 'https' : 'http'}://127.0.0.1:${port}`,
    dataDir: dir,
    output: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
    async kill9() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
  const deadline = Date.now() + 180000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`start exited with ${proc.exitCode ?? proc.signalCode}:\n${out}`);
    // Node-RED answers before its flows have started: wait for both.
    if (out.includes('Toolroom: dashboard') && out.includes('Started flows')) {
      const res = await request(`${app.base}/`, { ca: options.ca }).catch(() => null);
      if (res && res.status === 200) return app;
    }
    if (Date.now() > deadline) {
      await app.stop();
      throw new Error(`start did not come up:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Cookies by name, as a browser would keep them for one site (path and expiry simplified). */
export class CookieJar {
  readonly cookies = new Map<string, { value: string; attributes: string }>();
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v.value}`).join('; ');
  }
  get(name: string): string | undefined {
    return this.cookies.get(name)?.value;
  }
  take(setCookie: string[] | undefined): void {
    for (const line of setCookie ?? []) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0\b/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, { value, attributes: attrs.join(';').trim() });
    }
  }
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  jar?: CookieJar;
  ca?: Buffer;
  /** A form body (application/x-www-form-urlencoded). */
  form?: Record<string, string>;
  timeoutMs?: number;
}

/** One HTTP(S) request, no redirects followed; cookies from and into `jar`. */
export function request(url: string, options: RequestOptions = {}): Promise<Answer> {
  const u = new URL(url);
  const headers: Record<string, string> = { ...options.headers };
  let body = options.body;
  if (options.form) {
    body = new URLSearchParams(options.form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  if (options.jar && options.jar.cookies.size) headers.cookie = options.jar.header();
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      u,
      { method: options.method ?? (body !== undefined ? 'POST' : 'GET'), headers, ...(options.ca ? { ca: options.ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          options.jar?.take(res.headers['set-cookie']);
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text,
            json: <T>() => {
              try {
                return JSON.parse(text) as T;
              } catch {
                throw new Error(`${options.method ?? 'GET'} ${url} answered ${res.statusCode} with no JSON: ${text.slice(0, 300)}`);
              }
            },
          });
        });
      },
    );
    req.setTimeout(options.timeoutMs ?? 30000, () => req.destroy(new Error(`${url}: no answer in ${options.timeoutMs ?? 30000} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The value of a hidden form field in an HTML page. */
export function formField(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!m) throw new Error(`no field ${name} in:\n${html.slice(0, 2000)}`);
  return m[1];
}

/** Log in through the login page (GET for the form's token, POST the form). Returns the POST's answer. */
export async function loginForm(base: string, jar: CookieJar, fields: Record<string, string>, options: { ca?: Buffer; next?: string } = {}): Promise<Answer> {
  const page = await request(`${base}/toolroom/login${options.next ? `?next=${encodeURIComponent(options.next)}` : ''}`, { jar, ca: options.ca });
  if (page.status !== 200) throw new Error(`login page answered ${page.status}`);
  return request(`${base}/toolroom/login`, {
    jar,
    ca: options.ca,
    form: { csrf: formField(page.body, 'csrf'), next: formField(page.body, 'next'), ...fields },
  });
}

/** A Node-RED admin token (the editor's own login: POST /auth/token), or the refusal's status. */
export async function editorToken(base: string, username: string, password: string, ca?: Buffer): Promise<{ status: number; token?: string }> {
  // As the editor asks: scope "" (the user's own permissions).
  const res = await request(`${base}/auth/token`, {
    ca,
    form: { client_id: 'node-red-editor', grant_type: 'password', scope: '', username, password },
  });
  return { status: res.status, token: res.status === 200 ? res.json<{ access_token: string }>().access_token : undefined };
}

export type Packet = { type: 'connect'; data: unknown } | { type: 'connect_error'; data: { message?: string } } | { type: 'event'; name: string; args: unknown[] } | { type: 'disconnect' } | { type: 'other'; raw: string };

/**
 * A Socket.IO client over Engine.IO 4 long polling (what Dashboard 2's client starts with),
 * carrying the jar's cookies: enough to connect, emit and read events.
 */
export class PollingSocket {
  sid = '';
  closed = false;
  readonly received: Packet[] = [];
  private readonly url: string;

  constructor(
    base: string,
    private readonly jar: CookieJar,
    private readonly ca?: Buffer,
    socketPath = '/dashboard/socket.io/',
  ) {
    this.url = `${base}${socketPath}?EIO=4&transport=polling`;
  }

  /** Engine.IO open, then the Socket.IO connect to namespace '/': resolves with the server's answer to it. */
  async connect(): Promise<Packet> {
    const open = await request(`${this.url}&t=${Date.now()}`, { jar: this.jar, ca: this.ca });
    if (open.status !== 200 || !open.body.startsWith('0')) throw new Error(`engine.io open answered ${open.status}: ${open.body.slice(0, 200)}`);
    this.sid = (JSON.parse(open.body.slice(1)) as { sid: string }).sid;
    await this.write('40');
    for (let i = 0; i < 5; i++) {
      const packets = await this.poll();
      const answer = packets.find((p) => p.type === 'connect' || p.type === 'connect_error');
      if (answer) return answer;
    }
    throw new Error('no answer to the namespace connect');
  }

  private async write(payload: string): Promise<Answer> {
    const res = await request(`${this.url}&sid=${this.sid}`, { jar: this.jar, ca: this.ca, method: 'POST', body: payload, headers: { 'content-type': 'text/plain;charset=UTF-8' } });
    if (res.status !== 200) this.closed = true;
    return res;
  }

  emit(event: string, ...args: unknown[]): Promise<Answer> {
    return this.write(`42${JSON.stringify([event, ...args])}`);
  }

  /** One long poll: the packets the server had (pings answered); marks the socket closed when the server ended it. */
  async poll(): Promise<Packet[]> {
    // Never cut a long poll short: a second one while the first is pending ends the session. The server answers within its ping interval (25 s).
    const res = await request(`${this.url}&sid=${this.sid}&t=${Date.now()}`, { jar: this.jar, ca: this.ca, timeoutMs: 40000 });
    if (res.status !== 200) {
      this.closed = true;
      return [];
    }
    const out: Packet[] = [];
    for (const raw of res.body.split('\x1e')) {
      if (raw === '2') {
        await this.write('3');
        continue;
      }
      if (raw === '1') {
        this.closed = true;
        continue;
      }
      let p: Packet;
      if (raw.startsWith('40')) p = { type: 'connect', data: raw.length > 2 ? JSON.parse(raw.slice(2)) : null };
      else if (raw.startsWith('44')) p = { type: 'connect_error', data: JSON.parse(raw.slice(2)) as { message?: string } };
      else if (raw.startsWith('41')) p = { type: 'disconnect' };
      else if (raw.startsWith('42')) {
        const [name, ...args] = JSON.parse(raw.slice(2)) as [string, ...unknown[]];
        p = { type: 'event', name, args };
      } else p = { type: 'other', raw };
      out.push(p);
      this.received.push(p);
    }
    return out;
  }

  /** Poll until an event named `name` arrives (or the socket closes / time runs out). */
  async waitFor(name: string | RegExp, timeoutMs = 20000): Promise<Extract<Packet, { type: 'event' }> | null> {
    const deadline = Date.now() + timeoutMs;
    const match = (p: Packet): p is Extract<Packet, { type: 'event' }> => p.type === 'event' && (typeof name === 'string' ? p.name === name : name.test(p.name));
    const seen = this.received.find(match);
    if (seen) return seen;
    while (!this.closed && Date.now() < deadline) {
      const found = (await this.poll()).find(match);
      if (found) return found;
    }
    return null;
  }

  async close(): Promise<void> {
    if (!this.closed) await this.write('1').catch(() => undefined);
    this.closed = true;
  }
}

/** The start command on an empty database of its own (see appOnEmptyDatabase). */
export interface AppOnEmptyDatabase {
  app: App;
  /** The same database, for the test to make users and records with core. */
  db: Db;
  /** Stops the app, drops the database and removes the data dir. */
  stop(): Promise<void>;
}

/**
 * `npm start`'s command (`--no-seed`) on a free port and a new data dir, against a new, empty
 * PostgreSQL database on `serverUrl` (`toolroom_<name>_<pid>_<time>`): the app migrates it and makes
 * the first admin with `adminPassword`, as on a plant's first start. A failed start cleans up after itself.
 */
export async function appOnEmptyDatabase(name: string, serverUrl: string, adminPassword: string): Promise<AppOnEmptyDatabase> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const dbName = `toolroom_${name}_${process.pid}_${Date.now()}`;
  let app: App | undefined;
  let db: Db | undefined;
  let dataDir: string | undefined;
  const stop = async () => {
    await app?.stop();
    await db?.destroy();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await admin.query(`CREATE DATABASE ${dbName}`);
    const u = new URL(serverUrl);
    u.pathname = `/${dbName}`;
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `toolroom-${name}-`));
    app = await startApp({ PORT: String(await freePort()), TOOLROOM_DATA_DIR: dataDir, DATABASE_URL: u.toString(), TOOLROOM_ADMIN_PASSWORD: adminPassword }, ['--no-seed']);
    db = openDatabase({ url: u.toString() });
    return { app, db, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
