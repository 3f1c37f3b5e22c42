import { posix } from 'node:path';
import type { DashboardHooks } from '../http/login/dashboard';

/**
 * toolroom-dashboard-auth: a Dashboard 2 plugin (type `node-red-dashboard-2`, as Dashboard 2's
 * auth add-ons are) whose hooks put the logged-in user of a browser's socket into every message
 * as msg._client.user {id, username, role, displayName} — overriding whatever the browser sent —
 * and drop messages from, and to, sockets whose session has ended.
 *
 * The hooks come from the start command (app/start.ts), which puts http/login/dashboard.ts into
 * Node-RED's settings as `toolroom.dashboardAuth` beside Dashboard 2's `dashboard.middleware`
 * and `dashboard.ioMiddleware`. In a Node-RED without them (no login), no browser may name a user:
 * msg._client.user and msg.user are removed, so the pages' flows see an anonymous message.
 */
interface PluginAPI {
  settings: Record<string, unknown>;
  plugins: { registerPlugin(id: string, definition: { type: string; hooks: Partial<DashboardHooks> & { onSetup?: unknown } }): void };
  log?: { info(message: string): void };
}

const anonymous: Partial<DashboardHooks> = {
  onAddConnectionCredentials(_conn, msg) {
    delete msg.user;
    msg._client = {};
    return msg;
  },
};

/**
 * Dashboard 2's client opens its socket the way socket.io does by default: an HTTP long-polling
 * handshake, the connect packet over a second request, then an upgrade to a WebSocket — round trips
 * a page waits for before its first data (each one 40 ms or more on plant Wi-Fi). Its `_setup`
 * answer carries the client's socket options, so the plugin asks for the WebSocket first; polling
 * stays as the fallback for a proxy that does not pass WebSockets.
 */
function websocketFirst(RED: PluginAPI) {
  return (config: { path?: string }) => ({
    socketio: { path: posix.join('/', String(RED.settings.httpNodeRoot ?? '/'), config.path ?? '/dashboard', 'socket.io'), transports: ['websocket', 'polling'] },
  });
}

export = function (RED: PluginAPI) {
  let configured: DashboardHooks | undefined;
  try {
    configured = (RED.settings.toolroom as { dashboardAuth?: { hooks?: DashboardHooks } } | undefined)?.dashboardAuth?.hooks;
  } catch {
    // Node-RED throws for a setting that is not there.
    configured = undefined;
  }
  const hooks = { ...(configured ?? anonymous), onSetup: websocketFirst(RED) };
  RED.plugins.registerPlugin('toolroom-dashboard-auth', { type: 'node-red-dashboard-2', hooks });
  RED.log?.info(`Toolroom dashboard login: ${configured ? 'sockets need a session' : 'no login configured, browsers cannot name a user'}`);
};
