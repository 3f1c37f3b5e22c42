/** The REST API on embedded PGlite (what a Pi runs by default): log in, write, read, log out. */
import assert from 'node:assert/strict';
import { backends, resetData } from '../support/db';
import { Client, loggedIn, startApi, type TestServer } from '../support/api-server';

const pglite = backends.find((b) => b.name === 'pglite')!;

describe('REST API smoke (pglite)', function () {
  this.timeout(60_000);
  let api: TestServer;
  before(async () => {
    const db = await pglite.db();
    await resetData(db);
    api = await startApi(db);
  });
  after(async () => api?.close());

  it('an engineer logs in, adds a press and a tool, mounts it, lists, and logs out', async () => {
    const db = await pglite.db();
    const c = await loggedIn(db, api.url, 'engineer');
    const press = await c.call('POST', '/presses', { code: 'P77', name: 'Engel 200', tonnage: 200 });
    assert.equal(press.status, 201, press.text);
    const tool = await c.call('POST', '/tools', { assetNumber: 'm-100', name: 'Lid', cavityCount: 4 });
    assert.equal(tool.status, 201, tool.text);
    assert.equal(tool.json.assetNumber, 'M-100');
    const mount = await c.call('POST', '/mounts', { assetNumber: 'M-100', pressCode: 'P77' });
    assert.equal(mount.status, 201, mount.text);
    const byAsset = await c.call('GET', '/tools/by-asset/M-100');
    assert.equal(byAsset.json.press.code, 'P77');
    const list = await c.call('GET', '/tools?status=in_press');
    assert.equal(list.json.total, 1);
    const plan = await c.call('POST', '/pm/plans', { toolId: tool.json.id, name: 'Clean vents', intervalShots: 10000 });
    assert.equal(plan.status, 201, plan.text);
    const done = await c.call('POST', `/pm/plans/${plan.json.id}/record`, { notes: 'vents clean' });
    assert.equal(done.status, 201, done.text);
    assert.equal((await c.call('DELETE', '/session')).status, 204);
    assert.equal((await c.call('GET', '/tools')).status, 401);
    assert.equal((await new Client(api.url).call('GET', '/openapi.json')).status, 200);
  });
});
