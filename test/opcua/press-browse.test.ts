import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataType, OPCUACertificateManager, OPCUAServer, StatusCodes, Variant, nodesets, type UAVariable } from 'node-opcua';
import { systemActor } from '../../core/auth/actor';
import type { Db } from '../../core/db/connect';
import { mountTool } from '../../core/mounts/service';
import { createPress } from '../../core/presses/service';
import { createTool } from '../../core/tools/service';
import { freePort } from '../../lib/net';
import { EUROMAP77_URIS, MACHINERY_URI, type Euromap77Found, type BrowsedNode } from '../../nodes/lib/opcua-browse';
import { SIMULATOR_ENDPOINT_ENV } from '../../nodes/lib/opcua-press-client';
import type { NodeMessage } from '../../nodes/lib/red';
import { simulatorNodeId, type PressSimulator } from '../../sim/press-simulator';
import { resetData } from '../support/db';
import { startTwoPresses } from '../support/opcua';
import { catchTo, configNode, helper, holdDatabase, nodeBackends, statuses, statusUntil, type TestNode } from '../support/nodes';

/* eslint-disable @typescript-eslint/no-require-imports */
const pressNode = require('../../nodes/toolroom-press-opcua');
const shotCountNode = require('../../nodes/toolroom-shot-count');
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * Issue 14, OPC-UA: the edit dialog's browse endpoint against the press simulator and against a
 * vendor-like server whose OPC 40077 namespace is not ns=1 (node ids of its own, numeric); the
 * counter's data type carried to toolroom-shot-count (a UInt16 rolls over with no width set; Double
 * and Int32 counters refused, naming the node id); the demo press without the simulator.
 * Real node-opcua servers in process, a real Node-RED runtime (the test helper).
 */

interface Answer<T = unknown> {
  status: number;
  body: T & { error?: { code: string; message: string; details?: { field: string; rule: string }[] } };
  text: string;
}
const admin = helper as unknown as { request(): { post(p: string): { send(body: object): PromiseLike<Answer> } } };
async function browse<T>(body: object): Promise<Answer<T>> {
  return (await admin.request().post('/toolroom-press-opcua/browse').send(body)) as Answer<T>;
}

const system = systemActor('test');
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PASSWORD = 'press-login-7731';

/** Every message a helper node receives, and a wait for the first (from `from` on) that matches. */
function recorder(node: TestNode) {
  const seen: NodeMessage[] = [];
  node.on('input', (msg) => seen.push(msg));
  return {
    seen,
    async until(check: (m: NodeMessage) => boolean, ms = 15000): Promise<NodeMessage> {
      const end = Date.now() + ms;
      for (;;) {
        const hit = seen.find(check);
        if (hit) return hit;
        if (Date.now() > end) throw new Error(`no message matched within ${ms} ms; saw ${JSON.stringify(seen.map((m) => m.payload))}`);
        await wait(20);
      }
    },
  };
}

/**
 * A press as a vendor might serve it: two namespaces of its own and OPC 40001 Machinery before OPC
 * 40077 (so 40077 is ns=5, not 1), every node in the 40077 namespace with numeric ids, and each
 * machine's counter of the given data type.
 */
