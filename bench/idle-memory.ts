/**
 * Idle memory (RSS) of Node-RED 5 with Toolroom against bare Node-RED 5 with Dashboard 2 (target:
 * at most +40 MB on a PostgreSQL server), and separately what embedded PGlite adds. Three child
 * processes, one at a time, each bench/support/node-red.ts with the same settings and Dashboard flow:
 *   (a) bare Node-RED + Dashboard 2;
 *   (b) (a) + Toolroom's nodes loaded, a toolroom-config (backend 'env', as the app's flow) on the
 *       server (DATABASE_URL = BENCH_DATABASE_URL) and one toolroom-tool using it;
 *   (c) (b) on embedded PGlite (no DATABASE_URL: TOOLROOM_DATA_DIR/pglite in a temp directory),
 *       restarted on a directory an earlier start created, as a plant PC runs day to day; that
 *       first start (initdb and migrations) is measured once on its own.
 * The server database is migrated before, so (b) too starts on a migrated database. Each runtime is
 * measured SETTLE_MS after its flows started (and, for (b) and (c), its database opened), after two
 * full GCs: VmRSS from /proc/<pid>/status, the median of SAMPLES reads; peak = VmHWM.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateLatest, openDatabase } from '../core/db/connect';
import { dashboardFlow } from './support/node-red';
import { procStatusMb } from './lib';

const SETTLE_MS = Number(process.env.BENCH_IDLE_SETTLE_MS ?? 15000);
const SAMPLES = 5;
const ROUNDS = Number(process.env.BENCH_IDLE_ROUNDS ?? 2);
const TARGET_MB = 40;
const host = path.join(__dirname, 'support', 'node-red.js');
const MB = 1024 * 1024;

interface Variant {
  key: 'a' | 'b' | 'c' | 'c0';
  label: string;
  toolroom: boolean;
  env: NodeJS.ProcessEnv;
  /** TOOLROOM_DATA_DIR when it outlives one run (PGlite's directory). */
  dataDir?: string;
}

interface Measurement {
  rssMb: number;
  peakMb: number;
  memory: NodeJS.MemoryUsage;
  packages: Record<string, number>;
  version: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function flows(toolroom: boolean): object[] {
  const z = 'bench0tab';
  return [
    { id: z, type: 'tab', label: 'bench' },
    ...dashboardFlow(z),
    ...(toolroom
      ? [
          { id: 'bench0config', type: 'toolroom-config', name: 'Toolroom database', backend: 'env', dataDir: '${TOOLROOM_DATA_DIR}/pglite' },
          { id: 'bench0tool', type: 'toolroom-tool', z, name: '', config: 'bench0config', operation: '', x: 200, y: 100, wires: [[]] },
        ]
      : []),
  ];
}

async function measure(v: Variant, dir: string): Promise<Measurement> {
  const userDir = path.join(dir, 'node-red');
  fs.mkdirSync(userDir, { recursive: true });
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows(v.toolroom)));
  const env: NodeJS.ProcessEnv = { ...process.env, ...v.env, TOOLROOM_DATA_DIR: v.dataDir ?? dir, BENCH_RUNTIME_USER_DIR: userDir };
  if (!v.env.DATABASE_URL) delete env.DATABASE_URL;
  if (v.toolroom) Object.assign(env, { BENCH_RUNTIME_TOOLROOM: '1', BENCH_RUNTIME_WAIT_CONFIG: 'bench0config' });
  const child = spawn(process.execPath, ['--expose-gc', host], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = <T>(what: string, ms: number) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`(${v.key}) no ${what} within ${ms} ms:\n${output}`)), ms);
      const onExit = () => reject(new Error(`(${v.key}) exited before ${what}:\n${output}`));
      child.once('exit', onExit);
      child.once('message', (m) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(m as T);
      });
    });
  try {
    const ready = await next<{ version: string }>('start', 120000);
    await sleep(SETTLE_MS);
    const reply = next<{ memory: NodeJS.MemoryUsage; packages: Record<string, number>; gc: boolean }>('measurement', 30000);
    child.send('measure');
    const { memory, packages, gc } = await reply;
    if (!gc) throw new Error('the child has no gc(): run with --expose-gc');
    await sleep(1000);
    const reads: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      reads.push(procStatusMb(child.pid!, 'VmRSS'));
      await sleep(1000);
    }
    reads.sort((a, b) => a - b);
    return { rssMb: reads[Math.floor(SAMPLES / 2)], peakMb: procStatusMb(child.pid!, 'VmHWM'), memory, packages, version: ready.version };
  } finally {
    if (child.connected) child.send('stop');
    const killer = setTimeout(() => child.kill('SIGKILL'), 15000);
    await exited;
    clearTimeout(killer);
  }
}

