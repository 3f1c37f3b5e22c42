import {
  pressWatchOptions,
  watchPress,
  type PressConnectionState,
  type PressOpcuaCredentials,
  type PressOpcuaDef,
  type PressWatch,
  type PressWatchOptions,
} from './lib/opcua-press-client';
import type { Node, NodeAPI } from './lib/red';

/**
 * toolroom-press-opcua: one press's EUROMAP 77 counters over OPC-UA, sent as readings for
 * toolroom-shot-count. No input; one message per counter change, and one after every
 * (re)connect with the value read then, so a cut connection loses no cycle. The OPC-UA work is
 * in lib/opcua-press-client.
 */

export = function (RED: NodeAPI) {
  const t = (key: string, subs?: Record<string, unknown>) => RED._(`toolroom-press-opcua.status.${key}`, subs);

  function PressOpcua(this: Node<PressOpcuaCredentials>, def: PressOpcuaDef) {
    RED.nodes.createNode(this, def);
    start(this, def);
  }

  function start(node: Node<PressOpcuaCredentials>, def: PressOpcuaDef) {
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

  RED.nodes.registerType('toolroom-press-opcua', PressOpcua, {
    credentials: {
      username: { type: 'text' },
      password: { type: 'password' },
    },
  });
};
