/**
 * Requests per second through the REST API (http/rest/router.ts mounted at API_BASE with express on a
 * node:http server on 127.0.0.1, as app/start.ts mounts it), for create (POST /tools, distinct
 * asset numbers) and list (GET /tools?limit=50), authenticated with an API token (Authorization: Bearer).
 * Beside it, the baseline: the same core calls (createTool/listTools) on the same database with the
 * same user's actor, without HTTP, so the API's share shows (HTTP parsing, token check, JSON both ways).
 * The client (fetch, keep-alive) runs in this process too: its CPU is in the API's CPU column.
 * On the PostgreSQL server (BENCH_DATABASE_URL) and on embedded PGlite in a temp directory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { actorFromUser } from '../core/auth/actor';
import { openDatabase, migrateLatest, type Db } from '../core/db/connect';
import { createTool, listTools } from '../core/tools/service';
import { createUser } from '../core/users/service';
import { createApiToken } from '../core/accounts/tokens';
import { benchToolInput, best, runConcurrent, startApiServer, type Run } from './lib';

const REQUESTS = Number(process.env.BENCH_API_REQUESTS ?? 2000);
const LIST_REQUESTS = Number(process.env.BENCH_API_LIST_REQUESTS ?? 2000);
const WARMUP = 300;
/** Each figure is the best of this many runs, API and core alternating: the machine is shared. */
const ROUNDS = Number(process.env.BENCH_API_ROUNDS ?? 3);
/** One at a time (latency), and several in flight as many screens and scripts call at once. */
const IN_FLIGHT = [1, 8];
const root = { id: 'system', name: 'bench-setup', role: 'system' as const, via: 'bench' };



/** The tools and everything hanging off them emptied (users, tokens and the audit trail kept). */
async function emptyTools(db: Db): Promise<void> {
  await db.raw('TRUNCATE tools RESTART IDENTITY CASCADE');
}

interface Row {
  op: string;
  inFlight: number;
  n: number;
  api: Run;
  core: Run;
}

async function measure(db: Db): Promise<Row[]> {
  const user = await createUser(db, root, { username: `bench${Date.now() % 1e6}`, displayName: 'Bench engineer', role: 'engineer' });
  const actor = actorFromUser({ id: String(user.id), username: user.username, role: 'engineer' }, 'bench');
  const { secret } = await createApiToken(db, actor, { name: 'bench' });
  const server = await startApiServer(db);
  const headers = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' };
  const viaApi = {
    create: async (prefix: string, i: number) => {
      const input = benchToolInput(prefix, i);
      const res = await fetch(`${server.url}/tools`, { method: 'POST', headers, body: JSON.stringify(input) }).catch((err) => {
        throw new Error(`POST /tools #${i} failed: ${String(err.cause ?? err)}`);
      });
      const tool = (await res.json()) as { assetNumber?: string };
      if (res.status !== 201 || tool.assetNumber !== input.assetNumber) throw new Error(`POST /tools answered ${res.status} ${JSON.stringify(tool)}`);
    },
    list: async () => {
      const res = await fetch(`${server.url}/tools?limit=50`, { headers }).catch((err) => {
        throw new Error(`GET /tools failed: ${String(err.cause ?? err)}`);
      });
      const page = (await res.json()) as { items?: unknown[] };
      if (res.status !== 200 || page.items?.length !== 50) throw new Error(`GET /tools answered ${res.status}`);
    },
  };
  const viaCore = {
    create: async (prefix: string, i: number) => void (await createTool(db, actor, benchToolInput(prefix, i))),
    list: async () => void (await listTools(db, actor, { limit: 50 })),
  };

  try {
    await emptyTools(db);
    await runConcurrent(WARMUP, 8, (i) => viaCore.create('WC', i));
    await runConcurrent(WARMUP, 8, (i) => viaApi.create('WA', i));
    await runConcurrent(WARMUP, 8, () => viaCore.list());
    await runConcurrent(WARMUP, 8, () => viaApi.list());

    const rows: Row[] = [];
    for (const inFlight of IN_FLIGHT) {
      const core: Run[] = [];
      const api: Run[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const sides = [
          async () => (await emptyTools(db), core.push(await runConcurrent(REQUESTS, inFlight, (i) => viaCore.create(`C${inFlight}`, i)))),
          async () => (await emptyTools(db), api.push(await runConcurrent(REQUESTS, inFlight, (i) => viaApi.create(`A${inFlight}`, i)))),
        ];
        for (const side of round % 2 ? sides.reverse() : sides) await side();
      }
      rows.push({ op: 'create, distinct asset numbers', inFlight, n: REQUESTS, api: best(api), core: best(core) });
    }
    await db.raw('ANALYZE');
    for (const inFlight of IN_FLIGHT) {
      const core: Run[] = [];
      const api: Run[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const sides = [
          async () => void core.push(await runConcurrent(LIST_REQUESTS, inFlight, () => viaCore.list())),
          async () => void api.push(await runConcurrent(LIST_REQUESTS, inFlight, () => viaApi.list())),
        ];
        for (const side of round % 2 ? sides.reverse() : sides) await side();
      }
      rows.push({ op: `list, first page of 50 of ${REQUESTS.toLocaleString('en-US')} tools`, inFlight, n: LIST_REQUESTS, api: best(api), core: best(core) });
    }
    return rows;
  } finally {
    await server.close();
  }
}

