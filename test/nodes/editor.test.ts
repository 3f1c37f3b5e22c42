import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RecordNodeSpec } from '../../nodes/lib/record-node';
import { nodeHelp, recordSpecs } from '../../scripts/build-editor';
import { startChildRuntime, type ChildRuntime } from '../support/runtime';

/**
 * The record nodes' built editor as Node-RED serves it. A real runtime (bench/support/node-red.ts, in a
 * child process so its registry and settings stay apart from the test helper's) loads this package from
 * dist; the editor's own requests — GET /nodes (every node's form, script and help) and GET /locales/<set>
 * (a node's messages) — must offer each spec's operations and resolve every message they name.
 */
const root = path.resolve(__dirname, '../../..');
const pkgName = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string }).name;
const RECORD_NODES = ['toolroom-tool', 'toolroom-mount', 'toolroom-pm', 'toolroom-shot', 'toolroom-inspection', 'toolroom-failure', 'toolroom-action', 'toolroom-photo', 'toolroom-user', 'toolroom-operations', 'toolroom-press', 'toolroom-account'];

function lookup(messages: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), messages);
}

function block(html: string, re: RegExp, what: string): string {
  const m = re.exec(html);
  assert.ok(m, `no ${what}`);
  return m[1];
}

interface EditorDefinition {
  icon: string;
  defaults: { operation: { value: string; validate(this: object, v: string): unknown }; config: { type: string; required: boolean } };
}

