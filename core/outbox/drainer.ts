import type { Knex } from 'knex';
import { backendOf } from '../db/connect';
import { createDatabase, InfluxError, parseInfluxUrl, writeLines, type CallOptions, type InfluxTarget } from './influx';
import { shotLine } from './lineProtocol';
import { SHOTS_REJECTED_TOPIC, SHOTS_TOPIC, type ShotPoint } from './shots';
import { startLoop, type LoopStatus } from './loop';

export { backoffMs } from './loop';

/**
 * The outbox drainer: unsent `shots` rows → InfluxDB, in id order, batches of up to 5,000 lines.
 * A row is deleted only after InfluxDB answered 204 for it: the outbox holds what is still to go,
 * the reading itself stays in shot_readings and InfluxDB holds what arrived. If the process dies
 * between the 204 and the delete, the batch is sent again on restart: harmless, because InfluxDB
 * keeps one point per measurement + tag set + timestamp and a re-sent point overwrites itself with
 * the same fields. For the same reason two runtimes draining one outbox at once lose and double
 * nothing (a batch may just travel twice). All state is in the outbox table.
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

/** [first, last] of a run of consecutive ids. */
type Run = [number, number];

/**
 * Unsent rows as read: their ids as runs and their lines joined by newlines (a line holds none).
 * `ids`, when present, lists the ids in the order of the lines; without it, lines are in no promised order.
 */
interface Batch {
  runs: Run[];
  count: number;
  body: string;
  ids?: number[];
}

/**
 * Runs of consecutive ids, ascending. A run is marked as a range: every id in it was read, so no
 * other row can be in it. A gap may hold a row of another topic, a parked or already sent one, or
 * one whose transaction has not committed yet (ids are taken at insert, rows become visible at
 * commit): a range over a gap could take that row unsent, so a batch is marked run by run.
 */
export function runsOf(ids: number[]): Run[] {
  const sorted = ids.every((id, i) => i === 0 || ids[i - 1] < id) ? ids : [...ids].sort((x, y) => x - y);
  const runs: Run[] = [];
  for (const id of sorted) {
    const last = runs[runs.length - 1];
    if (last && id === last[1] + 1) last[1] = id;
    else runs.push([id, id]);
  }
  return runs;
}

/** Unsent rows after an id, in id order: a scan of outbox_unsent_idx (topic, id). */
const NEXT = 'SELECT id, line FROM outbox WHERE topic = ? AND sent_at IS NULL AND id > ? ORDER BY id LIMIT ?';

/**
 * The next batch after `afterId`, as one row: first and last id, how many, and the lines joined by
 * newlines. Thousands of rows as a few values cost the drivers far less than thousands of row
 * objects, and when last - first + 1 = count, the ids are that one run and need not travel at all.
 * Otherwise (a gap, or a row without a line) the batch is read again with its ids.
 */
async function unsent(db: Knex, afterId: number, limit: number): Promise<Batch> {
  const { rows } = await db.raw(
    `SELECT min(id) AS first, max(id) AS last, count(*) AS n, count(*) - count(line) AS bare, string_agg(line, E'\\n') AS body FROM (${NEXT}) AS next`,
    [SHOTS_TOPIC, afterId, limit],
  );
  const row = rows[0] as { first: number | string | null; last: number | string | null; n: number | string; bare: number | string; body: string | null };
  const count = Number(row.n);
  if (!count) return { runs: [], count: 0, body: '' };
  const [first, last] = [Number(row.first), Number(row.last)];
  if (last - first + 1 === count && Number(row.bare) === 0) return { runs: [[first, last]], count, body: row.body! };
  return unsentWithIds(db, afterId, last, limit);
}

/**
 * The unsent rows in (afterId, upTo] with their ids, in the order of their lines: both aggregates
 * take the rows in the same order. A row without a ready line (a point written by hand, or a jsonb
 * {line} of an older version) is formatted from its payload. Rows that committed since the first
 * read are simply part of the batch: each read is one snapshot.
 */
