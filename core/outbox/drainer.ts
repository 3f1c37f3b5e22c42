import type { Knex } from 'knex';
import { createDatabase, InfluxError, parseInfluxUrl, writeLines, type InfluxTarget } from './influx';
import { shotLine } from './lineProtocol';
import { SHOTS_REJECTED_TOPIC, SHOTS_TOPIC, type ShotPoint } from './shots';

/**
 * The outbox drainer: unsent `shots` rows → InfluxDB, in id order, batches of up to 5,000 lines.
 * A row is marked sent only after InfluxDB answered 204. If the process dies between the 204 and
 * the mark, the batch is sent again on restart: harmless, because InfluxDB keeps one point per
 * measurement + tag set + timestamp and a re-sent point overwrites itself with the same fields.
 * For the same reason two runtimes draining one outbox at once lose and double nothing (a batch may
 * just travel twice). Nothing here is needed by another runtime: all state is in the outbox table.
 */

export const MAX_BATCH_LINES = 5000;

export interface DrainOptions {
  /** Lines per POST, at most 5,000 (issue 4). */
  batchSize?: number;
  /** Per request. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface DrainResult {
  sent: number;
  batches: number;
  /** Rows InfluxDB refused on their own (HTTP 400), moved to the `shots:rejected` topic. */
  rejected: number;
}

interface OutboxRow {
  id: number;
  /** The line formatted at enqueue time; null for a row written without one (then `payload` is read). */
  line: string | null;
  payload: ShotPoint | string | null;
}

function lineOf(row: OutboxRow): string {
  if (row.line) return row.line;
  return shotLine(typeof row.payload === 'string' ? (JSON.parse(row.payload) as ShotPoint) : row.payload!);
}

async function unsent(db: Knex, afterId: number, limit: number): Promise<OutboxRow[]> {
  // Only the ready line travels; the whole payload only for a row that has none.
  const { rows } = await db.raw(
    `SELECT id, payload->>'line' AS line, CASE WHEN payload->>'line' IS NULL THEN payload END AS payload
     FROM outbox WHERE topic = ? AND sent_at IS NULL AND id > ? ORDER BY id LIMIT ?`,
    [SHOTS_TOPIC, afterId, limit],
  );
  return rows as OutboxRow[];
}

// Ids as an array parameter, never an id range: a row with a smaller id may commit after we read past it.
async function markSent(db: Knex, ids: number[]): Promise<void> {
  await db.raw('UPDATE outbox SET sent_at = now() WHERE id = ANY(?::bigint[])', [ids]);
}

async function markFailed(db: Knex, ids: number[], error: string, topic = SHOTS_TOPIC): Promise<void> {
  await db.raw('UPDATE outbox SET attempts = attempts + 1, last_error = ?, topic = ? WHERE id = ANY(?::bigint[])', [error.slice(0, 1000), topic, ids]);
}

/**
 * Send one batch. A 400 means some line is unacceptable (InfluxDB writes the rest: "partial write"),
 * so the batch is halved until the culprit stands alone and is parked on `shots:rejected`; every
 * other line gets written (re-writes overwrite). Other failures throw and the batch stays unsent.
 * Returns the ids parked.
 */
async function sendBatch(db: Knex, target: InfluxTarget, rows: OutboxRow[], lines: string[], opts: DrainOptions): Promise<number[]> {
  try {
    await writeLines(target, lines.join('\n'), opts);
    return [];
  } catch (err) {
    if (!(err instanceof InfluxError) || err.status !== 400) throw err;
    if (rows.length === 1) {
      await markFailed(db, [rows[0].id], err.message, SHOTS_REJECTED_TOPIC);
      return [rows[0].id];
    }
    const half = Math.ceil(rows.length / 2);
    return [
      ...(await sendBatch(db, target, rows.slice(0, half), lines.slice(0, half), opts)),
      ...(await sendBatch(db, target, rows.slice(half), lines.slice(half), opts)),
    ];
  }
}

/** Marks of sent batches in flight at once (each on its own connection of a server pool). */
const MARKS_IN_FLIGHT = 3;

/**
 * Send every row unsent at the start, batch after batch, until none is left; throws the first
 * failure (the failed batch stays unsent, its attempts and last_error recorded). A pipeline: while
 * one batch is in flight to InfluxDB, the next is read and the ones before are marked sent.
 * `attempts` counts failed tries; a row sent at the first try keeps 0.
 */
export async function drainOnce(db: Knex, target: InfluxTarget, opts: DrainOptions = {}): Promise<DrainResult> {
  const batchSize = Math.min(Math.max(1, opts.batchSize ?? MAX_BATCH_LINES), MAX_BATCH_LINES);
  const result: DrainResult = { sent: 0, batches: 0, rejected: 0 };
  // Promises left pending while a POST is in flight get a no-op handler, so an early failure is not
  // an unhandled rejection; it still surfaces where they are awaited.
  const quiet = <T>(p: Promise<T>) => (p.catch(() => undefined), p);
  let next = quiet(unsent(db, 0, batchSize));
  const marking: Promise<void>[] = [];
  try {
    for (;;) {
      const rows = await next;
      if (!rows.length) break;
      next = quiet(unsent(db, rows[rows.length - 1].id, batchSize));
      let parked: number[];
      try {
        parked = await sendBatch(db, target, rows, rows.map(lineOf), opts);
      } catch (err) {
        await markFailed(db, rows.map((r) => r.id), (err as Error).message);
        throw err;
      }
      // Parked rows already left the topic; marking them sent as well would hide them.
      const ids = rows.map((r) => r.id).filter((id) => !parked.includes(id));
      if (marking.length >= MARKS_IN_FLIGHT) await marking.shift();
      marking.push(quiet(markSent(db, ids)));
      result.sent += ids.length;
      result.rejected += parked.length;
      result.batches += 1;
    }
  } finally {
    await Promise.all(marking);
  }
  return result;
}

