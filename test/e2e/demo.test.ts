import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { systemActor } from '../../core/auth/actor';
import { setPassword } from '../../core/accounts/service';
import type { Db } from '../../core/db/connect';
import { createUser } from '../../core/users/service';
import type { Euromap77Found } from '../../nodes/lib/opcua-browse';
import { startPressSimulator } from '../../sim/press-simulator';
import { editorToken, request } from '../support/app';
import { ownDatabase, removeDir, requireServers, startApp, until, type App } from '../support/e2e';

/**
 * The demo as a plant would first see it: `npm start -- --simulate` seeds the demo plant, runs the
 * press simulator on 48400 with P01..P06 carrying the moulds the seed mounted, and the application
 * flows count from it out of the box. A restart carries on from the counters Toolroom last saw.
 */

const PRESSES = ['P01', 'P02', 'P03', 'P04', 'P05', 'P06'];

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, () => s.close(() => resolve(true)));
  });
}

describe('end to end: the demo (npm start -- --simulate)', function () {
  this.timeout(300_000);
  let database: Awaited<ReturnType<typeof ownDatabase>>;
  let db: Db;
  let dataDir: string;
  let app: App | null = null;

  before(async function () {
    requireServers(this, ['postgres']);
    // The application flows' press nodes point at the simulator's fixed port.
    if (!(await portFree(48400))) throw new Error('port 48400 is taken (a running `npm start -- --simulate`?): the demo test needs it');
    database = await ownDatabase('demo');
    db = database.db;
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-e2e-demo-'));
  });
  after(async function () {
    this.timeout(60_000);
    await app?.stop();
    await database?.drop();
    if (dataDir) removeDir(dataDir);
  });

  const start = () => startApp({ DATABASE_URL: database.url, INFLUX_URL: '', PRESS_SIM_CYCLE_MS: '150', TOOLROOM_SEED: '' }, ['--simulate'], { dataDir });

  /** The tool the database has on each demo press now ('-' for none). */
  async function mounted(): Promise<Record<string, string>> {
    const rows = (await db('presses as p')
      .leftJoin('tool_mounts as m', (j) => j.on('m.press_id', 'p.id').andOnNull('m.unmounted_at'))
      .leftJoin('tools as t', 't.id', 'm.tool_id')
      .whereIn('p.code', PRESSES)
      .select('p.code', 't.asset_number')) as { code: string; asset_number: string | null }[];
    return Object.fromEntries(PRESSES.map((c) => [c, rows.find((r) => r.code === c)?.asset_number ?? '-']));
  }
  const lifetimes = async (tools: string[]) =>
    Object.fromEntries(((await db('tools').whereIn('asset_number', tools).select('asset_number', 'lifetime_shots')) as { asset_number: string; lifetime_shots: number | string }[]).map((r) => [r.asset_number, Number(r.lifetime_shots)]));

  /** Per demo press: shots counted from its counter against how far the counter moved since its first reading. */
  async function countedAgainstCounter(): Promise<{ press: string; counted: number; moved: number }[]> {
    const rows = (await db('shot_readings as r')
      .join('presses as p', 'p.id', 'r.press_id')
      .whereIn('p.code', PRESSES)
      .groupBy('p.code')
      .select(
        'p.code',
        db.raw("sum(r.delta) FILTER (WHERE r.outcome <> 'unattributed')::bigint AS counted"),
        db.raw("sum(r.delta) FILTER (WHERE r.outcome = 'unattributed')::bigint AS unattributed"),
        db.raw('(max(r.counter) - min(r.counter))::bigint AS moved'),
      )) as { code: string; counted: string | null; unattributed: string | null; moved: string }[];
    return rows.map((r) => ({ press: r.code, counted: Number(r.counted ?? 0) + Number(r.unattributed ?? 0), moved: Number(r.moved) }));
  }

  it('counts the seeded moulds from the simulated presses out of the box, and carries on after a restart', async () => {
    app = await start();
    assert.match(app.output(), /demo plant seeded/);
    const line = /Toolroom: press simulator (\S+), a cycle every 150 ms: (.*)/.exec(app.output());
    assert.ok(line, app.output());
    assert.equal(line[1], 'opc.tcp://127.0.0.1:48400');
    const simulated = Object.fromEntries(line[2].trim().split(' ').map((p) => p.split('=')));
    const onPresses = await mounted();
    assert.deepEqual(simulated, onPresses, 'each simulated press carries the mould the seed mounted on it');
    const tools = Object.values(onPresses).filter((t) => t !== '-');
    assert.ok(tools.length >= 3, 'the demo plant has moulds in presses');

    const first = await lifetimes(tools);
    await until('every mounted mould gains shots', async () => {
      const now = await lifetimes(tools);
      return tools.every((t) => now[t] >= first[t] + 10);
    }, 60_000);
    // Shots go to the mould on the press; a press without one counts nothing on any tool.
    const wrong = await db('shot_readings as r')
      .join('presses as p', 'p.id', 'r.press_id')
      .leftJoin('tools as t', 't.id', 'r.tool_id')
      .where('r.delta', '>', 0)
      .select('p.code', 't.asset_number', 'r.outcome');
    for (const r of wrong as { code: string; asset_number: string | null; outcome: string }[]) {
      if (onPresses[r.code] === '-') assert.equal(r.outcome, 'unattributed', r.code);
      else assert.equal(r.asset_number, onPresses[r.code], `${r.code}'s shots go to ${onPresses[r.code]}`);
    }
    assert.equal(await app.stop(), 0);
    const beforeRestart = await lifetimes(tools);

    // Second start: no seed, the same moulds, the counters where Toolroom last saw them.
    app = await start();
    assert.doesNotMatch(app.output(), /first start/);
    const again = /a cycle every 150 ms: (.*)/.exec(app.output())!;
    assert.deepEqual(Object.fromEntries(again[1].trim().split(' ').map((p) => p.split('='))), onPresses);
    await until('counting again after the restart', async () => {
      const now = await lifetimes(tools);
      return tools.every((t) => now[t] >= beforeRestart[t] + 10);
    }, 60_000);
    assert.equal(await app.stop(), 0);
    app = null;

    const odd = await db('shot_readings').whereIn('outcome', ['reset', 'held', 'rollover', 'out_of_order']).select('source', 'outcome', 'counter');
    assert.deepEqual(odd, [], 'the restarted simulator carried on from the last counter: no reset, no held jump');
    for (const p of await countedAgainstCounter()) assert.equal(p.counted, p.moved, `${p.press}: shots counted = how far its counter moved`);
  });

  it('without --simulate: each demo press says once that no press runs, and the press browser needs full editor access', async () => {
    // Its own data dir: the application flows as a first start deploys them, on the demo database.
    const plain = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-e2e-demo-plain-'));
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-e2e-demo-sim-'));
    const sim = await startPressSimulator({ port: 0, certificateRoot: root, presses: [{ name: 'IMM-1', mouldId: 'M-1', cavities: 1, cycleTimeMs: 0 }] });
    try {
      app = await startApp({ DATABASE_URL: database.url, INFLUX_URL: '', TOOLROOM_SEED: '' }, [], { dataDir: plain });
      const said = () => PRESSES.map((p) => app!.output().split(`demo press ${p}: not connecting`).length - 1);
      await until('each demo press says it is not connecting', async () => said().every((n) => n >= 1), 30_000);
      // Longer than a press node's first reconnect delays (1, 2 s): a node that tried would have said more by now.
      await new Promise((r) => setTimeout(r, 4000));
      assert.deepEqual(said(), PRESSES.map(() => 1), app.output());
      assert.doesNotMatch(app.output(), /press opc\.tcp:\/\/127\.0\.0\.1:48400/, 'no connection error');

      const system = systemActor('test');
      const password = 'Press-Browser-Secret-42';
      for (const [username, editorAccess] of [['ada14', 'full'], ['rob14', 'read']] as const) {
        const user = await createUser(db, system, { username, displayName: username, role: 'engineer', editorAccess });
        await setPassword(db, system, { userId: user.id, password, mustChange: false });
      }
      const body = JSON.stringify({ action: 'euromap77', endpoint: sim.endpoint });
      const browse = (token?: string) =>
        request(`${app!.base}/toolroom-press-opcua/browse`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        });
      assert.equal((await browse()).status, 401, 'anonymous');
      const read = await editorToken(app.base, 'rob14', password);
      assert.equal(read.status, 200);
      assert.equal((await browse(read.token)).status, 401, 'read-only editor access');
      const full = await editorToken(app.base, 'ada14', password);
      const found = await browse(full.token);
      assert.equal(found.status, 200, found.body);
      assert.deepEqual(found.json<Euromap77Found>().machines.map((m) => m.name), ['IMM-1']);
      assert.equal(sim.sessionCount(), 0, 'the browse closed its session');
      assert.equal(await app.stop(), 0);
      app = null;
    } finally {
      await sim.stop();
      removeDir(plain);
      removeDir(root);
    }
  });
});