function print(title: string, rows: Row[]): void {
  const num = (n: number, w: number) => Math.round(n).toLocaleString('en-US').padStart(w);
  const ms = (n: number, w = 8) => n.toFixed(2).padStart(w);
  console.log(`\n${title}`);
  console.log(
    '  operation'.padEnd(40) + 'in flight'.padStart(10) + 'reqs'.padStart(7) +
      ' │' + 'API req/s'.padStart(11) + 'p50 ms'.padStart(8) + 'p95 ms'.padStart(8) + 'CPU ms'.padStart(8) +
      ' │' + 'core calls/s'.padStart(13) + 'p50 ms'.padStart(8) + 'p95 ms'.padStart(8) + 'CPU ms'.padStart(8) +
      ' │' + 'rate'.padStart(6) + '  overhead/request: wall, CPU',
  );
  for (const r of rows) {
    const share = r.api.perS / r.core.perS;
    const wall = 1000 / r.api.perS - 1000 / r.core.perS;
    console.log(
      `  ${r.op}`.padEnd(40) + String(r.inFlight).padStart(10) + num(r.n, 7) +
        ' │' + num(r.api.perS, 11) + ms(r.api.p50) + ms(r.api.p95) + ms(r.api.cpuMs) +
        ' │' + num(r.core.perS, 13) + ms(r.core.p50) + ms(r.core.p95) + ms(r.core.cpuMs) +
        ' │' + `${(share * 100).toFixed(0)} %`.padStart(6) + `  ${wall.toFixed(2)} ms, ${(r.api.cpuMs - r.core.cpuMs).toFixed(2)} ms`,
    );
  }
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-bench-api-'));
  try {
    const targets: [string, () => Db][] = [];
    if (process.env.BENCH_DATABASE_URL) targets.push(['PostgreSQL server', () => openDatabase({ url: process.env.BENCH_DATABASE_URL })]);
    else console.log('BENCH_DATABASE_URL not set: PostgreSQL server skipped');
    if (process.env.BENCH_API_PGLITE !== '0') targets.push(['embedded PGlite (temp directory)', () => openDatabase({ dataDir: path.join(tmp, 'pglite') })]);
    for (const [name, open] of targets) {
      const db = open();
      try {
        await migrateLatest(db);
        const rows = await measure(db);
        await emptyTools(db);
        print(`${name} — REST API over HTTP (POST /tools, GET /tools?limit=50, bearer token) vs the same core call without HTTP (same database, same actor)`, rows);
        console.log(
          `  best of ${ROUNDS} runs each (API and core alternating); CPU ms = this process's CPU time per request (server + client for the API); ` +
            'rate = API req/s ÷ core calls/s; overhead = 1/rate difference (wall) and CPU ms difference',
        );
        console.log(`  machine: ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min)`);
      } finally {
        await db.destroy();
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
