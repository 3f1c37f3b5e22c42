import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import type { AuditAnchorTable } from '../db/tables';
import { KEYS_DIR } from '../keys';
import { canonicalJson } from './chain';

/**
 * Signed anchors of the audit chain's purged prefixes (migration 017). The purge deletes only whole
 * prefixes of the chain; before it does, it writes an anchor holding the last purged link (number, id,
 * time, hash) and the count, signed with the Ed25519 audit key. The private key lives in a file outside
 * the database (TOOLROOM_AUDIT_KEY_FILE, default keys/audit.key in the data dir, made 0600 on first use);
 * the public key goes with each anchor, so anyone can check one, and the key file's public half (or a
 * copy kept elsewhere) tells a forged anchor — one signed with another key — from a genuine one.
 */

export const DEFAULT_AUDIT_KEY_NAME = 'audit.key';

export function auditKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  const dataDir = path.resolve(env.TOOLROOM_DATA_DIR || './data');
  return path.resolve(env.TOOLROOM_AUDIT_KEY_FILE || path.join(dataDir, KEYS_DIR, DEFAULT_AUDIT_KEY_NAME));
}

export interface AuditKey {
  privateKey: KeyObject;
  /** SPKI DER, base64: as stored with each anchor. */
  publicKey: string;
}

const publicOf = (key: KeyObject): string => createPublicKey(key).export({ format: 'der', type: 'spki' }).toString('base64');

/** A public key's short name (first 16 hex of its SHA-256), to compare with a kept copy by eye. */
export function keyFingerprint(publicKey: string): string {
  return createHash('sha256').update(Buffer.from(publicKey, 'base64')).digest('hex').slice(0, 16);
}

function readKey(file: string): AuditKey {
  const stat = fs.statSync(file);
  if (stat.mode & 0o077 && !file.startsWith('/run/secrets/')) {
    throw new Error(`${file}: the audit key is readable by other users (mode ${(stat.mode & 0o777).toString(8)}); chmod 600 it`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not an Ed25519 private key in PEM (${(err as Error).message})`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${file}: the audit key must be Ed25519, not ${privateKey.asymmetricKeyType}`);
  return { privateKey, publicKey: publicOf(privateKey) };
}

/** The audit key in `file`, made first (Ed25519, PKCS#8 PEM, mode 0600) if the file does not exist. */
export function ensureAuditKey(file: string): AuditKey {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    try {
      fs.writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process made it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return readKey(file);
}

/** The public half of the key in `file`, or null when there is no key file yet (nothing is made). */
export function auditPublicKey(file: string): string | null {
  return fs.existsSync(file) ? readKey(file).publicKey : null;
}

/** A public key as given by a person: SPKI DER in base64, or PEM. */
export function normalizePublicKey(text: string): string {
  const key = text.includes('-----BEGIN') ? createPublicKey(text) : createPublicKey({ key: Buffer.from(text.trim(), 'base64'), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`the audit public key must be Ed25519, not ${key.asymmetricKeyType}`);
  return key.export({ format: 'der', type: 'spki' }).toString('base64');
}

type Signed = Omit<AuditAnchorTable, 'id' | 'public_key' | 'signature'> & { id: number };

/** What an anchor's signature covers: every field but the signature, numbers as numbers, times to the millisecond. */
function payload(a: Signed): Buffer {
  return Buffer.from(
    canonicalJson({
      v: 1,
      id: Number(a.id),
      seq: Number(a.seq),
      event_id: Number(a.event_id),
      event_at: new Date(a.event_at).toISOString(),
      hash: a.hash,
      first_seq: Number(a.first_seq),
      purged: Number(a.purged),
      previous_id: a.previous_id === null ? null : Number(a.previous_id),
      previous_signature: a.previous_signature,
      created_at: new Date(a.created_at).toISOString(),
      created_by: a.created_by,
    }),
    'utf8',
  );
}

/** Whether an anchor's signature matches its fields under the public key stored with it. */
export function anchorSignatureValid(a: AuditAnchorTable): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(a.public_key, 'base64'), format: 'der', type: 'spki' });
    return verify(null, payload({ ...a, id: Number(a.id) }), key, Buffer.from(a.signature, 'base64'));
  } catch {
    return false;
  }
}

export interface AnchorInput {
  seq: number;
  eventId: number;
  eventAt: Date;
  hash: string;
  firstSeq: number;
  purged: number;
  createdBy: string;
}

/**
 * Write the signed anchor of a prefix about to be purged, inside the purge's transaction (the anchor and
 * the deletion commit together). Anchors are written one at a time (the table is locked), each naming
 * the one before.
 */
export async function writeAnchor(trx: Knex.Transaction, key: AuditKey, input: AnchorInput): Promise<AuditAnchorTable> {
  await trx.raw('LOCK TABLE audit_anchors IN SHARE ROW EXCLUSIVE MODE');
  const previous = (await trx('audit_anchors').orderBy('id', 'desc').first('id', 'signature')) as Pick<AuditAnchorTable, 'id' | 'signature'> | undefined;
  const [{ id }] = (await trx.raw("SELECT nextval(pg_get_serial_sequence('audit_anchors', 'id'))::int AS id")).rows as { id: number }[];
  const fields: Signed = {
    id,
    seq: input.seq,
    event_id: input.eventId,
    event_at: input.eventAt,
    hash: input.hash,
    first_seq: input.firstSeq,
    purged: input.purged,
    previous_id: previous ? Number(previous.id) : null,
    previous_signature: previous?.signature ?? null,
    // To the millisecond, so the signature covers exactly what is stored.
    created_at: new Date(),
    created_by: input.createdBy,
  };
  const row: AuditAnchorTable = { ...fields, public_key: key.publicKey, signature: sign(null, payload(fields), key.privateKey).toString('base64') };
  await trx('audit_anchors').insert(row);
  return row;
}

/** The public key purge anchors are checked against: the audit key file's (null when it was never made). */
export function trustedAuditKey(env: NodeJS.ProcessEnv = process.env): string | null {
  return auditPublicKey(auditKeyFile(env));
}
