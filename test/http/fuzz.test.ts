/**
 * Malformed bodies against every write operation of the API, from a seeded PRNG (the seed is
 * printed; FUZZ_SEED=<n> replays a run, FUZZ_BODIES=<n> sends more). Each body breaks at least one
 * rule on purpose, among noise of SQL and script fragments, unicode, huge strings and
 * prototype-pollution keys: the answer must be a 4xx problem naming the broken field, never a 5xx,
 * the server must keep answering, and nothing may be written (table counts and the audit trail).
 */
import assert from 'node:assert/strict';
import type { Db } from '../../core/db/connect';
import { createApiToken } from '../../core/accounts/tokens';
import { apiRoutes } from '../../http/rest/router';
import { inputSchema, pathFields } from '../../http/rest/openapi';
import type { Route } from '../../http/rest/operations';
import { backends, resetData, tableCounts } from '../support/db';
import { Client, makeUser, startApi, type TestServer } from '../support/api-server';
import { seededRandom } from '../../core/seed/random';

const backend = backends.find((b) => b.name === 'postgres') ?? backends[0];
const BODIES = Math.max(2000, Number(process.env.FUZZ_BODIES) || 0);
const SEED = Number(process.env.FUZZ_SEED) || Math.floor(Math.random() * 2 ** 31);

/** core's seeded PRNG (the demo seed's), with int(n) in [0, n). */
function prng(seed: number) {
  const r = seededRandom(seed);
  return { ...r, int: (n: number) => r.int(0, n - 1) };
}

type Json = Record<string, unknown> & {
  type?: string | string[];
  anyOf?: Json[];
  oneOf?: Json[];
  properties?: Record<string, Json>;
  items?: Json;
  enum?: unknown[];
  maxLength?: number;
  additionalProperties?: boolean;
};

const NASTY_STRINGS = [
  "'; DROP TABLE tools; --",
  "1' OR '1'='1",
  'Robert"); DELETE FROM audit_events; --',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '{{7*7}}${7*7}',
  '../../etc/passwd',
  'ｆｕｌｌｗｉｄｔｈ ＡＢＣ',
  'مرحبا بالعالم',
  '‮evil‬',
  '🔧🔩⚙️🛠️👩🏽‍🔧',
  'Z̸̢̛̛a̷l̶g̴o̵',
  '\uFEFFbom',
  '\t\n\r ',
  '',
  ' ',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  '0x1F',
  '$where',
];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', '__defineGetter__', 'toString', 'hasOwnProperty'];

function typesOf(s: Json | undefined, out = new Set<string>()): Set<string> {
  if (!s) return out;
  if (Array.isArray(s.type)) s.type.forEach((t) => out.add(t));
  else if (s.type) out.add(s.type);
  for (const x of [...(s.anyOf ?? []), ...(s.oneOf ?? [])]) typesOf(x, out);
  return out;
}

function enumsOf(s: Json | undefined): unknown[] | undefined {
  if (!s) return undefined;
  if (s.enum) return s.enum;
  const all = [...(s.anyOf ?? []), ...(s.oneOf ?? [])].map(enumsOf);
  return all.length && all.every(Boolean) ? all.flat() : undefined;
}

function maxLengthOf(s: Json | undefined): number | undefined {
  if (!s) return undefined;
  if (typeof s.maxLength === 'number') return s.maxLength;
  const all = [...(s.anyOf ?? []), ...(s.oneOf ?? [])].map(maxLengthOf).filter((n) => n !== undefined) as number[];
  return all.length ? Math.max(...all) : undefined;
}

