import type { ClientSession, OPCUAClient, ReferenceDescription } from 'node-opcua';
import { validationError, type FieldProblem } from '../../core/errors';
import {
  acquireManager,
  builtInType,
  connectionSettings,
  createClient,
  identityOf,
  opcua,
  releaseManager,
  within,
  type ConnectionDef,
  type Euromap77Variable,
  type NodeOpcua,
  type PressConnection,
  type PressOpcuaCredentials,
} from './opcua-press-client';

/**
 * The editor's view of a press's address space (toolroom-press-opcua's edit dialog, through the
 * node's admin endpoint): the children of one node, and the EUROMAP 77 / OPC 40077 variables of
 * every machine under Objects/Machines, found by browse name with the namespace resolved from the
 * server's NamespaceArray by its URI (never a fixed ns= index). No Node-RED here. One short session
 * per request, always closed; credentials are used to log in and never appear in an answer or error.
 */

/** OPC 40077 (IMM to MES) namespace URIs, newest first; older servers publish the EUROMAP 77 one. */
export const EUROMAP77_URIS = [
  'http://opcfoundation.org/UA/PlasticsRubber/IMM2MES/',
  'http://opcfoundation.org/UA/IMM/',
  'http://www.euromap.org/euromap77/',
];
/** OPC 40001 Machinery: where the Machines folder's browse name lives. */
export const MACHINERY_URI = 'http://opcfoundation.org/UA/Machinery/';

/** Below a machine, the browse path of each variable the node watches (and the machine's mode, shown only). */
export const EUROMAP77_BROWSE_PATHS: Record<Euromap77Variable | 'MachineMode', string[]> = {
  MachineCycleCounter: ['Jobs', 'ActiveJobValues', 'MachineCycleCounter'],
  JobCycleCounter: ['Jobs', 'ActiveJobValues', 'JobCycleCounter'],
  LastCycleTime: ['Jobs', 'ActiveJobValues', 'LastCycleTime'],
  MouldId: ['Jobs', 'ActiveJob', 'MouldId'],
  NumCavities: ['Jobs', 'ActiveJob', 'NumCavities'],
  MachineMode: ['MachineStatus', 'MachineMode'],
};

export interface BrowseInput extends ConnectionDef {
  /** children: one node's children; euromap77: the machines and their variables. */
  action?: string;
  /** For children: the node to open (default the Objects folder). */
  nodeId?: string;
  /** The dialog's username and password; absent (or the editor's placeholder) = the deployed node's. */
  username?: string;
  password?: string;
}

export interface BrowseRequest {
  connection: PressConnection;
  action: 'children' | 'euromap77';
  nodeId: string;
}

/** What the editor shows of a node. */
export interface BrowsedNode {
  nodeId: string;
  browseName: string;
  displayName: string;
  nodeClass: 'Object' | 'Variable';
  /** A variable's built-in data type, e.g. UInt32. */
  dataType?: string;
  /** Objects can be opened (their children are browsed on demand). */
  hasChildren: boolean;
}

export interface FoundVariable {
  nodeId: string;
  dataType: string | null;
}

export interface FoundMachine {
  name: string;
  nodeId: string;
  variables: Partial<Record<keyof typeof EUROMAP77_BROWSE_PATHS, FoundVariable>>;
}

export interface Euromap77Found {
  /** The namespace found by its URI, with its index on this server now. */
  namespace: { uri: string; index: number } | null;
  machines: FoundMachine[];
  /** Why nothing was found, when nothing was. */
  note: string | null;
}

/** Node-RED shows a stored password as this placeholder in the editor. */
const PASSWORD_PLACEHOLDER = '__PWRD__';
const ACTIONS = ['children', 'euromap77'] as const;
/** One request, connect to answer, at most this long. */
export const BROWSE_TIMEOUT_MS = 20_000;
/** More children than this are cut (the dialog is no bulk export). */
const MAX_CHILDREN = 1000;

/**
 * A browse request as the dialog sends it, checked: the endpoint (opc.tcp://), security, the node id
 * (must parse), and the login: the dialog's own, else the deployed node's stored credentials.
 */
export async function browseRequest(input: BrowseInput, stored: PressOpcuaCredentials): Promise<BrowseRequest> {
  const problems: FieldProblem[] = [];
  const typed = typeof input.password === 'string' && input.password !== PASSWORD_PLACEHOLDER;
  const username = typeof input.username === 'string' ? input.username : stored.username;
  // A stored password goes only with the stored user: a changed username must bring its own.
  const password = typed ? input.password : username === stored.username ? stored.password : '';
  const connection = connectionSettings(input, { username, password }, problems);
  const action = (input.action || 'children') as BrowseRequest['action'];
  if (!ACTIONS.includes(action)) problems.push({ field: 'action', rule: 'one_of', message: `must be one of ${ACTIONS.join(', ')}` });
  const nodeId = typeof input.nodeId === 'string' && input.nodeId.trim() ? input.nodeId.trim() : 'i=85';
  if (action === 'children') {
    const O = await opcua();
    try {
      O.resolveNodeId(nodeId);
    } catch {
      problems.push({ field: 'nodeId', rule: 'node_id', message: 'must be an OPC-UA node id such as ns=2;s=Machines or i=85' });
    }
  }
  if (problems.length) throw validationError(problems);
  return { connection: { ...connection, press: 'browse' }, action, nodeId };
}

