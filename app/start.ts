/**
 * `npm start`: the Toolroom app — Node-RED 5 with Toolroom's nodes and Dashboard 2, run in this
 * process (Node-RED's embedding API) so the database is opened, migrated and seeded before the
 * flows start and stays open across redeploys.
 *
 * Everything lives under TOOLROOM_DATA_DIR (default ./data): node-red/ (user dir: flows,
 * credentials, context), pglite/ (embedded database, unless DATABASE_URL names a server),
 * photos/, and toolroom.json (what the first start did). Every start adds missing reference data
 * (failure catalog, checklist templates); the first start also seeds the demo plant (unless
 * --no-seed or TOOLROOM_SEED=0) and deploys the flows in flows/. Later starts change neither the
 * data nor the flows a user edited. With --simulate (or TOOLROOM_SIMULATOR=1) the press simulator
 * runs in this process on PRESS_SIM_PORT (48400), presses P01..P06 carrying the moulds mounted on
 * them (app/simulator.ts): the application flows' press nodes count from it.
 *
 * Login (issue 5): the login pages at /toolroom/login (http/login/login.ts), Dashboard 2's pages and
 * socket behind a session (http/login/dashboard.ts and the toolroom-dashboard-auth plugin), the
 * editor behind Node-RED adminAuth over the same users (http/login/editor.ts), the REST API at
 * /toolroom/api/v1 (http/rest/router.ts). The first start makes user `admin` (TOOLROOM_ADMIN_PASSWORD,
 * else a generated password printed once, to be changed at the first login). TOOLROOM_TLS_CERT and
 * TOOLROOM_TLS_KEY (PEM files, both or neither) serve HTTPS with Secure cookies. TOOLROOM_HOST
 * beyond loopback needs login on; TOOLROOM_AUTH=off (development only) turns login off and then
 * binds to this machine only.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { accessPolicyFromEnv } from '../core/accounts/policy';
import { ensureAdmin } from '../core/accounts/service';
import { ToolroomError } from '../core/errors';
import { createDashboardAuth, SETTINGS_KEY } from '../http/login/dashboard';
import { editorAddress, editorAdminAuth } from '../http/login/editor';
import { createLoginPages, LOGIN_BASE, LOGIN_PATH } from '../http/login/login';
import { API_BASE, createApi } from '../http/rest/router';
import { HEALTH_PATH, healthFromEnv } from '../http/health';
import type { Db } from '../core/db/connect';
import { isSeeded, seedDemoPlant } from '../core/seed/demo';
import { seedReferenceData } from '../core/seed/reference';
import { credentialSecretFile, ensureCredentialSecret } from '../core/keys';
import { acquireDatabase, targetFromEnv } from './databases';
import { channelSettingsFromEnv } from './notifications';
import { startNotifier } from '../core/notifications/notifier';
import { describeTarget } from '../nodes/lib/config';
import { SIMULATOR_ENDPOINT_ENV } from '../nodes/lib/opcua-press-client';
import { finalErrorHandler, securityHeaders } from '../http/hardening';
import { RefusalAudit } from '../core/audit/refusals';
import { dashboardAssets, dashboardAssetsDir } from '../http/dashboard-assets';
import { demoSimulatorOptions, startDemoSimulator, type DemoSimulatorOptions } from './simulator';
import type { NodeRed } from './node-red';

const root = path.resolve(__dirname, '../..');

export interface StartOptions {
  port: number;
  host: string;
  dataDir: string;
  seed: boolean;
  /** Run the press simulator in process (demo mode). */
  simulate: boolean;
  /** Login on the dashboard, the editor and the API (default). Off only for development, and then only on loopback. */
  auth: boolean;
  /** HTTPS with this certificate and key (PEM files), or plain HTTP. */
  tls: { cert: string; key: string } | null;
  /** Strict-Transport-Security over HTTPS (TOOLROOM_HSTS=off turns it off, e.g. behind a proxy that sets its own). */
  hsts: boolean;
}

/** A setting the start cannot work with: reported as its sentence, without a stack. */
export class StartError extends Error {}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
export const isLoopback = (host: string) => LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);

const yes = (v: string | undefined) => ['1', 'true', 'yes'].includes((v ?? '').toLowerCase());
const no = (v: string | undefined) => ['0', 'false', 'no'].includes((v ?? '').toLowerCase());

