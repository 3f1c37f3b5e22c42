/**
 * The OpenAPI 3.1 document, generated from the route table and core's zod schemas (z.toJSONSchema):
 * what the API accepts is documented by the same schemas that check it.
 */
import { z } from 'zod';
import type { Route } from './operations';
import { CSRF_HEADER, SESSION_COOKIE } from '../auth';
import { ERROR_CODES } from '../../core/errors';

type Json = Record<string, unknown>;

/** The input's JSON Schema as a client writes it (before core's defaults and transforms). */
export function inputSchema(schema: z.ZodType | undefined): Json | undefined {
  if (!schema) return undefined;
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  delete json.$schema;
  return json;
}

/**
 * The answer's JSON Schema, as core hands it out. Named records (`.meta({ id })` in core's schemas)
 * go to `components.schemas` once and are referred to by `$ref`.
 */
function outputSchema(schema: z.ZodType, components: Record<string, Json>): Json {
  const json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  delete json.$schema;
  const defs = (json.$defs ?? {}) as Record<string, Json>;
  delete json.$defs;
  const toComponents = (value: Json): Json => JSON.parse(JSON.stringify(value).replaceAll('"#/$defs/', '"#/components/schemas/')) as Json;
  for (const [name, def] of Object.entries(defs)) components[name] ??= toComponents(def);
  return toComponents(json);
}

export function pathFields(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
}

/** The schema without the fields the path carries. */
function withoutFields(schema: Json, fields: string[]): Json {
  if (!fields.length) return schema;
  const strip = (s: Json): Json => {
    const out: Json = { ...s };
    if (s.properties && typeof s.properties === 'object') {
      out.properties = Object.fromEntries(Object.entries(s.properties as Json).filter(([k]) => !fields.includes(k)));
    }
    if (Array.isArray(s.required)) out.required = (s.required as string[]).filter((k) => !fields.includes(k));
    if (Array.isArray(out.required) && out.required.length === 0) delete out.required;
    if (Array.isArray(s.anyOf)) out.anyOf = (s.anyOf as Json[]).map(strip);
    return out;
  };
  return strip(schema);
}

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

export function openApiDocument(routes: Route[], base: string): Json {
  const paths: Record<string, Json> = {};
  const records: Record<string, Json> = {};
  for (const route of routes) {
    const fields = pathFields(route.path);
    const schema = inputSchema(route.input);
    const props = (schema?.properties ?? {}) as Record<string, Json>;
    const parameters: Json[] = fields.map((name) => ({
      name,
      in: 'path',
      required: true,
      schema: props[name] ?? (schema?.anyOf as Json[] | undefined)?.map((s) => (s.properties as Json | undefined)?.[name]).find(Boolean) ?? { type: 'string' },
    }));
    const op: Json = {
      operationId: route.operationId,
      tags: [route.tag],
      summary: route.summary,
      description:
        route.permission === 'anonymous'
          ? 'No login needed.'
          : route.permission === null
            ? 'Any logged-in user, on their own account.'
            : `Permission: \`${route.permission}\` (see the roles table in the API documentation).`,
      'x-permission': route.permission,
    };
    if (route.method === 'GET' || route.method === 'DELETE' || route.consumes) {
      for (const [name, s] of Object.entries(props)) {
        if (fields.includes(name) || route.method === 'DELETE') continue;
        const required = Array.isArray(schema?.required) && (schema.required as string[]).includes(name);
        const isArray = JSON.stringify(s).includes('"type":"array"');
        parameters.push({ name, in: 'query', required, schema: s, ...(isArray && { style: 'form', explode: true }) });
      }
    }
    if (route.consumes) op.requestBody = { required: true, content: { [route.consumes]: { schema: { type: 'string', contentMediaType: route.consumes } } } };
    else if (schema && route.method !== 'GET' && route.method !== 'DELETE') {
      op.requestBody = {
        required: false,
        content: { 'application/json': { schema: withoutFields(schema, fields) } },
      };
    }
    if (parameters.length) op.parameters = parameters;
    const status = String(route.status ?? 200);
    const responses: Json = {};
    if (route.produces) responses[status] = { description: 'OK', content: { [route.produces]: {} } };
    else if (route.status === 204) responses['204'] = { description: 'Done' };
    else {
      const description = status === '201' ? 'Created' : 'OK';
      responses[status] = { description, content: { 'application/json': { schema: route.output ? outputSchema(route.output, records) : {} } } };
    }
    if (route.input) responses['400'] = problemResponse('Invalid input: `errors` names each field and rule');
    if (route.permission !== 'anonymous') {
      responses['401'] = problemResponse('Not logged in, or the session or token is invalid, expired, revoked or its user disabled');
      responses['403'] = problemResponse('The role may not do this (or a cookie-authenticated write lacks the CSRF header)');
    }
    if (fields.length) responses['404'] = problemResponse('No such record');
    if (route.method !== 'GET') {
      responses['409'] = problemResponse('Conflict with the record as it is (version, state, uniqueness)');
      responses['413'] = problemResponse('The body is too large');
      responses['415'] = problemResponse('The body is not JSON');
    }
    responses['429'] = problemResponse('Too many requests (see Retry-After)');
    op.responses = responses;
    if (route.permission === 'anonymous') op.security = [];
    const key = route.path;
    paths[key] = { ...(paths[key] ?? {}), [route.method.toLowerCase()]: op };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Toolroom REST API',
      version: '1',
      description:
        'Mould maintenance: tools, presses, mounts, PM plans, inspections, failures, actions, shot counts, users and the audit trail. ' +
        `Log in with POST ${base}/session (a session cookie; writes then need the \`${CSRF_HEADER}\` header = the csrfToken returned), ` +
        'or send an API token as `Authorization: Bearer toolroom_…` (no CSRF header needed). Errors are RFC 9457 problem details.',
    },
    servers: [{ url: base }],
    security: [{ bearerToken: [] }, { sessionCookie: [] }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearerToken: { type: 'http', scheme: 'bearer', description: 'An API token (POST /tokens), sent as Authorization: Bearer toolroom_…' },
        sessionCookie: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: `The session cookie from POST /session; writes also need the ${CSRF_HEADER} header` },
      },
      schemas: {
        ...Object.fromEntries(Object.entries(records).sort(([a], [b]) => a.localeCompare(b))),
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail', 'code', 'errors'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            instance: { type: 'string' },
            code: { type: 'string', enum: [...ERROR_CODES, 'http', 'internal'] },
            errors: {
              type: 'array',
              items: {
                type: 'object',
                required: ['field', 'rule', 'message'],
                properties: { field: { type: 'string' }, rule: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  };
}
