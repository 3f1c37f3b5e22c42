import { actorFromUser, systemActor, type Actor } from '../../core/auth/actor';
import type { Db } from '../../core/db/connect';
import { ToolroomError, validationError } from '../../core/errors';
import type { ToolroomConfigNode } from './config';
import type { DoneFn, Node, NodeAPI, NodeDef, NodeMessage, SendFn } from './red';

/**
 * The one adapter behind every record node (toolroom-tool, -mount, -pm, ...): DESIGN.md's message
 * contract. `msg.topic` (or the node's fixed operation) picks a core service, `msg.payload` is its
 * input, the result replaces `msg.payload`; errors go to Catch nodes through `done(err)`.
 */

/**
 * A core service as every domain module exports it. The node calls it with these three arguments
 * only, so a service's further parameters (a clock, the environment, test options) keep their defaults.
 */
export type RecordOperation = (db: Db, actor: Actor, input: unknown) => Promise<unknown>;

/**
 * One record node, described once: the runtime registers it from this, and the build
 * (scripts/build-editor.ts) writes its editor form and the shared part of its help from it.
 */
export interface RecordNodeSpec {
  type: string;
  /** The palette icon: a file in nodes/icons, or `font-awesome/fa-…`. */
  icon: string;
  /** Offered in this order in the editor's operation list. */
  operations: Record<string, RecordOperation>;
  /**
   * Operations whose result is a list to send as one message per item (e.g. PM state
   * transitions) instead of one message holding the list.
   */
  splitResults?: string[];
  /**
   * Operations a trigger starts (an inject every few minutes): a payload that is not an object
   * (the inject's timestamp) is no input for them, so they get none.
   */
  triggers?: string[];
}

export interface RecordNodeDef extends NodeDef {
  config?: string;
  /** '' = take the operation from msg.topic. */
  operation?: string;
}

interface RecordNode extends Node {
  config: ToolroomConfigNode | null;
}

/** The operation to run: the node's own, or msg.topic; anything else is a validation error naming the field. */
export function operationOf(spec: RecordNodeSpec, fixed: string | undefined, msg: NodeMessage): string {
  const names = Object.keys(spec.operations);
  const field = fixed ? 'operation' : 'topic';
  const op = fixed || msg.topic;
  if (typeof op === 'string' && Object.hasOwn(spec.operations, op)) return op;
  throw validationError([
    {
      field,
      rule: 'operation',
      message:
        op === undefined || op === ''
          ? `${spec.type} needs an operation in msg.topic: one of ${names.join(', ')}`
          : `${spec.type} has no operation "${String(op)}": one of ${names.join(', ')}`,
    },
  ]);
}

/**
 * Who is acting: Dashboard 2's `msg._client.user`, else `msg.user`, else the `system` actor (a flow
 * acts for its author). The node id goes into the audit trail either way. A malformed user is a
 * validation error naming the message property, never a silent system actor.
 */
export function actorOf(msg: NodeMessage, via: string): Actor {
  const client = msg._client as { user?: unknown } | undefined;
  const [where, user] = client?.user != null ? ['_client.user', client.user] : ['user', msg.user];
  if (user == null) return systemActor(via);
  try {
    return actorFromUser(user, via);
  } catch (err) {
    if (err instanceof ToolroomError && err.code === 'validation') {
      throw validationError(err.cause.details.map((d) => ({ ...d, field: d.field ? `${where}.${d.field}` : where })));
    }
    throw err;
  }
}

function isPage(v: unknown): v is { items: unknown[]; total: number } {
  return typeof v === 'object' && v !== null && Array.isArray((v as { items?: unknown }).items) && typeof (v as { total?: unknown }).total === 'number';
}

/** A record node's module: what Node-RED calls to register it, carrying its spec for the editor build. */
export type RecordNodeModule = ((RED: NodeAPI) => void) & { readonly spec: RecordNodeSpec };

export function recordNode(spec: RecordNodeSpec): RecordNodeModule {
  return Object.assign((RED: NodeAPI) => registerRecordNode(RED, spec), { spec });
}

/** Register `spec.type` with Node-RED as a record node. */
export function registerRecordNode(RED: NodeAPI, spec: RecordNodeSpec): void {
  const t = (key: string, subs?: Record<string, unknown>) => RED._(`${spec.type}.status.${key}`, subs);

  function RecordNodeImpl(this: RecordNode, def: RecordNodeDef) {
    RED.nodes.createNode(this, def);
    start(this, def);
  }

  function start(node: RecordNode, def: RecordNodeDef) {
    node.config = (def.config ? (RED.nodes.getNode(def.config) as ToolroomConfigNode | null) : null) ?? null;
    const fixed = def.operation || undefined;
    // The last outcome wins over the opening's: a message can finish before the "ready" arrives.
    let handled = false;

    if (!node.config) {
      node.status({ fill: 'red', shape: 'ring', text: t('noConfig') });
    } else {
      const config = node.config;
      config.register(node);
      node.status({ fill: 'yellow', shape: 'ring', text: t('connecting') });
      config.database().then(
        () => handled || node.status({ fill: 'grey', shape: 'dot', text: t('ready') }),
        () => handled || node.status({ fill: 'red', shape: 'ring', text: t('unavailable') }),
      );
    }

    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      let op = fixed ?? String(msg.topic ?? '');
      (async () => {
        op = operationOf(spec, fixed, msg);
        const actor = actorOf(msg, node.id);
        if (!node.config) {
          throw validationError([{ field: 'config', rule: 'required', message: `${spec.type} has no toolroom-config` }]);
        }
        const db = await node.config.database();
        const trigger = spec.triggers?.includes(op) && (typeof msg.payload !== 'object' || msg.payload === null || Array.isArray(msg.payload));
        return spec.operations[op](db, actor, trigger ? undefined : msg.payload);
      })().then(
        (result) => {
          handled = true;
          if (spec.splitResults?.includes(op) && Array.isArray(result)) {
            send([result.map((item) => ({ ...msg, payload: item }))]);
            node.status({ fill: 'green', shape: 'dot', text: t('sent', { operation: op, count: result.length }) });
          } else {
            msg.payload = result;
            send(msg);
            node.status(
              isPage(result)
                ? { fill: 'green', shape: 'dot', text: t('listed', { operation: op, count: result.items.length, total: result.total }) }
                : { fill: 'green', shape: 'dot', text: t('done', { operation: op }) },
            );
          }
          done();
        },
        (err: Error) => {
          handled = true;
          const code = (err as { code?: unknown }).code ?? 'error';
          node.status({ fill: 'red', shape: 'ring', text: t('error', { operation: op || '?', code }) });
          done(err);
        },
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      if (!node.config) return done();
      node.config.deregister(node, done);
      node.config = null;
    });
  }

  RED.nodes.registerType(spec.type, RecordNodeImpl);
}