describe('record node editors, as a Node-RED runtime serves them', function () {
  this.timeout(60000);
  const specs = recordSpecs();
  const sections = new Map<string, string>();
  let red: ChildRuntime | undefined;
  let userDir = '';
  let base = '';

  async function get(url: string, accept: string): Promise<string> {
    const res = await fetch(`${base}${url}`, { headers: { accept } });
    assert.equal(res.status, 200, `GET ${url}`);
    return res.text();
  }

  before(async function () {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-editor-'));
    red = await startChildRuntime(userDir);
    base = red.base;
    // What the editor loads at start: each node set's HTML and help behind a marker naming the set.
    const all = await get('/nodes', 'text/html');
    for (const [, id, html] of all.matchAll(/<!-- --- \[red-module:([^\]]+)\] --- -->\n([\s\S]*?)(?=\n<!-- --- \[red-module:|$)/g)) sections.set(id, html);
  });

  after(async function () {
    await red?.stop();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('finds every record node spec in package.json', () => {
    assert.deepEqual(specs.map((s) => s.type).sort(), [...RECORD_NODES].sort());
  });

  for (const type of RECORD_NODES) {
    describe(type, () => {
      const spec = () => specs.find((s) => s.type === type)!;
      const section = () => sections.get(`${pkgName}/${type}`) ?? assert.fail(`GET /nodes has no ${pkgName}/${type}`);
      const form = () => block(section(), new RegExp(`<script type="text/html" data-template-name="${type}">([\\s\\S]*?)</script>`), `form of ${type}`);
      const help = () => block(section(), new RegExp(`<script type="text/html" data-help-name="${type}">([\\s\\S]*?)</script>`), `help of ${type}`);
      const script = () => block(section(), /<script type="text\/javascript">([\s\S]*?)<\/script>/, `editor script of ${type}`);

      /** Run the served editor script against a stand-in RED; what it registers. */
      function definition(): EditorDefinition {
        let def: EditorDefinition | undefined;
        new Function('RED', script())({ nodes: { registerType: (t: string, d: EditorDefinition) => t === type && (def = d) } });
        assert.ok(def, `the script registers ${type}`);
        return def;
      }

      it("offers exactly its spec's operations, in order, after \"from msg.topic\"", () => {
        const select = block(form(), /<select id="node-input-operation"[^>]*>([\s\S]*?)<\/select>/, 'operation list');
        const offered = [...select.matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]);
        assert.deepEqual(offered, ['', ...Object.keys(spec().operations)]);
      });

      it("accepts the spec's operations and no other, needs a toolroom-config, shows the spec's icon", () => {
        const d = definition();
        const node = { _: (k: string) => k };
        for (const op of ['', ...Object.keys(spec().operations)]) assert.equal(d.defaults.operation.validate.call(node, op), true, op);
        assert.equal(d.defaults.operation.validate.call(node, 'bogus'), `${type}.errors.operation`);
        assert.deepEqual({ type: d.defaults.config.type, required: d.defaults.config.required }, { type: 'toolroom-config', required: true });
        assert.equal(d.icon, spec().icon);
      });

      it('resolves every message its form, script, operations and statuses use', async () => {
        const messages = JSON.parse(await get(`/locales/${pkgName}/${type}?lng=en-US`, 'application/json'));
        const keys = new Set<string>();
        for (const [, key] of form().matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)) keys.add(key);
        for (const [, key] of script().matchAll(/this\._\('([^']+)'\)/g)) keys.add(key);
        for (const op of Object.keys(spec().operations)) keys.add(`${type}.operation.${op}`);
        // The statuses the runtime shows: every t('…') in the compiled record-node adapter.
        const runtime = fs.readFileSync(path.join(root, 'dist/nodes/lib/record-node.js'), 'utf8');
        const statuses = [...runtime.matchAll(/\bt\('([A-Za-z]+)'/g)].map((m) => `${type}.status.${m[1]}`);
        assert.ok(statuses.length >= 6, 'the adapter shows its statuses through t()');
        for (const key of statuses) keys.add(key);
        for (const key of keys) assert.equal(typeof lookup(messages, key), 'string', `${type}: missing message ${key}`);
      });

      it('has help with the shared parts filled in, documenting exactly its operations', () => {
        const h = help();
        assert.doesNotMatch(h, /\{\{|record-node:/, 'no placeholder or part marker left');
        for (const heading of ['Inputs', 'Outputs', 'Details', 'Errors', 'References']) assert.match(h, new RegExp(`<h3>${heading}</h3>`));
        const topic = block(h, /<dt class="optional">topic[\s\S]*?<dd>([\s\S]*?)<\/dd>/, 'topic in Inputs');
        assert.deepEqual([...topic.matchAll(/<code>([^<]+)<\/code>/g)].map((m) => m[1]), Object.keys(spec().operations));
        const details = block(h, /<h3>Details<\/h3>([\s\S]*?)<\/dl>/, 'Details');
        const documented = [...details.matchAll(/<dt>([^<]+)<\/dt>/g)].flatMap((m) => m[1].split('/').map((s) => s.trim()));
        assert.deepEqual(documented.sort(), Object.keys(spec().operations).sort(), 'each operation has its entry in Details');
        assert.ok(h.includes(`Examples &gt; ${pkgName} &gt; ${type}: a working flow`), 'References name its example flow');
      });
    });
  }
});

describe('record node help assembly', () => {
  const spec = { type: 'toolroom-x', icon: 'font-awesome/fa-cube', operations: { a: async () => 1, b: async () => 2 } } as RecordNodeSpec;
  const shared = '<!-- about -->\n<!-- part: inputs -->\n  <p>{{type}}: {{operations or}}</p>\n<!-- part: errors -->\n  <p>E</p>\n';

  it('puts each named part in place, filled from the spec', () => {
    const own = '<script>\n  <p>X</p>\n  <!-- record-node: inputs -->\n  <h3>Details</h3>\n  <!-- record-node: errors -->\n</script>';
    assert.equal(nodeHelp(spec, shared, own), '<script>\n  <p>X</p>\n  <p>toolroom-x: <code>a</code> or <code>b</code></p>\n  <h3>Details</h3>\n  <p>E</p>\n</script>');
  });

  it('fails the build on a part or placeholder it does not know', () => {
    assert.throws(() => nodeHelp(spec, shared, '  <!-- record-node: outputs -->\n'), /"outputs"/);
    assert.throws(() => nodeHelp(spec, '<!-- part: inputs -->\n{{count}}\n', '<!-- record-node: inputs -->\n'), /\{\{count\}\}/);
    assert.throws(() => nodeHelp(spec, '<!-- part: inputs -->\n{{operations}}\n', '<!-- record-node: inputs -->\n'), /joining word/);
  });
});
