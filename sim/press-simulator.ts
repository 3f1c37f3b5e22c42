import path from 'node:path';
import {
  DataType,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAServer,
  SecurityPolicy,
  StatusCodes,
  Variant,
  VariantArrayType,
  nodesets,
  type UAVariable,
} from 'node-opcua';
import { freePort } from '../lib/net';
import { EUROMAP77_URIS, MACHINERY_URI } from '../nodes/lib/opcua-browse';
import { euromap77Paths, type Euromap77Variable } from '../nodes/lib/opcua-press-client';

/**
 * A plant's worth of injection moulding machines in one in-process OPC-UA server, shaped like
 * EUROMAP 77 / OPC 40077: per press `Objects/Machines/<press>/Jobs/ActiveJobValues` holds
 * MachineCycleCounter, JobCycleCounter (UInt64) and LastCycleTime (Duration, ms), and
 * `Jobs/ActiveJob` holds MouldId and NumCavities. The presses' state lives here, not in the
 * address space, so a server restart keeps every counter (as a real press's PLC would).
 */

export interface SimulatedPressOptions {
  /** Press code, also the machine object's browse name (e.g. P-01). */
  name: string;
  /** Asset number of the mounted tool. */
  mouldId: string;
  cavities: number;
  /** Time between cycles; 0 = cycles only by step(). */
  cycleTimeMs: number;
  /** MachineCycleCounter at start (e.g. near a rollover). Default 0. */
  machineCycleCounter?: number | bigint;
}

export interface PressSimulatorOptions {
  /** TCP port; 0 = a free one (kept across restart()). */
  port: number;
  presses: SimulatedPressOptions[];
  /** Directory for the server's PKI; node-opcua would otherwise write into the home directory. */
  certificateRoot: string;
  /** Interface to listen on (default all) and the host name in the endpoint URL (default 127.0.0.1). */
  host?: string;
  hostname?: string;
  /** Users for user/password logins; anonymous logins stay allowed unless allowAnonymous is false. */
  users?: { username: string; password: string }[];
  allowAnonymous?: boolean;
}

export interface SimulatedPress {
  readonly name: string;
  /** Start a new job: JobCycleCounter back to 0. */
  jobChange(): void;
  /** Mount another mould (a new job too: JobCycleCounter back to 0). */
  mouldChange(mouldId: string, cavities?: number): void;
  /** Cycles run since the simulator started (MachineCycleCounter minus its start value). */
  cycles(): number;
  /** The values as the press shows them now. */
  values(): { machineCycleCounter: bigint; jobCycleCounter: bigint; lastCycleTime: number; mouldId: string; numCavities: number };
  /** Stop and restart the cycle timer. */
  pause(): void;
  resume(): void;
  /** Run n cycles at once (one change of the counters), for deterministic tests. */
  step(n?: number): void;
}

