import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applicationFlows, optionsFrom } from '../../scripts/start';

describe('start options and application flows', () => {
  it('defaults to port 1880 on 127.0.0.1 with ./data, seeding', () => {
    assert.deepEqual(optionsFrom([], {}), { port: 1880, host: '127.0.0.1', dataDir: path.resolve('data'), seed: true });
  });

  it('reads PORT, TOOLROOM_HOST, TOOLROOM_DATA_DIR, and skips the seed with --no-seed or TOOLROOM_SEED=0', () => {
    const o = optionsFrom(['--no-seed'], { PORT: '8080', TOOLROOM_HOST: '0.0.0.0', TOOLROOM_DATA_DIR: '/srv/toolroom' });
    assert.deepEqual(o, { port: 8080, host: '0.0.0.0', dataDir: '/srv/toolroom', seed: false });
    assert.equal(optionsFrom([], { TOOLROOM_SEED: '0' }).seed, false);
    assert.equal(optionsFrom([], { TOOLROOM_SEED: 'false' }).seed, false);
    assert.equal(optionsFrom([], { TOOLROOM_SEED: '1' }).seed, true);
  });

  it('refuses a bad port or an unknown argument', () => {
    assert.throws(() => optionsFrom([], { PORT: 'http' }), /PORT must be a port number/);
    assert.throws(() => optionsFrom([], { PORT: '70000' }), /PORT/);
    assert.throws(() => optionsFrom(['--seed'], {}), /unknown argument --seed/);
  });

  it('merges flows/*.json in name order, each node once', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-flows-'));
    try {
      fs.writeFileSync(path.join(dir, 'b.json'), JSON.stringify([{ id: 'cfg', type: 'toolroom-config' }, { id: 'b1', type: 'inject' }]));
      fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify([{ id: 'cfg', type: 'toolroom-config' }, { id: 'a1', type: 'tab' }]));
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a flow');
      assert.deepEqual(applicationFlows(dir).map((n) => (n as { id: string }).id), ['cfg', 'a1', 'b1']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ships application flows that use only installed node types and one Toolroom config', () => {
    const flows = applicationFlows() as { id: string; type: string; config?: string }[];
    assert.ok(flows.some((n) => n.type === 'tab'));
    const configs = flows.filter((n) => n.type === 'toolroom-config');
    assert.equal(configs.length, 1);
    for (const n of flows.filter((n) => n.type.startsWith('toolroom-') && n.type !== 'toolroom-config')) assert.equal(n.config, configs[0].id);
  });
});
