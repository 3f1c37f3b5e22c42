import path from 'node:path';
import type {
  ClientMonitoredItemGroup,
  ClientSession,
  ClientSubscription,
  DataValue,
  OPCUACertificateManager,
  OPCUAClient,
  UserIdentityInfo,
} from 'node-opcua';
import { validationError, type FieldProblem } from '../../core/errors';
import { isPressCode } from '../../core/codes';
import { expandEnv } from '../../app/databases';
import type { NodeDef } from './red';

/**
 * Watching one press over OPC-UA (EUROMAP 77 / OPC 40077) and turning what it shows into shot
 * readings for toolroom-shot-count. No Node-RED here: toolroom-press-opcua wraps it, the
 * simulator's tests drive it directly. node-opcua loads on first use (it takes seconds), so a
 * flow without a press pays nothing.
 *
 * The counter is absolute and the delta is computed downstream, so losing the connection loses
 * no shot as long as the current value is read again after every (re)connect: that is done here.
 */

/** The EUROMAP 77 variables a press is watched by. */
export type Euromap77Variable = 'MachineCycleCounter' | 'JobCycleCounter' | 'LastCycleTime' | 'MouldId' | 'NumCavities';
export type CycleCounter = 'MachineCycleCounter' | 'JobCycleCounter';

/**
 * Where OPC 40077 puts them under a machine (Objects/Machines/<machine>): the cycle counters and
 * LastCycleTime in Jobs/ActiveJobValues (ActiveCyclicJobValuesType), MouldId and NumCavities in
 * Jobs/ActiveJob (CyclicJobInformationType). The simulator uses these paths as string node ids.
 */
export function euromap77Paths(machine: string): Record<Euromap77Variable, string> {
  const jobs = `Machines/${machine}/Jobs`;
  return {
    MachineCycleCounter: `${jobs}/ActiveJobValues/MachineCycleCounter`,
    JobCycleCounter: `${jobs}/ActiveJobValues/JobCycleCounter`,
    LastCycleTime: `${jobs}/ActiveJobValues/LastCycleTime`,
    MouldId: `${jobs}/ActiveJob/MouldId`,
    NumCavities: `${jobs}/ActiveJob/NumCavities`,
  };
}

/** Default node ids: string ids in namespace 1 along euromap77Paths (what the press simulator serves). */
export function defaultNodeIds(machine: string, counter: CycleCounter = 'MachineCycleCounter'): PressNodeIds {
  const p = euromap77Paths(machine);
  return {
    counter: `ns=1;s=${p[counter]}`,
    lastCycleTime: `ns=1;s=${p.LastCycleTime}`,
    mouldId: `ns=1;s=${p.MouldId}`,
    numCavities: `ns=1;s=${p.NumCavities}`,
  };
}

export interface PressNodeIds {
  counter: string;
  /** '' = not watched. */
  lastCycleTime: string;
  mouldId: string;
  numCavities: string;
}

export type SecurityModeName = 'None' | 'Sign' | 'SignAndEncrypt';
export const SECURITY_POLICIES = ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;
export type SecurityPolicyName = (typeof SECURITY_POLICIES)[number];

