import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createHealth, HEALTH_PATH } from '../../http/health';
import { archiveName } from '../../core/backup/retention';
import { deviceOf, isCryptDevice, type HealthOptions } from '../../core/health';
import type { Db } from '../../core/db/connect';
import { backends } from '../support/db';
import { freePort } from '../../lib/net';

/** /healthz mounted through express as app/start.ts does, with the options a test gives. */
async function serve(options: HealthOptions): Promise<{ url: string; close(): Promise<void> }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const express = require('express') as () => http.RequestListener & { use(path: string, handler: unknown): void };
  const app = express();
  app.use(HEALTH_PATH, createHealth(options, 0));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${HEALTH_PATH}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function get(url: string, init?: RequestInit): Promise<{ status: number; body: { status: string; parts: Record<string, string>; encryptedAtRest: boolean | null }; headers: Headers }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as never, headers: res.headers };
}

for (const backend of backends) {
  describe(`GET /healthz [${backend.name}]`, function () {
    this.timeout(60000);
    let db: Db;
    let tmp: string;
    let base: HealthOptions;
    before(async () => {
      db = await backend.db();
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-health-'));
      base = { database: async () => db, dataDir: tmp, minFreeBytes: 1024 };
    });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    async function check(options: Partial<HealthOptions>, init?: RequestInit) {
      const s = await serve({ ...base, ...options });
      try {
        return await get(s.url, init);
      } finally {
        await s.close();
      }
    }

    it('answers without a login: ok per part and nothing else', async () => {
      const r = await check({});
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.parts, { database: 'ok', outbox: 'ok', disk: 'ok' });
      assert.equal(r.body.status, 'ok');
      assert.deepEqual(Object.keys(r.body).sort(), ['encryptedAtRest', 'parts', 'status']);
      assert.ok(r.body.encryptedAtRest === null || typeof r.body.encryptedAtRest === 'boolean');
      assert.equal(r.headers.get('cache-control'), 'no-store');
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.equal((await check({}, { method: 'POST' })).status, 405);
    });

    it('fails with 503 when the database is unreachable or its migrations are behind', async () => {
      const down = await check({ database: () => Promise.reject(new Error('ECONNREFUSED')) });
      assert.equal(down.status, 503);
      assert.equal(down.body.status, 'failing');
      assert.equal(down.body.parts.database, 'failing');
      assert.ok(!JSON.stringify(down.body).includes('ECONNREFUSED'), 'no error detail for strangers');
      const last = await db('knex_migrations').orderBy('id', 'desc').first();
      await db('knex_migrations').where({ id: last.id }).delete();
      try {
        const behind = await check({});
        assert.equal(behind.status, 503);
        assert.equal(behind.body.parts.database, 'failing');
      } finally {
        await db('knex_migrations').insert(last);
      }
    });

    it('is degraded (200) when the outbox lags, the disk is full, InfluxDB is away or the last backup is old', async () => {
      const [row] = await db('outbox').insert({ topic: 'shots', line: 'shots,tool=M-1 n=1i 1', created_at: new Date(Date.now() - 3_600_000) }).returning('id');
      try {
        const lag = await check({});
        assert.equal(lag.status, 200);
        assert.equal(lag.body.status, 'degraded');
        assert.equal(lag.body.parts.outbox, 'failing');
        assert.equal((await check({ outboxLagMs: 2 * 3_600_000 })).body.parts.outbox, 'ok');
      } finally {
        await db('outbox').where({ id: row.id }).delete();
      }
      assert.equal((await check({ minFreeBytes: Number.MAX_SAFE_INTEGER })).body.parts.disk, 'failing');
      const away = await check({ influxUrl: `http://127.0.0.1:${await freePort()}/toolroom`, timeoutMs: 2000 });
      assert.equal(away.body.parts.influxdb, 'failing');
      assert.equal(away.body.status, 'degraded');
      if (process.env.TEST_INFLUX_URL) assert.equal((await check({ influxUrl: process.env.TEST_INFLUX_URL })).body.parts.influxdb, 'ok');
      const share = path.join(tmp, 'share');
      fs.mkdirSync(share, { recursive: true });
      assert.equal((await check({ backupDir: share })).body.parts.backup, 'failing', 'no backup yet');
      fs.writeFileSync(path.join(share, archiveName(new Date(Date.now() - 30 * 3_600_000))), '');
      assert.equal((await check({ backupDir: share })).body.parts.backup, 'failing', 'the newest is 30 hours old');
      fs.writeFileSync(path.join(share, archiveName(new Date(Date.now() - 3_600_000))), '');
      assert.equal((await check({ backupDir: share })).body.parts.backup, 'ok');
    });
  });
}

describe('is the data directory on an encrypted device', () => {
  it('finds the mount holding a directory (the longest mount point above it)', () => {
    const mountinfo = [
      '22 1 259:2 / / rw,relatime - ext4 /dev/nvme0n1p2 rw',
      '30 22 254:0 / /srv/toolroom rw,relatime - ext4 /dev/mapper/data rw',
      '31 22 0:45 / /srv/toolroom-other rw - tmpfs tmpfs rw',
    ].join('\n');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-mount-'));
    try {
      assert.equal(deviceOf(dir, mountinfo), '259:2');
      assert.equal(deviceOf(dir, mountinfo.replace('/srv/toolroom ', `${path.dirname(dir)} `)), '254:0');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('knows dm-crypt (LUKS) directly and under LVM, and a plain disk as not encrypted', () => {
    const sys = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-sys-'));
    const dev = (id: string, uuid?: string, slaves: Record<string, string> = {}) => {
      fs.mkdirSync(path.join(sys, id, 'slaves'), { recursive: true });
      if (uuid) {
        fs.mkdirSync(path.join(sys, id, 'dm'));
        fs.writeFileSync(path.join(sys, id, 'dm', 'uuid'), `${uuid}\n`);
      }
      for (const [name, slaveDev] of Object.entries(slaves)) {
        fs.mkdirSync(path.join(sys, id, 'slaves', name));
        fs.writeFileSync(path.join(sys, id, 'slaves', name, 'dev'), `${slaveDev}\n`);
      }
    };
    try {
      dev('8:2');
      dev('254:0', 'CRYPT-LUKS2-0123abcd-data', { sda2: '8:2' });
      dev('254:1', 'LVM-abcdef', { 'dm-0': '254:0' });
      dev('254:2', 'LVM-plain', { sda3: '8:2' });
      assert.equal(isCryptDevice('254:0', sys), true);
      assert.equal(isCryptDevice('254:1', sys), true, 'LVM on LUKS');
      assert.equal(isCryptDevice('254:2', sys), false);
      assert.equal(isCryptDevice('8:2', sys), false);
      assert.equal(isCryptDevice('9:9', sys), false, 'unknown device');
    } finally {
      fs.rmSync(sys, { recursive: true, force: true });
    }
  });
});
