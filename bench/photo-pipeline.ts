/**
 * The photo pipeline (issue 10), with a 12-megapixel JPEG this bench makes (4000×3000, blurred
 * noise: a camera photo's detail, not a flat colour that decodes for free):
 *   1. one upload through the whole pipeline — POST /photos over HTTP (api/photos.ts on 127.0.0.1,
 *      API token), streamed to a temp file, checked, decoded, turned upright, re-encoded without
 *      metadata, display (≤2048) and thumbnail (≤320) made, three files encrypted and written, row
 *      and audit event committed — against bare sharp making the same two derivatives (same size,
 *      same JPEG settings) from the same bytes, alternating, in the same run. Target ≤ 1.3× bare sharp.
 *   2. peak RSS of this process (the runtime: API, core, sharp) while it processes uploads with the
 *      default concurrency (one photo at a time), against its idle RSS before. Target ≤ idle + 150 MB.
 *      Peak is VmHWM after resetting it (/proc/self/clear_refs 5), so nothing between samples is missed.
 *   3. four uploads at once: photos per second, at the default concurrency and at 4.
 * On the PostgreSQL server (BENCH_DATABASE_URL) if set, else embedded PGlite in a temp directory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { actorFromUser } from '../core/auth/actor';
import { openDatabase, migrateLatest, type Db } from '../core/db/connect';
import { createUser } from '../core/users/service';
import { createTool } from '../core/tools/service';
import { createApiToken } from '../core/accounts/tokens';
import { DISPLAY_MAX_PX, THUMBNAIL_MAX_PX, processPhoto, setPhotoConcurrency } from '../core/photos/image';
import { uploadPhoto } from '../core/photos/service';
import { runConcurrent, startApiServer } from './lib';

const ROUNDS = Number(process.env.BENCH_PHOTO_ROUNDS ?? 7);
const CONCURRENT = 4;
const TARGET_RATIO = 1.3;
const TARGET_RSS_MB = 150;
const MB = 1024 * 1024;
const root = { id: 'system', name: 'bench-setup', role: 'system' as const, via: 'bench' };

/** A 12-MP photo-like JPEG: blurred Gaussian noise at quality 90 (a few MB, like a phone's). */
async function twelveMegapixelJpeg(): Promise<Buffer> {
  const raw = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).blur(1.2).raw().toBuffer({ resolveWithObject: true });
  return sharp(raw.data, { raw: raw.info }).jpeg({ quality: 90 }).toBuffer();
}

