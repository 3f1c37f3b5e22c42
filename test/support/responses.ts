/**
 * Checks answers over HTTP against the API's own OpenAPI document: each successful JSON answer must
 * match the response schema of its route (ajv, JSON Schema 2020-12 with formats), and the checker
 * remembers which routes answered, so a suite can say every route was seen.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Answer } from './api-server';

type Json = Record<string, unknown>;

interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  /** Literal characters of the template: the more, the more specific (`/tools/by-asset/{x}` over `/tools/{id}`). */
  weight: number;
}

const pointer = (...parts: string[]) => parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

export class ResponseChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly operations: Operation[] = [];
  private readonly validators = new Map<string, ValidateFunction>();
  /** `METHOD template` of each route that answered with a checked success. */
  readonly seen = new Set<string>();

  constructor(readonly doc: Json) {
    addFormats(this.ajv);
    // The whole document as one schema resource: `#/components/schemas/…` resolves inside it.
    this.ajv.addSchema({ ...doc, $id: 'openapi.json' });
    for (const [template, item] of Object.entries(doc.paths as Record<string, Json>)) {
      for (const method of Object.keys(item)) {
        const source = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{\w+\\?\}|\{\w+\}/g, '[^/]+');
        this.operations.push({ method: method.toUpperCase(), template, pattern: new RegExp(`^${source}$`), weight: template.replace(/\{\w+\}/g, '').length });
      }
    }
  }

  /** The route an HTTP call went to (path relative to the API base, query string allowed). */
  route(method: string, path: string): { method: string; template: string } | undefined {
    const bare = path.split('?')[0];
    return this.operations
      .filter((o) => o.method === method && o.pattern.test(bare))
      .sort((a, b) => b.weight - a.weight)[0];
  }

  /** Throws when a successful JSON answer does not match its route's response schema. */
  check(method: string, path: string, answer: Answer): void {
    if (answer.status >= 300 || answer.status === 204) return;
    if (!answer.headers.get('content-type')?.startsWith('application/json')) return;
    const op = this.route(method, path);
    if (!op) throw new Error(`${method} ${path}: no route in the OpenAPI document`);
    const key = `${op.method} ${op.template}`;
    let validate = this.validators.get(`${key} ${answer.status}`);
    if (!validate) {
      const ref = `openapi.json#/${pointer('paths', op.template, op.method.toLowerCase(), 'responses', String(answer.status), 'content', 'application/json', 'schema')}`;
      validate = this.ajv.compile({ $ref: ref });
      this.validators.set(`${key} ${answer.status}`, validate);
    }
    if (!validate(answer.json)) {
      throw new Error(`${key} answered ${answer.status} off its schema: ${this.ajv.errorsText(validate.errors, { separator: '; ' })}\n${answer.text.slice(0, 2000)}`);
    }
    this.seen.add(key);
  }
}