/**
 * Delete rows sent before `before`: the readings themselves stay in shot_readings, and on a Pi the
 * outbox would otherwise grow by every reading forever. Unsent and parked rows are never touched.
 */
export async function pruneSent(db: Knex, before: Date): Promise<number> {
  // Counted in SQL: the two drivers report a DELETE's row count differently.
  const { rows } = await db.raw('WITH gone AS (DELETE FROM outbox WHERE topic = ? AND sent_at < ? RETURNING 1) SELECT count(*) AS n FROM gone', [SHOTS_TOPIC, before]);
  return Number(rows[0].n);
}

export type DrainerState = 'connecting' | 'idle' | 'error' | 'stopped';

export interface DrainerStatus {
  state: DrainerState;
  /** Rows sent since start. */
  sent: number;
  lastError: string | null;
  /** Milliseconds until the next try after an error. */
  retryInMs: number | null;
}

export interface DrainerOptions extends DrainOptions {
  db: Knex;
  /** INFLUX_URL: http://host:port/<database>. */
  url: string;
  /** Look for new rows this often when idle (a `wake()` starts at once). */
  pollMs?: number;
  /** Backoff after a failure: doubles from min to max. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Sent rows are kept this long (default 7 days), then pruned when idle, at most once an hour. */
  keepSentMs?: number;
  /** Told of every change of state (for a config node's status). */
  onStatus?: (status: DrainerStatus) => void;
}

export interface Drainer {
  /** Finish the pass in flight (an in-flight POST is aborted: its rows stay unsent) and stop. */
  stop(): Promise<void>;
  /** One full pass now (creating the database first if not done yet). */
  drainOnce(): Promise<DrainResult>;
  /** New rows are waiting: end the idle wait. */
  wake(): void;
  status(): DrainerStatus;
}

/** Delay before retry number `failures` (1, 2, ...): doubling from min, capped at max, with ±20 % jitter. */
export function backoffMs(failures: number, minMs: number, maxMs: number): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** Run the drainer in the background until `stop()`; the owner (the config node) starts one per database. */
export function startDrainer(options: DrainerOptions): Drainer {
  const target = parseInfluxUrl(options.url);
  const pollMs = options.pollMs ?? 1000;
  const minBackoff = options.minBackoffMs ?? 500;
  const maxBackoff = options.maxBackoffMs ?? 60_000;
  const keepSent = options.keepSentMs ?? 7 * 86_400_000;
  let prunedAt = 0;
  const abort = new AbortController();
  const status: DrainerStatus = { state: 'connecting', sent: 0, lastError: null, retryInMs: null };
  let databaseReady = false;
  let stopped = false;
  let wakeUp: (() => void) | null = null;
  let pass: Promise<DrainResult> | null = null;

  const set = (patch: Partial<DrainerStatus>) => {
    const before = JSON.stringify(status);
    Object.assign(status, patch);
    if (JSON.stringify(status) !== before) options.onStatus?.({ ...status });
  };

  const once = (): Promise<DrainResult> => {
    // One pass at a time: a manual drainOnce during the loop's pass waits for it, then runs its own.
    const run = async () => {
      if (!databaseReady) {
        await createDatabase(target, { timeoutMs: options.timeoutMs, signal: abort.signal });
        databaseReady = true;
      }
      try {
        return await drainOnce(options.db, target, { ...options, signal: abort.signal });
      } catch (err) {
        // The database may have been dropped under us: create it again before the next try.
        if (err instanceof InfluxError && err.status === 404) databaseReady = false;
        throw err;
      }
    };
    const p = (pass ?? Promise.resolve()).catch(() => undefined).then(run);
    pass = p;
    return p;
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wakeUp = null;
        resolve();
      }
      wakeUp = done;
    });

  const loop = (async () => {
    let failures = 0;
    while (!stopped) {
      try {
        const r = await once();
        failures = 0;
        set({ state: 'idle', sent: status.sent + r.sent, lastError: null, retryInMs: null });
        if (Date.now() - prunedAt > Math.min(3_600_000, keepSent)) {
          prunedAt = Date.now();
          await pruneSent(options.db, new Date(prunedAt - keepSent));
        }
        if (!stopped) await sleep(pollMs);
      } catch (err) {
        if (stopped) break;
        failures += 1;
        const wait = backoffMs(failures, minBackoff, maxBackoff);
        set({ state: 'error', lastError: (err as Error).message, retryInMs: wait });
        await sleep(wait);
      }
    }
  })();

  return {
    async stop() {
      stopped = true;
      abort.abort();
      wakeUp?.();
      await loop;
      await pass?.catch(() => undefined);
      set({ state: 'stopped', retryInMs: null });
    },
    drainOnce: async () => {
      const r = await once();
      set({ sent: status.sent + r.sent });
      return r;
    },
    wake() {
      wakeUp?.();
    },
    status: () => ({ ...status }),
  };
}