export function optionsFrom(argv: string[], env: NodeJS.ProcessEnv): StartOptions {
  const unknown = argv.filter((a) => a !== '--no-seed' && a !== '--simulate');
  if (unknown.length) throw new StartError(`start: unknown argument ${unknown[0]} (known: --no-seed, --simulate)`);
  const port = Number(env.PORT || 1880);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new StartError(`start: PORT must be a port number, not ${env.PORT}`);
  const host = env.TOOLROOM_HOST || '127.0.0.1';
  // TOOLROOM_AUTH=off: a development switch (no login anywhere); it never leaves this machine.
  const authSetting = (env.TOOLROOM_AUTH ?? '').toLowerCase();
  if (authSetting && !['on', 'off', '1', '0', 'true', 'false', 'yes', 'no'].includes(authSetting)) {
    throw new StartError(`start: TOOLROOM_AUTH must be on or off, not ${env.TOOLROOM_AUTH}`);
  }
  const auth = !no(authSetting) && authSetting !== 'off';
  if (!auth && !isLoopback(host)) {
    throw new StartError(`start: TOOLROOM_HOST=${host} needs login: TOOLROOM_AUTH=off (no login) binds to 127.0.0.1 only`);
  }
  // Both or neither: a certificate without its key (or the reverse) is a mistake, not plain HTTP.
  const cert = env.TOOLROOM_TLS_CERT || '';
  const key = env.TOOLROOM_TLS_KEY || '';
  if (cert && !key) throw new StartError('start: TOOLROOM_TLS_KEY is not set: HTTPS needs TOOLROOM_TLS_CERT and TOOLROOM_TLS_KEY (or neither)');
  if (key && !cert) throw new StartError('start: TOOLROOM_TLS_CERT is not set: HTTPS needs TOOLROOM_TLS_CERT and TOOLROOM_TLS_KEY (or neither)');
  const hsts = (env.TOOLROOM_HSTS ?? 'on').toLowerCase();
  if (!['on', 'off'].includes(hsts)) throw new StartError(`start: TOOLROOM_HSTS must be on or off, not ${env.TOOLROOM_HSTS}`);
  return {
    port,
    // Beyond this machine only with login on (above).
    host,
    dataDir: path.resolve(env.TOOLROOM_DATA_DIR || './data'),
    seed: !argv.includes('--no-seed') && !no(env.TOOLROOM_SEED),
    simulate: argv.includes('--simulate') || yes(env.TOOLROOM_SIMULATOR),
    auth,
    tls: cert ? { cert: path.resolve(cert), key: path.resolve(key) } : null,
    hsts: Boolean(cert) && hsts === 'on',
  };
}

