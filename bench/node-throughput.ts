/**
 * Messages per second through toolroom-tool in a running Node-RED 5 (embedded as the app embeds it,
 * bench/support/node-red.ts): create with distinct asset numbers, then list (first page of 50) over
 * the tools created. Each message enters a junction wired to the toolroom-tool node and is timed until
 * it reaches the junction behind it; a Catch node on the tab fails the bench on any error. Beside it,
 * the baseline: the same core calls (createTool/listTools) on the same database (the config node's own
 * knex instance) with the same actor, without Node-RED, so the adapter's share shows.
 * On the PostgreSQL server (BENCH_DATABASE_URL) and on embedded PGlite in a temp directory (as the app keeps it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { actorFromUser } from '../core/auth/actor';
import type { Db } from '../core/db/connect';
import { createTool, listTools } from '../core/tools/service';
import { benchToolInput, best, runConcurrent, type Run } from './lib';
import { startRuntime, type Runtime, type RuntimeNode } from './support/node-red';

const MESSAGES = Number(process.env.BENCH_NODE_MESSAGES ?? 2000);
const LIST_MESSAGES = Number(process.env.BENCH_NODE_LIST_MESSAGES ?? 2000);
const WARMUP = 300;
/** Each figure is the best of this many runs, Node-RED and core alternating: the machine is shared. */
const ROUNDS = Number(process.env.BENCH_NODE_ROUNDS ?? 3);
/** One at a time (latency), and several in flight as messages from many presses and screens arrive. */
const IN_FLIGHT = [1, 8];
/** As Dashboard 2 or an http-in flow passes a user; the node turns it into this actor. */
const user = { id: 'bench', username: 'bench', role: 'engineer' };
const actor = actorFromUser(user, 'bench');



const LIST_INPUT = { limit: 50 };

/** Every table but knex's, emptied: each create run starts from the same empty register. */
async function emptyTables(db: Db): Promise<void> {
  const { rows } = await db.raw<{ rows: { tablename: string }[] }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'knex_%'",
  );
  await db.raw(`TRUNCATE ${rows.map((r) => `"${r.tablename}"`).join(', ')} RESTART IDENTITY CASCADE`);
}

/** The flow: junction → toolroom-tool (create) → junction, the same for list, a Catch for the tab. */
function benchFlow(config: object): object[] {
  const z = 'bench0tab';
  const pair = (op: string, y: number) => [
    { id: `bench0${op}0in`, type: 'junction', z, x: 100, y, wires: [[`bench0${op}`]] },
    { id: `bench0${op}`, type: 'toolroom-tool', z, name: op, config: 'bench0config', operation: op, x: 250, y, wires: [[`bench0${op}0out`]] },
    { id: `bench0${op}0out`, type: 'junction', z, x: 400, y, wires: [] },
  ];
  return [
    { id: z, type: 'tab', label: 'bench' },
    { id: 'bench0config', type: 'toolroom-config', name: 'bench', ...config },
    ...pair('create', 40),
    ...pair('list', 100),
    { id: 'bench0catch', type: 'catch', z, scope: null, uncaught: false, x: 100, y: 160, wires: [['bench0errors']] },
    { id: 'bench0errors', type: 'junction', z, x: 250, y: 160, wires: [] },
  ];
}

/** Send messages into a junction and resolve each when it comes out of the other, or reject on the Catch. */
function messenger(runtime: Runtime) {
  const pending = new Map<number, { resolve(msg: Record<string, unknown>): void; reject(err: Error): void }>();
  let seq = 0;
  const arrived = (msg: Record<string, unknown>) => {
    const p = pending.get(msg.benchSeq as number);
    pending.delete(msg.benchSeq as number);
    p?.resolve(msg);
  };
  for (const op of ['create', 'list']) runtime.node<RuntimeNode>(`bench0${op}0out`).on('input', arrived);
  runtime.node<RuntimeNode>('bench0errors').on('input', (msg) => {
    const p = pending.get(msg.benchSeq as number);
    pending.delete(msg.benchSeq as number);
    const err = msg.error as { message?: string } | undefined;
    p?.reject(new Error(`toolroom-tool failed: ${err?.message ?? JSON.stringify(msg.error)}`));
  });
  return (op: 'create' | 'list', payload: object): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const id = ++seq;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`message ${id} (${op}) never came out of toolroom-tool`));
      }, 30000);
      pending.set(id, {
        resolve: (m) => (clearTimeout(timer), resolve(m)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      runtime.node<RuntimeNode>(`bench0${op}0in`).receive({ benchSeq: id, payload, user });
    });
}

interface Row {
  op: string;
  inFlight: number;
  n: number;
  node: Run;
  core: Run;
}

