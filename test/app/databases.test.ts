import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acquireDatabase, databaseKey, expandEnv, openDatabases, targetFromEnv } from '../../app/databases';
import { describeTarget, targetOf } from '../../nodes/lib/config';
import { ToolroomError } from '../../core/errors';

describe('shared databases (app/databases)', function () {
  this.timeout(60000);

  it('opens a PGlite directory once for every holder, migrated, and closes it with the last release', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-db-'));
    try {
      const a = acquireDatabase({ dataDir: dir });
      const b = acquireDatabase({ dataDir: path.join(dir, '.') }); // the same directory spelled differently
      assert.equal(a.key, b.key);
      const [dbA, dbB] = await Promise.all([a.database(), b.database()]);
      assert.equal(dbA, dbB, 'one instance');
      assert.ok((await dbA('tools').count({ n: '*' })).length === 1, 'migrated: the tools table exists');
      assert.deepEqual(openDatabases().get(a.key), { leases: 2, opened: true });
      await a.release();
      await a.release(); // a second release of the same lease counts once
      assert.equal(openDatabases().get(a.key)?.leases, 1);
      await dbB.raw('select 1');
      await b.release();
      assert.equal(openDatabases().has(a.key), false);
      assert.equal((dbA.client as { pool?: unknown }).pool, undefined, 'destroyed');
      await assert.rejects(a.database(), /released/);

      // A new holder right after the close gets a fresh instance on the same files, with the data kept.
      const c = acquireDatabase({ dataDir: dir });
      const dbC = await c.database();
      assert.notEqual(dbC, dbA);
      await dbC('presses').insert({ code: 'P1', name: 'Press 1' });
      await c.release();
      const d = acquireDatabase({ dataDir: dir });
      assert.equal((await (await d.database())('presses').count({ n: '*' }))[0].n, 1);
      await d.release();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('maintains an open PGlite database now and then (VACUUM ANALYZE)', async () => {
    const saved = process.env.TOOLROOM_PGLITE_MAINTENANCE_MINUTES;
    process.env.TOOLROOM_PGLITE_MAINTENANCE_MINUTES = '0.005'; // 300 ms
    const lease = acquireDatabase({ dataDir: ':memory:' });
    try {
      const db = await lease.database();
      const analyzed = async () =>
        (await db.raw<{ rows: { at: unknown }[] }>("SELECT last_analyze AS at FROM pg_stat_user_tables WHERE relname = 'tools'")).rows[0]?.at ?? null;
      const end = Date.now() + 10_000;
      while ((await analyzed()) === null && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      assert.notEqual(await analyzed(), null, 'analyzed within 10 s at a 300 ms interval');
    } finally {
      if (saved === undefined) delete process.env.TOOLROOM_PGLITE_MAINTENANCE_MINUTES;
      else process.env.TOOLROOM_PGLITE_MAINTENANCE_MINUTES = saved;
      await lease.release();
    }
  });

  it('waits for a closing database before opening it again', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-db-'));
    try {
      const a = acquireDatabase({ dataDir: dir });
      const dbA = await a.database();
      const closing = a.release(); // not awaited: a redeploy's new node arrives while the old one closes
      const b = acquireDatabase({ dataDir: dir });
      const dbB = await b.database();
      await closing;
      assert.notEqual(dbB, dbA);
      assert.deepEqual((await dbB.raw('select 1 as one')).rows, [{ one: 1 }]);
      await b.release();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a server that does not answer, and tries again on the next call', async () => {
    const lease = acquireDatabase({ url: 'postgres://nobody@127.0.0.1:1/none?connect_timeout=2' });
    await assert.rejects(lease.database(), /ECONNREFUSED|connect/);
    await assert.rejects(lease.database(), /ECONNREFUSED|connect/);
    assert.equal(openDatabases().get(lease.key)?.opened, false, 'the failure is not kept');
    await lease.release();
    assert.equal(openDatabases().has(lease.key), false);
  });

  it('expands ${NAME} from the environment, TOOLROOM_DATA_DIR defaulting to ./data', () => {
    assert.equal(expandEnv('${TOOLROOM_DATA_DIR}/pglite', {}), './data/pglite');
    assert.equal(expandEnv('${TOOLROOM_DATA_DIR}/pglite', { TOOLROOM_DATA_DIR: '/srv/tr' }), '/srv/tr/pglite');
    assert.equal(expandEnv('${INFLUX_URL}', {}), '');
    assert.equal(expandEnv('plain', {}), 'plain');
    assert.deepEqual(targetFromEnv({ TOOLROOM_DATA_DIR: '/srv/tr' }), { dataDir: '/srv/tr/pglite' });
    assert.deepEqual(targetFromEnv({ DATABASE_URL: 'postgres://h/db' }), { url: 'postgres://h/db' });
    assert.notEqual(databaseKey({ dataDir: ':memory:' }), databaseKey({ dataDir: 'memory' }));
  });

  it('resolves a config node\'s database and never shows its password', () => {
    const env = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      assert.deepEqual(targetOf({ id: 'c', type: 'toolroom-config', backend: 'pglite', dataDir: '/x/y' }, {}), { dataDir: '/x/y' });
      assert.deepEqual(targetOf({ id: 'c', type: 'toolroom-config', backend: 'pglite', dataDir: ' ' }, {}), {
        dataDir: expandEnv('${TOOLROOM_DATA_DIR}/pglite'),
      });
      assert.deepEqual(targetOf({ id: 'c', type: 'toolroom-config', backend: 'postgres' }, { url: 'postgres://u:p@h/db' }), { url: 'postgres://u:p@h/db' });
      assert.ok('dataDir' in targetOf({ id: 'c', type: 'toolroom-config', backend: 'env' }, {}));
      assert.throws(
        () => targetOf({ id: 'c', type: 'toolroom-config', backend: 'postgres' }, {}),
        (e: unknown) => e instanceof ToolroomError && e.code === 'validation' && e.cause.details[0].field === 'url',
      );
      assert.equal(describeTarget({ url: 'postgres://u:secret@h:5432/db' }), 'PostgreSQL postgres://u:***@h:5432/db');
    } finally {
      if (env !== undefined) process.env.DATABASE_URL = env;
    }
  });
});
