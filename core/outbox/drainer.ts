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

/** Unsent rows in id order: their ids and lines, index for index. */
interface Batch {
  ids: number[];
  lines: string[];
}

/**
 * The next batch after `afterId`, as one row: the ids and the lines joined by newlines (a line
 * holds none). Thousands of rows as two values cost the drivers far less than thousands of row
 * objects. A row without a ready line (not written by enqueueShots) is formatted from its point.
 */
async function unsent(db: Knex, afterId: number, limit: number): Promise<Batch> {
  const { rows } = await db.raw(
    `SELECT array_agg(id ORDER BY id) AS ids, string_agg(coalesce(line, ''), E'\n' ORDER BY id) AS body
     FROM (SELECT id, payload->>'line' AS line FROM outbox
           WHERE topic = ? AND sent_at IS NULL AND id > ? ORDER BY id LIMIT ?) AS next`,
    [SHOTS_TOPIC, afterId, limit],
  );
  const { ids, body } = rows[0] as { ids: (number | string)[] | null; body: string | null };
  if (!ids) return { ids: [], lines: [] };
  const batch = { ids: ids.map(Number), lines: body!.split('\n') };
  const bare = batch.ids.filter((_, i) => batch.lines[i] === '');
  if (bare.length) {
    const points = (await db('outbox').whereIn('id', bare).select('id', 'payload')) as { id: number | string; payload: ShotPoint | string }[];
    for (const p of points) {
      batch.lines[batch.ids.indexOf(Number(p.id))] = shotLine(typeof p.payload === 'string' ? (JSON.parse(p.payload) as ShotPoint) : p.payload);
    }
  }
  return batch;
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
async function sendBatch(db: Knex, target: InfluxTarget, batch: Batch, opts: DrainOptions): Promise<number[]> {
  try {
    await writeLines(target, batch.lines.join('\n'), opts);
    return [];
  } catch (err) {
    if (!(err instanceof InfluxError) || err.status !== 400) throw err;
    if (batch.ids.length === 1) {
      await markFailed(db, batch.ids, err.message, SHOTS_REJECTED_TOPIC);
      return batch.ids;
    }
    const half = Math.ceil(batch.ids.length / 2);
    const part = (from: number, to?: number) => ({ ids: batch.ids.slice(from, to), lines: batch.lines.slice(from, to) });
    return [...(await sendBatch(db, target, part(0, half), opts)), ...(await sendBatch(db, target, part(half), opts))];
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
      const batch = await next;
      if (!batch.ids.length) break;
      next = quiet(unsent(db, batch.ids[batch.ids.length - 1], batchSize));
      let parked: number[];
      try {
        parked = await sendBatch(db, target, batch, opts);
      } catch (err) {
        await markFailed(db, batch.ids, (err as Error).message);
        throw err;
      }
      // Parked rows already left the topic; marking them sent as well would hide them.
      const ids = parked.length ? batch.ids.filter((id) => !parked.includes(id)) : batch.ids;
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