/** What the pipeline's derivatives are, made by bare sharp: the baseline. */
async function bareSharp(image: Buffer): Promise<void> {
  const derived = { quality: 82, mozjpeg: false };
  await Promise.all([
    sharp(image).autoOrient().resize(DISPLAY_MAX_PX, DISPLAY_MAX_PX, { fit: 'inside', withoutEnlargement: true }).jpeg(derived).toBuffer(),
    sharp(image).autoOrient().resize(THUMBNAIL_MAX_PX, THUMBNAIL_MAX_PX, { fit: 'inside', withoutEnlargement: true }).jpeg(derived).toBuffer(),
  ]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function status(field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? (Number(m[1]) * 1024) / MB : process.memoryUsage.rss() / MB;
}

function resetPeak(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const url = process.env.BENCH_DATABASE_URL;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-bench-photo-'));
  process.env.TOOLROOM_DATA_DIR = dataDir;
  delete process.env.TOOLROOM_PHOTO_KEY_FILE;
  const db: Db = openDatabase(url ? { url } : { dataDir: path.join(dataDir, 'pglite') });
  await migrateLatest(db);
  const user = await createUser(db, root, { username: `photo${Date.now() % 1e6}`, displayName: 'Bench technician', role: 'technician' });
  const actor = actorFromUser({ id: String(user.id), username: user.username, role: 'technician' }, 'bench');
  const { secret } = await createApiToken(db, actor, { name: 'bench' });
  const tool = await createTool(db, actor, { assetNumber: `PH-${Date.now() % 1e6}`, name: 'Bench mould', cavityCount: 2 });
  const server = await startApiServer(db);
  const image = await twelveMegapixelJpeg();
  const upload = async () => {
    const res = await fetch(`${server.url}/photos?toolId=${tool.id}`, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'image/jpeg' }, body: image });
    const body = (await res.json()) as { id?: number; width?: number };
    if (res.status !== 201 || body.width !== 4000) throw new Error(`POST /photos answered ${res.status} ${JSON.stringify(body)}`);
  };
  const backend = url ? 'PostgreSQL server' : 'PGlite';
  console.log(`photo pipeline on ${backend}: a ${(image.length / MB).toFixed(1)} MB 4000×3000 JPEG, sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(2)}`);

  // Warm both paths (code, libvips, the database's plans), then settle for the idle figure.
  await upload();
  await bareSharp(image);
  global.gc?.();
  global.gc?.();
  await new Promise((r) => setTimeout(r, 500));
  const idle = status('VmRSS');

  // 2. Peak RSS while processing, default concurrency (1): two uploads one after the other, then four at once.
  const exact = resetPeak();
  let sampled = 0;
  const sampler = setInterval(() => (sampled = Math.max(sampled, process.memoryUsage.rss() / MB)), 5);
  await upload();
  await upload();
  await runConcurrent(CONCURRENT, CONCURRENT, upload);
  clearInterval(sampler);
  const peak = exact ? status('VmHWM') : sampled;

  // 1. Whole pipeline vs bare sharp, alternating.
  const pipeline: number[] = [];
  const bare: number[] = [];
  // Where the time goes: the image work alone, and the core call without HTTP.
  const processing: number[] = [];
  const core: number[] = [];
  // CPU time of this process (every thread: libvips' too) beside wall time: the machine may be shared.
  const cpu: Record<'pipeline' | 'bare' | 'processing' | 'core', number[]> = { pipeline: [], bare: [], processing: [], core: [] };
  const timed = async (into: number[], cpuInto: number[], fn: () => Promise<unknown>) => {
    const t = performance.now();
    const c = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(c);
    into.push(performance.now() - t);
    cpuInto.push((used.user + used.system) / 1000);
  };
  for (let i = 0; i < ROUNDS; i++) {
    await timed(pipeline, cpu.pipeline, upload);
    await timed(bare, cpu.bare, () => bareSharp(image));
    await timed(processing, cpu.processing, () => processPhoto(image));
    await timed(core, cpu.core, () => uploadPhoto(db, actor, { toolId: tool.id }, image));
  }
  const ratio = median(pipeline) / median(bare);
  const cpuRatio = median(cpu.pipeline) / median(cpu.bare);

  // 3. Four uploads at once.
  const atDefault = await runConcurrent(CONCURRENT * 2, CONCURRENT, upload);
  setPhotoConcurrency(CONCURRENT);
  const atFour = await runConcurrent(CONCURRENT * 2, CONCURRENT, upload);
  setPhotoConcurrency(1);

  const verdict = (ok: boolean) => (ok ? 'ok' : 'OVER');
  const row = (label: string, wall: number[], cpuMs: number[]) => console.log(label.padEnd(78) + `${median(wall).toFixed(0).padStart(6)} ms  ${median(cpuMs).toFixed(0).padStart(6)} ms CPU`);
  console.log(`\n1. one 12-MP photo (median of ${ROUNDS}, alternating)`);
  row(`  whole pipeline (HTTP upload → stored encrypted + display + thumbnail)`, pipeline, cpu.pipeline);
  row(`  baseline: bare sharp, display + thumbnail from the same bytes`, bare, cpu.bare);
  row(`    share: core uploadPhoto (+ encrypt, write, row, audit; no HTTP)`, core, cpu.core);
  row(`    share: checks + decode once + original, display, thumbnail (processPhoto)`, processing, cpu.processing);
  console.log(`  ratio, wall time`.padEnd(78) + `${ratio.toFixed(2).padStart(6)} ×   target ≤ ${TARGET_RATIO} × : ${verdict(ratio <= TARGET_RATIO)}`);
  console.log(`  ratio, CPU time (steadier on a shared machine)`.padEnd(78) + `${cpuRatio.toFixed(2).padStart(6)} ×   target ≤ ${TARGET_RATIO} × : ${verdict(cpuRatio <= TARGET_RATIO)}`);
  console.log(`\n2. memory, default concurrency (1 photo at a time)`);
  console.log(`  idle RSS`.padEnd(78) + `${idle.toFixed(0).padStart(6)} MB`);
  console.log(`  peak RSS while processing (${exact ? 'VmHWM after clear_refs' : 'sampled every 5 ms'})`.padEnd(78) + `${peak.toFixed(0).padStart(6)} MB`);
  console.log(`  peak − idle`.padEnd(78) + `${(peak - idle).toFixed(0).padStart(6)} MB   target ≤ ${TARGET_RSS_MB} MB : ${verdict(peak - idle <= TARGET_RSS_MB)}`);
  console.log(`\n3. ${CONCURRENT} uploads at once (${CONCURRENT * 2} photos)`);
  console.log(`  default concurrency 1`.padEnd(78) + `${atDefault.perS.toFixed(2).padStart(6)} photos/s  (p50 ${atDefault.p50.toFixed(0)} ms per upload)`);
  console.log(`  TOOLROOM_PHOTO_CONCURRENCY=${CONCURRENT}`.padEnd(78) + `${atFour.perS.toFixed(2).padStart(6)} photos/s  (p50 ${atFour.p50.toFixed(0)} ms per upload)`);
  console.log(`  baseline: one at a time, sequential`.padEnd(78) + `${(1000 / median(pipeline)).toFixed(2).padStart(6)} photos/s`);

  await server.close();
  await db.destroy();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
