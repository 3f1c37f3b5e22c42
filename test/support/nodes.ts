import assert from 'node:assert/strict';
import type { Db } from '../../core/db/connect';
import { acquireDatabase, type DatabaseLease, type DatabaseTarget } from '../../app/databases';
import type { NodeMessage, NodeStatus } from '../../nodes/lib/red';

/**
 * Shared by the node suites: Node-RED's test helper on the installed runtime, the two database
 * backends as toolroom-config nodes, and small waits for messages and statuses.
 */

// The helper ships no types; these are the calls the suites make.
export interface TestHelper {
  init(runtimePath: string): void;
  startServer(done: (err?: unknown) => void): void;
  stopServer(done: (err?: unknown) => void): void;
  load(nodes: unknown[], flow: object[], credentials?: Record<string, object>): Promise<void>;
  setFlows(flow: object[], type: 'full' | 'flows' | 'nodes', credentials?: Record<string, object>): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): TestNode;
}

export interface TestNode {
  id: string;
  on(event: 'input', handler: (msg: NodeMessage) => void): void;
  once(event: 'input', handler: (msg: NodeMessage) => void): void;
  removeListener(event: 'input', handler: (msg: NodeMessage) => void): void;
  receive(msg: NodeMessage): void;
  [key: string]: unknown;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const helper: TestHelper = require('node-red-node-test-helper');
helper.init(require.resolve('node-red'));

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const configNode = require('../../nodes/toolroom-config');

export interface NodeBackend {
  name: 'pglite' | 'postgres';
  target: DatabaseTarget;
  /** A toolroom-config node on this backend and the credentials it needs. */
  config(id: string, target?: DatabaseTarget): { node: object; credentials: Record<string, object> };
}

function configFor(id: string, target: DatabaseTarget) {
  if ('url' in target) {
    return { node: { id, type: 'toolroom-config', backend: 'postgres' }, credentials: { [id]: { url: target.url } } };
  }
  return { node: { id, type: 'toolroom-config', backend: 'pglite', dataDir: target.dataDir }, credentials: {} };
}

export const nodeBackends: NodeBackend[] = [
  { name: 'pglite', target: { dataDir: ':memory:' }, config: (id, t) => configFor(id, t ?? { dataDir: ':memory:' }) },
];
if (process.env.TEST_DATABASE_URL) {
  const url = process.env.TEST_DATABASE_URL;
  nodeBackends.push({ name: 'postgres', target: { url }, config: (id, t) => configFor(id, t ?? { url }) });
}

/**
 * Keep a backend's database open for a whole suite, as the app does: flows come and go
 * (each test deploys its own) without reopening PGlite every time.
 */
export function holdDatabase(backend: NodeBackend): { db(): Db; lease(): DatabaseLease } {
  let lease: DatabaseLease;
  let db: Db;
  before(async function () {
    this.timeout(60000);
    lease = acquireDatabase(backend.target);
    db = await lease.database();
  });
  after(() => lease.release());
  return { db: () => db, lease: () => lease };
}

/** The next message a helper node receives. */
export function nextMessage(node: TestNode, ms = 10000): Promise<NodeMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message reached ${node.id} within ${ms} ms`)), ms);
    node.once('input', (msg) => {
      clearTimeout(timer);
      resolve(msg);
    });
  });
}

/**
 * Send `msg` into `into` and wait for whichever comes first: a message at `out` or one at `errors`
 * (behind a Catch node). One exchange at a time per `out`: a concurrent one would take the same message.
 */
export function exchange(
  into: TestNode,
  msg: NodeMessage,
  out: TestNode,
  errors: TestNode,
  ms = 10000,
): Promise<{ output?: NodeMessage; error?: NodeMessage }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (r: { output?: NodeMessage; error?: NodeMessage }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      out.removeListener('input', onOut);
      errors.removeListener('input', onError);
      resolve(r);
    };
    const onOut = (m: NodeMessage) => settle({ output: m });
    const onError = (m: NodeMessage) => settle({ error: m });
    const timer = setTimeout(() => {
      settled = true;
      out.removeListener('input', onOut);
      errors.removeListener('input', onError);
      reject(new Error(`neither ${out.id} nor ${errors.id} received a message within ${ms} ms`));
    }, ms);
    out.on('input', onOut);
    errors.on('input', onError);
    into.receive(msg);
  });
}

/** The error a Catch node received, checked for DESIGN.md's contract: code, message naming the field, details. */
export function assertCaught(
  caught: { output?: NodeMessage; error?: NodeMessage },
  code: string,
  field?: string,
  rule?: string | RegExp,
): { code: string; message: string; cause: { details: { field: string; rule: string; message: string }[] } } {
  assert.ok(caught.error, `expected a ${code} error at the Catch node, got output ${JSON.stringify(caught.output?.payload)}`);
  const err = caught.error.error as { code: string; message: string; cause: { details: { field: string; rule: string; message: string }[] } };
  assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
  assert.ok(Array.isArray(err.cause?.details) && err.cause.details.length > 0, 'msg.error.cause.details lists the problems');
  if (field !== undefined) {
    const hit = err.cause.details.find(
      (d) => d.field === field && (rule === undefined || (typeof rule === 'string' ? d.rule === rule : rule.test(d.rule))),
    );
    assert.ok(hit, `expected a problem on ${field}${rule ? ` (${rule})` : ''}, got ${JSON.stringify(err.cause.details)}`);
    if (code === 'validation') assert.ok(err.message.includes(field), `message names ${field}: ${err.message}`);
  }
  return err;
}

/** Every status a node has shown since the flow was loaded (the helper spies on Node.prototype.status). */
export function statuses(node: TestNode): NodeStatus[] {
  const spy = (helper as unknown as { _NodePrototype: { status: { getCalls(): { thisValue: unknown; args: [NodeStatus] }[] } } })._NodePrototype.status;
  return spy.getCalls().filter((c) => c.thisValue === node).map((c) => c.args[0]);
}

/** Wait until a node's latest status satisfies `check`. */
export async function statusUntil(node: TestNode, check: (s: NodeStatus) => boolean, ms = 10000): Promise<NodeStatus> {
  const end = Date.now() + ms;
  for (;;) {
    const all = statuses(node);
    const last = all[all.length - 1];
    if (last && check(last)) return last;
    if (Date.now() > end) throw new Error(`status of ${node.id} never matched; last ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A Catch node for the whole flow tab wired to a helper node. */
export function catchTo(helperId: string, z = 'flow'): object[] {
  return [
    { id: `catch-${helperId}`, type: 'catch', z, scope: null, uncaught: false, wires: [[helperId]] },
    { id: helperId, type: 'helper', z },
  ];
}