async function startVendorServer(root: string, machines: { name: string; counterType: 'UInt16' | 'Double' | 'Int32'; counter: number }[]) {
  const port = await freePort();
  const serverCertificateManager = new OPCUACertificateManager({ rootFolder: path.join(root, 'vendor-server'), automaticallyAcceptUnknownCertificate: true });
  await serverCertificateManager.initialize();
  const server = new OPCUAServer({ port, hostname: '127.0.0.1', serverCertificateManager, nodesets: [nodesets.standard], serverInfo: { applicationUri: 'urn:toolroom-test:vendor-press' } });
  await server.initialize();
  const space = server.engine.addressSpace!;
  space.registerNamespace('urn:toolroom-test:vendor-a');
  space.registerNamespace('urn:toolroom-test:vendor-b');
  const machinery = space.registerNamespace(MACHINERY_URI);
  const imm = space.registerNamespace(EUROMAP77_URIS[0]);
  const q = (name: string) => ({ name, namespaceIndex: imm.index });
  const folder = machinery.addFolder(space.rootFolder.objects, { browseName: 'Machines' });
  const counters = new Map<string, { variable: UAVariable; type: DataType }>();
  for (const m of machines) {
    const machine = imm.addObject({ organizedBy: folder, browseName: q(m.name) });
    const jobs = imm.addObject({ componentOf: machine, browseName: q('Jobs') });
    const values = imm.addObject({ componentOf: jobs, browseName: q('ActiveJobValues') });
    const job = imm.addObject({ componentOf: jobs, browseName: q('ActiveJob') });
    const status = imm.addObject({ componentOf: machine, browseName: q('MachineStatus') });
    const variable = (parent: typeof machine, name: string, type: DataType, value: unknown) => {
      const v = imm.addVariable({ componentOf: parent, browseName: q(name), dataType: DataType[type], minimumSamplingInterval: 50 });
      v.setValueFromSource(new Variant({ dataType: type, value }), StatusCodes.Good, new Date());
      return v;
    };
    counters.set(m.name, { variable: variable(values, 'MachineCycleCounter', DataType[m.counterType], m.counter), type: DataType[m.counterType] });
    variable(values, 'LastCycleTime', DataType.Double, 12000);
    variable(job, 'MouldId', DataType.String, 'M-7001');
    variable(job, 'NumCavities', DataType.UInt32, 2);
    variable(status, 'MachineMode', DataType.Int32, 1);
  }
  await server.start();
  return {
    endpoint: `opc.tcp://127.0.0.1:${port}`,
    immIndex: imm.index,
    counterNodeId: (name: string) => counters.get(name)!.variable.nodeId.toString(),
    setCounter(name: string, value: number) {
      const c = counters.get(name)!;
      c.variable.setValueFromSource(new Variant({ dataType: c.type, value }), StatusCodes.Good, new Date());
    },
    sessionCount: () => server.currentSessionCount,
    async stop() {
      await server.shutdown(0);
      await serverCertificateManager.dispose();
    },
  };
}

let root: string;
let sim: PressSimulator;
let vendor: Awaited<ReturnType<typeof startVendorServer>>;