async function unsentWithIds(db: Knex, afterId: number, upTo: number, limit: number): Promise<Batch> {
  const { rows } = await db.raw(
    `SELECT array_agg(id) AS ids, string_agg(coalesce(line, ''), E'\\n') AS body, count(*) - count(line) AS bare
     FROM (SELECT id, line FROM outbox WHERE topic = ? AND sent_at IS NULL AND id > ? AND id <= ? ORDER BY id LIMIT ?) AS next`,
    [SHOTS_TOPIC, afterId, upTo, limit],
  );
  const row = rows[0] as { ids: (number | string)[] | null; body: string | null; bare: number | string };
  if (!row.ids) return { runs: [], count: 0, body: '' };
  const ids = row.ids.map(Number);
  let body = row.body!;
  if (Number(row.bare) > 0) {
    const lines = body.split('\n');
    const bare = ids.filter((_, i) => lines[i] === '');
    const points = (await db('outbox').whereIn('id', bare).select('id', 'payload')) as { id: number | string; payload: ShotPoint | ShotLine | string }[];
    for (const p of points) {
      const payload = typeof p.payload === 'string' ? (JSON.parse(p.payload) as ShotPoint | ShotLine) : p.payload;
      lines[ids.indexOf(Number(p.id))] = 'line' in payload ? payload.line : shotLine(payload);
    }
    body = lines.join('\n');
  }
  return { runs: runsOf(ids), count: ids.length, body, ids };
}

/** A jsonb payload as an older version wrote it. */
interface ShotLine {
  line: string;
}

/** The runs as two parameters for `unnest(?::bigint[], ?::bigint[]) AS r(lo, hi)`: one index range scan per run. */
const bounds = (runs: Run[]) => [runs.map((r) => r[0]), runs.map((r) => r[1])];

/**
 * Delete the rows of a sent batch (nothing of them is needed any more: the reading is in
 * shot_readings, the point in InfluxDB). Only rows still on the `shots` topic: a row parked on
 * `shots:rejected` while its batch was bisected stays for a person to look at.
 */
async function markSent(db: Knex, runs: Run[]): Promise<void> {
  await db.raw('DELETE FROM outbox AS o USING unnest(?::bigint[], ?::bigint[]) AS r(lo, hi) WHERE o.topic = ? AND o.id BETWEEN r.lo AND r.hi', [
    ...bounds(runs),
    SHOTS_TOPIC,
  ]);
}

async function markFailed(db: Knex, runs: Run[], error: string, topic = SHOTS_TOPIC): Promise<void> {
  await db.raw(
    `UPDATE outbox AS o SET attempts = o.attempts + 1, last_error = ?, topic = ?
     FROM unnest(?::bigint[], ?::bigint[]) AS r(lo, hi) WHERE o.topic = ? AND o.id BETWEEN r.lo AND r.hi`,
    [error.slice(0, 1000), topic, ...bounds(runs), SHOTS_TOPIC],
  );
}

/**
 * Send one batch. A 400 means some line is unacceptable (InfluxDB writes the rest: "partial write"),
 * so the batch is halved until the culprit stands alone and is parked on `shots:rejected`; every
 * other line gets written (re-writes overwrite). Other failures throw and the batch stays unsent.
 * Returns how many rows were parked.
 */
async function sendBatch(db: Knex, target: InfluxTarget, batch: Batch, opts: DrainOptions & CallOptions): Promise<number> {
  try {
    await writeLines(target, batch.body, opts);
    return 0;
  } catch (err) {
    if (!(err instanceof InfluxError) || err.status !== 400) throw err;
    if (batch.count === 1) {
      await markFailed(db, batch.runs, err.message, SHOTS_REJECTED_TOPIC);
      return 1;
    }
    // Lines and ids must pair up to find the culprit: read the batch again with its ids (its runs hold
    // no other rows; some may be gone if another runtime sent them meanwhile).
    const whole = batch.ids ? batch : await unsentWithIds(db, batch.runs[0][0] - 1, batch.runs[batch.runs.length - 1][1], batch.count);
    const ids = whole.ids ?? [];
    const lines = whole.body.split('\n');
    const half = Math.ceil(ids.length / 2);
    const part = (from: number, to?: number): Batch => {
      const some = ids.slice(from, to);
      return { runs: runsOf(some), count: some.length, body: lines.slice(from, to).join('\n'), ids: some };
    };
    return (await sendBatch(db, target, part(0, half), opts)) + (await sendBatch(db, target, part(half), opts));
  }
}

/** Deletes of sent batches in flight at once (each on its own connection of a server pool). */
const MARKS_IN_FLIGHT = 3;

/**
 * Send every row unsent at the start, batch after batch, until none is left; throws the first
 * failure (the failed batch stays unsent, its attempts and last_error recorded). A pipeline: while
 * one batch is on its way to InfluxDB, the next is read and the one before, accepted already, is
 * deleted. That database work starts once the request has left: on PGlite it runs on this thread and
 * would otherwise hold the write back; so it overlaps InfluxDB's work instead of preceding it.
 * `attempts` counts failed tries.
 */