/** One session for `work`, closed whatever happens, within BROWSE_TIMEOUT_MS. */
async function withSession<T>(connection: PressConnection, work: (session: ClientSession, O: NodeOpcua) => Promise<T>, timeoutMs = BROWSE_TIMEOUT_MS): Promise<T> {
  const O = await opcua();
  const manager = await acquireManager(connection.certificateRoot, connection.trustServerCertificates ?? true, false);
  let client: OPCUAClient | null = null;
  let session: ClientSession | null = null;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from ${connection.endpoint} within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    client = createClient(O, connection, manager, { initialDelay: 500, maxDelay: 1000 });
    const c = client;
    return await Promise.race([
      (async () => {
        await c.connect(connection.endpoint);
        session = await c.createSession(identityOf(O, connection.user));
        return work(session, O);
      })(),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
    const s = session as ClientSession | null;
    if (s) await within(s.close(true), 3000);
    if (client) await within(client.disconnect(), 5000);
    await within(releaseManager(connection.certificateRoot), 5000);
  }
}

/** The objects and variables below a node (hierarchical references, forward). */
async function children(session: ClientSession, O: NodeOpcua, nodeId: string): Promise<ReferenceDescription[]> {
  const result = await session.browse({
    nodeId,
    referenceTypeId: 'HierarchicalReferences',
    includeSubtypes: true,
    browseDirection: O.BrowseDirection.Forward,
    nodeClassMask: O.NodeClassMask.Object | O.NodeClassMask.Variable,
    resultMask: 0x3f,
  });
  if (!result.statusCode.isGood()) throw new Error(`${nodeId} cannot be browsed: ${result.statusCode.name}`);
  return (result.references ?? []).slice(0, MAX_CHILDREN);
}

export async function browseChildren(connection: PressConnection, nodeId: string): Promise<{ nodeId: string; children: BrowsedNode[] }> {
  return withSession(connection, async (session, O) => {
    const refs = await children(session, O, nodeId);
    const out: BrowsedNode[] = [];
    for (const r of refs) {
      const variable = r.nodeClass === O.NodeClass.Variable;
      const id = r.nodeId.toString();
      out.push({
        nodeId: id,
        browseName: r.browseName.toString(),
        displayName: r.displayName.text ?? r.browseName.name ?? id,
        nodeClass: variable ? 'Variable' : 'Object',
        ...(variable ? { dataType: (await builtInType(session, O, id)) ?? undefined } : {}),
        hasChildren: !variable,
      });
    }
    return { nodeId, children: out };
  });
}

/**
 * Every machine under Objects/Machines with the EUROMAP 77 variables it has: each looked up by its
 * browse path (qualified names in the 40077 namespace, whatever its index on this server).
 */
export async function findEuromap77(connection: PressConnection): Promise<Euromap77Found> {
  return withSession(connection, async (session, O) => {
    const namespaces = await session.readNamespaceArray();
    const uri = EUROMAP77_URIS.find((u) => namespaces.includes(u));
    if (!uri) {
      return { namespace: null, machines: [], note: `the server has no EUROMAP 77 / OPC 40077 namespace (${EUROMAP77_URIS[0]})` };
    }
    const index = namespaces.indexOf(uri);
    const machinery = namespaces.indexOf(MACHINERY_URI);
    const top = (await children(session, O, 'i=85')).filter((r) => r.browseName.name === 'Machines');
    // The Machinery folder first; a server that names it in its own namespace is taken too.
    const folder = top.find((r) => r.browseName.namespaceIndex === machinery) ?? top[0];
    if (!folder) return { namespace: { uri, index }, machines: [], note: 'no Machines folder under Objects' };
    const machines: FoundMachine[] = [];
    for (const m of await children(session, O, folder.nodeId.toString())) {
      if (m.nodeClass !== O.NodeClass.Object) continue;
      const names = Object.keys(EUROMAP77_BROWSE_PATHS) as (keyof typeof EUROMAP77_BROWSE_PATHS)[];
      const results = await session.translateBrowsePath(
        names.map((n) => O.makeBrowsePath(m.nodeId, EUROMAP77_BROWSE_PATHS[n].map((part) => `/${index}:${part}`).join(''))),
      );
      const variables: FoundMachine['variables'] = {};
      for (const [i, n] of names.entries()) {
        const target = results[i].statusCode.isGood() ? results[i].targets?.[0] : undefined;
        if (!target) continue;
        const id = target.targetId.toString();
        variables[n] = { nodeId: id, dataType: await builtInType(session, O, id) };
      }
      if (Object.keys(variables).length) machines.push({ name: m.browseName.name ?? '', nodeId: m.nodeId.toString(), variables });
    }
    return { namespace: { uri, index }, machines, note: machines.length ? null : 'no machine under Machines has the EUROMAP 77 variables' };
  });
}
