import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { credentialSecretFile, ensureCredentialSecret } from '../../core/keys';
import { freePort, request, startApp, type App } from '../support/app';

/** Node-RED's credentials file format: `$` = hex IV (16 bytes) + base64 AES-256-CTR of the JSON, key sha256(secret). */
function encryptCredentials(secret: string, creds: object): { $: string } {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-ctr', createHash('sha256').update(secret).digest(), iv);
  return { $: iv.toString('hex') + cipher.update(JSON.stringify(creds), 'utf8', 'base64') + cipher.final('base64') };
}

function decryptCredentials(secret: string, file: { $: string }): Record<string, unknown> {
  const decipher = createDecipheriv('aes-256-ctr', createHash('sha256').update(secret).digest(), Buffer.from(file.$.slice(0, 32), 'hex'));
  return JSON.parse(decipher.update(file.$.slice(32), 'base64', 'utf8') + decipher.final('utf8')) as Record<string, unknown>;
}

describe("Node-RED's credential key from a key file", function () {
  this.timeout(180000);
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-keys-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('is made once, 256 random bits readable by its owner only, and read back the same', () => {
    const file = credentialSecretFile({}, path.join(tmp, 'data'));
    assert.equal(file, path.join(tmp, 'data', 'keys', 'credential-secret'));
    const secret = ensureCredentialSecret(file);
    assert.equal(Buffer.from(secret, 'base64url').length, 32);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.equal(ensureCredentialSecret(file), secret, 'the same key on every start');
    assert.equal(credentialSecretFile({ TOOLROOM_CREDENTIAL_SECRET_FILE: 'elsewhere/key' }, '/data'), path.resolve('elsewhere/key'));
  });

  it('refuses a key file others can read, or one too short to be a key', () => {
    const open = path.join(tmp, 'open-key');
    fs.writeFileSync(open, randomBytes(32).toString('base64url'), { mode: 0o644 });
    fs.chmodSync(open, 0o644);
    assert.throws(() => ensureCredentialSecret(open), /readable by other users \(mode 644\); chmod 600/);
    const short = path.join(tmp, 'short-key');
    fs.writeFileSync(short, 'abc\n', { mode: 0o600 });
    assert.throws(() => ensureCredentialSecret(short), /empty or shorter than 16/);
  });

  describe('in the app', () => {
    let app: App | undefined;
    after(async () => {
      await app?.stop();
    });

    it("moves an instance's credentials from Node-RED's generated key to the key file (and serves /healthz)", async () => {
      // An instance as Node-RED left it before: flows, credentials under the generated key kept beside them.
      const dataDir = path.join(tmp, 'upgraded');
      const userDir = path.join(dataDir, 'node-red');
      fs.mkdirSync(userDir, { recursive: true });
      const flows = [
        { id: 't1', type: 'tab', label: 'Presses' },
        { id: 'h1', type: 'http request', z: 't1', name: 'MES', method: 'GET', url: 'http://127.0.0.1:9/', authType: 'basic', x: 100, y: 100, wires: [[]] },
      ];
      fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows));
      fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(encryptCredentials('old-generated-key', { h1: { user: 'mes', password: 'mes-password-1' } })));
      fs.writeFileSync(path.join(userDir, '.config.runtime.json'), JSON.stringify({ _credentialSecret: 'old-generated-key' }));

      app = await startApp({ PORT: String(await freePort()), TOOLROOM_DATA_DIR: dataDir, DATABASE_URL: '', TOOLROOM_AUTH: 'off', TOOLROOM_CREDENTIAL_SECRET_FILE: '' }, ['--no-seed']);
      // /healthz is mounted by the start command (http/health.ts; its own suite is test/http/health.test.ts).
      const health = await request(`${app.base}/healthz`);
      assert.equal(health.status, 200, health.body);
      assert.equal(health.json<{ parts: Record<string, string> }>().parts.database, 'ok');
      // A deploy writes the credentials again, now under the key file's key.
      const current = (await request(`${app.base}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } })).json<{ rev: string; flows: object[] }>();
      const deployed = await request(`${app.base}/flows`, {
        method: 'POST',
        headers: { 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full', 'content-type': 'application/json' },
        body: JSON.stringify({ rev: current.rev, flows: current.flows }),
      });
      assert.equal(deployed.status, 200, deployed.body);
      assert.equal(await app.stop(), 0);
      app = undefined;

      const keyFile = path.join(dataDir, 'keys', 'credential-secret');
      assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600, 'the key file was made on the first start');
      const secret = fs.readFileSync(keyFile, 'utf8').trim();
      const creds = decryptCredentials(secret, JSON.parse(fs.readFileSync(path.join(userDir, 'flows_cred.json'), 'utf8')) as { $: string });
      assert.deepEqual(creds, { h1: { user: 'mes', password: 'mes-password-1' } }, 'the credentials, readable with the key file only');
      const runtime = JSON.parse(fs.readFileSync(path.join(userDir, '.config.runtime.json'), 'utf8')) as Record<string, unknown>;
      assert.equal(runtime._credentialSecret, undefined, 'no key left beside the credentials');
    });
  });
});