before(async function () {
  this.timeout(60000);
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-browse-'));
  sim = await startTwoPresses(root, { users: [{ username: 'mes', password: PASSWORD }], allowAnonymous: false });
  vendor = await startVendorServer(root, [
    { name: 'IMM-7', counterType: 'UInt16', counter: 65530 },
    { name: 'IMM-8', counterType: 'Double', counter: 100 },
    { name: 'IMM-9', counterType: 'Int32', counter: 42 },
  ]);
});
after(async function () {
  this.timeout(30000);
  await sim?.stop();
  await vendor?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('toolroom-press-opcua browse endpoint (the edit dialog)', function () {
  this.timeout(60000);
  const pki = () => path.join(root, 'client');
  const login = { username: 'mes', password: PASSWORD };

  beforeEach(async function () {
    await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
    // A deployed press node holding the login in its credentials, for the simulator's press (a demo node
    // with no simulator running connects to nothing itself, so only the dialog's sessions are counted).
    await helper.load(
      [pressNode],
      [{ id: 'flow', type: 'tab' }, { id: 'stored', type: 'toolroom-press-opcua', z: 'flow', demo: true, endpoint: sim.endpoint, press: 'P01', pkiDir: pki(), wires: [[]] }],
      { stored: login },
    );
  });
  afterEach(function (done) {
    helper.unload().then(() => helper.stopServer(done), done);
  });

  it("finds the simulator's EUROMAP 77 variables by browse path, with the namespace taken from its URI", async () => {
    const res = await browse<Euromap77Found>({ action: 'euromap77', endpoint: sim.endpoint, pkiDir: pki(), ...login });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.namespace?.uri, EUROMAP77_URIS[0]);
    assert.deepEqual(res.body.machines.map((m) => m.name), ['P01', 'P02']);
    const p01 = res.body.machines[0];
    assert.deepEqual(p01.variables.MachineCycleCounter, { nodeId: simulatorNodeId('P01', 'MachineCycleCounter'), dataType: 'UInt64' });
    assert.deepEqual(p01.variables.JobCycleCounter, { nodeId: simulatorNodeId('P01', 'JobCycleCounter'), dataType: 'UInt64' });
    assert.equal(p01.variables.MouldId?.nodeId, simulatorNodeId('P01', 'MouldId'));
    assert.equal(p01.variables.NumCavities?.nodeId, simulatorNodeId('P01', 'NumCavities'));
    assert.equal(p01.variables.LastCycleTime?.dataType, 'Double', 'Duration is a Double');
    assert.equal(p01.variables.MachineMode, undefined, 'the simulator has no MachineStatus');
    await until(() => sim.sessionCount() === 0, 'the browse session is closed');
  });

  it('finds them on a server whose OPC 40077 namespace is ns=5, node ids and all', async () => {
    const res = await browse<Euromap77Found>({ action: 'euromap77', endpoint: vendor.endpoint, pkiDir: pki() });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.namespace, { uri: EUROMAP77_URIS[0], index: vendor.immIndex });
    assert.equal(vendor.immIndex, 5, 'two vendor namespaces and Machinery come first');
    const imm7 = res.body.machines.find((m) => m.name === 'IMM-7')!;
    assert.deepEqual(imm7.variables.MachineCycleCounter, { nodeId: vendor.counterNodeId('IMM-7'), dataType: 'UInt16' });
    assert.match(imm7.variables.MachineCycleCounter!.nodeId, /^ns=5;i=\d+$/);
    assert.equal(imm7.variables.MachineMode?.dataType, 'Int32', 'the machine mode is shown too');
    assert.equal(imm7.variables.JobCycleCounter, undefined, 'what the machine does not have is not made up');
    assert.deepEqual(res.body.machines.map((m) => m.variables.MachineCycleCounter?.dataType), ['UInt16', 'Double', 'Int32']);
    await until(() => vendor.sessionCount() === 0, 'the browse session is closed');
  });

  it('browses the address space one level at a time (the lazy tree)', async () => {
    const top = await browse<{ children: BrowsedNode[] }>({ action: 'children', endpoint: vendor.endpoint, pkiDir: pki() });
    assert.equal(top.status, 200, top.text);
    const machines = top.body.children.find((c) => c.displayName === 'Machines')!;
    assert.ok(machines?.hasChildren, JSON.stringify(top.body.children));
    const level = await browse<{ children: BrowsedNode[] }>({ action: 'children', nodeId: machines.nodeId, endpoint: vendor.endpoint, pkiDir: pki() });
    assert.deepEqual(level.body.children.map((c) => c.displayName), ['IMM-7', 'IMM-8', 'IMM-9']);
    const values = await browse<{ children: BrowsedNode[] }>({
      action: 'children',
      nodeId: simulatorNodeId('P02', 'MachineCycleCounter').replace('/MachineCycleCounter', ''),
      endpoint: sim.endpoint,
      pkiDir: pki(),
      ...login,
    });
    const counter = values.body.children.find((c) => c.displayName === 'MachineCycleCounter')!;
    assert.match(counter.browseName, /^[2-9]:MachineCycleCounter$/, 'qualified by the 40077 namespace');
    assert.deepEqual({ ...counter, browseName: undefined }, {
      nodeId: simulatorNodeId('P02', 'MachineCycleCounter'),
      browseName: undefined,
      displayName: 'MachineCycleCounter',
      nodeClass: 'Variable',
      dataType: 'UInt64',
      hasChildren: false,
    });
  });

  it("logs in with the deployed node's stored credentials, and never answers with them", async () => {
    const anonymous = await browse({ action: 'euromap77', endpoint: sim.endpoint, pkiDir: pki() });
    assert.equal(anonymous.status, 502, 'the simulator takes no anonymous login here');
    assert.equal(anonymous.body.error?.code, 'press_unreachable');
    // The dialog of the deployed node shows Node-RED's placeholder for the stored password.
    const stored = await browse<Euromap77Found>({ id: 'stored', action: 'euromap77', endpoint: sim.endpoint, pkiDir: pki(), username: 'mes', password: '__PWRD__' });
    assert.equal(stored.status, 200, stored.text);
    assert.equal(stored.body.machines.length, 2);
    assert.ok(!stored.text.includes(PASSWORD));
    // Another user typed in the dialog does not get the stored password.
    const other = await browse({ id: 'stored', action: 'euromap77', endpoint: sim.endpoint, pkiDir: pki(), username: 'someone', password: '__PWRD__' });
    assert.equal(other.status, 502);
    // Nor does another endpoint (the same press by another name here): a stored password goes only to its own press.
    const elsewhere = sim.endpoint.replace('127.0.0.1', 'localhost');
    assert.notEqual(elsewhere, sim.endpoint);
    const moved = await browse({ id: 'stored', action: 'euromap77', endpoint: elsewhere, pkiDir: pki(), username: 'mes', password: '__PWRD__' });
    assert.equal(moved.status, 502, moved.text);
    const wrong = await browse({ action: 'euromap77', endpoint: sim.endpoint, pkiDir: pki(), username: 'mes', password: 'not-the-password' });
    assert.equal(wrong.status, 502);
    assert.ok(!wrong.text.includes('not-the-password'), wrong.text);
    await until(() => sim.sessionCount() === 0, 'no session left open');
  });

  it('refuses bad input naming each field, and connects to nothing', async () => {
    const bad = await browse({ action: 'children', endpoint: 'http://press:4840', securityMode: 'Sign', securityPolicy: 'None', nodeId: 'ns=x;q=1' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.error?.details?.map((d) => `${d.field}:${d.rule}`).sort(), ['endpoint:opc_tcp_url', 'nodeId:node_id', 'securityPolicy:secure_policy']);
    const action = await browse({ action: 'write', endpoint: sim.endpoint });
    assert.equal(action.status, 400);
    assert.deepEqual(action.body.error?.details?.map((d) => d.field), ['action']);
    const nothing = await browse({});
    assert.deepEqual(nothing.body.error?.details?.map((d) => d.field), ['endpoint']);
  });

  it('a press that does not answer: 502 saying so, in bounded time', async () => {
    const res = await browse({ action: 'euromap77', endpoint: 'opc.tcp://127.0.0.1:1', pkiDir: pki() });
    assert.equal(res.status, 502);
    assert.equal(res.body.error?.code, 'press_unreachable');
    assert.ok(res.body.error?.message, 'says why');
  });
});

async function until(check: () => boolean, what: string, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await wait(50);
  }
}

