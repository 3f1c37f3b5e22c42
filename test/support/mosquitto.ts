import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../lib/net';

/**
 * A Mosquitto of a test's own (Debian's binary, which scripts/mqtt-services.sh installs), for a
 * broker that goes down and comes back on the same port. Tests that need no outage use TEST_MQTT_URL.
 */
const BINARY = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((b) => fs.existsSync(b)) ?? 'mosquitto';

export interface OwnBroker {
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

export async function ownBroker(): Promise<OwnBroker> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-mosquitto-'));
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  let child: ChildProcess | null = null;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async start() {
      child = spawn(BINARY, ['-c', conf], { stdio: 'ignore' });
      for (let i = 0; i < 100 && !(await answers(port)); i++) await new Promise((r) => setTimeout(r, 50));
      if (!(await answers(port))) throw new Error(`mosquitto did not start on ${port}`);
    },
    async stop() {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
      });
    },
  };
}
