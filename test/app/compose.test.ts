import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root } from '../support/app';

/**
 * The Compose stack as far as it can be checked without a Docker engine (none here): Debian's
 * docker-compose validates and renders docker-compose.yml (`config`), Debian's Caddy validates
 * deploy/Caddyfile in both TLS modes, and the rendered file is held to the stack's rules. The image's
 * commands are run natively by entrypoint.test.ts. The test command installs both tools when missing.
 */

// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { load(text: string): unknown };

interface Service {
  image?: string;
  build?: unknown;
  ports?: unknown[];
  restart?: string;
  healthcheck?: { test: string[] };
  mem_limit?: string | number;
  volumes?: (string | { source: string; type: string })[];
  environment?: Record<string, string>;
  secrets?: (string | { source: string })[];
  networks?: unknown;
  logging?: unknown;
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  secrets: Record<string, { file: string }>;
}

const MB = (limit: string | number) => (typeof limit === 'number' ? limit / 1024 / 1024 : Number(/^(\d+)m$/.exec(limit)?.[1] ?? NaN));

describe('the Compose stack (docker-compose.yml, deploy/Caddyfile, .env.example)', function () {
  this.timeout(60000);
  let tmp: string;
  let compose: Compose;

  before(function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-compose-'));
    const secrets = path.join(tmp, 'secrets');
    fs.mkdirSync(secrets);
    for (const s of ['db_password', 'admin_password', 'credential_secret', 'grafana_admin_password', 'backup_recipient']) fs.writeFileSync(path.join(secrets, s), 'x', { mode: 0o600 });
    const r = spawnSync('docker-compose', ['-f', 'docker-compose.yml', '--env-file', '.env.example', 'config'], {
      cwd: root,
      env: { ...process.env, TOOLROOM_SECRETS_DIR: secrets },
      encoding: 'utf8',
    });
    assert.equal(r.error, undefined, 'docker-compose is installed (the test command installs Debian\'s)');
    assert.equal(r.status, 0, r.stderr);
    compose = yaml.load(r.stdout) as Compose;
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('has the services of the stack; only the proxy is published', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ['backup', 'grafana', 'influxdb', 'postgres', 'proxy', 'toolroom']);
    for (const [name, s] of Object.entries(compose.services)) {
      if (name === 'proxy') assert.equal(s.ports?.length, 2, 'proxy: 443 and 80 (redirect)');
      else assert.equal(s.ports, undefined, `${name} publishes nothing`);
    }
    assert.match(compose.services.postgres.image!, /^postgres:1[67]\b/);
    assert.match(compose.services.influxdb.image!, /^influxdb:1\.8\b/);
  });

  it('gives every service a health check, a restart policy, rotated logs and a memory limit that fit a 4 GB Pi', () => {
    let total = 0;
    for (const [name, s] of Object.entries(compose.services)) {
      assert.ok(s.healthcheck?.test?.length, `${name}: health check`);
      assert.equal(s.restart, 'unless-stopped', `${name}: restart policy`);
      assert.ok(s.logging, `${name}: log rotation`);
      assert.ok(s.mem_limit !== undefined && MB(s.mem_limit) > 0, `${name}: memory limit`);
      total += MB(s.mem_limit);
    }
    assert.ok(total <= 3000, `the limits add up to ${total} MB: at least 1 GB of 4 GB left for the OS and the page cache`);
  });

  it('keeps data in named volumes and secrets in files, never in the environment', () => {
    assert.deepEqual(Object.keys(compose.volumes).sort(), ['caddy-config', 'caddy-data', 'grafana-data', 'influxdb-data', 'postgres-data', 'toolroom-data']);
    for (const [name, s] of Object.entries(compose.services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        assert.ok(!/PASSWORD$|SECRET$|_KEY$/.test(key), `${name}: ${key} must come from a file (${key}_FILE)`);
        assert.ok(!/:\/\/[^/@]+:[^/@]+@/.test(String(value)), `${name}: ${key} carries a password in a URL`);
      }
    }
    for (const [name, s] of Object.entries(compose.secrets)) assert.ok(s.file.startsWith(path.join(tmp, 'secrets')), `${name} from TOOLROOM_SECRETS_DIR`);
    const toolroom = compose.services.toolroom;
    assert.equal(toolroom.environment!.TOOLROOM_CREDENTIAL_SECRET_FILE, '/run/secrets/credential_secret', 'the credential key outside the data it protects');
    assert.ok(toolroom.volumes!.some((v) => (typeof v === 'string' ? v : v.source).startsWith('toolroom-data')));
    assert.equal(compose.services.backup.environment!.TOOLROOM_BACKUP_RECIPIENT_FILE, '/run/secrets/backup_recipient', 'the backup job holds only the public key');
    assert.ok(!JSON.stringify(compose.services.backup).includes('IDENTITY'), 'and no identity');
  });

  it('lists every setting the file reads in .env.example, and every .env.example setting is used', () => {
    const file = fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
    const used = new Set([...file.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]));
    const listed = new Set([...fs.readFileSync(path.join(root, '.env.example'), 'utf8').matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]));
    assert.deepEqual([...used].filter((v) => !listed.has(v)), [], 'read by docker-compose.yml but not in .env.example');
    assert.deepEqual([...listed].filter((v) => !used.has(v) && v !== 'COMPOSE_PROJECT_NAME'), [], 'in .env.example but read by nothing');
  });

  it("Caddy accepts deploy/Caddyfile with its own CA and with given certificate files", function () {
    const home = path.join(tmp, 'caddy');
    fs.mkdirSync(home);
    const env = { ...process.env, HOME: home, XDG_DATA_HOME: path.join(home, 'data'), XDG_CONFIG_HOME: path.join(home, 'config') };
    const validate = (extra: Record<string, string>) =>
      spawnSync('caddy', ['validate', '--adapter', 'caddyfile', '--config', path.join(root, 'deploy/Caddyfile')], { env: { ...env, ...extra }, encoding: 'utf8' });
    const internal = validate({ TOOLROOM_SITE: 'toolroom.plant.local', CADDY_TLS: 'internal' });
    assert.equal(internal.error, undefined, "caddy is installed (the test command installs Debian's)");
    assert.equal(internal.status, 0, internal.stderr);
    const cert = path.join(tmp, 'toolroom.crt');
    const key = path.join(tmp, 'toolroom.key');
    const ssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=toolroom.plant.local', '-keyout', key, '-out', cert], { encoding: 'utf8' });
    assert.equal(ssl.status, 0, ssl.stderr);
    const files = validate({ TOOLROOM_SITE: 'toolroom.plant.local', CADDY_TLS: `${cert} ${key}` });
    assert.equal(files.status, 0, files.stderr);
    const broken = validate({ TOOLROOM_SITE: 'toolroom.plant.local', CADDY_TLS: `${cert} ${path.join(tmp, 'missing.key')}` });
    assert.notEqual(broken.status, 0, 'a missing key file is refused');
  });
});
