import { performance } from 'node:perf_hooks';

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
