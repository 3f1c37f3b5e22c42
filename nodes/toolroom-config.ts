import { acquireDatabase, expandEnv, type DatabaseLease, type DatabaseTarget } from './lib/databases';
import { describeTarget, targetOf, type ToolroomConfigDef, type ToolroomConfigNode } from './lib/config';
import type { Node, NodeAPI } from './lib/red';

/**
 * toolroom-config: the database (and later InfluxDB) shared by every Toolroom node that names it.
 * Like Node-RED's mqtt-broker it counts its users: the first to register opens the database,
 * the last to leave (or a redeploy, or stop) releases it. Config nodes naming the same database
 * share one instance through lib/databases.
 */
export = function (RED: NodeAPI) {
  function ToolroomConfig(this: ToolroomConfigNode, def: ToolroomConfigDef) {
    RED.nodes.createNode(this, def);
    start(this, def);
  }

  function start(node: ToolroomConfigNode, def: ToolroomConfigDef) {
    // Named and shaped as mqtt-broker's: Node-RED routes a config node's errors to its users' flows.
    const users: Record<string, Node> = (node.users = {});
    let lease: DatabaseLease | null = null;
    let closing = false;
    let target: DatabaseTarget | Error;
    try {
      target = targetOf(def, node.credentials ?? {});
    } catch (err) {
      target = err as Error;
    }
    (node as { describe: string }).describe = target instanceof Error ? target.message : describeTarget(target);

    function claim(): DatabaseLease | Error {
      if (target instanceof Error) return target;
      if (!lease) {
        lease = acquireDatabase(target);
        // Open now, so the first message does not wait and a bad URL shows at deploy.
        lease.database().catch((err: Error) => node.error(RED._('toolroom-config.errors.open', { database: node.describe, message: err.message })));
      }
      return lease;
    }

    async function letGo(): Promise<void> {
      const l = lease;
      lease = null;
      if (l) await l.release();
    }

    node.register = (user) => {
      users[user.id] = user;
      if (Object.keys(users).length === 1 && !closing) claim();
    };

    node.deregister = (user, done) => {
      delete users[user.id];
      if (Object.keys(users).length > 0) return done();
      letGo().then(done, (err: Error) => {
        node.error(err);
        done();
      });
    };

    node.database = () => {
      if (closing) return Promise.reject(new Error(RED._('toolroom-config.errors.closed')));
      const l = claim();
      return l instanceof Error ? Promise.reject(l) : l.database();
    };

    node.influx = () => {
      const url = expandEnv(def.influxUrl?.trim() ?? '').trim();
      if (!url) return null;
      const { influxUsername: username, influxPassword: password } = node.credentials ?? {};
      return { url, username: username || undefined, password: password || undefined };
    };

    node.on('close', (_removed, done) => {
      closing = true;
      letGo().then(done, (err: Error) => {
        node.error(err);
        done();
      });
    });
  }

  RED.nodes.registerType('toolroom-config', ToolroomConfig, {
    credentials: {
      url: { type: 'password' },
      influxUsername: { type: 'text' },
      influxPassword: { type: 'password' },
    },
  });
};
