/**
 * Node-RED 5 for the benchmarks, embedded as app/start.ts embeds it (express, the same settings),
 * with or without Toolroom's nodes (nodesDir) so a bare runtime and Toolroom's differ in nothing else.
 * node-throughput.ts runs it in its own process; idle-memory.ts runs this file as a child process
 * (see `child()`), one per runtime measured. Kept under bench/support/ so `npm run bench` does not
 * take it for a benchmark.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { NodeRed as EmbeddedNodeRed } from '../../app/node-red';

const root = path.resolve(__dirname, '../../..');

export interface RuntimeNode {
  id: string;
  receive(msg: object): void;
  on(event: 'input', handler: (msg: Record<string, unknown>) => void): void;
}

interface NodeRed extends EmbeddedNodeRed {
  events: { once(event: string, fn: () => void): void };
  nodes: { getNode(id: string): unknown; setFlows(flows: object[], credentials: object | null, type: string): Promise<unknown> };
}

export interface Runtime {
  RED: NodeRed;
  version: string;
  port: number;
  node<T = RuntimeNode>(id: string): T;
  /** Full deploy; resolves once the new flows have started. */
  deploy(flows: object[], credentials?: Record<string, object>): Promise<void>;
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  userDir: string;
  /** Load Toolroom's nodes from this package (app/start.ts's nodesDir); false = bare Node-RED + Dashboard 2. */
  toolroom: boolean;
  logLevel?: string;
  /** More settings (the throughput bench keeps credentials unencrypted: no key warning). */
  settings?: object;
}

/** Start Node-RED on a free loopback port with the app's settings; flows.json in userDir (if any) is deployed. */
export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  fs.mkdirSync(options.userDir, { recursive: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red') as NodeRed;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const express = require('express') as () => http.RequestListener & { use(path: string, handler: http.RequestListener): void };
  const app = express();
  const server = http.createServer(app);
  // app/start.ts's settings; only nodesDir differs between a bare runtime and Toolroom's.
  const settings = {
    userDir: options.userDir,
    flowFile: 'flows.json',
    uiHost: '127.0.0.1',
    uiPort: 0,
    httpAdminRoot: '/',
    httpNodeRoot: '/',
    ...(options.toolroom ? { nodesDir: [root] } : {}),
    logging: { console: { level: options.logLevel ?? 'warn', metrics: false, audit: false } },
    editorTheme: { projects: { enabled: false }, tours: false, page: { title: 'Toolroom' }, header: { title: 'Toolroom' } },
    diagnostics: { enabled: false },
    telemetry: { enabled: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    functionGlobalContext: {},
    ...options.settings,
  };
  RED.init(server, settings);
  app.use(settings.httpAdminRoot, RED.httpAdmin);
  app.use(settings.httpNodeRoot, RED.httpNode);
  const started = () => new Promise<void>((resolve) => RED.events.once('flows:started', resolve));
  const first = started();
  await RED.start();
  await first;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    RED,
    version: RED.version(),
    port: (server.address() as { port: number }).port,
    node<T>(id: string): T {
      const n = RED.nodes.getNode(id);
      if (!n) throw new Error(`no node ${id} in the running flows`);
      return n as T;
    },
    async deploy(flows, credentials) {
      const done = started();
      await RED.nodes.setFlows(flows, credentials ?? null, 'full');
      await done;
    },
    async stop() {
      await RED.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Dashboard 2 as the app uses it: a base, theme, page and group with one widget, so Dashboard serves a page. */
export function dashboardFlow(z: string): object[] {
  return [
    { id: 'bench0ui0base', type: 'ui-base', name: 'Bench', path: '/dashboard', includeClientData: true, acceptsClientConfig: ['ui-notification', 'ui-control'], showPathInSidebar: false, headerContent: 'page', navigationStyle: 'default', titleBarStyle: 'default' },
    { id: 'bench0ui0theme', type: 'ui-theme', name: 'Bench', colors: { surface: '#33475b', primary: '#0d74ce', bgPage: '#f9f9fb', groupBg: '#ffffff', groupOutline: '#d9d9e0' }, sizes: { density: 'default', pagePadding: '12px', groupGap: '12px', groupBorderRadius: '4px', widgetGap: '12px' } },
    { id: 'bench0ui0page', type: 'ui-page', name: 'Tools', ui: 'bench0ui0base', path: '/tools', icon: 'toolbox', layout: 'grid', theme: 'bench0ui0theme', order: 1, className: '', visible: 'true', disabled: 'false' },
    { id: 'bench0ui0group', type: 'ui-group', name: 'Tools', page: 'bench0ui0page', width: '12', height: '1', order: 1, showTitle: false, className: '', visible: 'true', disabled: 'false', groupType: 'default' },
    { id: 'bench0ui0text', type: 'ui-text', z, group: 'bench0ui0group', order: 1, width: 0, height: 0, name: '', label: 'Tools', format: '{{msg.payload}}', layout: 'row-spread', style: false, className: '', x: 400, y: 40, wires: [] },
  ];
}

/** Packages (node_modules/<name>) whose CommonJS modules this process has loaded, with how many files of each. */
export function loadedPackages(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const file of Object.keys(require.cache)) {
    const m = /.*node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(file);
    const name = m ? m[1].replace(/\\/g, '/') : file.startsWith(root) ? '(this package)' : '(other)';
    out[name] = (out[name] ?? 0) + 1;
  }
  return out;
}

/**
 * As a child process (idle-memory.ts): BENCH_RUNTIME_USER_DIR holds flows.json, BENCH_RUNTIME_TOOLROOM=1
 * loads Toolroom's nodes, BENCH_RUNTIME_WAIT_CONFIG names a toolroom-config whose database must be open
 * before the runtime counts as started. Talks over IPC: sends {ready}, answers 'measure' (after two
 * full GCs) with memoryUsage and the packages loaded, stops on 'stop'.
 */
async function child(): Promise<void> {
  const runtime = await startRuntime({ userDir: process.env.BENCH_RUNTIME_USER_DIR!, toolroom: process.env.BENCH_RUNTIME_TOOLROOM === '1' });
  const configId = process.env.BENCH_RUNTIME_WAIT_CONFIG;
  if (configId) await runtime.node<{ database(): Promise<unknown> }>(configId).database();
  process.on('message', (m) => {
    if (m === 'measure') {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      process.send!({ memory: process.memoryUsage(), packages: loadedPackages(), gc: Boolean(gc) });
    } else if (m === 'stop') {
      runtime.stop().finally(() => process.exit(0));
    }
  });
  process.send!({ ready: true, version: runtime.version, port: runtime.port });
}

if (require.main === module) {
  if (!process.send) {
    console.error('bench/support/node-red: a child process of idle-memory.ts (needs an IPC channel)');
    process.exit(2);
  }
  child().catch((err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  });
}
