import fs from 'node:fs';
import path from 'node:path';
import type { Db } from './db/connect';
import { migrationSource } from '../migrations';
import { parseInfluxUrl } from './outbox/influx';
import { archiveTime } from './backup/retention';
import { z } from 'zod';
import type { Actor } from './auth/actor';
import { parse } from './validate';

/**
 * What `/healthz` reports: each part `ok` or `failing`, nothing more (it answers without a login).
 * - database: answers a query within the timeout, and every migration this code knows has run;
 * - outbox: the oldest row not yet sent to InfluxDB is younger than the allowed lag;
 * - influxdb (when INFLUX_URL is set): answers /ping;
 * - disk: the data directory's file system has the minimum free space;
 * - backup (when TOOLROOM_BACKUP_DIR is set and visible): the newest archive is younger than allowed.
 * `status` is `failing` when the database part fails (nothing works without it: HTTP 503, what
 * Docker's health check and a load balancer act on), `degraded` when another part fails (HTTP 200:
 * the app serves, an admin should look), else `ok`. `encryptedAtRest` says whether the data
 * directory sits on a dm-crypt (LUKS) device: a fact for the admin, not a failure.
 */

export type PartState = 'ok' | 'failing';

export interface HealthReport {
  status: 'ok' | 'degraded' | 'failing';
  parts: Record<string, PartState>;
  encryptedAtRest: boolean | null;
}

export interface HealthOptions {
  database: () => Promise<Db>;
  dataDir: string;
  influxUrl?: string;
  backupDir?: string;
  /** Oldest unsent outbox row allowed (default 15 minutes). */
  outboxLagMs?: number;
  /** Least free space on the data dir's file system (default 1 GiB). */
  minFreeBytes?: number;
  /** Oldest newest-backup allowed (default 26 hours: a nightly job, with slack). */
  backupMaxAgeMs?: number;
  timeoutMs?: number;
  now?: () => Date;
}

/** The settings from the environment (TOOLROOM_HEALTH_*); a bad number falls back to the default. */
export function healthSettingsFromEnv(env: NodeJS.ProcessEnv): Pick<HealthOptions, 'dataDir' | 'influxUrl' | 'backupDir' | 'outboxLagMs' | 'minFreeBytes' | 'backupMaxAgeMs'> {
  const num = (name: string, fallback: number) => {
    const n = Number(env[name]);
    return env[name] && Number.isFinite(n) && n >= 0 ? n : fallback;
  };
  return {
    dataDir: path.resolve(env.TOOLROOM_DATA_DIR || './data'),
    influxUrl: env.INFLUX_URL || undefined,
    backupDir: env.TOOLROOM_BACKUP_DIR || undefined,
    outboxLagMs: num('TOOLROOM_HEALTH_OUTBOX_LAG_MINUTES', 15) * 60_000,
    minFreeBytes: num('TOOLROOM_HEALTH_MIN_FREE_MB', 1024) * 1024 * 1024,
    backupMaxAgeMs: num('TOOLROOM_HEALTH_BACKUP_MAX_AGE_HOURS', 26) * 3_600_000,
  };
}

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)))]).finally(() => clearTimeout(timer));
}

const state = (ok: boolean): PartState => (ok ? 'ok' : 'failing');

async function databasePart(db: Db): Promise<boolean> {
  const done = new Set((await db('knex_migrations').pluck('name')) as string[]);
  const known = await migrationSource.getMigrations([]);
  return known.every((m) => done.has(m));
}

async function outboxPart(db: Db, lagMs: number, now: Date): Promise<boolean> {
  const row = (await db('outbox').whereNull('sent_at').min({ oldest: 'created_at' }).first()) as { oldest: Date | string | null } | undefined;
  return !row?.oldest || now.getTime() - new Date(row.oldest).getTime() <= lagMs;
}

async function influxPart(url: string, timeoutMs: number): Promise<boolean> {
  const target = parseInfluxUrl(url);
  const res = await fetch(`${target.base}/ping`, { signal: AbortSignal.timeout(timeoutMs), headers: target.authorization ? { authorization: target.authorization } : {} });
  await res.body?.cancel();
  return res.status === 204;
}

function diskPart(dir: string, minFree: number): boolean {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize >= minFree;
}