export interface PressWatchOptions {
  /** opc.tcp://host:port[/path] */
  endpoint: string;
  /** Press code the readings name. */
  press: string;
  nodeIds: PressNodeIds;
  securityMode?: SecurityModeName;
  securityPolicy?: SecurityPolicyName;
  /** Absent = anonymous. */
  user?: { username: string; password: string };
  /** This client's PKI (own certificate, trusted and rejected server certificates). */
  certificateRoot: string;
  /** Accept a server certificate not yet in trusted/ (it is stored there). Default true. */
  trustServerCertificates?: boolean;
  samplingIntervalMs?: number;
  /** Backoff between connection attempts: starts at initialDelayMs, doubles up to maxDelayMs. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
}

/** What toolroom-shot-count takes (issue 4): the counter as the press shows it, never a delta. */
export interface PressReading {
  press: string;
  /** A number, or a digit string beyond 2^53 (a UInt64 counter). */
  counter: number | string;
  /** ISO time the press last changed the counter (or the mould), never later than now. */
  at: string;
  /** The endpoint and the counter's node id, so each counter is tracked on its own. */
  source: string;
  cycleTimeMs: number | null;
  mouldId: string | null;
  /**
   * The counter's OPC-UA built-in data type (UInt16, UInt32, UInt64, ...; read once per session):
   * toolroom-shot-count takes its width from it. Absent when the server would not say.
   */
  counterType?: string;
}

/** What the press shows besides the reading. */
export interface PressContext {
  numCavities: number | null;
  /** Why the reading was sent: after a (re)connect, or a change seen by the subscription. */
  cause: 'connect' | 'change';
}

export type PressConnectionState = 'connecting' | 'connected' | 'disconnected' | 'error';

export interface PressWatchEvents {
  reading(reading: PressReading, context: PressContext): void;
  /** Connection changes; `detail` says why for disconnected and error. */
  state(state: PressConnectionState, detail?: string): void;
}

export interface PressWatch {
  /** Close the session and disconnect; resolves when done. No event follows. */
  close(): Promise<void>;
}

export type NodeOpcua = typeof import('node-opcua');
let loading: Promise<NodeOpcua> | undefined;
export function opcua(): Promise<NodeOpcua> {
  return (loading ??= import('node-opcua'));
}

/** One certificate manager per PKI folder in this process: two would race creating the same key. */
const managers = new Map<string, { users: number; ready: Promise<OPCUACertificateManager> }>();

/**
 * The certificate store of a folder, shared by every client using it. `adjust: false` (a browse from the
 * edit dialog) never changes the trust of a store deployed presses already hold.
 */
export async function acquireManager(root: string, trust: boolean, adjust = true): Promise<OPCUACertificateManager> {
  let held = managers.get(root);
  if (!held) {
    const ready = opcua().then(async ({ OPCUACertificateManager }) => {
      const m = new OPCUACertificateManager({ rootFolder: root, automaticallyAcceptUnknownCertificate: trust });
      await m.initialize();
      return m;
    });
    held = { users: 0, ready };
    managers.set(root, held);
    ready.catch(() => managers.delete(root));
  }
  const created = held.users === 0;
  held.users++;
  const m = await held.ready;
  // The last setting wins; in practice every node of a flow uses the same folder and choice.
  if (adjust || created) m.automaticallyAcceptUnknownCertificate = trust;
  return m;
}

/** A variable's built-in data type by name (its DataType attribute, followed up to a built-in type), or null when the server will not say. */
export async function builtInType(session: ClientSession, O: NodeOpcua, nodeId: string): Promise<string | null> {
  try {
    const type = await session.getBuiltInDataType(O.resolveNodeId(nodeId));
    return type === O.DataType.Null ? null : O.DataType[type];
  } catch {
    return null;
  }
}

export async function releaseManager(root: string): Promise<void> {
  const held = managers.get(root);
  if (!held || --held.users > 0) return;
  managers.delete(root);
  const m = await held.ready.catch(() => null);
  await m?.dispose();
}

/** The connection settings a client needs (a watch's options, or a browse's). */
export type PressConnection = Pick<PressWatchOptions, 'endpoint' | 'press' | 'securityMode' | 'securityPolicy' | 'user' | 'certificateRoot' | 'trustServerCertificates'>;

/** A client for one press; one connection attempt per connect (callers retry their own way). */
export function createClient(O: NodeOpcua, options: PressConnection, manager: OPCUACertificateManager, delays: { initialDelay: number; maxDelay: number }): OPCUAClient {
  const secure = options.securityMode !== undefined && options.securityMode !== 'None';
  return O.OPCUAClient.create({
    applicationName: 'Toolroom press client',
    clientName: `toolroom ${options.press}`,
    endpointMustExist: false,
    keepSessionAlive: true,
    requestedSessionTimeout: 60000,
    securityMode: O.MessageSecurityMode[options.securityMode ?? 'None'],
    securityPolicy: O.SecurityPolicy[secure ? (options.securityPolicy ?? 'Basic256Sha256') : 'None'],
    clientCertificateManager: manager,
    // One attempt per connect (our loop backs off); once connected, node-opcua's reconnection retries for ever.
    connectionStrategy: { ...delays, maxRetry: 1 },
  });
}

/** The login a session is opened with: the user, or anonymous. */
export function identityOf(O: NodeOpcua, user: PressConnection['user']): UserIdentityInfo {
  return user ? { type: O.UserTokenType.UserName, userName: user.username, password: user.password } : { type: O.UserTokenType.Anonymous };
}

/** A UInt64/Int64 arrives as [high, low]; beyond 2^53 a counter goes on as a digit string. */
export function counterValue(value: unknown): number | string | null {
  let big: bigint | null = null;
  if (Array.isArray(value) && value.length === 2 && value.every((w) => Number.isInteger(w) && w >= 0)) {
    big = (BigInt(value[0]) << 32n) + BigInt(value[1]);
  } else if (typeof value === 'bigint') {
    big = value;
  } else if (typeof value === 'number' && Number.isFinite(value) && value >= 0) {
    big = BigInt(Math.floor(value));
  }
  if (big === null || big < 0n) return null;
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big.toString();
}

/** Where the endpoint ends: no trailing slash, so the same press is one source however it is typed. */
export function normalizeEndpoint(endpoint: string): string {
  return endpoint.trim().replace(/\/+$/, '');
}

export function readingSource(endpoint: string, counterNodeId: string): string {
  return `${normalizeEndpoint(endpoint)}#${counterNodeId.trim()}`;
}

interface Latest {
  counter?: DataValue;
  lastCycleTime?: DataValue;
  mouldId?: DataValue;
  numCavities?: DataValue;
}
type Key = keyof Latest;
const KEYS: Key[] = ['counter', 'lastCycleTime', 'mouldId', 'numCavities'];

function timeOf(dv: DataValue | undefined): number | null {
  const t = dv?.sourceTimestamp ?? dv?.serverTimestamp;
  return t ? t.getTime() : null;
}

/** Wait for `p` (its failure is no concern here), but no longer than `ms`. */
export async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** Watch a press until close(): connect, read, subscribe, report; reconnect with backoff. */
export function watchPress(options: PressWatchOptions, events: PressWatchEvents): PressWatch {
  const endpoint = normalizeEndpoint(options.endpoint);
  const source = readingSource(endpoint, options.nodeIds.counter);
  const initialDelay = options.reconnect?.initialDelayMs ?? 1000;
  const maxDelay = options.reconnect?.maxDelayMs ?? 30000;
  const watched = KEYS.filter((k) => options.nodeIds[k].trim() !== '');

  let closed = false;
  let wake: (() => void) | null = null;
  let current: { client: OPCUAClient; session?: ClientSession; subscription?: ClientSubscription } | null = null;
  let stopWaiting: (why: string) => void = () => undefined;
  /** Set while a session is being set up: node-opcua must not see it closed halfway (it throws out of a timer). */
  let settingUp: Promise<void> | null = null;
  let latest: Latest = {};
  let lastSent: { counter: number | string; at: number; mouldId: string | null } | null = null;
  let flushPending = false;
  let lastState: string | null = null;
  let counterType: string | null = null;

  const state = (s: PressConnectionState, detail?: string) => {
    if (closed) return;
    const key = `${s}:${detail ?? ''}`;
    if (key === lastState) return;
    lastState = key;
    events.state(s, detail);
  };

  function reading(cause: PressContext['cause']): void {
    const c = latest.counter;
    if (!c || !c.statusCode.isGood()) return;
    const counter = counterValue(c.value.value);
    if (counter === null) {
      state('error', `counter ${options.nodeIds.counter} is not a whole number ≥ 0: ${String(c.value.value)}`);
      return;
    }
    const mouldDv = latest.mouldId?.statusCode.isGood() ? latest.mouldId : undefined;
    const mouldId = typeof mouldDv?.value.value === 'string' && mouldDv.value.value.trim() !== '' ? mouldDv.value.value.trim() : null;
    // As of the later of the counter's and the mould's last change (so a mould change with no cycle yet
    // is a reading too); the same values always give the same time, so a re-read is no new reading.
    const times = [timeOf(c), timeOf(mouldDv)].filter((t): t is number => t !== null);
    const at = Math.min(times.length ? Math.max(...times) : Date.now(), Date.now());
    if (lastSent && lastSent.counter === counter && lastSent.at === at && lastSent.mouldId === mouldId) return;
    lastSent = { counter, at, mouldId };
    const ct = latest.lastCycleTime?.statusCode.isGood() ? latest.lastCycleTime.value.value : null;
    const cav = latest.numCavities?.statusCode.isGood() ? latest.numCavities.value.value : null;
    events.reading(
      {
        press: options.press,
        counter,
        at: new Date(at).toISOString(),
        source,
        cycleTimeMs: typeof ct === 'number' && Number.isFinite(ct) && ct >= 0 ? ct : null,
        mouldId,
        ...(counterType ? { counterType } : {}),
      },
      { numCavities: typeof cav === 'number' ? cav : null, cause },
    );
  }

  /** Values of one publish arrive one by one: report once they all are in. */
  function changed(key: Key, dv: DataValue) {
    latest[key] = dv;
    if ((key === 'counter' || key === 'mouldId') && !flushPending) {
      flushPending = true;
      setImmediate(() => {
        flushPending = false;
        if (!closed) reading('change');
      });
    }
  }

  /**
   * Read every watched value now and report. A counter that cannot be read is an error; a missing
   * LastCycleTime, MouldId or NumCavities (not every press has them) only says so in the state.
   */
  async function readNow(session: ClientSession, O: NodeOpcua): Promise<void> {
    const values = await session.read(watched.map((k) => ({ nodeId: options.nodeIds[k], attributeId: O.AttributeIds.Value })), 0);
    const missing: string[] = [];
    watched.forEach((k, i) => {
      latest[k] = values[i];
      if (!values[i].statusCode.isGood()) missing.push(`${options.nodeIds[k]}: ${values[i].statusCode.name}`);
    });
    if (!latest.counter?.statusCode.isGood()) state('error', missing.join('; '));
    else state('connected', missing.length ? `unavailable ${missing.join('; ')}` : undefined);
    reading('connect');
  }

  /**
   * One connection: connect, open a session, read, subscribe. Resolves once watching, to a promise
   * of why the session was lost for good (node-opcua repairs what it can before that).
   */
  async function connectOnce(O: NodeOpcua): Promise<Promise<string>> {
    const manager = await acquireManager(options.certificateRoot, options.trustServerCertificates ?? true);
    let client: OPCUAClient;
    try {
      client = createClient(O, options, manager, { initialDelay, maxDelay });
    } catch (err) {
      await releaseManager(options.certificateRoot);
      throw err;
    }
    const mine: NonNullable<typeof current> = { client };
    current = mine;
    let lost!: (why: string) => void;
    const gone = new Promise<string>((resolve) => (lost = resolve));
    client.on('connection_lost', () => state('disconnected', 'connection lost'));
    client.on('close', (err?: Error | null) => {
      if (err) lost(err.message);
    });

    async function openSession(): Promise<void> {
      const session = await client.createSession(identityOf(O, options.user));
      mine.session = session;
      let repairFailures = 0;
      session.on('session_closed', () => lost('session closed by the server'));
      session.on('session_restored', () => {
        repairFailures = 0;
        readNow(session, O).catch((err: Error) => state('error', err.message));
      });
      session.on('session_repaired_failed', () => {
        // node-opcua retries the repair every 2 s; after a few failures start over with a fresh client.
        if (++repairFailures >= 3) lost('session could not be restored');
      });
      if (closed) return;

      // (a counter that cannot be read says so in readNow)
      counterType = await builtInType(session, O, options.nodeIds.counter);
      latest = {};
      await readNow(session, O);
      if (closed) return;

      const subscription = await session.createSubscription2({
        requestedPublishingInterval: options.samplingIntervalMs ?? 100,
        requestedLifetimeCount: 600,
        requestedMaxKeepAliveCount: 20,
        maxNotificationsPerPublish: 0,
        publishingEnabled: true,
        priority: 10,
      });
      mine.subscription = subscription;
      // What the press does not have is not watched (the counter always is: it may come later).
      const monitored = watched.filter((k) => k === 'counter' || latest[k]?.statusCode.isGood());
      const group: ClientMonitoredItemGroup = await subscription.monitorItems(
        monitored.map((k) => ({ nodeId: options.nodeIds[k], attributeId: O.AttributeIds.Value })),
        { samplingInterval: options.samplingIntervalMs ?? 100, queueSize: 1, discardOldest: true },
        O.TimestampsToReturn.Both,
      );
      group.on('changed', (_item, dv, index) => changed(monitored[index], dv));
    }

    await client.connect(endpoint);
    if (closed) return gone;
    settingUp = openSession();
    try {
      await settingUp;
    } finally {
      settingUp = null;
    }
    return gone;
  }

  async function teardown(): Promise<void> {
    const c = current;
    current = null;
    if (!c) return;
    // A session on a dead channel would wait for a repair that never comes: close it only when connected.
    if (c.session && c.client.isReconnecting === false) await within(c.session.close(true), 3000);
    await within(c.client.disconnect(), 5000);
    await within(releaseManager(options.certificateRoot), 5000);
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wake = null;
        resolve();
      }
      wake = done;
    });
  }

  const running = (async () => {
    let delay = initialDelay;
    let O: NodeOpcua;
    try {
      O = await opcua();
    } catch (err) {
      return state('error', `node-opcua cannot be loaded: ${(err as Error).message}`);
    }
    while (!closed) {
      state('connecting');
      try {
        const gone = await connectOnce(O);
        if (closed) break;
        delay = initialDelay;
        const why = await Promise.race([gone, new Promise<string>((r) => (stopWaiting = r))]);
        state('disconnected', why);
      } catch (err) {
        state('error', (err as Error).message);
      }
      await teardown();
      if (closed) break;
      await sleep(delay);
      delay = Math.min(delay * 2, maxDelay);
    }
    await teardown();
  })().catch((err: Error) => state('error', err.message));

  return {
    async close() {
      closed = true;
      stopWaiting('closed');
      wake?.();
      // A session being set up finishes first (its requests time out at worst); a connect is cut short.
      if (settingUp) await within(settingUp, 10000);
      await teardown();
      await running.catch(() => undefined);
    },
  };
}