function extraPackages(more: Record<string, number>, less: Record<string, number>): string {
  const names = Object.keys(more).filter((p) => !(p in less) || more[p] > less[p]);
  if (!names.length) return 'none';
  return names
    .sort((x, y) => more[y] - (less[y] ?? 0) - (more[x] - (less[x] ?? 0)))
    .map((p) => `${p} (${more[p] - (less[p] ?? 0)} files)`)
    .join(', ');
}

async function main(): Promise<void> {
  const url = process.env.BENCH_DATABASE_URL;
  if (!url) throw new Error('BENCH_DATABASE_URL is not set: (b) needs a PostgreSQL server (npm run bench sets it)');
  const server = openDatabase({ url });
  await migrateLatest(server);
  await server.destroy();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-bench-idle-'));
  const pgliteData = path.join(tmp, 'data');
  const variants: Variant[] = [
    { key: 'a', label: 'bare Node-RED + Dashboard 2 (baseline)', toolroom: false, env: {} },
    { key: 'b', label: '+ Toolroom, toolroom-config on the PostgreSQL server', toolroom: true, env: { DATABASE_URL: url } },
    { key: 'c', label: '+ Toolroom, toolroom-config on embedded PGlite', toolroom: true, env: {}, dataDir: pgliteData },
  ];
  const firstStart: Variant = { ...variants[2], key: 'c0', label: '  (c) on its first start: initdb, migrations (once)' };
  const results: Record<string, Measurement[]> = { a: [], b: [], c: [], c0: [] };
  try {
    results.c0.push(await measure(firstStart, path.join(tmp, 'c0')));
    for (let round = 0; round < ROUNDS; round++) {
      for (const v of variants) results[v.key].push(await measure(v, path.join(tmp, `${v.key}${round}`)));
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const rss = (k: string) => mean(results[k].map((m) => m.rssMb));
  const heap = (k: string, f: keyof NodeJS.MemoryUsage) => mean(results[k].map((m) => m.memory[f] / MB));
  const f1 = (n: number, w = 9) => n.toFixed(1).padStart(w);
  const signed = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(1)} MB`;
  console.log(
    `\nIdle memory: Node-RED ${results.a[0].version} on Node ${process.version}, ${SETTLE_MS / 1000} s after the flows started ` +
      `(and the database opened), after two full GCs; RSS = median of ${SAMPLES} VmRSS reads, mean of ${ROUNDS} rounds; peak = VmHWM (MB)`,
  );
  console.log('  runtime'.padEnd(62) + 'RSS'.padStart(9) + 'rounds'.padStart(16) + 'peak'.padStart(9) + 'heap used'.padStart(11) + 'heap total'.padStart(11) + 'external'.padStart(10));
  for (const v of [...variants, firstStart]) {
    const k = v.key;
    console.log(
      `  ${k === 'c0' ? '' : `(${k}) `}${v.label}`.padEnd(62) + f1(rss(k)) + results[k].map((m) => m.rssMb.toFixed(1)).join(' / ').padStart(16) +
        f1(mean(results[k].map((m) => m.peakMb))) + f1(heap(k, 'heapUsed'), 11) + f1(heap(k, 'heapTotal'), 11) + f1(heap(k, 'external'), 10),
    );
  }
  const toolroom = rss('b') - rss('a');
  console.log(`  (b) − (a), Toolroom on a PostgreSQL server: ${signed(toolroom)} against the target ≤ +${TARGET_MB} MB: ${toolroom <= TARGET_MB ? 'ok' : 'OVER'}`);
  console.log(`  (c) − (b), what embedded PGlite adds:       ${signed(rss('c') - rss('b'))} (first start: ${signed(rss('c0') - rss('b'))}, peak ${signed(results.c0[0].peakMb - rss('b'))})`);
  console.log(`  CommonJS packages loaded in (b), not in (a): ${extraPackages(results.b[0].packages, results.a[0].packages)}`);
  console.log(`  CommonJS packages loaded in (c), not in (b): ${extraPackages(results.c[0].packages, results.b[0].packages)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