for (const backend of nodeBackends) {
  describe(`the counter's data type from the press to toolroom-shot-count [${backend.name}]`, function () {
    this.timeout(60000);
    const held = holdDatabase(backend);
    let db: Db;

    beforeEach(async function () {
      db = held.db();
      await resetData(db);
      await createPress(db, system, { code: 'P07', name: 'Press 7' });
      await createTool(db, system, { assetNumber: 'M-7001', name: 'Cap', cavityCount: 2 });
      await mountTool(db, system, { assetNumber: 'M-7001', pressCode: 'P07', at: new Date(Date.now() - 3_600_000).toISOString() });
      await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
    });
    afterEach(function (done) {
      helper.unload().then(() => helper.stopServer(done), done);
    });

    /** A press node on the vendor server's machine, wired into a shot counter with no width set. */
    async function deploy(machine: string, press: string) {
      const cfg = backend.config('cfg');
      await helper.load(
        [configNode, pressNode, shotCountNode],
        [
          { id: 'flow', type: 'tab' },
          cfg.node,
          { id: 'press', type: 'toolroom-press-opcua', z: 'flow', endpoint: vendor.endpoint, press, machine, counterNodeId: vendor.counterNodeId(machine), pkiDir: path.join(root, 'client'), wires: [['count']] },
          { id: 'count', type: 'toolroom-shot-count', z: 'flow', config: 'cfg', batchMs: 0, wires: [['results'], []] },
          { id: 'results', type: 'helper', z: 'flow' },
          ...catchTo('errors'),
        ],
        cfg.credentials,
      );
      return { results: recorder(helper.getNode('results')), errors: recorder(helper.getNode('errors')) };
    }

    it('a UInt16 press rolls over 65535 → 3 as 4 shots, with no width set on the shot counter', async () => {
      vendor.setCounter('IMM-7', 65530);
      const n = await deploy('IMM-7', 'P07');
      const outcome = (o: string, delta: number) => (m: NodeMessage) => (m.payload as { outcome: string; delta: number }).outcome === o && (m.payload as { delta: number }).delta === delta;
      await n.results.until(outcome('baseline', 0));
      vendor.setCounter('IMM-7', 65535);
      await n.results.until(outcome('counted', 5));
      vendor.setCounter('IMM-7', 3);
      await n.results.until(outcome('rollover', 4));
      assert.equal(n.errors.seen.length, 0, JSON.stringify(n.errors.seen.map((m) => (m.error as Error).message)));
      assert.equal(Number((await db('tools').where('asset_number', 'M-7001').first('lifetime_shots')).lifetime_shots), 9);
    });

    for (const [machine, type] of [['IMM-8', 'Double'], ['IMM-9', 'Int32']] as const) {
      it(`${type === 'Int32' ? 'an' : 'a'} ${type} counter is refused, naming its node id, and nothing is stored`, async () => {
        const n = await deploy(machine, 'P07');
        const caught = await n.errors.until(() => true);
        const err = caught.error as { message: string; code?: string };
        assert.match(err.message, new RegExp(`counterType: the counter \\S+#${vendor.counterNodeId(machine).replace(/[;=]/g, '.')} is ${type}`));
        assert.equal(n.results.seen.length, 0);
        assert.equal(Number((await db('shot_readings').count({ n: '*' }).first())!.n), 0);
        await statusUntil(helper.getNode('count'), (s) => s.fill === 'red');
      });
    }
  });
}