export interface PressSimulator {
  /** opc.tcp://host:port/ */
  readonly endpoint: string;
  readonly port: number;
  press(name: string): SimulatedPress;
  /** Client sessions open now (0 while the server is down): shows a client closed cleanly. */
  sessionCount(): number;
  /** Stop and start the OPC-UA server (clients lose their sessions); the counters carry on. */
  restart(options?: { downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

/** Node ids of a simulated press's variables: ns=1 (the server's own namespace), string ids as in euromap77Paths. */
export function simulatorNodeId(press: string, variable: Euromap77Variable): string {
  return `ns=1;s=${euromap77Paths(press)[variable]}`;
}

const SAMPLING_MS = 50;

interface PressState {
  options: SimulatedPressOptions;
  start: bigint;
  machine: bigint;
  job: bigint;
  lastCycleTime: number;
  mouldId: string;
  cavities: number;
  /** When each value last changed: kept across restarts, as the press reports them. */
  changedAt: Record<Euromap77Variable, Date>;
  timer?: NodeJS.Timeout;
  paused: boolean;
  variables?: Record<Euromap77Variable, UAVariable>;
}


function variantOf(state: PressState, v: Euromap77Variable): Variant {
  switch (v) {
    case 'MachineCycleCounter':
      return new Variant({ dataType: DataType.UInt64, arrayType: VariantArrayType.Scalar, value: uint64(state.machine) });
    case 'JobCycleCounter':
      return new Variant({ dataType: DataType.UInt64, arrayType: VariantArrayType.Scalar, value: uint64(state.job) });
    case 'LastCycleTime':
      return new Variant({ dataType: DataType.Double, value: state.lastCycleTime });
    case 'MouldId':
      return new Variant({ dataType: DataType.String, value: state.mouldId });
    case 'NumCavities':
      return new Variant({ dataType: DataType.UInt32, value: state.cavities });
  }
}

/** node-opcua carries a UInt64 as [high, low] 32-bit words. */
function uint64(v: bigint): [number, number] {
  const wrapped = BigInt.asUintN(64, v);
  return [Number(wrapped >> 32n), Number(wrapped & 0xffff_ffffn)];
}

const VARIABLES: Euromap77Variable[] = ['MachineCycleCounter', 'JobCycleCounter', 'LastCycleTime', 'MouldId', 'NumCavities'];
const DATA_TYPES: Record<Euromap77Variable, string> = {
  MachineCycleCounter: 'UInt64',
  JobCycleCounter: 'UInt64',
  LastCycleTime: 'Duration',
  MouldId: 'String',
  NumCavities: 'UInt32',
};

export async function startPressSimulator(options: PressSimulatorOptions): Promise<PressSimulator> {
  const names = new Set<string>();
  for (const p of options.presses) {
    if (names.has(p.name)) throw new Error(`press ${p.name} is listed twice`);
    names.add(p.name);
  }
  const port = options.port || (await freePort());
  const hostname = options.hostname ?? '127.0.0.1';
  const now = new Date();
  const states = new Map<string, PressState>(
    options.presses.map((p) => {
      const start = BigInt(p.machineCycleCounter ?? 0);
      return [
        p.name,
        {
          options: p,
          start,
          machine: start,
          job: 0n,
          lastCycleTime: p.cycleTimeMs,
          mouldId: p.mouldId,
          cavities: p.cavities,
          changedAt: Object.fromEntries(VARIABLES.map((v) => [v, now])) as Record<Euromap77Variable, Date>,
          paused: false,
        },
      ];
    }),
  );

  const serverCertificateManager = new OPCUACertificateManager({
    rootFolder: path.join(options.certificateRoot, 'server'),
    automaticallyAcceptUnknownCertificate: true,
  });
  const userCertificateManager = new OPCUACertificateManager({
    rootFolder: path.join(options.certificateRoot, 'users'),
    automaticallyAcceptUnknownCertificate: true,
  });
  await serverCertificateManager.initialize();
  await userCertificateManager.initialize();

  let server: OPCUAServer | null = null;
  let stopped = false;

  async function startServer(): Promise<void> {
    const users = options.users ?? [];
    const s = new OPCUAServer({
      port,
      host: options.host,
      hostname,
      serverCertificateManager,
      userCertificateManager,
      nodesets: [nodesets.standard],
      securityModes: [MessageSecurityMode.None, MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt],
      securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256, SecurityPolicy.Aes128_Sha256_RsaOaep, SecurityPolicy.Aes256_Sha256_RsaPss],
      allowAnonymous: options.allowAnonymous ?? true,
      userManager: { isValidUser: (username: string, password: string) => users.some((u) => u.username === username && u.password === password) },
      buildInfo: { productName: 'Toolroom press simulator', manufacturerName: 'Toolroom' },
      serverInfo: { applicationUri: 'urn:toolroom:press-simulator', productUri: 'urn:toolroom:press-simulator' },
      maxConnectionsPerEndpoint: 100,
      // Every limit a client reads on reconnect (node-opcua warns about each one missing).
      serverCapabilities: {
        operationLimits: {
          maxNodesPerRead: 1000,
          maxNodesPerBrowse: 1000,
          maxNodesPerWrite: 1000,
          maxNodesPerMethodCall: 100,
          maxNodesPerRegisterNodes: 1000,
          maxNodesPerNodeManagement: 100,
          maxMonitoredItemsPerCall: 1000,
          maxNodesPerHistoryReadData: 100,
          maxNodesPerHistoryReadEvents: 100,
          maxNodesPerHistoryUpdateData: 100,
          maxNodesPerHistoryUpdateEvents: 100,
          maxNodesPerTranslateBrowsePathsToNodeIds: 1000,
        },
      },
    });
    await s.initialize();
    buildAddressSpace(s);
    await s.start();
    server = s;
  }

  function buildAddressSpace(s: OPCUAServer) {
    const addressSpace = s.engine.addressSpace!;
    const ns = addressSpace.getOwnNamespace();
    // Node ids in the server's own namespace (ns=1), browse names in the companion specs' namespaces as a
    // real press has them (found by URI, not index): Machines in OPC 40001 Machinery, the rest in OPC 40077.
    const machinery = addressSpace.registerNamespace(MACHINERY_URI).index;
    const imm = addressSpace.registerNamespace(EUROMAP77_URIS[0]).index;
    const q = (name: string, namespaceIndex = imm) => ({ name, namespaceIndex });
    const machines = ns.addFolder(addressSpace.rootFolder.objects, { browseName: q('Machines', machinery), nodeId: 's=Machines' });
    for (const state of states.values()) {
      const name = state.options.name;
      const paths = euromap77Paths(name);
      const machine = ns.addObject({ organizedBy: machines, browseName: name, nodeId: `s=Machines/${name}` });
      const jobs = ns.addObject({ componentOf: machine, browseName: q('Jobs'), nodeId: `s=Machines/${name}/Jobs` });
      const parents = {
        ActiveJobValues: ns.addObject({ componentOf: jobs, browseName: q('ActiveJobValues'), nodeId: `s=Machines/${name}/Jobs/ActiveJobValues` }),
        ActiveJob: ns.addObject({ componentOf: jobs, browseName: q('ActiveJob'), nodeId: `s=Machines/${name}/Jobs/ActiveJob` }),
      };
      const variables = {} as Record<Euromap77Variable, UAVariable>;
      for (const v of VARIABLES) {
        const parent = paths[v].includes('/ActiveJobValues/') ? parents.ActiveJobValues : parents.ActiveJob;
        const uaVariable = ns.addVariable({
          componentOf: parent,
          browseName: q(v),
          nodeId: `s=${paths[v]}`,
          dataType: DATA_TYPES[v],
          minimumSamplingInterval: SAMPLING_MS,
        });
        uaVariable.setValueFromSource(variantOf(state, v), StatusCodes.Good, state.changedAt[v]);
        variables[v] = uaVariable;
      }
      state.variables = variables;
    }
  }

  function publish(state: PressState, changed: Euromap77Variable[]) {
    const at = new Date();
    for (const v of changed) {
      state.changedAt[v] = at;
      // While the server is down (restart) the values change here only; the new server shows them.
      if (server) state.variables?.[v].setValueFromSource(variantOf(state, v), StatusCodes.Good, at);
    }
  }

  function runCycles(state: PressState, n: number) {
    if (n <= 0) return;
    state.machine = BigInt.asUintN(64, state.machine + BigInt(n));
    state.job += BigInt(n);
    state.lastCycleTime = state.options.cycleTimeMs;
    publish(state, ['LastCycleTime', 'JobCycleCounter', 'MachineCycleCounter']);
  }

  function arm(state: PressState) {
    clearInterval(state.timer);
    state.timer = undefined;
    if (!stopped && !state.paused && state.options.cycleTimeMs > 0) {
      state.timer = setInterval(() => runCycles(state, 1), state.options.cycleTimeMs);
    }
  }

  async function stopServer() {
    const s = server;
    server = null;
    if (s) await s.shutdown(0);
  }

  await startServer();
  for (const state of states.values()) arm(state);

  const handles = new Map<string, SimulatedPress>();
  for (const state of states.values()) {
    handles.set(state.options.name, {
      name: state.options.name,
      jobChange() {
        state.job = 0n;
        publish(state, ['JobCycleCounter']);
      },
      mouldChange(mouldId, cavities) {
        state.mouldId = mouldId;
        if (cavities !== undefined) state.cavities = cavities;
        state.job = 0n;
        publish(state, ['MouldId', 'NumCavities', 'JobCycleCounter']);
      },
      cycles: () => Number(BigInt.asUintN(64, state.machine - state.start)),
      values: () => ({
        machineCycleCounter: state.machine,
        jobCycleCounter: state.job,
        lastCycleTime: state.lastCycleTime,
        mouldId: state.mouldId,
        numCavities: state.cavities,
      }),
      pause() {
        state.paused = true;
        arm(state);
      },
      resume() {
        state.paused = false;
        arm(state);
      },
      step(n = 1) {
        runCycles(state, n);
      },
    });
  }

  return {
    endpoint: `opc.tcp://${hostname}:${port}`,
    port,
    press(name) {
      const p = handles.get(name);
      if (!p) throw new Error(`no simulated press ${name}: ${[...handles.keys()].join(', ')}`);
      return p;
    },
    sessionCount: () => server?.currentSessionCount ?? 0,
    async restart({ downMs = 0 } = {}) {
      if (stopped) throw new Error('the press simulator was stopped');
      await stopServer();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await startServer();
    },
    async stop() {
      stopped = true;
      for (const state of states.values()) arm(state);
      await stopServer();
      await serverCertificateManager.dispose();
      await userCertificateManager.dispose();
    },
  };
}
