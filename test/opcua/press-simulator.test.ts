import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AttributeIds,
  DataType,
  OPCUACertificateManager,
  OPCUAClient,
  makeBrowsePath,
  type ClientSession,
} from 'node-opcua';
import { cliOptions, command, parsePresses } from '../../scripts/press-simulator';
import { EUROMAP77_URIS, MACHINERY_URI } from '../../nodes/lib/opcua-browse';
import { simulatorNodeId, startPressSimulator, type PressSimulator } from '../../sim/press-simulator';

/** The simulator itself, seen by a plain node-opcua client: the EUROMAP 77 shape, counters, restarts. */
describe('press simulator', function () {
  this.timeout(60000);
  let root: string;
  let sim: PressSimulator;
  let manager: OPCUACertificateManager;
  let client: OPCUAClient;
  let session: ClientSession;

  async function connect() {
    client = OPCUAClient.create({ endpointMustExist: false, clientCertificateManager: manager, connectionStrategy: { maxRetry: 1, initialDelay: 100 } });
    await client.connect(sim.endpoint);
    session = await client.createSession();
  }
  async function disconnect() {
    await session?.close().catch(() => undefined);
    await client?.disconnect();
  }
  async function value(press: string, v: Parameters<typeof simulatorNodeId>[1]) {
    return (await session.read({ nodeId: simulatorNodeId(press, v), attributeId: AttributeIds.Value })).value;
  }

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-sim-'));
    sim = await startPressSimulator({
      port: 0,
      certificateRoot: path.join(root, 'simulator'),
      presses: [
        { name: 'P01', mouldId: 'M-1001', cavities: 4, cycleTimeMs: 0, machineCycleCounter: 2 ** 53 + 10 },
        { name: 'P02', mouldId: 'M-1002', cavities: 2, cycleTimeMs: 30 },
      ],
    });
    manager = new OPCUACertificateManager({ rootFolder: path.join(root, 'client'), automaticallyAcceptUnknownCertificate: true });
    await manager.initialize();
    await connect();
  });
  after(async () => {
    await disconnect();
    await sim?.stop();
    await manager?.dispose();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('serves each press under Objects/Machines/<press> as OPC 40077 does', async () => {
    const paths = [
      ['Jobs', 'ActiveJobValues', 'MachineCycleCounter'],
      ['Jobs', 'ActiveJobValues', 'JobCycleCounter'],
      ['Jobs', 'ActiveJobValues', 'LastCycleTime'],
      ['Jobs', 'ActiveJob', 'MouldId'],
      ['Jobs', 'ActiveJob', 'NumCavities'],
    ];
    // Browse names as a real press has them: Machines in OPC 40001 Machinery, the rest in OPC 40077 (indices by URI).
    const namespaces = await session.readNamespaceArray();
    const [machinery, imm] = [namespaces.indexOf(MACHINERY_URI), namespaces.indexOf(EUROMAP77_URIS[0])];
    assert.ok(machinery > 1 && imm > 1, namespaces.join(' '));
    const results = await session.translateBrowsePath(
      paths.map((p) => makeBrowsePath('ObjectsFolder', `/${machinery}:Machines/1:P01/${p.map((s) => `${imm}:${s}`).join('.')}`)),
    );
    results.forEach((r, i) => {
      assert.ok(r.statusCode.isGood(), `${paths[i].join('/')}: ${r.statusCode.name}`);
      assert.equal(r.targets![0].targetId.toString(), simulatorNodeId('P01', paths[i][2] as 'MouldId'));
    });
  });

  it('types the variables as the spec does and lets them be sampled every 50 ms', async () => {
    const counter = simulatorNodeId('P01', 'MachineCycleCounter');
    const [dataType, sampling] = await session.read([
      { nodeId: counter, attributeId: AttributeIds.DataType },
      { nodeId: counter, attributeId: AttributeIds.MinimumSamplingInterval },
    ]);
    assert.equal(dataType.value.value.toString(), 'ns=0;i=9'); // UInt64
    assert.equal(sampling.value.value, 50);
    assert.equal((await value('P01', 'LastCycleTime')).dataType, DataType.Double);
    assert.equal((await value('P01', 'MouldId')).value, 'M-1001');
    assert.equal((await value('P01', 'NumCavities')).value, 4);
  });

  it('counts cycles on both counters, beyond 2^53 too; a job change resets only the job counter', async () => {
    const p01 = sim.press('P01');
    p01.step(3);
    assert.equal(p01.cycles(), 3);
    const [hi, lo] = (await value('P01', 'MachineCycleCounter')).value as [number, number];
    assert.equal((BigInt(hi) << 32n) + BigInt(lo), 2n ** 53n + 13n);
    assert.deepEqual((await value('P01', 'JobCycleCounter')).value, [0, 3]);
    p01.jobChange();
    assert.deepEqual((await value('P01', 'JobCycleCounter')).value, [0, 0]);
    assert.equal(p01.values().machineCycleCounter, 2n ** 53n + 13n);
    p01.mouldChange('M-1009', 8);
    assert.equal((await value('P01', 'MouldId')).value, 'M-1009');
    assert.equal((await value('P01', 'NumCavities')).value, 8);
    assert.equal(p01.cycles(), 3, 'a mould change is no cycle');
  });

  it('runs on its own at the cycle time; pause holds it', async () => {
    const p02 = sim.press('P02');
    const before = p02.cycles();
    await new Promise((r) => setTimeout(r, 400));
    p02.pause();
    const ran = p02.cycles() - before;
    assert.ok(ran >= 5 && ran <= 14, `about 400 / 30 cycles, ran ${ran}`);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(p02.cycles() - before, ran, 'paused');
    assert.equal((await value('P02', 'LastCycleTime')).value, 30);
    p02.resume();
  });

  it('restart: clients are dropped, the counters and their timestamps carry on', async () => {
    const p01 = sim.press('P01');
    const counter = simulatorNodeId('P01', 'MachineCycleCounter');
    const stamped = await session.read({ nodeId: counter, attributeId: AttributeIds.Value });
    await disconnect();
    const restarting = sim.restart({ downMs: 200 });
    p01.step(2); // the press runs on while its server is down
    await restarting;
    await connect();
    const after = await session.read({ nodeId: counter, attributeId: AttributeIds.Value });
    const [hi, lo] = after.value.value as [number, number];
    assert.equal((BigInt(hi) << 32n) + BigInt(lo), p01.values().machineCycleCounter);
    assert.ok(after.sourceTimestamp!.getTime() > stamped.sourceTimestamp!.getTime());
    const mould = await session.read({ nodeId: simulatorNodeId('P01', 'MouldId'), attributeId: AttributeIds.Value });
    assert.ok(mould.sourceTimestamp!.getTime() < after.sourceTimestamp!.getTime(), 'the mould changed before the last cycles, and still says so');
    assert.equal(sim.sessionCount(), 1);
  });

  it('names an unknown press', () => {
    assert.throws(() => sim.press('P99'), /no simulated press P99: P01, P02/);
  });
});