// toolroom-press-opcua's settings (the node itself is ../toolroom-press-opcua.ts).

export interface PressOpcuaDef extends NodeDef, ConnectionDef {
  /** Demo flow: connect only to the simulator of `npm start -- --simulate` (TOOLROOM_SIMULATOR_ENDPOINT), else say so once. */
  demo?: boolean;
  press?: string;
  /** The machine's object under Objects/Machines; '' = the press code. */
  machine?: string;
  counter?: string;
  counterNodeId?: string;
  lastCycleTimeNodeId?: string;
  mouldIdNodeId?: string;
  numCavitiesNodeId?: string;
  samplingInterval?: number | string;
}

export interface PressOpcuaCredentials {
  username?: string;
  password?: string;
}

const MODES: SecurityModeName[] = ['None', 'Sign', 'SignAndEncrypt'];
const COUNTERS: CycleCounter[] = ['MachineCycleCounter', 'JobCycleCounter'];
export const DEFAULT_PKI_DIR = '${TOOLROOM_DATA_DIR}/opcua-pki';
/** Set by `npm start -- --simulate` (app/start.ts) to its simulator's endpoint: the demo flow's presses connect to it, and only then. */
export const SIMULATOR_ENDPOINT_ENV = 'TOOLROOM_SIMULATOR_ENDPOINT';

