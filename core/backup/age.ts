import fs from 'node:fs';
import { Readable } from 'node:stream';
import { Decrypter, Encrypter, generateIdentity, identityToRecipient } from 'age-encryption';

/**
 * age (age-encryption.org/v1) for backups: the machine that makes archives holds only recipients
 * (public keys, `age1…`); restoring needs an identity (`AGE-SECRET-KEY-1…`), kept away from the Pi.
 * Files use age's own formats, so the `age` command-line tool reads and writes them too: one key per
 * line, `#` comments and blank lines ignored (what `age-keygen` writes).
 */

function keyLines(file: string, what: string, setting: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${setting}=${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (!lines.length) throw new Error(`${setting}=${file} holds no ${what}`);
  return lines;
}

/** The recipients (public keys) in a recipients file. */
export function readRecipients(file: string, setting = 'recipients file'): string[] {
  const lines = keyLines(file, 'age recipient (age1…)', setting);
  const bad = lines.find((l) => !/^age1[0-9a-z]+$/.test(l));
  if (bad !== undefined) {
    const hint = bad.startsWith('AGE-SECRET-KEY-') ? ': it is a secret key — give the public key (age1…) here, and keep the secret key off this machine' : '';
    throw new Error(`${setting}=${file}: not an age recipient (age1…)${hint}`);
  }
  return lines;
}

/** The identities (secret keys) in an identity file. */
export function readIdentities(file: string, setting = 'identity file'): string[] {
  const lines = keyLines(file, 'age identity (AGE-SECRET-KEY-1…)', setting);
  if (lines.some((l) => !/^AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+$/.test(l))) throw new Error(`${setting}=${file}: not an age identity (AGE-SECRET-KEY-1…)`);
  return lines;
}

/** A new key pair: the identity file's text (age-keygen's layout) and its recipient. */
export async function newKeyPair(now = new Date()): Promise<{ identityFile: string; recipient: string }> {
  const identity = await generateIdentity();
  const recipient = await identityToRecipient(identity);
  return { identityFile: `# created: ${now.toISOString()}\n# public key: ${recipient}\n${identity}\n`, recipient };
}

function encrypter(recipients: string[]): Encrypter {
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  return e;
}

/** Encrypt a small buffer (the keys part). */
export async function encryptBuffer(data: Uint8Array, recipients: string[]): Promise<Uint8Array> {
  return encrypter(recipients).encrypt(data);
}

/** Encrypt a chunk stream, chunk by chunk (memory stays flat however large the archive). */
export async function* encryptStream(source: AsyncIterable<Uint8Array>, recipients: string[]): AsyncGenerator<Uint8Array> {
  const plain = ReadableStream.from(source) as ReadableStream<Uint8Array>;
  const sealed = await encrypter(recipients).encrypt(plain);
  for await (const chunk of sealed as unknown as AsyncIterable<Uint8Array>) yield chunk;
}

function decrypter(identities: string[]): Decrypter {
  const d = new Decrypter();
  for (const i of identities) d.addIdentity(i);
  return d;
}

/** Why age refused, in words for an operator. */
export function decryptFailure(err: unknown): string {
  const m = (err as Error)?.message ?? String(err);
  if (/no identity matched/i.test(m)) return 'none of the identities given can open it (encrypted to another key)';
  return `it is damaged, truncated or was altered (${m})`;
}

export async function decryptBuffer(data: Uint8Array, identities: string[]): Promise<Uint8Array> {
  return decrypter(identities).decrypt(data);
}

/**
 * Decrypt a file as a chunk stream. age authenticates every 64 KiB chunk and marks the last one, so
 * an altered byte fails at its chunk and a cut-off file fails at its end: a consumer must treat what
 * it got as untrusted until the stream has ended without an error.
 */
export async function* decryptFile(file: string, identities: string[]): AsyncGenerator<Uint8Array> {
  const source = Readable.toWeb(fs.createReadStream(file, { highWaterMark: 256 * 1024 })) as unknown as ReadableStream<Uint8Array>;
  const plain = await decrypter(identities).decrypt(source);
  for await (const chunk of plain as unknown as AsyncIterable<Uint8Array>) yield chunk;
}
