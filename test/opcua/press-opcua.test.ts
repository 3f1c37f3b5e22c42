import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ToolroomError } from '../../core/errors';
import { parse } from '../../core/validate';
import { shotReadingInput } from '../../core/shots/schema';
import { counterValue, defaultNodeIds, pressWatchOptions, readingSource, type PressReading } from '../../nodes/lib/opcua-press-client';
import type { NodeMessage } from '../../nodes/lib/red';
import { simulatorNodeId, startPressSimulator, type PressSimulator } from '../../sim/press-simulator';
import { helper, statuses, statusUntil, type TestNode } from '../support/nodes';

/* eslint-disable @typescript-eslint/no-require-imports */
const pressNode = require('../../nodes/toolroom-press-opcua');
const injectNode = require('@node-red/nodes/core/common/20-inject.js');
const changeNode = require('@node-red/nodes/core/function/15-change.js');
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * toolroom-press-opcua against the real in-process press simulator (node-opcua server) in a real
 * Node-RED runtime: readings, job and mould changes, a server restart, redeploys, security.
 */

interface ReadingMsg extends NodeMessage {
  payload: PressReading;
  opcua: { endpoint: string; numCavities: number | null; cause: 'connect' | 'change' };
}

/** Every message a helper node receives, and a wait for the first (from `from` on) that matches. */
function recorder(node: TestNode) {
  const seen: ReadingMsg[] = [];
  node.on('input', (msg) => seen.push(msg as ReadingMsg));
  return {
    seen,
    async until(check: (m: ReadingMsg) => boolean, from = 0, ms = 15000): Promise<ReadingMsg> {
      const end = Date.now() + ms;
      for (;;) {
        const hit = seen.slice(from).find(check);
        if (hit) return hit;
        if (Date.now() > end) throw new Error(`no reading matched within ${ms} ms; saw ${JSON.stringify(seen.map((m) => m.payload.counter))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('toolroom-press-opcua settings', () => {
  it('defaults to the EUROMAP 77 node ids the simulator serves, under the press code', () => {
    const o = pressWatchOptions({ id: 'n', type: 'toolroom-press-opcua', endpoint: ' opc.tcp://press-01:4840/ ', press: 'P01' }, {});
    assert.deepEqual(o.nodeIds, defaultNodeIds('P01'));
    assert.equal(o.nodeIds.counter, simulatorNodeId('P01', 'MachineCycleCounter'));
    assert.equal(o.nodeIds.mouldId, simulatorNodeId('P01', 'MouldId'));
    assert.deepEqual([o.securityMode, o.securityPolicy, o.user, o.samplingIntervalMs], ['None', 'None', undefined, 100]);
    assert.equal(readingSource(o.endpoint, o.nodeIds.counter), 'opc.tcp://press-01:4840#ns=1;s=Machines/P01/Jobs/ActiveJobValues/MachineCycleCounter');
  });

  it('takes the job counter, a machine name, own node ids, security and a user', () => {
    const o = pressWatchOptions(
      {
        id: 'n',
        type: 'toolroom-press-opcua',
        endpoint: 'opc.tcp://10.0.0.5:4840',
        press: 'P02',
        machine: 'IMM_7',
        counter: 'JobCycleCounter',
        mouldIdNodeId: 'ns=4;i=6021',
        securityMode: 'SignAndEncrypt',
      },
      { username: 'mes', password: 'secret' },
    );
    assert.equal(o.nodeIds.counter, 'ns=1;s=Machines/IMM_7/Jobs/ActiveJobValues/JobCycleCounter');
    assert.equal(o.nodeIds.mouldId, 'ns=4;i=6021');
    assert.deepEqual([o.securityMode, o.securityPolicy], ['SignAndEncrypt', 'Basic256Sha256']);
    assert.deepEqual(o.user, { username: 'mes', password: 'secret' });
  });

  it('names every setting that cannot work', () => {
    try {
      pressWatchOptions(
        { id: 'n', type: 't', endpoint: 'http://press:4840', press: ' ', counter: 'ShotCounter', securityMode: 'Sign', securityPolicy: 'None', samplingInterval: -5 },
        {},
      );
      assert.fail('expected a validation error');
    } catch (err) {
      assert.ok(err instanceof ToolroomError);
      assert.equal(err.code, 'validation');
      assert.deepEqual(
        err.cause.details.map((d) => `${d.field}:${d.rule}`).sort(),
        ['counter:one_of', 'endpoint:opc_tcp_url', 'press:press_code', 'samplingInterval:range', 'securityPolicy:secure_policy'],
      );
    }
  });

  it('turns UInt64 words into a number, or digits beyond 2^53', () => {
    assert.equal(counterValue([0, 42]), 42);
    assert.equal(counterValue([1, 5]), 2 ** 32 + 5);
    assert.equal(counterValue([0xffffffff, 0xffffffff]), '18446744073709551615');
    assert.equal(counterValue(7), 7);
    assert.equal(counterValue(-1), null);
    assert.equal(counterValue('12'), null);
  });
});

describe('toolroom-press-opcua node on the press simulator', function () {
  this.timeout(60000);
  let root: string;
  let sim: PressSimulator;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-opcua-'));
    sim = await startPressSimulator({
      port: 0,
      certificateRoot: path.join(root, 'simulator'),
      presses: [
        { name: 'P01', mouldId: 'M-1001', cavities: 4, cycleTimeMs: 0, machineCycleCounter: 120_000 },
        { name: 'P02', mouldId: 'M-1002', cavities: 2, cycleTimeMs: 0 },
        { name: 'P03', mouldId: 'M-1003', cavities: 1, cycleTimeMs: 40 },
      ],
      users: [{ username: 'mes', password: 'secret' }],
    });
  });
  after(async () => {
    await sim?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(function (done) {
    helper.unload().then(() => helper.stopServer(done), done);
  });

  /** One press node per entry → its own helper node. */
  async function deploy(nodes: Record<string, unknown>[], credentials: Record<string, object> = {}) {
    await helper.load(
      [pressNode],
      [
        { id: 'flow', type: 'tab' },
        ...nodes.flatMap((n, i) => [
          { id: `press${i}`, type: 'toolroom-press-opcua', z: 'flow', endpoint: sim.endpoint, pkiDir: path.join(root, 'client'), wires: [[`out${i}`]], ...n },
          { id: `out${i}`, type: 'helper', z: 'flow' },
        ]),
      ],
      credentials,
    );
    return nodes.map((_n, i) => ({ node: helper.getNode(`press${i}`), out: recorder(helper.getNode(`out${i}`)) }));
  }

  it('reads the counter on connect, then sends each change as a reading toolroom-shot-count accepts', async () => {
    const p01 = sim.press('P01');
    const [{ node, out }] = await deploy([{ press: 'P01' }]);
    const first = await out.until(() => true);
    assert.equal(first.opcua.cause, 'connect');
    assert.equal(first.payload.counter, Number(p01.values().machineCycleCounter));
    assert.deepEqual(
      { ...first.payload, at: undefined },
      {
        press: 'P01',
        counter: Number(p01.values().machineCycleCounter),
        at: undefined,
        source: `${sim.endpoint}#${simulatorNodeId('P01', 'MachineCycleCounter')}`,
        cycleTimeMs: 0,
        mouldId: 'M-1001',
        counterType: 'UInt64',
      },
    );
    assert.equal(first.opcua.numCavities, 4);
    assert.ok(Date.parse(first.payload.at) <= Date.now());
    await statusUntil(node, (s) => s.fill === 'green' && s.shape === 'dot');
    assert.deepEqual(statuses(node)[0], { fill: 'yellow', shape: 'ring', text: 'toolroom-press-opcua.status.connecting' });
    // The contract with toolroom-shot-count: its input schema takes the payload as it is.
    assert.equal(parse(shotReadingInput, first.payload).counter, BigInt(first.payload.counter));

    const n = out.seen.length;
    p01.step(1);
    const second = await out.until((m) => m.payload.counter === first.payload.counter as number + 1, n);
    p01.step(3);
    const third = await out.until((m) => m.payload.counter === first.payload.counter as number + 4, n);
    assert.equal(second.opcua.cause, 'change');
    assert.ok(Date.parse(third.payload.at) > Date.parse(second.payload.at), 'later cycles, later readings');
    const counters = out.seen.map((m) => m.payload.counter as number);
    assert.deepEqual([...counters].sort((a, b) => a - b), counters, 'counters only grow');
    assert.equal(new Set(out.seen.map((m) => `${m.payload.counter}@${m.payload.at}`)).size, out.seen.length, 'no reading twice');
  });

  it('follows a running press: the last reading equals the press counter', async () => {
    const p03 = sim.press('P03');
    const [{ out }] = await deploy([{ press: 'P03', samplingInterval: 20 }]);
    await out.until(() => true);
    await wait(600);
    p03.pause();
    const total = Number(p03.values().machineCycleCounter);
    const last = await out.until((m) => m.payload.counter === total);
    assert.equal(last.payload.cycleTimeMs, 40);
    assert.ok(out.seen.length >= 3, `readings as the press cycles (${out.seen.length})`);
    p03.resume();
  });

  it('JobCycleCounter: a job change resets it, and the reading says so', async () => {
    const p02 = sim.press('P02');
    p02.jobChange();
    const [{ out }] = await deploy([{ press: 'P02', counter: 'JobCycleCounter' }]);
    const first = await out.until(() => true);
    assert.equal(first.payload.counter, 0);
    assert.equal(first.payload.source, `${sim.endpoint}#${simulatorNodeId('P02', 'JobCycleCounter')}`);
    p02.step(5);
    await out.until((m) => m.payload.counter === 5);
    const n = out.seen.length;
    p02.jobChange();
    const reset = await out.until((m) => m.payload.counter === 0, n);
    assert.ok(Date.parse(reset.payload.at) >= Date.parse(out.seen[n - 1].payload.at));
    p02.step(2);
    await out.until((m) => m.payload.counter === 2, n);
    assert.ok(Number(p02.values().machineCycleCounter) >= 7, 'the machine counter went on through the job change');
  });

  it('a mould change shows in mouldId (and NumCavities) with the counter as it stands', async () => {
    const p02 = sim.press('P02');
    p02.mouldChange('M-1002', 2);
    const [{ out }] = await deploy([{ press: 'P02' }]);
    const first = await out.until(() => true);
    assert.equal(first.payload.mouldId, 'M-1002');
    const n = out.seen.length;
    p02.mouldChange('M-1007', 8);
    const changed = await out.until((m) => m.payload.mouldId === 'M-1007', n);
    assert.equal(changed.payload.counter, first.payload.counter, 'no cycle yet on the new mould');
    assert.equal(changed.opcua.numCavities, 8);
    assert.ok(Date.parse(changed.payload.at) > Date.parse(first.payload.at), 'at the mould change, after the last cycle');
    p02.step(1);
    const cycled = await out.until((m) => m.payload.counter === (first.payload.counter as number) + 1, n);
    assert.equal(cycled.payload.mouldId, 'M-1007');
    p02.mouldChange('M-1002', 2);
  });

  it('server restart: red, then green again, and a reading with the counter as it is after the cycles run meanwhile', async () => {
    const p01 = sim.press('P01');
    const [{ node, out }] = await deploy([{ press: 'P01' }]);
    await out.until(() => true);
    await statusUntil(node, (s) => s.fill === 'green');
    const shown = statuses(node).length;
    const n = out.seen.length;

    const restarting = sim.restart({ downMs: 1500 });
    await statusUntil(node, (s) => s.fill === 'red' && s.shape === 'ring');
    p01.step(7); // cycles while the press cannot be reached
    const expected = Number(p01.values().machineCycleCounter);
    await restarting;

    const after = await out.until((m) => m.payload.counter === expected, n, 30000);
    assert.equal(after.opcua.cause, 'connect', 'read after the reconnect, not left to the next cycle');
    await statusUntil(node, (s) => s.fill === 'green' && s.shape === 'dot');
    const seq = statuses(node).slice(shown).map((s) => s.fill);
    assert.ok(seq.indexOf('red') >= 0 && seq.lastIndexOf('green') > seq.indexOf('red'), `red then green: ${seq.join(' ')}`);
    p01.step(1);
    await out.until((m) => m.payload.counter === expected + 1, n);
    assert.equal(sim.sessionCount(), 1, 'one session after the restart');
  });

  it('closes its session on redeploy and when the flow stops, and starts afresh', async () => {
    const [{ out }] = await deploy([{ press: 'P01' }, { press: 'P02' }].slice(0, 1));
    await out.until(() => true);
    assert.equal(sim.sessionCount(), 1);

    // A full redeploy of a changed node: the old client is closed before the new one connects.
    const flow = [
      { id: 'flow', type: 'tab' },
      { id: 'press0', type: 'toolroom-press-opcua', z: 'flow', endpoint: sim.endpoint, press: 'P02', pkiDir: path.join(root, 'client'), wires: [['out0']] },
      { id: 'out0', type: 'helper', z: 'flow' },
    ];
    await helper.setFlows(flow, 'full');
    const again = recorder(helper.getNode('out0'));
    const first = await again.until(() => true);
    assert.equal(first.payload.press, 'P02');
    assert.equal(sim.sessionCount(), 1, 'the old session was closed');

    await helper.unload();
    assert.equal(sim.sessionCount(), 0, 'closed by the time the stop returns');
  });

  it('a redeploy while the press cannot be reached stops retrying at once', async () => {
    const [{ node }] = await deploy([{ press: 'P01', endpoint: 'opc.tcp://127.0.0.1:1' }]);
    await statusUntil(node, (s) => s.fill === 'red');
    const started = Date.now();
    await helper.unload();
    assert.ok(Date.now() - started < 5000, `stopped in ${Date.now() - started} ms`);
  });

  it('two presses on one server: each its own source', async () => {
    const [a, b] = await deploy([{ press: 'P01' }, { press: 'P02' }]);
    const [ra, rb] = await Promise.all([a.out.until(() => true), b.out.until(() => true)]);
    assert.deepEqual([ra.payload.press, rb.payload.press], ['P01', 'P02']);
    assert.notEqual(ra.payload.source, rb.payload.source);
    assert.equal(sim.sessionCount(), 2);
  });

  it('SignAndEncrypt with a user and password; a wrong password is an error status', async () => {
    const [good, bad] = await deploy(
      [
        { press: 'P01', securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256' },
        { press: 'P02', securityMode: 'Sign', securityPolicy: 'Aes128_Sha256_RsaOaep' },
      ],
      { press0: { username: 'mes', password: 'secret' }, press1: { username: 'mes', password: 'wrong' } },
    );
    const reading = await good.out.until(() => true);
    assert.equal(reading.payload.press, 'P01');
    await statusUntil(good.node, (s) => s.fill === 'green');
    await statusUntil(bad.node, (s) => s.fill === 'red');
    await wait(300);
    assert.equal(bad.out.seen.length, 0, 'no reading without a login');
  });

  it('a wrong counter node id is an error status, and no reading', async () => {
    const [{ node, out }] = await deploy([{ press: 'P01', counterNodeId: 'ns=1;s=Machines/P01/NoSuchCounter' }]);
    await statusUntil(node, (s) => s.fill === 'red' && s.shape === 'ring');
    await wait(300);
    assert.equal(out.seen.length, 0);
  });

  it('invalid settings: red status, no connection', async () => {
    const before = sim.sessionCount();
    const [{ node }] = await deploy([{ press: 'P01', endpoint: 'http://127.0.0.1:80' }]);
    await statusUntil(node, (s) => s.fill === 'red');
    assert.equal(statuses(node).at(-1)?.text, 'toolroom-press-opcua.status.invalid');
    assert.equal(sim.sessionCount(), before);
  });
});