/** The connection part of the settings (endpoint, security, user, PKI), shared by the watch and the editor's browse. */
export interface ConnectionDef {
  endpoint?: string;
  securityMode?: string;
  securityPolicy?: string;
  pkiDir?: string;
  trustServerCertificates?: boolean;
}

const ENDPOINT = /^opc\.tcp:\/\/[^\s/:]+(:\d+)?(\/\S*)?$/;

/** The connection settings, with each problem pushed to `problems` naming its field. */
export function connectionSettings(def: ConnectionDef, credentials: PressOpcuaCredentials, problems: FieldProblem[]): Omit<PressConnection, 'press'> {
  const endpoint = (def.endpoint ?? '').trim();
  if (!ENDPOINT.test(endpoint)) {
    problems.push({ field: 'endpoint', rule: 'opc_tcp_url', message: 'must be an OPC-UA endpoint such as opc.tcp://192.168.0.10:4840' });
  }
  const securityMode = (def.securityMode || 'None') as SecurityModeName;
  if (!MODES.includes(securityMode)) problems.push({ field: 'securityMode', rule: 'one_of', message: `must be one of ${MODES.join(', ')}` });
  const securityPolicy = (def.securityPolicy || (securityMode === 'None' ? 'None' : 'Basic256Sha256')) as SecurityPolicyName;
  if (!SECURITY_POLICIES.includes(securityPolicy)) {
    problems.push({ field: 'securityPolicy', rule: 'one_of', message: `must be one of ${SECURITY_POLICIES.join(', ')}` });
  } else if (securityMode !== 'None' && securityPolicy === 'None') {
    problems.push({ field: 'securityPolicy', rule: 'secure_policy', message: `${securityMode} needs a policy other than None` });
  }
  const username = credentials.username?.trim() ?? '';
  return {
    endpoint,
    securityMode,
    securityPolicy: securityMode === 'None' ? 'None' : securityPolicy,
    user: username ? { username, password: credentials.password ?? '' } : undefined,
    certificateRoot: path.resolve(expandEnv((def.pkiDir ?? '').trim() || DEFAULT_PKI_DIR)),
    trustServerCertificates: def.trustServerCertificates ?? true,
  };
}