async function measure(runtime: Runtime, db: Db): Promise<Row[]> {
  const send = messenger(runtime);
  const viaNode = {
    create: async (prefix: string, i: number) => {
      const msg = await send('create', benchToolInput(prefix, i));
      const tool = msg.payload as { assetNumber?: string };
      if (tool.assetNumber !== benchToolInput(prefix, i).assetNumber) throw new Error(`create answered ${JSON.stringify(tool)}`);
    },
    list: async () => {
      const msg = await send('list', LIST_INPUT);
      if ((msg.payload as { items: unknown[] }).items.length !== 50) throw new Error('list did not answer a page of 50');
    },
  };
  const viaCore = {
    create: async (prefix: string, i: number) => void (await createTool(db, actor, benchToolInput(prefix, i))),
    list: async () => void (await listTools(db, actor, LIST_INPUT)),
  };

  // Warm-up: JIT, connections, plans.
  await emptyTables(db);
  await runConcurrent(WARMUP, 8, (i) => viaCore.create('WC', i));
  await runConcurrent(WARMUP, 8, (i) => viaNode.create('WN', i));
  await runConcurrent(WARMUP, 8, () => viaCore.list());
  await runConcurrent(WARMUP, 8, () => viaNode.list());

  const rows: Row[] = [];
  for (const inFlight of IN_FLIGHT) {
    const core: Run[] = [];
    const node: Run[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const sides = [
        async () => (await emptyTables(db), core.push(await runConcurrent(MESSAGES, inFlight, (i) => viaCore.create(`C${inFlight}`, i)))),
        async () => (await emptyTables(db), node.push(await runConcurrent(MESSAGES, inFlight, (i) => viaNode.create(`N${inFlight}`, i)))),
      ];
      // Alternate which goes first, so neither always meets the quieter machine.
      for (const side of round % 2 ? sides.reverse() : sides) await side();
    }
    rows.push({ op: 'create, distinct asset numbers', inFlight, n: MESSAGES, node: best(node), core: best(core) });
  }
  // The lists run over the MESSAGES tools the last create run left.
  await db.raw('ANALYZE');
  for (const inFlight of IN_FLIGHT) {
    const core: Run[] = [];
    const node: Run[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const sides = [
        async () => void core.push(await runConcurrent(LIST_MESSAGES, inFlight, () => viaCore.list())),
        async () => void node.push(await runConcurrent(LIST_MESSAGES, inFlight, () => viaNode.list())),
      ];
      for (const side of round % 2 ? sides.reverse() : sides) await side();
    }
    rows.push({ op: `list, first page of 50 of ${MESSAGES.toLocaleString('en-US')} tools`, inFlight, n: LIST_MESSAGES, node: best(node), core: best(core) });
  }
  return rows;
}

function print(title: string, rows: Row[]): void {
  const num = (n: number, w: number) => Math.round(n).toLocaleString('en-US').padStart(w);
  const ms = (n: number, w = 8) => n.toFixed(2).padStart(w);
  console.log(`\n${title}`);
  console.log(
    '  operation'.padEnd(40) + 'in flight'.padStart(10) + 'msgs'.padStart(7) +
      ' │' + 'Node-RED msg/s'.padStart(15) + 'p50 ms'.padStart(8) + 'p95 ms'.padStart(8) + 'CPU ms'.padStart(8) +
      ' │' + 'core calls/s'.padStart(13) + 'p50 ms'.padStart(8) + 'p95 ms'.padStart(8) + 'CPU ms'.padStart(8) +
      ' │' + 'rate'.padStart(6) + '  overhead/msg: wall, CPU',
  );
  for (const r of rows) {
    const share = r.node.perS / r.core.perS;
    const wall = 1000 / r.node.perS - 1000 / r.core.perS;
    console.log(
      `  ${r.op}`.padEnd(40) + String(r.inFlight).padStart(10) + num(r.n, 7) +
        ' │' + num(r.node.perS, 15) + ms(r.node.p50) + ms(r.node.p95) + ms(r.node.cpuMs) +
        ' │' + num(r.core.perS, 13) + ms(r.core.p50) + ms(r.core.p95) + ms(r.core.cpuMs) +
        ' │' + `${(share * 100).toFixed(0)} %`.padStart(6) + `  ${wall.toFixed(2)} ms, ${(r.node.cpuMs - r.core.cpuMs).toFixed(2)} ms`,
    );
  }
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-bench-node-'));
  const runtime = await startRuntime({ userDir: path.join(tmp, 'node-red'), toolroom: true, settings: { credentialSecret: false } });
  try {
    const targets: [string, object, Record<string, object> | undefined][] = [];
    if (process.env.BENCH_DATABASE_URL) {
      targets.push(['PostgreSQL server', { backend: 'postgres' }, { bench0config: { url: process.env.BENCH_DATABASE_URL } }]);
    } else {
      console.log('BENCH_DATABASE_URL not set: PostgreSQL server skipped');
    }
    targets.push(['embedded PGlite (temp directory)', { backend: 'pglite', dataDir: path.join(tmp, 'pglite') }, undefined]);
    for (const [name, config, credentials] of targets) {
      await runtime.deploy(benchFlow(config), credentials);
      const db = await runtime.node<{ database(): Promise<Db> }>('bench0config').database();
      const rows = await measure(runtime, db);
      await emptyTables(db);
      print(
        `${name} — toolroom-tool in Node-RED ${runtime.version} (junction → toolroom-tool → junction) ` +
          `vs the same core call without Node-RED (same database, same actor)`,
        rows,
      );
      console.log(
        `  best of ${ROUNDS} runs each (Node-RED and core alternating); CPU ms = this process's CPU time per message; ` +
          `rate = Node-RED msg/s ÷ core calls/s; overhead = 1/rate difference (wall) and CPU ms difference`,
      );
      console.log(`  machine: ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min)`);
    }
    // The last flow's config node releases its database.
    await runtime.deploy([]);
  } finally {
    await runtime.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