describe('toolroom-press-opcua in the demo flow (demo: connect only with the simulator)', function () {
  this.timeout(30000);
  let saved: string | undefined;
  beforeEach(async function () {
    saved = process.env[SIMULATOR_ENDPOINT_ENV];
    await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
  });
  afterEach(function (done) {
    if (saved === undefined) delete process.env[SIMULATOR_ENDPOINT_ENV];
    else process.env[SIMULATOR_ENDPOINT_ENV] = saved;
    helper.unload().then(() => helper.stopServer(done), done);
  });

  const deploy = () =>
    helper.load(
      [pressNode],
      [
        { id: 'flow', type: 'tab' },
        { id: 'demo', type: 'toolroom-press-opcua', z: 'flow', demo: true, endpoint: 'opc.tcp://127.0.0.1:48400', press: 'P01', pkiDir: path.join(root, 'client'), wires: [['out']] },
        { id: 'out', type: 'helper', z: 'flow' },
      ],
      { demo: login() },
    );
  const login = () => ({ username: 'mes', password: PASSWORD });

  it('without the simulator: says so once in its status and the log, and never tries to connect', async () => {
    delete process.env[SIMULATOR_ENDPOINT_ENV];
    await deploy();
    const node = helper.getNode('demo');
    await statusUntil(node, (s) => s.text === 'toolroom-press-opcua.status.noSimulator');
    // Longer than the first reconnect delay (1 s) of a press node that tried.
    await wait(1500);
    assert.deepEqual(statuses(node), [{ fill: 'grey', shape: 'ring', text: 'toolroom-press-opcua.status.noSimulator' }]);
    const log = (helper as unknown as { log(): { args: [{ level: number; msg: unknown; id?: string }][]; WARN: number } }).log();
    const warned = log.args.filter(([e]) => e.id === 'demo' && e.level === log.WARN);
    assert.deepEqual(warned.map(([e]) => e.msg), ['toolroom-press-opcua.errors.noSimulator']);
  });

  it("with the simulator running: connects to the simulator's endpoint", async () => {
    process.env[SIMULATOR_ENDPOINT_ENV] = sim.endpoint;
    await deploy();
    const out = recorder(helper.getNode('out'));
    const first = await out.until(() => true);
    assert.equal((first.payload as { source: string }).source, `${sim.endpoint}#${simulatorNodeId('P01', 'MachineCycleCounter')}`);
  });
});
