/**
 * A real HTTP server with the REST API mounted at API_BASE through express (as app/start.ts
 * does), a client that keeps cookies, and users of each role with passwords.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setPassword } from '../../core/accounts/service';
import { createUser } from '../../core/users/service';
import type { Db } from '../../core/db/connect';
import type { UserRole } from '../../core/auth/actor';
import { API_BASE, createApi, type ApiOptions } from '../../http/rest/router';
import { CSRF_HEADER } from '../../http/auth';
import { resetData, type Backend } from './db';

export const PASSWORD = 'Mould-shop 2030 blue';
const root = { id: 'system', name: 'test-setup', role: 'system' as const, via: 'test' };

export interface TestServer {
  url: string;
  server: http.Server;
  close(): Promise<void>;
}

export async function startApi(db: Db, options: Partial<ApiOptions> = {}): Promise<TestServer> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const express = require('express') as () => http.RequestListener & { use(path: string, handler: unknown): void };
  const app = express();
  app.use(API_BASE, createApi({ database: async () => db, secureCookies: false, rateLimit: false, ...options }));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${API_BASE}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Inside a describe: an API server over a backend's database, emptied first, started before the
 * suite's tests and closed after them. Read `db()` and `url()` in the tests.
 */
export function serveApi(backend: Backend, options: Partial<ApiOptions> = { policy: { maxFailuresPerAddress: 10_000 } }): { db(): Db; url(): string } {
  let db: Db;
  let api: TestServer | undefined;
  before(async () => {
    db = await backend.db();
    await resetData(db);
    api = await startApi(db, options);
  });
  after(async () => api?.close());
  return { db: () => db, url: () => api!.url };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The body as bytes (an image). */
  bytes: Buffer;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** A client: a cookie jar (session + CSRF) or a bearer token, and the CSRF header on writes when logged in by cookie. */
export class Client {
  cookies = new Map<string, string>();
  csrf: string | undefined;
  bearer: string | undefined;
  sendCsrf = true;

  constructor(readonly base: string) {}

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const h: Record<string, string> = { ...headers };
    if (this.cookies.size) h.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (this.bearer) h.authorization = `Bearer ${this.bearer}`;
    if (this.sendCsrf && this.csrf && method !== 'GET') h[CSRF_HEADER] = this.csrf;
    let payload: string | Buffer | undefined;
    if (Buffer.isBuffer(body)) {
      payload = body;
      h['content-type'] ??= 'application/octet-stream';
    } else if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      h['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.base + path, { method, headers: h, body: payload, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const bytes = Buffer.from(await res.arrayBuffer());
    const text = bytes.toString('utf8');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, bytes, json };
  }

  async login(username: string, password = PASSWORD): Promise<Answer> {
    const a = await this.call('POST', '/session', { username, password });
    if (a.status === 201) this.csrf = a.json.csrfToken;
    return a;
  }
}

let serial = 0;

/** A user of the role with PASSWORD (not to be changed), created through core as the setup. */
export async function makeUser(db: Db, role: UserRole, name?: string): Promise<{ id: number; username: string }> {
  const username = name ?? `${role.slice(0, 4)}${++serial}${Date.now() % 100000}`;
  const user = await createUser(db, root, { username, displayName: username, role });
  await setPassword(db, root, { userId: user.id, password: PASSWORD, mustChange: false });
  return { id: user.id, username };
}

/** A logged-in client of a new user of that role. */
export async function loggedIn(db: Db, base: string, role: UserRole): Promise<Client & { userId: number; username: string }> {
  const u = await makeUser(db, role);
  const c = new Client(base) as Client & { userId: number; username: string };
  const a = await c.login(u.username);
  if (a.status !== 201) throw new Error(`login failed: ${a.status} ${a.text}`);
  c.userId = u.id;
  c.username = u.username;
  return c;
}
