import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Node-RED's credentialSecret, from a key file rather than the key Node-RED generates and keeps in
 * its own .config.runtime.json beside the credentials it protects. TOOLROOM_CREDENTIAL_SECRET_FILE
 * names the file (a Docker secret, a file on another disk); the default is keys/credential-secret in
 * the data dir, created on the first start (256 random bits, mode 0600). A backup carries it in its
 * separately encrypted keys part.
 */

export const KEYS_DIR = 'keys';
export const DEFAULT_SECRET_NAME = 'credential-secret';

export function credentialSecretFile(env: NodeJS.ProcessEnv, dataDir: string): string {
  return path.resolve(env.TOOLROOM_CREDENTIAL_SECRET_FILE || path.join(dataDir, KEYS_DIR, DEFAULT_SECRET_NAME));
}

/**
 * The secret in `file`, made first if the file does not exist. A file that exists but is empty, or
 * readable by others than its owner, is refused: a key in the open is no key.
 */
export function ensureCredentialSecret(file: string): string {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process made it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const stat = fs.statSync(file);
  // Docker secrets are mounted read-only and may be 0444 inside the container: allowed when owned by root, outside the data dir.
  if (stat.mode & 0o077 && !file.startsWith('/run/secrets/')) {
    throw new Error(`${file}: the credential key is readable by other users (mode ${(stat.mode & 0o777).toString(8)}); chmod 600 it`);
  }
  const secret = fs.readFileSync(file, 'utf8').trim();
  if (secret.length < 16) throw new Error(`${file}: the credential key is empty or shorter than 16 characters`);
  return secret;
}
