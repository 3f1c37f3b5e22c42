import { acquireDatabase, type DatabaseLease, type DatabaseTarget } from '../app/databases';
import { acquireDrainer, influxUrlWith, type DrainerLease } from './lib/drainers';
import { describeTarget, influxOf, targetOf, type ToolroomConfigDef, type ToolroomConfigNode } from './lib/config';
import type { Node, NodeAPI } from './lib/red';

/**
 * toolroom-config: the database and InfluxDB shared by every Toolroom node that names it.
 * Like Node-RED's mqtt-broker it counts its users: the first to register opens the database and,
 * when an InfluxDB is configured (setting or INFLUX_URL), starts the outbox drainer; the last to
 * leave (or a redeploy, or stop) stops the drainer and releases the database. Config nodes naming
 * the same database share one instance (lib/databases) and one drainer (lib/drainers).
 */
export = function (RED: NodeAPI) {
  /** How long a closing config waits for its users to finish (a shot counter flushing its batch). */
  const USERS_CLOSE_MS = 12_000;

  function ToolroomConfig(this: ToolroomConfigNode, def: ToolroomConfigDef) {
    RED.nodes.createNode(this, def);
    start(this, def);
  }

  function start(node: ToolroomConfigNode, def: ToolroomConfigDef) {
    // Named and shaped as mqtt-broker's: Node-RED routes a config node's errors to its users' flows.
    const users: Record<string, Node> = (node.users = {});
    let lease: DatabaseLease | null = null;
    let drainer: DrainerLease | null = null;
    let closing = false;
    let lastLeft: (() => void) | null = null;
    let target: DatabaseTarget | Error;
    try {
      target = targetOf(def, node.credentials ?? {});
    } catch (err) {
      target = err as Error;
    }
    (node as { describe: string }).describe = target instanceof Error ? target.message : describeTarget(target);
    const influx = influxOf(def, node.credentials ?? {});

    function claim(): DatabaseLease | Error {
      if (target instanceof Error) return target;
      if (!lease) {
        lease = acquireDatabase(target);
        // Open now, so the first message does not wait and a bad URL shows at deploy.
        lease.database().catch((err: Error) => node.error(RED._('toolroom-config.errors.open', { database: node.describe, message: err.message })));
      }
      return lease;
    }

    function startDrainer(): void {
      if (drainer || !influx || target instanceof Error) return;
      let said = '';
      const url = influxUrlWith(influx.url, influx.username, influx.password);
      drainer = acquireDrainer(target, {
        url,
        // Once per cause: InfluxDB down for an hour does not flood the log at every retry.
        onStatus(s) {
          if (s.state === 'error' && s.lastError && s.lastError !== said) {
            said = s.lastError;
            node.warn(RED._('toolroom-config.errors.influx', { message: s.lastError }));
          } else if (s.state === 'idle' && said) {
            said = '';
            node.log(RED._('toolroom-config.errors.influxBack'));
          }
        },
      });
      // One drainer per database: a second configuration naming another InfluxDB for it is not obeyed, and says so.
      if (drainer.url !== url) node.warn(RED._('toolroom-config.errors.influxShared', { database: node.describe }));
    }

    async function letGo(): Promise<void> {
      const d = drainer;
      const l = lease;
      drainer = null;
      lease = null;
      // The drainer holds its own database lease: stopping it first lets it finish the batch in flight.
      if (d) await d.release();
      if (l) await l.release();
    }

    node.register = (user) => {
      users[user.id] = user;
      if (Object.keys(users).length === 1 && !closing) {
        claim();
        startDrainer();
      }
    };

    node.deregister = (user, done) => {
      delete users[user.id];
      if (Object.keys(users).length > 0) return done();
      letGo().then(
        () => {
          done();
          lastLeft?.();
        },
        (err: Error) => {
          node.error(err);
          done();
          lastLeft?.();
        },
      );
    };

    node.database = () => {
      // A closing config still serves the users it waits for (a shot counter storing its last batch).
      if (closing && !lease) return Promise.reject(Object.assign(new Error(RED._('toolroom-config.errors.closed')), { code: 'ECLOSED' }));
      const l = claim();
      return l instanceof Error ? Promise.reject(l) : l.database();
    };

    node.influx = () => influx;
    node.outboxChanged = () => drainer?.wake();

    node.on('close', (_removed, done) => {
      closing = true;
      const finish = () =>
        letGo().then(done, (err: Error) => {
          node.error(err);
          done();
        });
      if (Object.keys(users).length === 0) return void finish();
      // Node-RED closes every node at once: let the users deregister first, within Node-RED's 15 s.
      const timer = setTimeout(() => {
        lastLeft = null;
        finish();
      }, USERS_CLOSE_MS);
      lastLeft = () => {
        clearTimeout(timer);
        lastLeft = null;
        done();
      };
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
