import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { safeNext } from '../../http/login/login';
import { applicationFlows, optionsFrom } from '../../app/start';
import { demoSimulatorOptions } from '../../app/simulator';

describe('start options and application flows', () => {
  it('defaults to port 1880 on 127.0.0.1 with ./data, seeding, no simulator', () => {
    assert.deepEqual(optionsFrom([], {}), { port: 1880, host: '127.0.0.1', dataDir: path.resolve('data'), seed: true, simulate: false, auth: true, tls: null, hsts: false });
  });

  it('reads PORT, TOOLROOM_HOST, TOOLROOM_DATA_DIR, and skips the seed with --no-seed or TOOLROOM_SEED=0', () => {
    const o = optionsFrom(['--no-seed'], { PORT: '8080', TOOLROOM_HOST: '0.0.0.0', TOOLROOM_DATA_DIR: '/srv/toolroom' });
    assert.deepEqual(o, { port: 8080, host: '0.0.0.0', dataDir: '/srv/toolroom', seed: false, simulate: false, auth: true, tls: null, hsts: false });
    assert.equal(optionsFrom([], { TOOLROOM_SEED: '0' }).seed, false);
    assert.equal(optionsFrom([], { TOOLROOM_SEED: 'false' }).seed, false);
    assert.equal(optionsFrom([], { TOOLROOM_SEED: '1' }).seed, true);
  });

  it('runs the press simulator with --simulate or TOOLROOM_SIMULATOR=1, on PRESS_SIM_PORT (48400)', () => {
    assert.equal(optionsFrom(['--simulate'], {}).simulate, true);
    assert.equal(optionsFrom([], { TOOLROOM_SIMULATOR: '1' }).simulate, true);
    assert.equal(optionsFrom([], { TOOLROOM_SIMULATOR: '0' }).simulate, false);
    assert.deepEqual(demoSimulatorOptions({}, '/srv/toolroom'), { port: 48400, cycleTimeMs: 5000, certificateRoot: '/srv/toolroom/press-simulator-pki' });
    assert.deepEqual(demoSimulatorOptions({ PRESS_SIM_PORT: '0', PRESS_SIM_CYCLE_MS: '250' }, '/d').port, 0);
    assert.throws(() => demoSimulatorOptions({ PRESS_SIM_CYCLE_MS: 'fast' }, '/d'), /PRESS_SIM_CYCLE_MS/);
  });

  it('serves HTTPS with TOOLROOM_TLS_CERT and TOOLROOM_TLS_KEY, both or neither (the error names the missing one)', () => {
    assert.deepEqual(optionsFrom([], { TOOLROOM_TLS_CERT: '/c.pem', TOOLROOM_TLS_KEY: '/k.pem' }).tls, { cert: '/c.pem', key: '/k.pem' });
    assert.throws(() => optionsFrom([], { TOOLROOM_TLS_CERT: '/c.pem' }), /TOOLROOM_TLS_KEY is not set/);
    assert.throws(() => optionsFrom([], { TOOLROOM_TLS_KEY: '/k.pem' }), /TOOLROOM_TLS_CERT is not set/);
    // HSTS over TLS unless turned off; never over plain HTTP; a typo is refused (issue 15).
    assert.equal(optionsFrom([], { TOOLROOM_TLS_CERT: '/c.pem', TOOLROOM_TLS_KEY: '/k.pem' }).hsts, true);
    assert.equal(optionsFrom([], { TOOLROOM_TLS_CERT: '/c.pem', TOOLROOM_TLS_KEY: '/k.pem', TOOLROOM_HSTS: 'off' }).hsts, false);
    assert.equal(optionsFrom([], { TOOLROOM_HSTS: 'on' }).hsts, false);
    assert.throws(() => optionsFrom([], { TOOLROOM_HSTS: 'maybe' }), /TOOLROOM_HSTS must be on or off/);
  });

  it('has login on unless TOOLROOM_AUTH=off, which only ever binds to loopback', () => {
    assert.equal(optionsFrom([], { TOOLROOM_AUTH: 'off' }).auth, false);
    assert.equal(optionsFrom([], { TOOLROOM_AUTH: 'off', TOOLROOM_HOST: '127.0.0.1' }).host, '127.0.0.1');
    assert.equal(optionsFrom([], { TOOLROOM_AUTH: 'on', TOOLROOM_HOST: '0.0.0.0' }).auth, true);
    assert.throws(() => optionsFrom([], { TOOLROOM_AUTH: 'off', TOOLROOM_HOST: '0.0.0.0' }), /TOOLROOM_HOST=0\.0\.0\.0 needs login/);
    assert.throws(() => optionsFrom([], { TOOLROOM_AUTH: '0', TOOLROOM_HOST: '192.168.1.20' }), /needs login/);
    assert.throws(() => optionsFrom([], { TOOLROOM_AUTH: 'maybe' }), /TOOLROOM_AUTH must be on or off/);
  });

  it('keeps a login redirect on this site', () => {
    assert.equal(safeNext('/dashboard/tool?asset=M-1#x'), '/dashboard/tool?asset=M-1#x');
    for (const bad of ['//evil.example', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '/a\nb', '', undefined, '/toolroom/login?next=/x', '/toolroom/logout']) {
      assert.equal(safeNext(bad), '/dashboard', String(bad));
    }
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
    // Every Toolroom node but the config and the press nodes (which talk to a press, not the database) names it.
    for (const n of flows.filter((n) => n.type.startsWith('toolroom-') && !['toolroom-config', 'toolroom-press-opcua'].includes(n.type))) {
      assert.equal(n.config, configs[0].id, n.id);
    }
  });

  it('counts the demo presses out of the box: P01..P06 on the simulator, wired into one shot counter', () => {
    const flows = applicationFlows() as { id: string; type: string; press?: string; endpoint?: string; demo?: boolean; width?: string; wires?: string[][] }[];
    const presses = flows.filter((n) => n.type === 'toolroom-press-opcua');
    assert.deepEqual(presses.map((p) => p.press).sort(), ['P01', 'P02', 'P03', 'P04', 'P05', 'P06']);
    const counter = flows.find((n) => n.type === 'toolroom-shot-count')!;
    for (const p of presses) {
      assert.equal(p.endpoint, 'opc.tcp://127.0.0.1:48400');
      assert.equal(p.demo, true, 'connects only while the simulator runs');
      assert.deepEqual(p.wires, [[counter.id]]);
    }
    assert.equal(counter.width, 'auto', "the counter's width from the press's data type");
    const reminder = flows.find((n) => n.type === 'change' && n.wires?.flat().some((id) => flows.find((m) => m.id === id)?.type === 'ui-notification'))!;
    assert.ok(counter.wires![1].includes(reminder.id), 'PM transitions from counting go to the PM reminder');
  });
});
