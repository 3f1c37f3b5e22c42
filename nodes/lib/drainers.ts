import { startDrainer, type Drainer, type DrainerStatus } from '../../core/outbox/drainer';
import { acquireDatabase, databaseKey, type DatabaseLease, type DatabaseTarget } from '../../app/databases';

/**
 * The InfluxDB outbox drainers this process runs: exactly one per database, however many
 * toolroom-config nodes name it (two drainers on one outbox would only send batches twice).
 * Shaped as ./databases: the first claim starts the drainer, the last release stops it, and a new
 * claim of a database whose drainer is stopping waits for that stop. Each drainer holds its own
 * lease on the database, so the outbox stays readable until the drainer has stopped.
 * No Node-RED here.
 */

export interface DrainerLease {
  /** The database's key (./databases). */
  readonly key: string;
  /** The InfluxDB URL the drainer sends to (the first claim's, if claims disagree). */
  readonly url: string;
  /** New outbox rows are waiting: send them now rather than at the next poll. */
  wake(): void;
  /** The drainer's state, or null while the database is still opening. */
  status(): DrainerStatus | null;
  /** Give the claim back (once). The last release stops the drainer, then closes its database lease. */
  release(): Promise<void>;
}

export interface DrainerClaim {
  /** InfluxDB 1.x URL with the database in its path, credentials in it if any. */
  url: string;
  /** Told of every change of the drainer's state. */
  onStatus?(status: DrainerStatus): void;
  /** For tests: how often an idle drainer looks for rows, and the backoff after a failure. */
  pollMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

interface Running {
  key: string;
  url: string;
  leases: number;
  listeners: Set<(s: DrainerStatus) => void>;
  database: DatabaseLease;
  drainer: Drainer | null;
  stopped: boolean;
  started: Promise<void>;
  /** Ends the wait before the next try to open the database. */
  interrupt?: () => void;
}

interface Registry {
  running: Map<string, Running>;
  stopping: Map<string, Promise<void>>;
}

const slot = Symbol.for('toolroom.drainers');
const holder = globalThis as typeof globalThis & { [slot]?: Registry };
const registry: Registry = (holder[slot] ??= { running: new Map(), stopping: new Map() });

/** How long to wait before opening the database again when it could not be opened for the drainer. */
const REOPEN_MS = 5000;

function launch(r: Running, claim: DrainerClaim): Promise<void> {
  const previous = registry.stopping.get(r.key) ?? Promise.resolve();
  return previous.then(async () => {
    while (!r.stopped) {
      try {
        const db = await r.database.database();
        if (r.stopped) return;
        r.drainer = startDrainer({
          db,
          url: r.url,
          pollMs: claim.pollMs,
          minBackoffMs: claim.minBackoffMs,
          maxBackoffMs: claim.maxBackoffMs,
          onStatus: (s) => r.listeners.forEach((l) => l(s)),
        });
        return;
      } catch (err) {
        // The database is down at start: the drainer waits for it like everyone else.
        r.listeners.forEach((l) => l({ state: 'error', sent: 0, lastError: (err as Error).message, retryInMs: REOPEN_MS }));
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, REOPEN_MS);
          r.interrupt = () => {
            clearTimeout(t);
            resolve();
          };
        });
        r.interrupt = undefined;
      }
    }
  });
}

async function stop(r: Running): Promise<void> {
  registry.running.delete(r.key);
  r.stopped = true;
  r.interrupt?.();
  const stopping = (async () => {
    await r.started.catch(() => undefined);
    await r.drainer?.stop();
    await r.database.release();
  })();
  registry.stopping.set(r.key, stopping);
  try {
    await stopping;
  } finally {
    if (registry.stopping.get(r.key) === stopping) registry.stopping.delete(r.key);
  }
}

/** Claim the drainer of the database at `target`, sending to `claim.url`; it starts with the first claim. */
export function acquireDrainer(target: DatabaseTarget, claim: DrainerClaim): DrainerLease {
  const key = databaseKey(target);
  let r = registry.running.get(key);
  if (!r) {
    const fresh: Running = {
      key,
      url: claim.url,
      leases: 0,
      listeners: new Set(),
      database: acquireDatabase(target),
      drainer: null,
      stopped: false,
      started: Promise.resolve(),
    };
    fresh.started = launch(fresh, claim);
    registry.running.set(key, fresh);
    r = fresh;
  }
  const mine = r;
  mine.leases++;
  const listener = claim.onStatus;
  if (listener) mine.listeners.add(listener);
  let released = false;
  return {
    key,
    url: mine.url,
    wake: () => mine.drainer?.wake(),
    status: () => mine.drainer?.status() ?? null,
    async release() {
      if (released) return;
      released = true;
      if (listener) mine.listeners.delete(listener);
      mine.leases--;
      if (mine.leases === 0) await stop(mine);
    },
  };
}

/** Drainers running now, by database key (for tests and diagnostics). */
export function runningDrainers(): Map<string, { url: string; leases: number; state: DrainerStatus['state'] | 'opening' }> {
  const out = new Map<string, { url: string; leases: number; state: DrainerStatus['state'] | 'opening' }>();
  for (const [key, r] of registry.running) out.set(key, { url: r.url, leases: r.leases, state: r.drainer?.status().state ?? 'opening' });
  return out;
}

/** An InfluxDB URL with the user and password put into it (parseInfluxUrl reads them from there). */
export function influxUrlWith(url: string, username?: string, password?: string): string {
  if (!username) return url;
  try {
    const u = new URL(url);
    u.username = username;
    u.password = password ?? '';
    return u.toString();
  } catch {
    return url;
  }
}
