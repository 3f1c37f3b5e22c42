/**
 * The photo files: under TOOLROOM_DATA_DIR/photos, each encrypted with AES-256-GCM, so bytes on
 * disk are never a readable image. The key lives in its own file (TOOLROOM_PHOTO_KEY_FILE, made
 * 0600 when missing), never in the database or the flows. A file carries the id of its key (for
 * rotation) and is bound to its own name (authenticated data), so a file swapped for another
 * photo's is detected like a flipped byte.
 *
 * File: "TRP1" | key id (8 bytes) | IV (12) | ciphertext | GCM tag (16).
 * Key file: one base64 key (32 bytes) a line, the current one first; older ones are kept only
 * while a rotation is re-encrypting (so a stopped rotation loses nothing), '#' starts a comment.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ToolroomError, notFound } from '../errors';

const MAGIC = Buffer.from('TRP1');
const KEY_ID_BYTES = 8;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER = MAGIC.length + KEY_ID_BYTES + IV_BYTES;

export interface PhotoKey {
  id: string;
  key: Buffer;
}

export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, KEY_ID_BYTES * 2);
}

/** A photo that cannot be given back as it was stored: named, with what to check. */
function unreadable(photoId: number | string, rule: string, message: string): ToolroomError {
  const text = `photo ${photoId}: ${message}`;
  return new ToolroomError('conflict', text, [{ field: 'id', rule, message: text }]);
}

function keyFileProblem(file: string, message: string): ToolroomError {
  const text = `photo key file ${file}: ${message}`;
  return new ToolroomError('conflict', text, [{ field: 'keyFile', rule: 'photo_key', message: text }]);
}

export class PhotoStore {
  private keys: Promise<PhotoKey[]> | undefined;

  /** `dir`: where the files go (TOOLROOM_DATA_DIR/photos); `keyFile`: the key file. */
  constructor(
    readonly dir: string,
    readonly keyFile: string,
  ) {}

  /** The keys, current first; the key file is made (0600, with a new random key) when it does not exist. */
  keyring(): Promise<PhotoKey[]> {
    this.keys ??= this.loadKeys().catch((err) => {
      this.keys = undefined;
      throw err;
    });
    return this.keys;
  }

  private async loadKeys(): Promise<PhotoKey[]> {
    let text: string;
    try {
      text = await fs.readFile(this.keyFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw keyFileProblem(this.keyFile, `cannot be read (${(err as Error).message})`);
      await fs.mkdir(path.dirname(this.keyFile), { recursive: true, mode: 0o700 });
      text = `${randomBytes(32).toString('base64')}\n`;
      try {
        await fs.writeFile(this.keyFile, text, { mode: 0o600, flag: 'wx' });
      } catch (e) {
        // Another instance made it first: use theirs.
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw keyFileProblem(this.keyFile, `cannot be created (${(e as Error).message})`);
        text = await fs.readFile(this.keyFile, 'utf8');
      }
    }
    const keys = text
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .filter(Boolean)
      .map((line) => Buffer.from(line, 'base64'));
    if (!keys.length || keys.some((k) => k.length !== 32)) throw keyFileProblem(this.keyFile, 'must hold base64 AES-256 keys (32 bytes), one a line');
    return keys.map((key) => ({ id: keyId(key), key }));
  }

  /** Replace the key file (atomically) with these keys, current first. */
  async writeKeys(keys: Buffer[]): Promise<void> {
    const tmp = `${this.keyFile}.${randomBytes(4).toString('hex')}.tmp`;
    await fs.writeFile(tmp, keys.map((k) => k.toString('base64')).join('\n') + '\n', { mode: 0o600, flag: 'wx' });
    await fs.rename(tmp, this.keyFile);
    this.keys = undefined;
  }

  /** A new file name stem for a photo's files (random: it says nothing of the photo). */
  newStem(): string {
    const name = randomBytes(16).toString('hex');
    return `${name.slice(0, 2)}/${name}`;
  }

  private full(file: string): string {
    const resolved = path.resolve(this.dir, file);
    if (!resolved.startsWith(path.resolve(this.dir) + path.sep)) throw new Error(`photo file ${file} is outside the photo store`);
    return resolved;
  }

  /** Encrypt with the current key and write (via a temporary file and a rename: never half a file). */
  async write(file: string, plain: Buffer): Promise<void> {
    const [current] = await this.keyring();
    const iv = randomBytes(IV_BYTES);
    const header = Buffer.concat([MAGIC, Buffer.from(current.id, 'hex'), iv]);
    const cipher = createCipheriv('aes-256-gcm', current.key, iv);
    cipher.setAAD(Buffer.concat([header, Buffer.from(file)]));
    const body = Buffer.concat([header, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    const target = this.full(file);
    await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    const tmp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await fs.writeFile(tmp, body, { mode: 0o600 });
      await fs.rename(tmp, target);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
  }

  /** Read and decrypt one of photo `photoId`'s files; a missing file, key or a changed byte is an error naming the photo. */
  async read(photoId: number | string, file: string): Promise<Buffer> {
    let body: Buffer;
    try {
      body = await fs.readFile(this.full(file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`file of photo ${photoId}`, file, 'id');
      throw err;
    }
    if (body.length < HEADER + TAG_BYTES || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw unreadable(photoId, 'integrity', `the file ${file} is not an encrypted photo file (damaged or replaced)`);
    }
    const id = body.subarray(MAGIC.length, MAGIC.length + KEY_ID_BYTES).toString('hex');
    const key = (await this.keyring()).find((k) => k.id === id);
    if (!key) throw unreadable(photoId, 'key_missing', `encrypted with key ${id}, which the key file ${this.keyFile} does not hold (wrong or lost key file)`);
    const decipher = createDecipheriv('aes-256-gcm', key.key, body.subarray(MAGIC.length + KEY_ID_BYTES, HEADER));
    decipher.setAAD(Buffer.concat([body.subarray(0, HEADER), Buffer.from(file)]));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(body.subarray(HEADER, body.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw unreadable(photoId, 'integrity', `the file ${file} was altered or damaged (its authentication tag does not match)`);
    }
  }

  /** Remove files (those that are gone already are fine): the clean-up of a write that did not commit. */
  async remove(files: Iterable<string>): Promise<void> {
    for (const file of files) await fs.rm(this.full(file), { force: true });
  }
}

const stores = new Map<string, PhotoStore>();

/** Where the photos and their key are, from the environment (TOOLROOM_DATA_DIR, TOOLROOM_PHOTO_KEY_FILE). */
export function photoStoreFromEnv(env: NodeJS.ProcessEnv = process.env): PhotoStore {
  const dataDir = path.resolve(env.TOOLROOM_DATA_DIR || './data');
  // Outside photos/: a backup of the photos does not carry the key that opens them.
  const keyFile = path.resolve(env.TOOLROOM_PHOTO_KEY_FILE || path.join(dataDir, 'keys', 'photo.key'));
  const dir = path.join(dataDir, 'photos');
  const name = `${dir}\n${keyFile}`;
  let store = stores.get(name);
  if (!store) stores.set(name, (store = new PhotoStore(dir, keyFile)));
  return store;
}