export async function drainOnce(db: Knex, target: InfluxTarget, opts: DrainOptions = {}): Promise<DrainResult> {
  const batchSize = Math.min(Math.max(1, opts.batchSize ?? MAX_BATCH_LINES), MAX_BATCH_LINES);
  const result: DrainResult = { sent: 0, batches: 0, rejected: 0 };
  // Promises left pending while a POST is in flight get a no-op handler, so an early failure is not
  // an unhandled rejection; it still surfaces where they are awaited.
  const quiet = <T>(p: Promise<T>) => (p.catch(() => undefined), p);
  const marking: Promise<void>[] = [];
  /** The batch InfluxDB answered 204 for last, not yet deleted. */
  let accepted: Batch | null = null;
  const markAccepted = async () => {
    if (!accepted) return;
    const runs = accepted.runs;
    accepted = null;
    if (marking.length >= MARKS_IN_FLIGHT) await marking.shift();
    marking.push(quiet(markSent(db, runs)));
  };
  try {
    let batch = await unsent(db, 0, batchSize);
    while (batch.count) {
      let left!: () => void;
      const leaving = new Promise<void>((resolve) => (left = resolve));
      const post = quiet(sendBatch(db, target, batch, { ...opts, onSent: left }));
      await Promise.race([leaving, post.catch(() => undefined)]);
      await markAccepted();
      const next = quiet(unsent(db, batch.runs[batch.runs.length - 1][1], batchSize));
      let parked: number;
      try {
        parked = await post;
      } catch (err) {
        await markFailed(db, batch.runs, (err as Error).message);
        throw err;
      }
      accepted = batch;
      result.sent += batch.count - parked;
      result.rejected += parked;
      result.batches += 1;
      batch = await next;
    }
  } finally {
    // Whatever ended the pass, a batch InfluxDB accepted is deleted.
    await markAccepted();
    await Promise.all(marking);
  }
  return result;
}

export type DrainerState = LoopStatus['state'];

export interface DrainerStatus extends LoopStatus {
  /** Rows sent since start. */
  sent: number;
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


/**
 * PGlite has no autovacuum: without a VACUUM now and then, deleted rows would keep their space and
 * their index entries (which every pass walks) for good. A server's autovacuum does this itself.
 */
const VACUUM_EVERY_MS = 60_000;

/** Run the drainer in the background until `stop()`; the owner (the config node) starts one per database. */
export function startDrainer(options: DrainerOptions): Drainer {
  const target = parseInfluxUrl(options.url);
  const abort = new AbortController();
  const vacuums = backendOf(options.db) === 'pglite';
  let changedSinceVacuum = 0;
  let vacuumedAt = 0;
  let databaseReady = false;
  let sent = 0;

  const drain = async (): Promise<DrainResult> => {
    if (!databaseReady) {
      await createDatabase(target, { timeoutMs: options.timeoutMs, signal: abort.signal });
      databaseReady = true;
    }
    try {
      const r = await drainOnce(options.db, target, { ...options, signal: abort.signal });
      changedSinceVacuum += r.sent + r.rejected;
      sent += r.sent;
      return r;
    } catch (err) {
      // The database may have been dropped under us: create it again before the next try.
      if (err instanceof InfluxError && err.status === 404) databaseReady = false;
      throw err;
    }
  };

  const loop = startLoop(
    async () => {
      const r = await drain();
      if (vacuums && changedSinceVacuum > 0 && Date.now() - vacuumedAt >= VACUUM_EVERY_MS) {
        await options.db.raw('VACUUM outbox');
        changedSinceVacuum = 0;
        vacuumedAt = Date.now();
      }
      return r;
    },
    {
      pollMs: options.pollMs ?? 1000,
      minBackoffMs: options.minBackoffMs ?? 500,
      maxBackoffMs: options.maxBackoffMs ?? 60_000,
      extra: () => ({ sent }),
      onStatus: options.onStatus,
    },
  );

  return {
    async stop() {
      // An in-flight POST is aborted: its rows stay unsent.
      abort.abort();
      await loop.stop();
    },
    drainOnce: async () => {
      const r = await loop.runOnce();
      loop.report();
      return r;
    },
    wake: loop.wake,
    status: loop.status,
  };
}