describe('example: readings from another source through a change node', function () {
  this.timeout(30000);
  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(function (done) {
    helper.unload().then(() => helper.stopServer(done), done);
  });

  it('shapes an MQTT-like counter and a manual entry into readings toolroom-shot-count accepts', async () => {
    const file = path.resolve(__dirname, '../../../examples/toolroom-press-opcua-other-sources.json');
    const example = JSON.parse(fs.readFileSync(file, 'utf8')) as { id: string; type: string; name?: string; wires?: string[][] }[];
    // toolroom-shot-count is stood in for by a helper node with its id: what reaches it is checked.
    const shotCount = example.find((n) => n.type === 'toolroom-shot-count')!;
    const flow = example
      .filter((n) => ['inject', 'change'].includes(n.type))
      .map((n) => ({ ...n, z: 'flow' }))
      .concat([{ id: shotCount.id, type: 'helper', z: 'flow' }]);
    await helper.load([injectNode, changeNode], [{ id: 'flow', type: 'tab' }, ...flow]);
    const into = recorder(helper.getNode(shotCount.id) as TestNode);
    const injects = example.filter((n) => n.type === 'inject');
    for (const i of injects) (helper.getNode(i.id) as TestNode).receive({});
    await into.until(() => into.seen.length === injects.length);
    const readings = into.seen.map((m) => m.payload as unknown as Record<string, unknown>);
    const counter = readings.find((r) => 'counter' in r)!;
    assert.deepEqual(counter, { press: 'P02', counter: 1234, source: 'mqtt:plant/P02/cycles' });
    assert.equal(into.seen.find((m) => 'counter' in (m.payload as object))!.topic, undefined, 'no topic left to pick an operation');
    const manual = readings.find((r) => 'shots' in r)!;
    assert.deepEqual(manual, { tool: 'M-1003', shots: 500 });
    for (const r of readings) parse(shotReadingInput, r);
  });
});