describe('press simulator command line', () => {
  it('reads presses as CODE[=MOULD[:CAVITIES]][@CYCLE_MS]', () => {
    assert.deepEqual(parsePresses('P01=M-1001:4, P02@750,P03=M-1003', 5000), [
      { name: 'P01', mouldId: 'M-1001', cavities: 4, cycleTimeMs: 5000 },
      { name: 'P02', mouldId: '', cavities: 1, cycleTimeMs: 750 },
      { name: 'P03', mouldId: 'M-1003', cavities: 1, cycleTimeMs: 5000 },
    ]);
    assert.throws(() => parsePresses('P01=M-1:0', 1000), /cavities of P01 must be a whole number ≥ 1/);
    assert.throws(() => parsePresses('bad press', 1000), /not CODE/);
  });

  it('takes flags before the environment, with the demo plant as default', () => {
    const o = cliOptions(['--port', '4841', '--cycle-ms', '800'], { PRESS_SIM_PORT: '1', TOOLROOM_DATA_DIR: '/var/toolroom' });
    assert.equal(o.port, 4841);
    assert.deepEqual(o.presses.map((p) => `${p.name}@${p.cycleTimeMs}`), ['P01@800', 'P02@800', 'P03@800', 'P04@800', 'P05@800', 'P06@800']);
    assert.equal(o.certificateRoot, '/var/toolroom/press-simulator-pki');
    assert.equal(cliOptions([], { PRESS_SIM_PORT: '4842', PRESS_SIM_PRESSES: 'X1' }).presses[0].name, 'X1');
    assert.throws(() => cliOptions(['--prot', '1'], {}), /unknown argument --prot/);
    assert.throws(() => cliOptions(['--port'], {}), /--port needs a value/);
  });

  it('drives a press from a line of stdin', async () => {
    const calls: string[] = [];
    const press = { jobChange: () => calls.push('job'), mouldChange: (m: string, c?: number) => calls.push(`mould ${m} ${c}`), values: () => ({}), step: (n: number) => calls.push(`step ${n}`) };
    const fake = { press: () => press } as unknown as PressSimulator;
    await command(fake, 'job P01');
    await command(fake, 'mould P01 M-1004 6');
    await command(fake, 'step P01 3');
    assert.deepEqual(calls, ['job', 'mould M-1004 6', 'step 3']);
    await assert.rejects(command(fake, 'explode P01'), /unknown command "explode"/);
  });
});