/** toolroom-press-opcua's settings as watch options; a setting that cannot work is a validation error naming it. */
export function pressWatchOptions(def: PressOpcuaDef, credentials: PressOpcuaCredentials): PressWatchOptions {
  const problems: FieldProblem[] = [];
  const connection = connectionSettings(def, credentials, problems);
  const press = (def.press ?? '').trim();
  if (!isPressCode(press)) {
    problems.push({ field: 'press', rule: 'press_code', message: 'must be the press code: letters, digits and . _ / - (at most 40)' });
  }
  const counter = (def.counter || 'MachineCycleCounter') as CycleCounter;
  if (!COUNTERS.includes(counter)) problems.push({ field: 'counter', rule: 'one_of', message: `must be one of ${COUNTERS.join(', ')}` });
  const sampling = def.samplingInterval === undefined || def.samplingInterval === '' ? 100 : Number(def.samplingInterval);
  if (!Number.isInteger(sampling) || sampling < 0 || sampling > 60000) {
    problems.push({ field: 'samplingInterval', rule: 'range', message: 'must be whole milliseconds from 0 to 60000' });
  }
  if (problems.length) throw validationError(problems);

  const defaults = defaultNodeIds((def.machine ?? '').trim() || press, counter);
  const pick = (v: string | undefined, fallback: string) => (v ?? '').trim() || fallback;
  return {
    ...connection,
    press,
    nodeIds: {
      counter: pick(def.counterNodeId, defaults.counter),
      lastCycleTime: pick(def.lastCycleTimeNodeId, defaults.lastCycleTime),
      mouldId: pick(def.mouldIdNodeId, defaults.mouldId),
      numCavities: pick(def.numCavitiesNodeId, defaults.numCavities),
    },
    samplingIntervalMs: sampling,
  };
}