/** The PEM files of TOOLROOM_TLS_CERT / TOOLROOM_TLS_KEY, read before anything starts; an error names the variable. */
export function readTls(tls: { cert: string; key: string }): { cert: Buffer; key: Buffer } {
  const read = (file: string, name: string) => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new StartError(`start: ${name}=${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  const out = { cert: read(tls.cert, 'TOOLROOM_TLS_CERT'), key: read(tls.key, 'TOOLROOM_TLS_KEY') };
  try {
    // Also checks that the key belongs to the certificate.
    https.createServer(out).close();
  } catch (err) {
    throw new StartError(`start: TOOLROOM_TLS_CERT and TOOLROOM_TLS_KEY are not a usable certificate and key (${(err as Error).message})`);
  }
  return out;
}

/** What the first start did, kept in the data dir so no later start repeats it. */
interface FirstStart {
  firstStartedAt: string;
  seeded: boolean;
  note?: string;
}

function readFirstStart(file: string): FirstStart | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as FirstStart;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Reference data (failure catalog, checklist templates) at every start: it only adds what is
 * missing. The demo plant on the first start only, when wanted, and never into a database that
 * already holds tools (a server shared with another instance, a data dir that was wiped).
 */
async function seed(db: Db, options: StartOptions, file: string): Promise<void> {
  const reference = await seedReferenceData(db);
  if (reference.failureCodes || reference.templates) {
    console.log(`Toolroom: reference data added: ${reference.failureCodes} failure codes, ${reference.templates} checklist templates`);
  }
  if (readFirstStart(file)) return;
  const record: FirstStart = { firstStartedAt: new Date().toISOString(), seeded: false };
  if (!options.seed) record.note = 'demo seed skipped (--no-seed or TOOLROOM_SEED=0)';
  else if (await isSeeded(db)) record.note = 'demo seed skipped: the database already has tools';
  else {
    const s = await seedDemoPlant(db);
    record.seeded = true;
    record.note = `demo plant seeded: ${s.presses} presses, ${s.tools} tools, ${s.pmPlans} PM plans, ${s.inspections} inspections, ${s.failures} failures, ${s.actions} actions`;
  }
  console.log(`Toolroom: first start — ${record.note}`);
  fs.writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
}

/**
 * The application flows: every flows/*.json, then every dashboards/flows/*.json (the Dashboard 2
 * pages), each directory in name order, as one flow file (a node shared by several files once).
 */
export function applicationFlows(...dirs: string[]): object[] {
  if (!dirs.length) dirs = [path.join(root, 'flows'), path.join(root, 'dashboards', 'flows')];
  const seen = new Set<string>();
  const out: object[] = [];
  for (const dir of dirs.filter((d) => fs.existsSync(d))) {
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
      for (const node of JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { id: string }[]) {
        if (seen.has(node.id)) continue;
        seen.add(node.id);
        out.push(node);
      }
    }
  }
  return out;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, next: (err?: unknown) => void) => void;
type ErrorHandler = (err: unknown, req: http.IncomingMessage, res: http.ServerResponse, next: (err?: unknown) => void) => void;

async function main(): Promise<void> {
  // Express and Node-RED show error stacks to callers unless told they run in production.
  process.env.NODE_ENV ??= 'production';
  const options = optionsFrom(process.argv.slice(2), process.env);
  // Read before anything starts: a bad simulator setting stops the start, not the demo halfway.
  const simulation: DemoSimulatorOptions | null = options.simulate ? demoSimulatorOptions(process.env, options.dataDir) : null;
  const tls = options.tls ? readTls(options.tls) : null;
  let channels: ReturnType<typeof channelSettingsFromEnv>;
  try {
    channels = channelSettingsFromEnv(process.env);
  } catch (err) {
    throw new StartError((err as Error).message);
  }
  // Config nodes reading the environment and core agree on one absolute data dir.
  process.env.TOOLROOM_DATA_DIR = options.dataDir;
  const userDir = path.join(options.dataDir, 'node-red');
  for (const dir of [options.dataDir, userDir, path.join(options.dataDir, 'photos')]) fs.mkdirSync(dir, { recursive: true });

  // Held for the life of the process: the config nodes share it, so a redeploy never reopens PGlite.
  const target = targetFromEnv();
  const lease = acquireDatabase(target);
  const db = await lease.database();
  console.log(`Toolroom: database ${describeTarget(target)}`);
  await seed(db, options, path.join(options.dataDir, 'toolroom.json'));
  if (options.auth) {
    // First start (or no admin left who can log in): user `admin`, with TOOLROOM_ADMIN_PASSWORD or a
    // generated password shown this once, to be changed at the first login.
    const given = process.env.TOOLROOM_ADMIN_PASSWORD;
    const admin = await ensureAdmin(db, given ? { password: given } : {}).catch((err: unknown) => {
      if (!(err instanceof ToolroomError) || err.code !== 'validation') throw err;
      throw new StartError(`TOOLROOM_ADMIN_PASSWORD is not a usable password for user admin: ${err.cause.details.map((d) => d.message).join('; ')}`);
    });
    if (admin?.generatedPassword) {
      console.log(`Toolroom: created user admin with the password ${admin.generatedPassword} — shown this once; change it at the first login`);
    } else if (admin) {
      console.log('Toolroom: created user admin with the password in TOOLROOM_ADMIN_PASSWORD');
    }
  }

  // One sender per process (as the InfluxDB drainer is one per database): e-mail and MQTT as configured,
  // sweeps for due actions and escalations; other runtimes on the database share the outbox safely.
  let said = '';
  const notifier = startNotifier({
    db,
    settings: channels,
    // Once per cause: a mail relay down for an hour does not flood the log at every retry.
    onStatus: (s) => {
      if (s.state === 'error' && s.lastError && s.lastError !== said) console.warn(`Toolroom: notifications: ${(said = s.lastError)}`);
      else if (s.state === 'idle' && said) said = '';
    },
  });
  const sending = [channels.smtp ? `e-mail via ${channels.smtp.host}:${channels.smtp.port}` : '', channels.mqtt ? `MQTT ${channels.mqtt.url}` : ''].filter(Boolean);
  console.log(`Toolroom: notifications: inbox${sending.length ? `, ${sending.join(', ')}` : ''}`);

  // After the seed, so the simulated presses carry the moulds it mounted.
  let simulator: Awaited<ReturnType<typeof startDemoSimulator>>['simulator'] | null = null;
  if (simulation) {
    const started = await startDemoSimulator(db, simulation);
    simulator = started.simulator;
    const presses = started.presses.map((p) => `${p.name}=${p.mouldId || '-'}`).join(' ');
    console.log(`Toolroom: press simulator ${simulator.endpoint}, a cycle every ${simulation.cycleTimeMs} ms: ${presses}`);
  }
  // The demo flow's press nodes (demo: true) connect to this endpoint, and without it say once that no press runs.
  if (simulator) process.env[SIMULATOR_ENDPOINT_ENV] = simulator.endpoint;
  else delete process.env[SIMULATOR_ENDPOINT_ENV];

  const flowFile = path.join(userDir, 'flows.json');
  if (!fs.existsSync(flowFile)) {
    fs.writeFileSync(flowFile, JSON.stringify(applicationFlows(), null, 2) + '\n');
    console.log(`Toolroom: application flows deployed to ${flowFile}`);
  }

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red') as NodeRed;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const express = require('express') as () => http.RequestListener & { use(...handlers: [string, Handler] | [ErrorHandler]): void };
  const app = express();
  const server = tls ? https.createServer(tls, app) : http.createServer(app);
  const policy = accessPolicyFromEnv();
  const secureCookies = tls !== null || yes(process.env.TOOLROOM_SECURE_COOKIES); // behind a TLS proxy (docker-compose.yml)
  const database = () => lease.database();
  const dashboardAuth = options.auth ? createDashboardAuth({ database, policy }) : null;
  const authSettings = dashboardAuth
    ? {
        adminAuth: editorAdminAuth({ database, policy }),
        dashboard: { middleware: dashboardAuth.middleware, ioMiddleware: dashboardAuth.ioMiddleware },
        [SETTINGS_KEY]: { dashboardAuth },
      }
    : {};
  const settings = {
    userDir,
    flowFile: 'flows.json',
    // From a key file (core/keys.ts), not the key Node-RED would keep beside the credentials; an older instance's key is migrated by Node-RED.
    credentialSecret: ensureCredentialSecret(credentialSecretFile(process.env, options.dataDir)),
    uiHost: options.host,
    uiPort: options.port,
    httpAdminRoot: '/',
    httpNodeRoot: '/',
    // This package, loaded as a Node-RED module straight from the working tree (Dashboard 2 is
    // found in node_modules beside Node-RED).
    nodesDir: [root],
    logging: { console: { level: process.env.TOOLROOM_LOG_LEVEL || 'info', metrics: false, audit: false } },
    editorTheme: { projects: { enabled: false }, tours: false, page: { title: 'Toolroom' }, header: { title: 'Toolroom' } },
    diagnostics: { enabled: false },
    telemetry: { enabled: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    functionGlobalContext: {},
    ...authSettings,
  };
  RED.init(server, settings);
  const hardening = { apiBase: API_BASE, dashboardBase: '/dashboard', hsts: options.hsts };
  app.use('/', securityHeaders(hardening));
  app.use(HEALTH_PATH, healthFromEnv(database)); // no login: ok/failing per part only (http/health.ts)
  // The REST API asks every caller for a session or token itself, login pages or not.
  // One refusal audit for the process, so its counted repeats are written when it stops.
  const refusals = new RefusalAudit(database);
  app.use(API_BASE, createApi({ database, policy, secureCookies, refusals }));
  if (options.auth) {
    app.use(LOGIN_BASE, createLoginPages({ database, policy, secureCookies, onLogout: (token) => dashboardAuth?.endSession(token) }));
    app.use('/auth', editorAddress);
  }
  // Dashboard 2's content-hashed scripts and styles, compressed and cached for good (before Dashboard's own static files).
  const assetsDir = dashboardAssetsDir();
  if (assetsDir) app.use('/dashboard/assets', dashboardAssets({ dir: assetsDir, cacheDir: path.join(options.dataDir, 'cache', 'dashboard') }));
  app.use(settings.httpAdminRoot, RED.httpAdmin);
  app.use(settings.httpNodeRoot, RED.httpNode);
  app.use(finalErrorHandler(hardening));
  await RED.start();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const address = server.address() as { port: number };
  // Bound to every interface, the URL to print is still this machine's.
  const shown = ['0.0.0.0', '::'].includes(options.host) ? '127.0.0.1' : options.host;
  const base = `${tls ? 'https' : 'http'}://${shown.includes(':') ? `[${shown}]` : shown}:${address.port}`;
  console.log(`Toolroom: Node-RED ${RED.version()} editor    ${base}/`);
  console.log(`Toolroom: dashboard                  ${base}/dashboard`);
  console.log(`Toolroom: REST API                   ${base}${API_BASE}`);
  if (options.auth) {
    console.log(`Toolroom: login                      ${base}${LOGIN_PATH}`);
  } else {
    console.log('Toolroom: TOOLROOM_AUTH=off — no login anywhere (development only, this machine only)');
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`Toolroom: ${signal}, stopping`);
    // Nothing should keep a Pi from shutting down for long.
    setTimeout(() => process.exit(1), 15000).unref();
    try {
      dashboardAuth?.close();
      await RED.stop();
      await simulator?.stop();
      await notifier.stop();
      await refusals.stop().catch(() => undefined);
      await lease.release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    } finally {
      process.exit(0);
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(`Toolroom: cannot start: ${err instanceof StartError ? err.message : (err.stack ?? err.message)}`);
    process.exit(1);
  });
}