/** A key that stays a plain own property (never sets the prototype) when the object is built. */
function put(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function protoValue(rnd: ReturnType<typeof prng>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  put(o, rnd.pick(PROTO_KEYS), { polluted: true, isAdmin: true });
  return o;
}

/** A value of any kind, valid or not for whatever field gets it (noise). No NUL: that is a breakage of its own. */
function noise(rnd: ReturnType<typeof prng>): unknown {
  switch (rnd.int(9)) {
    case 0:
      return rnd.pick(NASTY_STRINGS);
    case 1:
      return rnd.pick([0, -1, 1, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1.5, 1e308]);
    case 2:
      return rnd.pick([true, false, null]);
    case 3:
      return [rnd.pick(NASTY_STRINGS), rnd.int(100)];
    case 4:
      return protoValue(rnd);
    case 5:
      return rnd.pick(NASTY_STRINGS).repeat(1 + rnd.int(300));
    case 6:
      return '2026-11-26T10:00:00Z';
    case 7:
      return { $ne: null, $gt: '' };
    default:
      return String(rnd.int(1000));
  }
}

/** A value the property cannot take, whatever else it takes; null when none is known to break it. */
function brokenValue(rnd: ReturnType<typeof prng>, prop: Json): unknown {
  const types = typesOf(prop);
  // A branch without a type (a date and time: text, epoch milliseconds or a Date) takes strings and
  // numbers: only a list, an object or a boolean is surely wrong there.
  const untyped = !prop.type || [...(prop.anyOf ?? []), ...(prop.oneOf ?? [])].some((b) => !b.type && !b.anyOf && !b.enum && !b.properties);
  if (untyped && ![...types].some((t) => t === 'string' || t === 'number' || t === 'integer')) {
    return rnd.pick([[rnd.pick(NASTY_STRINGS)], { $ne: null }, protoValue(rnd), true, false]);
  }
  const enums = enumsOf(prop);
  const max = maxLengthOf(prop);
  const candidates: unknown[] = [];
  // A NUL breaks any string field, and is refused before anything else.
  if (types.has('string')) candidates.push(`${rnd.pick(NASTY_STRINGS)}\u0000${rnd.pick(NASTY_STRINGS)}`);
  if (types.has('string') && max !== undefined) candidates.push('ü🔧x'.repeat(Math.ceil((max + 1) / 3) + rnd.int(5)));
  if (types.has('string') && enums) candidates.push(`${rnd.pick(NASTY_STRINGS)}-not-an-option`);
  if (!types.has('string') && types.size > 0) candidates.push(rnd.pick(NASTY_STRINGS.filter((s) => !/^\s*-?\d/.test(s))) || 'abc');
  if (!types.has('number') && !types.has('integer')) candidates.push(rnd.pick([42, -7.25, 0]));
  if (types.has('integer') && !types.has('number')) candidates.push(rnd.pick([1.5, -3.25, 1e300]));
  if (!types.has('boolean')) candidates.push(rnd.pick([true, false]));
  if (!types.has('array')) candidates.push([rnd.pick(NASTY_STRINGS)]);
  if (!types.has('object')) candidates.push(rnd.pick([{ $ne: null }, protoValue(rnd)]));
  if (types.has('object') || types.has('array')) candidates.push(types.has('array') ? [{ '<script>': 1, ...{} }] : { "'; DROP TABLE users; --": 1 });
  if (!types.has('null') && types.size > 0) candidates.push(null);
  return candidates.length ? rnd.pick(candidates) : null;
}

interface Case {
  route: Route;
  path: string;
  body: string;
  /** The field the problem must name ('' = the body as a whole; null = any field, e.g. JSON syntax). */
  expect: { field: string | null; status: number[] };
}

/** One malformed object for a schema: one broken field (or an unknown key), with noise in other fields. */
function brokenObject(rnd: ReturnType<typeof prng>, schema: Json, skip: string[], prefix: string): { body: Record<string, unknown>; field: string } | null {
  const props = Object.entries(schema.properties ?? {}).filter(([k]) => !skip.includes(k));
  const body: Record<string, unknown> = {};
  for (const [k] of props) if (rnd.next() < 0.4) put(body, k, noise(rnd));
  const strict = schema.additionalProperties === false;
  if (strict && (props.length === 0 || rnd.next() < 0.2)) {
    const key = rnd.pick([...PROTO_KEYS, "'; DROP TABLE tools; --", '<script>x</script>', '🔧', 'a'.repeat(5000), '$where']);
    put(body, key, noise(rnd));
    return { body, field: prefix.replace(/\.$/, '') };
  }
  for (let tries = 0; tries < 10 && props.length; tries++) {
    const [key, prop] = rnd.pick(props);
    const value = brokenValue(rnd, prop);
    if (value === null && !typesOf(prop).size) continue;
    put(body, key, value);
    return { body, field: prefix + key };
  }
  return null;
}

function makeCase(rnd: ReturnType<typeof prng>, route: Route, schema: Json): Case | null {
  const fields = pathFields(route.path);
  const path = route.path.replace(/\{(\w+)\}/g, (_, f: string) => (/id$/i.test(f) ? String(1 + rnd.int(999)) : 'NOPE-1'));
  const isArray = typesOf(schema).has('array') && !schema.properties;
  const kind = rnd.next();
  if (kind < 0.08) {
    // Not JSON at all, or cut short.
    const body = rnd.pick(['{', '{"a":', "{'single':'quotes'}", '[1,2,', 'undefined', '{"a":1}{"b":2}', '\u0000', '{"__proto__":']);
    return { route, path, body, expect: { field: null, status: [400] } };
  }
  if (kind < 0.16) {
    // The wrong kind of body as a whole.
    const body = isArray
      ? rnd.pick(['{}', '"x"', '42', 'null', '[]', JSON.stringify({ press: 'P01' })])
      : rnd.pick(['[]', '"x"', '42', 'null', 'true', '[{"id":1}]', JSON.stringify('<script>')]);
    return { route, path, body, expect: { field: '', status: [400] } };
  }
  if (kind < 0.2) {
    // Deeply nested.
    const depth = 500 + rnd.int(5000);
    const body = isArray ? '['.repeat(depth) + ']'.repeat(depth) : `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    return { route, path, body, expect: { field: isArray ? null : '', status: [400] } };
  }
  if (isArray) {
    const items = schema.items as Json;
    const n = 1 + rnd.int(3);
    const at = rnd.int(n);
    const list: unknown[] = [];
    let field = '';
    for (let i = 0; i < n; i++) {
      if (i === at) {
        const b = brokenObject(rnd, items, [], `${i}.`);
        if (!b) return null;
        list.push(b.body);
        field = b.field;
      } else list.push({ press: rnd.pick(NASTY_STRINGS), counter: noise(rnd) });
    }
    return { route, path, body: JSON.stringify(list), expect: { field, status: [400] } };
  }
  const b = brokenObject(rnd, schema, fields, '');
  if (!b) return null;
  return { route, path, body: JSON.stringify(b.body), expect: { field: b.field, status: [400] } };
}

describe(`REST API fuzz: ${BODIES} malformed bodies (${backend.name}, seed ${SEED})`, function () {
  this.timeout(600_000);
  let db: Db;
  let api: TestServer;
  let admin: Client;

  before(async () => {
    console.log(`      fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED})`);
    db = await backend.db();
    await resetData(db);
    api = await startApi(db, { policy: { maxFailuresPerAddress: 10_000 } });
    const u = await makeUser(db, 'admin');
    admin = new Client(api.url);
    admin.bearer = (await createApiToken(db, { id: String(u.id), name: u.username, role: 'admin', via: 'test' }, { name: 'fuzz' })).secret;
    // Something to aim at: records the path ids may hit.
    for (let i = 1; i <= 3; i++) {
      const a = await admin.call('POST', '/tools', { assetNumber: `FZ-${i}`, name: `Fuzz ${i}`, cavityCount: 4 });
      assert.equal(a.status, 201, a.text);
      assert.equal((await admin.call('POST', '/presses', { code: `FZP${i}`, name: `Press ${i}`, tonnage: 200 })).status < 500, true);
    }
  });
  after(async () => api?.close());

  it('answers every one with a 4xx problem naming the field, and writes nothing', async () => {
    const rnd = prng(SEED);
    const routes = apiRoutes()
      // JSON bodies: the photo upload takes an image (its bad bodies are the photo suites' files).
      .filter((r) => r.method !== 'GET' && r.input && !r.consumes)
      .map((route) => ({ route, schema: inputSchema(route.input) as Json }));
    assert.ok(routes.length >= 30, `write routes: ${routes.length}`);
    const before = await tableCounts(db);
    const [{ max: seqBefore }] = await db('audit_events').max<{ max: number | string | null }[]>({ max: 'seq' });
    const perRoute = new Map<string, number>();
    const failures: string[] = [];
    let sent = 0;
    while (sent < BODIES) {
      const { route, schema } = rnd.pick(routes);
      const c = makeCase(rnd, route, schema);
      if (!c) continue;
      sent++;
      const client = route.permission === 'anonymous' ? new Client(api.url) : admin;
      const a = await client.call(route.method, c.path, c.body);
      const key = `${route.method} ${route.path}`;
      perRoute.set(key, (perRoute.get(key) ?? 0) + 1);
      const where = `#${sent} ${key} ${c.path} body ${c.body.slice(0, 300)}`;
      if (a.status >= 500) {
        failures.push(`${where}\n  → ${a.status} ${a.text.slice(0, 300)}`);
        continue;
      }
      const problem = a.json as { errors?: { field: unknown; rule: unknown; message: unknown }[] } | undefined;
      const okStatus = c.expect.status.includes(a.status) || a.status === 413;
      const shaped = a.headers.get('content-type') === 'application/problem+json' && Array.isArray(problem?.errors) && problem!.errors!.length > 0 &&
        problem!.errors!.every((e) => typeof e.field === 'string' && typeof e.rule === 'string' && typeof e.message === 'string');
      const named =
        c.expect.field === null ||
        a.status === 413 ||
        problem?.errors?.some((e) => e.field === c.expect.field || (e.field as string).startsWith(`${c.expect.field}.`) || (c.expect.field !== '' && c.expect.field!.startsWith(`${e.field}.`)));
      if (!okStatus || !shaped || !named) {
        failures.push(`${where}\n  → ${a.status} ${a.text.slice(0, 400)}\n  expected field ${JSON.stringify(c.expect.field)}`);
      }
      if (failures.length > 20) break;
    }
    assert.deepEqual(failures, [], `seed ${SEED}: ${failures.length} bad answers:\n${failures.join('\n')}`);
    // No prototype got polluted in this process (the server runs in it).
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
    // Nothing written.
    assert.deepEqual(await tableCounts(db), before);
    const [{ max: seqAfter }] = await db('audit_events').max<{ max: number | string | null }[]>({ max: 'seq' });
    assert.equal(String(seqAfter), String(seqBefore));
    // Still answering, and every write route was exercised.
    assert.equal((await admin.call('GET', '/tools')).status, 200);
    assert.ok(perRoute.size >= routes.length - 2, `routes hit: ${perRoute.size} of ${routes.length}`);
    console.log(`      ${sent} bodies over ${perRoute.size} write routes`);
  });

  it('answers malformed query strings on every read route with a 2xx or a 4xx problem, never a 5xx, writing nothing', async () => {
    const rnd = prng(SEED ^ 0x5bd1e995);
    const routes = apiRoutes().filter((r) => r.method === 'GET');
    const before = await tableCounts(db);
    const failures: string[] = [];
    for (let n = 0; n < 500; n++) {
      const route = rnd.pick(routes);
      const schema = inputSchema(route.input) as Json | undefined;
      const text = () => {
        const v = noise(rnd);
        return typeof v === 'string' ? v : JSON.stringify(v);
      };
      const keys = [...Object.keys(schema?.properties ?? {}), ...PROTO_KEYS, "x' OR 1=1--", '<b>'];
      const q = new URLSearchParams();
      for (let i = rnd.int(4); i >= 0; i--) q.append(rnd.pick(keys), text().slice(0, 1000));
      const path = route.path.replace(/\{(\w+)\}/g, () => encodeURIComponent(text().slice(0, 200)) || 'x');
      const a = await admin.call('GET', `${path}?${q}`);
      // Node's own limit on the request line and headers (16 KiB) answers before the API does.
      if (a.status === 431) continue;
      const problem = a.status >= 400 && a.headers.get('content-type') === 'application/problem+json' && Array.isArray(a.json?.errors) && a.json.errors.length > 0;
      if (a.status >= 500 || (a.status >= 400 && !problem) || ![200, 400, 404].includes(a.status)) failures.push(`GET ${path}?${q.toString().slice(0, 200)} → ${a.status} ${a.text.slice(0, 200)}`);
      if (failures.length > 10) break;
    }
    assert.deepEqual(failures, [], `seed ${SEED}`);
    assert.deepEqual(await tableCounts(db), before);
  });
});
