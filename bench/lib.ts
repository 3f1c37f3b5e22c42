import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Db } from '../core/db/connect';
import { API_BASE, createApi } from '../http/rest/router';

export interface Timing {
  label: string;
  runs: number;
  p50: number;
  p95: number;
  max: number;
}

/** Run `fn` `warmup` times untimed, then `runs` times timed; milliseconds per run. */
export async function time(label: string, fn: () => Promise<unknown>, runs = 200, warmup = 20): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { label, runs, p50: at(0.5), p95: at(0.95), max: samples[samples.length - 1] };
}

export function printTimings(title: string, timings: Timing[], targetP95Ms?: number): void {
  console.log(`\n${title}`);
  console.log('  query'.padEnd(52) + 'p50 ms'.padStart(9) + 'p95 ms'.padStart(9) + 'max ms'.padStart(9) + (targetP95Ms ? '  vs target p95' : ''));
  for (const t of timings) {
    const verdict = targetP95Ms ? (t.p95 <= targetP95Ms ? `  ok (≤ ${targetP95Ms})` : `  OVER (${targetP95Ms})`) : '';
    console.log(`  ${t.label}`.padEnd(52) + t.p50.toFixed(2).padStart(9) + t.p95.toFixed(2).padStart(9) + t.max.toFixed(2).padStart(9) + verdict);
  }
}

// Throughput of an adapter against the core call it wraps (bench/node-throughput, bench/api-throughput).

export interface Run {
  perS: number;
  p50: number;
  p95: number;
  /** This process's CPU time (user + system) per call, ms: what an adapter adds, less disturbed by a busy machine than wall time. */
  cpuMs: number;
}

/** `n` calls with `inFlight` outstanding at any time; throughput and per-call latency (ms). */
export async function runConcurrent(n: number, inFlight: number, call: (i: number) => Promise<void>): Promise<Run> {
  const ms = new Array<number>(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const t = performance.now();
      await call(i);
      ms[i] = performance.now() - t;
    }
  };
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  ms.sort((a, b) => a - b);
  return { perS: n / seconds, p50: ms[Math.floor(0.5 * n)], p95: ms[Math.min(n - 1, Math.floor(0.95 * n))], cpuMs: (cpu.user + cpu.system) / 1000 / n };
}

/** The fastest run (its latencies with it) and the least CPU per call of any run. */
export function best(runs: Run[]): Run {
  const fastest = runs.reduce((a, b) => (b.perS > a.perS ? b : a));
  return { ...fastest, cpuMs: Math.min(...runs.map((r) => r.cpuMs)) };
}

/** A tool to create, numbered under `prefix`. */
export function benchToolInput(prefix: string, i: number) {
  return { assetNumber: `${prefix}-${String(i).padStart(6, '0')}`, name: `Bench mould ${i}`, cavityCount: 1 + (i % 8), customer: `Customer ${i % 25}` };
}

/** The REST API on 127.0.0.1 as app/start.ts mounts it (express at API_BASE), for the API benches. */
export async function startApiServer(db: Db): Promise<{ url: string; close(): Promise<void> }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const express = require('express') as () => http.RequestListener & { use(path: string, handler: unknown): void };
  const app = express();
  app.use(API_BASE, createApi({ database: async () => db, secureCookies: false, rateLimit: false }));
  const server = http.createServer(app);
  // The client keeps connections between phases (PGlite's TRUNCATE can take seconds): a server closing an
  // idle one (5 s by default) as the client reuses it is an ECONNRESET, not what this measures.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 130_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${API_BASE}`,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/** A process's VmRSS (now) or VmHWM (its peak) from /proc/<pid>/status, in MB. */
export function procStatusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  if (!line) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(/(\d+)\s*kB/.exec(line)![1]) / 1024;
}
