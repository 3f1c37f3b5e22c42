import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { drainOnce, runsOf, startDrainer, backoffMs, type Drainer, type DrainerStatus } from '../../core/outbox/drainer';
import { createDatabase, InfluxError, parseInfluxUrl, query, writeLines, type InfluxTarget } from '../../core/outbox/influx';
import { escapeTag, nanoseconds, shotLine } from '../../core/outbox/lineProtocol';
import { enqueueShots, SHOTS_REJECTED_TOPIC, type ShotPoint } from '../../core/outbox/shots';
import type { Db } from '../../core/db/connect';
import { backends, countRows, resetData, type Backend } from '../support/db';

// Against the real influxd that scripts/influx-services.sh starts (the test command exports
// TEST_INFLUX_URL); run alone, this suite starts and stops one itself through the same script.
const script = path.resolve(__dirname, '../../../scripts/influx-services.sh');
function influx(fn: 'influx_up' | 'influx_start' | 'influx_stop' | 'influx_down'): string {
  const print = fn === 'influx_up' ? ' && echo "$TEST_INFLUX_URL $TEST_INFLUX_DIR"' : '';
  return execFileSync('bash', ['-c', `source "${script}" && ${fn}${print}`], { env: process.env, stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim();
}

let startedHere = false;
before(function () {
  this.timeout(300_000); // may install Debian's influxdb first
  if (process.env.TEST_INFLUX_URL) return;
  if (process.env.CI || process.env.TOOLROOM_REQUIRE_SERVER) throw new Error('TEST_INFLUX_URL is not set: the InfluxDB suite cannot be skipped here');
  const [url, dir] = influx('influx_up').split(' ');
  process.env.TEST_INFLUX_URL = url;
  process.env.TEST_INFLUX_DIR = dir;
  startedHere = true;
});
after(function () {
  this.timeout(30_000);
  if (startedHere) influx('influx_down');
});

const t0 = Date.parse('2026-03-02T06:00:00Z');
let dbCounter = 0;
/** A fresh InfluxDB database per test, on the server the suite shares. */
function freshTarget(): InfluxTarget {
  const u = new URL(process.env.TEST_INFLUX_URL!);
  u.pathname = `/outbox_${process.pid}_${++dbCounter}`;
  return parseInfluxUrl(u.toString());
}
const urlOf = (t: InfluxTarget) => `${t.base}/${t.database}`;

/** `n` counted readings over 5 presses, each source's readings 100 ms apart. */
function points(n: number): ShotPoint[] {
  const lifetime = [0, 0, 0, 0, 0];
  return Array.from({ length: n }, (_, i) => {
    const p = i % 5;
    const delta = 1 + (i % 7);
    lifetime[p] += delta;
    return {
      tool: `M-100${p}`,
      press: `P-0${p}`,
      source: `ns=2;s=Press ${p}.MachineCycleCounter`,
      delta,
      lifetime: lifetime[p],
      cycleTimeMs: 11_000 + (i % 1000),
      at: new Date(t0 + Math.floor(i / 5) * 100).toISOString(),
    };
  });
}

async function enqueue(db: Db, list: ShotPoint[]): Promise<void> {
  await db.transaction((trx) => enqueueShots(trx, list));
}

async function influxTotals(target: InfluxTarget): Promise<{ n: number; delta: number; cycle: number }> {
  const [r] = await query(target, 'SELECT count(delta) AS n, sum(delta) AS delta, sum(cycle_time_ms) AS cycle FROM shots');
  const row = r.series?.[0]?.values[0];
  return row ? { n: Number(row[1]), delta: Number(row[2]), cycle: Number(row[3]) } : { n: 0, delta: 0, cycle: 0 };
}

/** What InfluxDB must hold for these points. */
function totals(list: ShotPoint[]): { n: number; delta: number; cycle: number } {
  return { n: list.length, delta: list.reduce((s, p) => s + p.delta, 0), cycle: list.reduce((s, p) => s + (p.cycleTimeMs ?? 0), 0) };
}

/**
 * The same InfluxDB behind a pass-through HTTP proxy that runs `beforeWrite` while a write is in
 * flight (after the drainer read the batch, before InfluxDB's answer). Not a mock: every request
 * goes to the real influxd and its answer comes back as it is.
 */
async function interceptWrites(target: InfluxTarget, beforeWrite: () => Promise<void>): Promise<{ target: InfluxTarget; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        if (req.url!.startsWith('/write')) await beforeWrite();
        const upstream = await fetch(`${target.base}${req.url}`, { method: req.method, headers: { 'content-type': req.headers['content-type'] ?? 'text/plain' }, body: chunks.length ? Buffer.concat(chunks) : undefined });
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' });
        res.end(Buffer.from(await upstream.arrayBuffer()));
      })().catch((err: Error) => res.writeHead(502).end(err.message));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { target: { ...target, base: `http://127.0.0.1:${port}` }, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function unsentRows(db: Db): Promise<number> {
  const [{ n }] = (await db('outbox').where('topic', 'shots').whereNull('sent_at').count({ n: '*' })) as { n: string | number }[];
  return Number(n);
}

async function waitFor(cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('line protocol', () => {
  it('formats a shots point with sorted tags, integer fields and a nanosecond timestamp', () => {
    const line = shotLine({ tool: 'M-1001', press: 'P-07', source: 'ns=2;s=P7.Counter', delta: 5, lifetime: 120_005, cycleTimeMs: 11_800, at: '2026-03-02T06:00:00.123Z' });
    assert.equal(line, 'shots,press=P-07,source=ns\\=2;s\\=P7.Counter,tool=M-1001 delta=5i,lifetime=120005i,cycle_time_ms=11800i 1772431200123000000');
  });

  it('leaves out unknown tags and fields rather than writing empty ones', () => {
    assert.equal(shotLine({ tool: null, press: '', source: 'manual', delta: 3, lifetime: null, cycleTimeMs: null, at: '1970-01-01T00:00:01Z' }), 'shots,source=manual delta=3i 1000000000');
  });

  it('escapes commas, equals signs and spaces in tags; line breaks and a trailing backslash cannot be escaped', () => {
    assert.equal(escapeTag('a b,c=d'), 'a\\ b\\,c\\=d');
    assert.equal(escapeTag('two\nlines'), 'two\\ lines');
    assert.equal(escapeTag('C:\\dir\\'), 'C:\\dir');
    assert.equal(nanoseconds(new Date(1)), '1000000');
  });
});

describe('InfluxDB URL', () => {
  it('reads database, retention policy and credentials from INFLUX_URL', () => {
    assert.deepEqual(parseInfluxUrl('http://127.0.0.1:8086/toolroom'), { base: 'http://127.0.0.1:8086', database: 'toolroom', retentionPolicy: null, authorization: null });
    const t = parseInfluxUrl('https://grafana:s%3Acret@influx.plant:8086/proxy/toolroom?rp=year');
    assert.equal(t.base, 'https://influx.plant:8086/proxy');
    assert.equal(t.retentionPolicy, 'year');
    assert.equal(t.authorization, `Basic ${Buffer.from('grafana:s:cret').toString('base64')}`);
    assert.throws(() => parseInfluxUrl('http://127.0.0.1:8086/'), /names no database/);
    assert.throws(() => parseInfluxUrl('influx:8086/x'), /http/);
  });

  it('describes the ids of a batch as runs of consecutive ids, whatever their order', () => {
    assert.deepEqual(runsOf([4, 5, 6, 7]), [[4, 7]]);
    assert.deepEqual(runsOf([1, 2, 3, 5, 7, 8]), [[1, 3], [5, 5], [7, 8]]);
    assert.deepEqual(runsOf([8, 2, 7, 1, 3]), [[1, 3], [7, 8]]);
    assert.deepEqual(runsOf([]), []);
  });

  it('backs off exponentially, capped', () => {
    for (const [n, expect] of [[1, 500], [2, 1000], [5, 8000], [20, 60_000]] as const) {
      const ms = backoffMs(n, 500, 60_000);
      assert.ok(ms >= expect * 0.8 && ms <= expect * 1.2, `${n}: ${ms}`);
    }
  });
});

for (const backend of backends) {
  describe(`outbox drain to InfluxDB [${backend.name}]`, function () {
    this.timeout(60_000);
    let db: Db;
    before(async () => {
      db = await (backend as Backend).db();
    });
    beforeEach(() => resetData(db));

    it('writes the exact points in batches of 5,000 and deletes them once sent', async () => {
      const target = freshTarget();
      await createDatabase(target);
      const list = points(12_345);
      await enqueue(db, list);
      const r = await drainOnce(db, target);
      assert.deepEqual(r, { sent: 12_345, batches: 3, rejected: 0 });
      assert.equal(await countRows(db, 'outbox'), 0);
      assert.deepEqual(await influxTotals(target), totals(list));
      // Per tool, too: the tags arrived intact.
      const [byTool] = await query(target, 'SELECT sum(delta) FROM shots GROUP BY tool');
      assert.equal(byTool.series?.length, 5);
      for (const s of byTool.series!) assert.equal(Number(s.values[0][1]), totals(list.filter((p) => p.tool === s.tags!.tool)).delta);
      // One point exactly: timestamp in ns and every field.
      const [one] = await query(target, `SELECT delta, lifetime, cycle_time_ms, press, tool FROM shots WHERE source = 'ns=2;s=Press 3.MachineCycleCounter' ORDER BY time LIMIT 1`);
      assert.deepEqual(one.series?.[0].values[0], [t0 * 1e6, 4, 4, 11_003, 'P-03', 'M-1003']);
      assert.deepEqual(await drainOnce(db, target), { sent: 0, batches: 0, rejected: 0 });
    });

    it('keeps rows unsent while InfluxDB is stopped, then drains them once it is back, with no duplicates', async function () {
      this.timeout(120_000);
      const target = freshTarget();
      await createDatabase(target);
      const list = points(9000);
      await enqueue(db, list.slice(0, 4000));
      assert.equal((await drainOnce(db, target, { batchSize: 5000 })).sent, 4000);
      // A crash between InfluxDB's 204 and the delete: these 3,000 points are in InfluxDB, their rows
      // still in the outbox, so they go again.
      await enqueue(db, list.slice(4000, 7000));
      await writeLines(target, list.slice(4000, 7000).map(shotLine).join('\n'));
      await enqueue(db, list.slice(7000));
      influx('influx_stop');
      try {
        const err = await drainOnce(db, target).then(() => null, (e: unknown) => e);
        assert.ok(err instanceof InfluxError && err.status === null, String(err));
        const { rows } = await db.raw('SELECT count(*) AS n, min(attempts) AS a, max(attempts) AS b, min(last_error) AS e FROM outbox');
        assert.equal(Number(rows[0].n), 5000);
        assert.deepEqual([Number(rows[0].a), Number(rows[0].b)], [1, 1], 'one failed attempt each');
        assert.match(rows[0].e, /unreachable/);
      } finally {
        influx('influx_start');
      }
      const r = await drainOnce(db, target);
      assert.equal(r.sent, 5000);
      assert.equal(await countRows(db, 'outbox'), 0);
      assert.deepEqual(await influxTotals(target), totals(list));
    });

    it('a running drainer retries with backoff while InfluxDB is down and drains when it returns', async function () {
      this.timeout(120_000);
      const target = freshTarget();
      const seen: DrainerStatus[] = [];
      const list = points(3500);
      influx('influx_stop');
      let drainer: Drainer | undefined;
      try {
        await enqueue(db, list.slice(0, 3000));
        drainer = startDrainer({ db, url: urlOf(target), pollMs: 50, minBackoffMs: 50, maxBackoffMs: 400, onStatus: (s) => seen.push(s) });
        await waitFor(() => seen.filter((s) => s.state === 'error').length >= 3);
        const retries = seen.filter((s) => s.state === 'error').map((s) => s.retryInMs!);
        assert.ok(retries.every((ms) => ms <= 400 * 1.2), `capped: ${retries}`);
        assert.ok(retries[2] > retries[0], `grows: ${retries}`);
        assert.equal(await unsentRows(db), 3000);
      } finally {
        influx('influx_start');
      }
      // The database did not exist: the drainer creates it.
      const running = drainer!;
      await waitFor(async () => (await unsentRows(db)) === 0);
      await enqueue(db, list.slice(3000));
      running.wake();
      await waitFor(() => running.status().sent === 3500);
      await running.stop();
      assert.equal(running.status().state, 'stopped');
      assert.deepEqual(await influxTotals(target), totals(list));
    });

    it('round-trips awkward tag values', async () => {
      const target = freshTarget();
      await createDatabase(target);
      const sources = ['ns=2;s=Line 1,Press=7', 'with "quotes"', 'trailing\\', 'back\\slash inside', 'two\nlines', 'ümlaut Öl'];
      await enqueue(db, sources.map((source, i) => ({ tool: 'M 1,=x', press: 'P=1', source, delta: 1, lifetime: i + 1, cycleTimeMs: null, at: new Date(t0 + i).toISOString() })));
      assert.equal((await drainOnce(db, target)).sent, sources.length);
      const [r] = await query(target, 'SHOW TAG VALUES FROM shots WITH KEY = "source"');
      const stored = r.series![0].values.map((v) => v[1]).sort();
      assert.deepEqual(stored, ['back\\slash inside', 'ns=2;s=Line 1,Press=7', 'trailing', 'two lines', 'with "quotes"', 'ümlaut Öl'].sort());
      const [tags] = await query(target, 'SHOW TAG VALUES FROM shots WITH KEY IN ("tool", "press")');
      assert.deepEqual(tags.series![0].values.map((v) => v[1]).sort(), ['M 1,=x', 'P=1']);
    });

    it('formats a row written as a point without its line, and sends a {line} payload of an older version', async () => {
      const target = freshTarget();
      await createDatabase(target);
      const list = points(4);
      await enqueue(db, list.slice(0, 1));
      await db('outbox').insert({ topic: 'shots', payload: JSON.stringify(list[1]) });
      await db('outbox').insert({ topic: 'shots', payload: JSON.stringify({ line: shotLine(list[2]) }) });
      await enqueue(db, list.slice(3));
      assert.deepEqual(await drainOnce(db, target), { sent: 4, batches: 1, rejected: 0 });
      assert.deepEqual(await influxTotals(target), totals(list));
      assert.equal(await countRows(db, 'outbox'), 0);
    });

    it('deletes exactly the rows it sent across gaps in ids: other topics, parked rows, rolled-back ids', async () => {
      const target = freshTarget();
      await createDatabase(target);
      const list = points(60);
      await enqueue(db, list.slice(0, 20)); // ids 1-20
      await db('outbox').insert({ topic: 'grafana', payload: JSON.stringify({ note: 'another topic' }) }); // 21
      await enqueue(db, list.slice(20, 30)); // 22-31
      await db.transaction(async (trx) => {
        await enqueueShots(trx, points(5)); // 32-36: rolled back, their ids never come back
        await trx.rollback();
      }).catch(() => undefined);
      await enqueue(db, list.slice(30, 60)); // 37-66
      await db('outbox').where('id', 40).update({ topic: SHOTS_REJECTED_TOPIC, last_error: 'by hand' });
      // Batches of 7 straddle the gaps: 15-20 + 22, and 30-31 + 37-39 + 41-42.
      const r = await drainOnce(db, target, { batchSize: 7 });
      assert.deepEqual(r, { sent: 59, batches: 9, rejected: 0 });
      assert.deepEqual(await influxTotals(target), totals(list.filter((_, i) => i !== 33)));
      const left = await db('outbox').orderBy('id').select('id', 'topic', 'attempts', 'last_error');
      assert.deepEqual(left.map((x) => [Number(x.id), x.topic, x.attempts, x.last_error]), [
        [21, 'grafana', 0, null],
        [40, SHOTS_REJECTED_TOPIC, 0, 'by hand'],
      ]);
    });

    it('never deletes a row that committed with a smaller id while its batch was in flight', async function () {
      // Needs two connections at once (a transaction left open beside the drainer): the server only.
      if (backend.name !== 'postgres') this.skip();
      const target = freshTarget();
      await createDatabase(target);
      const list = points(21);
      await enqueue(db, list.slice(0, 10)); // ids 1-10
      const late = await db.transaction();
      await enqueueShots(late, list.slice(10, 11)); // id 11, not committed yet
      await enqueue(db, list.slice(11)); // 12-21
      let committed = false;
      const proxy = await interceptWrites(target, async () => {
        if (committed) return;
        committed = true;
        await late.commit(); // row 11 is now visible, but the batch in flight was read without it
      });
      try {
        assert.equal((await drainOnce(db, proxy.target)).sent, 20);
        assert.ok(committed);
        // A delete from the first to the last id read would have taken row 11 unsent.
        assert.deepEqual((await db('outbox').select('id')).map((x) => Number(x.id)), [11]);
        assert.equal((await drainOnce(db, proxy.target)).sent, 1);
      } finally {
        if (!late.isCompleted()) await late.rollback();
        await proxy.close();
      }
      assert.deepEqual(await influxTotals(target), totals(list));
      assert.equal(await countRows(db, 'outbox'), 0);
    });

    it('parks a point InfluxDB refuses on its own and writes the rest of its batch', async () => {
      const target = freshTarget();
      await createDatabase(target);
      const list = points(2000);
      // Beyond InfluxDB's time range (year 2300): refused for good, whatever the retries.
      list[1234] = { ...list[1234], at: '2300-01-01T00:00:00Z' };
      await enqueue(db, list);
      const r = await drainOnce(db, target);
      assert.deepEqual(r, { sent: 1999, batches: 1, rejected: 1 });
      const { rows } = await db.raw('SELECT id, topic, last_error, sent_at FROM outbox WHERE topic <> ?', ['shots']);
      assert.equal(rows.length, 1);
      assert.equal(Number(rows[0].id), 1235);
      assert.equal(rows[0].topic, SHOTS_REJECTED_TOPIC);
      assert.equal(rows[0].sent_at, null);
      assert.match(rows[0].last_error, /HTTP 400/);
      assert.equal((await influxTotals(target)).n, 1999);
    });

    it('gives the space of sent rows back on PGlite, which has no autovacuum', async function () {
      if (backend.name !== 'pglite') this.skip(); // a server's autovacuum does it there
      const target = freshTarget();
      await createDatabase(target);
      await enqueue(db, points(20_000));
      const size = async () => Number((await db.raw("SELECT pg_relation_size('outbox') AS n")).rows[0].n);
      const full = await size();
      const drainer = startDrainer({ db, url: urlOf(target), pollMs: 20 });
      try {
        await waitFor(async () => (await size()) < full / 10);
      } finally {
        await drainer.stop();
      }
      assert.equal(await countRows(db, 'outbox'), 0);
      assert.equal((await influxTotals(target)).n, 20_000);
    });

    it('creates the database when missing and reports a refused write with its status', async () => {
      const target = freshTarget();
      await assert.rejects(writeLines(target, 'shots delta=1i 1'), (e: unknown) => e instanceof InfluxError && e.status === 404);
      await enqueue(db, points(10));
      const drainer = startDrainer({ db, url: urlOf(target), pollMs: 10_000 });
      await waitFor(() => drainer.status().state === 'idle');
      assert.equal((await drainer.drainOnce()).sent, 0);
      await drainer.stop();
      assert.equal((await influxTotals(target)).n, 10);
    });
  });
}