function backupPart(dir: string, maxAgeMs: number, now: Date): boolean {
  const newest = Math.max(0, ...fs.readdirSync(dir).map((n) => archiveTime(n)?.getTime() ?? 0));
  return now.getTime() - newest <= maxAgeMs;
}

/** The mount (major:minor of its device) holding `dir`, from /proc/self/mountinfo: the longest mount point above it. */
export function deviceOf(dir: string, mountinfo: string): string | null {
  const real = fs.realpathSync(dir);
  let best: { point: string; dev: string } | null = null;
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    const point = f[4].replace(/\\040/g, ' ');
    const inside = point === '/' || real === point || real.startsWith(point.endsWith('/') ? point : `${point}/`);
    if (inside && (!best || point.length >= best.point.length)) best = { point, dev: f[2] };
  }
  return best?.dev ?? null;
}

/** True when the block device (major:minor) is dm-crypt, or is built on one (LVM on LUKS). */
export function isCryptDevice(dev: string, sysBlock = '/sys/dev/block', depth = 0): boolean {
  if (depth > 8) return false;
  const dir = path.join(sysBlock, dev);
  const uuid = (() => {
    try {
      return fs.readFileSync(path.join(dir, 'dm', 'uuid'), 'utf8').trim();
    } catch {
      return '';
    }
  })();
  if (uuid.startsWith('CRYPT-')) return true;
  let slaves: string[] = [];
  try {
    slaves = fs.readdirSync(path.join(dir, 'slaves'));
  } catch {
    return false;
  }
  return slaves.some((s) => {
    try {
      const slaveDev = fs.readFileSync(path.join(dir, 'slaves', s, 'dev'), 'utf8').trim();
      return isCryptDevice(slaveDev, sysBlock, depth + 1);
    } catch {
      return false;
    }
  });
}

/** Whether the data dir is on an encrypted device; null when this system does not say (no /proc or /sys). */
export function dataDirEncrypted(dir: string): boolean | null {
  try {
    const dev = deviceOf(dir, fs.readFileSync('/proc/self/mountinfo', 'utf8'));
    if (!dev || !fs.existsSync(path.join('/sys/dev/block', dev))) return null;
    return isCryptDevice(dev);
  } catch {
    return null;
  }
}

export async function checkHealth(o: HealthOptions): Promise<HealthReport> {
  const timeoutMs = o.timeoutMs ?? 3000;
  const now = (o.now ?? (() => new Date()))();
  const attempt = async (check: () => Promise<boolean> | boolean) => {
    try {
      return state(await within(Promise.resolve().then(check), timeoutMs));
    } catch {
      return state(false);
    }
  };
  const db = await within(o.database(), timeoutMs).catch(() => null);
  const parts: Record<string, PartState> = {};
  parts.database = db ? await attempt(() => databasePart(db)) : 'failing';
  parts.outbox = db ? await attempt(() => outboxPart(db, o.outboxLagMs ?? 15 * 60_000, now)) : 'failing';
  if (o.influxUrl) parts.influxdb = await attempt(() => influxPart(o.influxUrl!, timeoutMs));
  parts.disk = await attempt(() => diskPart(o.dataDir, o.minFreeBytes ?? 1024 ** 3));
  if (o.backupDir && fs.existsSync(o.backupDir)) parts.backup = await attempt(() => backupPart(o.backupDir!, o.backupMaxAgeMs ?? 26 * 3_600_000, now));
  const status = parts.database === 'failing' ? 'failing' : Object.values(parts).every((p) => p === 'ok') ? 'ok' : 'degraded';
  return { status, parts, encryptedAtRest: dataDirEncrypted(o.dataDir) };
}

export const healthNowInput = z.object({}).strict();

export const healthReportRecord = z
  .object({ status: z.enum(['ok', 'degraded', 'failing']), parts: z.record(z.string(), z.enum(['ok', 'failing'])), encryptedAtRest: z.boolean().nullable() })
  .strict()
  .meta({ id: 'HealthReport' });

/**
 * `/healthz` for the operations page, on the caller's database and this server's settings. No
 * permission: it tells a logged-in user no more than `/healthz` tells anyone.
 */
export async function healthNow(db: Db, _actor: Actor, input: unknown = {}, env: NodeJS.ProcessEnv = process.env): Promise<HealthReport> {
  parse(healthNowInput, input);
  return checkHealth({ database: async () => db, ...healthSettingsFromEnv(env) });
}
