import { ToolroomError } from '../core/errors';
import { browseChildren, browseRequest, findEuromap77, type BrowseInput } from './lib/opcua-browse';
import {
  SIMULATOR_ENDPOINT_ENV,
  pressWatchOptions,
  watchPress,
  type PressConnectionState,
  type PressOpcuaCredentials,
  type PressOpcuaDef,
  type PressWatch,
  type PressWatchOptions,
} from './lib/opcua-press-client';
import type { AdminResponse, Node, NodeAPI } from './lib/red';

/**
 * toolroom-press-opcua: one press's EUROMAP 77 counters over OPC-UA, sent as readings for
 * toolroom-shot-count. No input; one message per counter change, and one after every
 * (re)connect with the value read then, so a cut connection loses no cycle. The OPC-UA work is
 * in lib/opcua-press-client; the edit dialog browses the press through POST
 * /toolroom-press-opcua/browse (lib/opcua-browse), for editors with full access only.
 */

export = function (RED: NodeAPI) {
  const t = (key: string, subs?: Record<string, unknown>) => RED._(`toolroom-press-opcua.status.${key}`, subs);
  /** Deployed press nodes' endpoints, by node id: a browse may use a node's stored login only against its own press. */
  const endpoints = new Map<string, string>();

  function PressOpcua(this: Node<PressOpcuaCredentials>, def: PressOpcuaDef) {
    RED.nodes.createNode(this, def);
    const id = this.id;
    endpoints.set(id, String(def.endpoint ?? '').trim());
    this.on('close', (_removed: boolean, done: () => void) => {
      endpoints.delete(id);
      done();
    });
    start(this, def);
  }

  function start(node: Node<PressOpcuaCredentials>, def: PressOpcuaDef) {
    if (def.demo) {
      // The demo flow's presses exist only while `npm start -- --simulate` runs its simulator: say so once, connect to nothing.
      const simulator = process.env[SIMULATOR_ENDPOINT_ENV]?.trim();
      if (!simulator) {
        node.status({ fill: 'grey', shape: 'ring', text: t('noSimulator') });
        node.warn(RED._('toolroom-press-opcua.errors.noSimulator', { press: def.press ?? '' }));
        node.on('close', (_removed, done) => {
          node.status({});
          done();
        });
        return;
      }
      def = { ...def, endpoint: simulator };
    }
    let options: PressWatchOptions;
    try {
      options = pressWatchOptions(def, node.credentials ?? {});
    } catch (err) {
      node.status({ fill: 'red', shape: 'ring', text: t('invalid') });
      node.error(err);
      node.on('close', (_removed, done) => done());
      return;
    }

    let lastError = '';
    const states: Record<PressConnectionState, () => void> = {
      connecting: () => node.status({ fill: 'yellow', shape: 'ring', text: t('connecting') }),
      connected: () => node.status({ fill: 'green', shape: 'dot', text: t('connected') }),
      disconnected: () => node.status({ fill: 'red', shape: 'ring', text: t('disconnected') }),
      error: () => node.status({ fill: 'red', shape: 'ring', text: t('error') }),
    };

    const watch: PressWatch = watchPress(options, {
      reading(reading, context) {
        node.send({ payload: reading, opcua: { endpoint: options.endpoint, numCavities: context.numCavities, cause: context.cause } });
        node.status({ fill: 'green', shape: 'dot', text: t('reading', { counter: reading.counter, mouldId: reading.mouldId ?? '-' }) });
      },
      state(state, detail) {
        states[state]();
        if (state === 'connected') {
          lastError = '';
          if (detail) node.warn(RED._('toolroom-press-opcua.errors.partial', { endpoint: options.endpoint, detail }));
        } else if ((state === 'error' || state === 'disconnected') && detail && detail !== lastError) {
          // Once per cause: a press that stays down does not flood the log at every retry.
          lastError = detail;
          const message = RED._('toolroom-press-opcua.errors.' + state, { endpoint: options.endpoint, detail });
          if (state === 'error') node.error(message);
          else node.warn(message);
        }
      },
    });

    node.on('close', (_removed, done) => {
      watch.close().then(
        () => {
          node.status({});
          done();
        },
        (err: Error) => {
          node.error(err);
          done();
        },
      );
    });
  }

  /** The answer to a browse that failed: a bad request names its fields; a press that cannot be reached says why. */
  function refuse(res: AdminResponse, err: unknown, secrets: unknown[]) {
    if (err instanceof ToolroomError) {
      res.status(err.code === 'validation' ? 400 : 409).json({ error: { code: err.code, message: err.message, details: err.cause.details } });
      return;
    }
    let message = err instanceof Error ? err.message : String(err);
    // node-opcua's messages carry no password, but one typed into a field must never come back.
    for (const s of secrets) if (typeof s === 'string' && s.length >= 3) message = message.split(s).join('***');
    res.status(502).json({ error: { code: 'press_unreachable', message } });
  }

  // The edit dialog's browser: editors with full access only (a read-only editor cannot point the server at a host).
  RED.httpAdmin.post('/toolroom-press-opcua/browse', RED.auth.needsPermission('toolroom-press-opcua.write'), (req, res) => {
    const body = (req.body && typeof req.body === 'object' ? req.body : {}) as BrowseInput & { id?: unknown };
    // A deployed press node's stored login, for a dialog that shows only the password placeholder: only
    // that node's (never another node's credentials) and only against the endpoint it is deployed with.
    const deployedAt = typeof body.id === 'string' ? endpoints.get(body.id) : undefined;
    const sameEndpoint = deployedAt !== undefined && deployedAt === String(body.endpoint ?? '').trim();
    const stored = sameEndpoint ? ((RED.nodes.getCredentials(body.id as string) ?? {}) as PressOpcuaCredentials) : {};
    browseRequest(body, stored)
      .then((r): Promise<unknown> => (r.action === 'children' ? browseChildren(r.connection, r.nodeId) : findEuromap77(r.connection)))
      .then(
        (result) => res.json(result),
        (err: unknown) => refuse(res, err, [body.password, stored.password]),
      );
  });

  RED.nodes.registerType('toolroom-press-opcua', PressOpcua, {
    credentials: {
      username: { type: 'text' },
      password: { type: 'password' },
    },
  });
};
