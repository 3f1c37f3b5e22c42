/**
 * HTTP plumbing for the REST API: reading a JSON body within a size limit, query strings typed by
 * the input's JSON Schema, and a token bucket per caller. No business rules here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { validationError } from '../core/errors';
import { HttpProblem } from './problem';

export const DEFAULT_BODY_LIMIT = 2 * 1024 * 1024;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function isJsonType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/**
 * The request's JSON body (undefined when there is none), at most `limit` bytes: 413 beyond it,
 * 415 when it is not JSON, 400 (field '' rule `json`) when it does not parse.
 */
export async function readJsonBody(req: IncomingMessage & { body?: unknown; _body?: boolean }, limit: number): Promise<unknown> {
  // Mounted behind a body parser (express.json), the stream was read already.
  if (req._body === true) return req.body;
  const declared = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (!chunked && (declared === undefined || declared === '0')) {
    req.resume();
    return undefined;
  }
  const tooLarge = () =>
    new HttpProblem(413, 'max_bytes', `the request body is larger than ${limit} bytes`, { field: 'body' });
  if (declared !== undefined && Number(declared) > limit) {
    req.resume();
    throw tooLarge();
  }
  if (!isJsonType(req.headers['content-type'])) {
    req.resume();
    throw new HttpProblem(415, 'media_type', 'the request body must be JSON (Content-Type: application/json)', { field: 'content-type' });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  let text: string;
  try {
    // Fatal: invalid UTF-8 is refused, not stored as U+FFFD in the bytes' place.
    text = UTF8.decode(Buffer.concat(chunks));
  } catch {
    throw validationError([{ field: '', rule: 'utf8', message: 'the body is not valid UTF-8' }]);
  }
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = `the body is not valid JSON (${(err as Error).message.slice(0, 120)})`;
    throw validationError([{ field: '', rule: 'json', message }]);
  }
}

type JsonSchema = { type?: string | string[]; anyOf?: JsonSchema[]; oneOf?: JsonSchema[]; properties?: Record<string, JsonSchema>; items?: JsonSchema };

function typesOf(schema: JsonSchema | undefined, out = new Set<string>()): Set<string> {
  if (!schema) return out;
  if (Array.isArray(schema.type)) schema.type.forEach((t) => out.add(t));
  else if (schema.type) out.add(schema.type);
  for (const s of [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) typesOf(s, out);
  return out;
}

/**
 * A query string as an input object, each value typed by what the input schema's property takes:
 * `true`/`false` for booleans, digits for numbers, repeated keys (or one) for lists. Values that do
 * not fit stay text, and core names the field.
 */
export function queryInput(search: URLSearchParams, properties: Record<string, JsonSchema> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of new Set(search.keys())) {
    const values = search.getAll(key);
    const types = typesOf(properties?.[key]);
    const typed = values.map((v) => {
      if (types.has('boolean') && (v === 'true' || v === 'false')) return v === 'true';
      if ((types.has('integer') || types.has('number')) && !types.has('string') && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
      return v;
    });
    // One value for a property that takes only a list is a list of one.
    const value = typed.length > 1 || (types.has('array') && !types.has('string')) ? typed : typed[0];
    // defineProperty: a key like __proto__ stays a plain (refused) field, never the prototype.
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** A token bucket per key: `capacity` requests at once, refilled at `perSecond`. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly capacity: number,
    readonly perSecond: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** Take a token; throws 429 with Retry-After when the bucket is empty. */
  take(key: string, now = Date.now()): void {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.prune(now);
      b = { tokens: this.capacity, at: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.capacity, b.tokens + ((now - b.at) / 1000) * this.perSecond);
      b.at = now;
    }
    if (b.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond));
      throw new HttpProblem(429, 'rate_limit', `too many requests: try again in ${wait} s`, { headers: { 'Retry-After': String(wait) } });
    }
    b.tokens -= 1;
  }

  private prune(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.perSecond >= this.capacity) this.buckets.delete(key);
    }
    // Still full (a flood of addresses): forget the oldest half rather than grow without end.
    if (this.buckets.size >= this.maxKeys) [...this.buckets.keys()].slice(0, this.maxKeys / 2).forEach((k) => this.buckets.delete(k));
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  if (status === 204 || body === undefined) {
    res.writeHead(204, { ...headers, 'Cache-Control': 'no-store' });
    res.end();
    return;
  }
  const json = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(json),
    'Cache-Control': 'no-store',
  });
  res.end(json);
}
