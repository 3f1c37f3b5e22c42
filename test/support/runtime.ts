import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');

/** A Node-RED runtime in a child process (bench/support/node-red.ts), apart from the test helper's registry and settings. */
export interface ChildRuntime {
  /** http://127.0.0.1:<port> */
  readonly base: string;
  output(): string;
  stop(): Promise<void>;
}

/** Start Node-RED with Toolroom's nodes loaded from dist, flows from `userDir`; resolves once it serves. */
export async function startChildRuntime(userDir: string, env: NodeJS.ProcessEnv = {}): Promise<ChildRuntime> {
  const child = spawn(process.execPath, [path.join(root, 'dist/bench/support/node-red.js')], {
    env: { ...process.env, ...env, BENCH_RUNTIME_USER_DIR: userDir, BENCH_RUNTIME_TOOLROOM: '1' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const port = await new Promise<number>((resolve, reject) => {
    child.on('message', (m) => {
      const { ready, port } = m as { ready?: boolean; port?: number };
      if (ready) resolve(port!);
    });
    child.once('exit', (code) => reject(new Error(`Node-RED exited with ${code}:\n${output}`)));
  });
  return {
    base: `http://127.0.0.1:${port}`,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('stop');
      const timer = setTimeout(() => child.kill(), 10000);
      await exited;
      clearTimeout(timer);
    },
  };
}
