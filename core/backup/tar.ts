import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The plain tar (ustar) inside a backup: written as a stream, so a large dump or many photos never sit
 * in memory, and read back only into a staging directory, strictly (regular files under relative
 * names, no links, no `..`), hashing each file as it lands. A standard format on purpose: with the
 * identity an operator can always `age -d -i key archive | tar x` by hand.
 */

export interface TarEntry {
  /** Relative path inside the archive, '/'-separated. */
  name: string;
  size: number;
  /** The content, `size` bytes exactly. */
  content: () => AsyncIterable<Uint8Array>;
}

export interface ExtractedEntry {
  name: string;
  size: number;
  sha256: string;
}

const BLOCK = 512;

/** A name we write and accept: relative, '/'-separated, no empty, `.` or `..` segment, printable. */
export function safeEntryName(name: string): boolean {
  if (!name || name.length > 255 || name.startsWith('/') || name.includes('\\')) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return false;
  return name.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  // ustar splits a long name at a '/' into prefix (155) and name (100).
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
    if (cut <= 0 || Buffer.byteLength(base) > 100 || Buffer.byteLength(prefix) > 155) throw new Error(`backup: path too long for the archive: ${name}`);
  }
  h.write(base, 0, 100, 'utf8');
  h.write(octal(0o600, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(Math.floor(mtime / 1000), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\u000000', 257, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

/** The tar stream of the entries, in order, ending with the two zero blocks. */
export async function* writeTar(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>, mtime = Date.now()): AsyncGenerator<Uint8Array> {
  for await (const e of entries) {
    if (!safeEntryName(e.name)) throw new Error(`backup: unsafe path in the archive: ${e.name}`);
    yield header(e.name, e.size, mtime);
    let written = 0;
    for await (const chunk of e.content()) {
      written += chunk.length;
      if (written > e.size) throw new Error(`backup: ${e.name} grew while it was being archived`);
      yield chunk;
    }
    if (written !== e.size) throw new Error(`backup: ${e.name} shrank while it was being archived (${written} of ${e.size} bytes)`);
    const pad = (BLOCK - (e.size % BLOCK)) % BLOCK;
    if (pad) yield Buffer.alloc(pad);
  }
  yield Buffer.alloc(BLOCK * 2);
}

/** Pulls exact byte counts out of a chunk stream. */
class ByteReader {
  private buffered: Buffer[] = [];
  private length = 0;
  private readonly it: AsyncIterator<Uint8Array>;
  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }
  /** Up to `max` bytes (at least one), or null at the end of the stream. */
  async some(max: number): Promise<Buffer | null> {
    if (!this.length) {
      const next = await this.it.next();
      if (next.done) return null;
      this.buffered.push(Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength));
      this.length += next.value.byteLength;
    }
    const first = this.buffered[0];
    const out = first.length <= max ? first : first.subarray(0, max);
    if (out === first) this.buffered.shift();
    else this.buffered[0] = first.subarray(max);
    this.length -= out.length;
    return out;
  }
  /** Exactly `n` bytes, or fewer only when the stream ended. */
  async exactly(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const part = await this.some(n - got);
      if (!part) break;
      parts.push(part);
      got += part.length;
    }
    return Buffer.concat(parts, got);
  }
}

function field(h: Buffer, start: number, len: number): string {
  const raw = h.subarray(start, start + len);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? len : end).toString('utf8');
}

function parseOctal(h: Buffer, start: number, len: number, what: string): number {
  const text = field(h, start, len).trim();
  if (!/^[0-7]+$/.test(text)) throw new Error(`the archive's tar header has a bad ${what}`);
  return parseInt(text, 8);
}

/**
 * Extract a tar stream into `dir` (which must exist and be empty): regular files only, each created
 * anew (never over another) with mode 0600. Throws on anything else, on a bad header checksum and on
 * a stream that ends early; the caller then throws the directory away.
 */
export async function extractTar(source: AsyncIterable<Uint8Array>, dir: string): Promise<ExtractedEntry[]> {
  const reader = new ByteReader(source);
  const out: ExtractedEntry[] = [];
  for (;;) {
    const h = await reader.exactly(BLOCK);
    if (h.length < BLOCK) throw new Error('the archive ends in the middle of its contents (truncated)');
    if (h.every((b) => b === 0)) {
      const second = await reader.exactly(BLOCK);
      if (second.length < BLOCK || !second.every((b) => b === 0)) throw new Error('the archive ends in the middle of its contents (truncated)');
      return out;
    }
    const sum = parseOctal(h, 148, 8, 'checksum');
    let actual = 0;
    for (let i = 0; i < BLOCK; i++) actual += i >= 148 && i < 156 ? 32 : h[i];
    if (sum !== actual) throw new Error('the archive has a damaged tar header (checksum mismatch)');
    const type = String.fromCharCode(h[156]);
    const prefix = field(h, 345, 155);
    const name = prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100);
    if (type !== '0' && type !== '\0') throw new Error(`the archive holds something other than a file: ${name}`);
    if (!safeEntryName(name)) throw new Error(`the archive holds an unsafe path: ${JSON.stringify(name)}`);
    const size = parseOctal(h, 124, 12, 'size');
    const file = path.join(dir, ...name.split('/'));
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const hash = createHash('sha256');
    const fd = fs.openSync(file, 'wx', 0o600);
    try {
      let left = size;
      while (left > 0) {
        const part = await reader.some(left);
        if (!part) throw new Error(`the archive ends in the middle of ${name} (truncated)`);
        hash.update(part);
        fs.writeSync(fd, part);
        left -= part.length;
      }
    } finally {
      fs.closeSync(fd);
    }
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad && (await reader.exactly(pad)).length < pad) throw new Error(`the archive ends after ${name} (truncated)`);
    out.push({ name, size, sha256: hash.digest('hex') });
  }
}

/** A file's content as chunks (for an entry). */
export function fileContent(file: string): () => AsyncIterable<Uint8Array> {
  return () => fs.createReadStream(file, { highWaterMark: 256 * 1024 });
}

/** In-memory content (small parts: manifest, keys). */
export function bufferContent(data: Uint8Array): () => AsyncIterable<Uint8Array> {
  return async function* () {
    yield data;
  };
}
