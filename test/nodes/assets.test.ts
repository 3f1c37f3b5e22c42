import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { RecordNodeModule } from '../../nodes/lib/record-node';

/**
 * What Node-RED loads beside each node's runtime, checked for every node package.json lists:
 * the built editor HTML, messages, help (first paragraph = tooltip), icon and an example flow.
 */
const root = path.resolve(__dirname, '../../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const nodes = Object.entries(pkg['node-red'].nodes as Record<string, string>);
const STATUS_KEYS = ['noConfig', 'connecting', 'ready', 'unavailable', 'done', 'listed', 'sent', 'error'];

function lookup(messages: Record<string, unknown>, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), messages);
}

describe('node assets', () => {
  it('lists the nodes in package.json', () => {
    assert.ok(nodes.length >= 2);
    for (const [type, file] of nodes) assert.equal(path.basename(file, '.js'), type, 'one file per node, named after its type');
  });

  for (const [type, file] of nodes) {
    describe(type, () => {
      const js = path.join(root, file);
      const dir = path.dirname(js);
      const html = () => fs.readFileSync(path.join(dir, `${type}.html`), 'utf8');
      const messages = () => JSON.parse(fs.readFileSync(path.join(dir, 'locales/en-US', `${type}.json`), 'utf8'));
      const isConfig = () => /category:\s*'config'/.test(html());
      // Record nodes go through nodes/lib/record-node (their module carries its spec): its statuses and a required toolroom-config.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const spec = () => (require(js) as Partial<RecordNodeModule>).spec;
      const isRecord = () => spec() !== undefined;

      it('builds to a module exporting the registration function', () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        assert.equal(typeof require(js), 'function');
      });

      it('has its editor HTML beside it, registering the type with a form', () => {
        const h = html();
        assert.match(h, new RegExp(`RED\\.nodes\\.registerType\\('${type}'`));
        assert.match(h, new RegExp(`data-template-name="${type}"`));
        if (!isConfig()) assert.match(h, /category:\s*'toolroom'/);
        if (isRecord()) assert.match(h, /type:\s*'toolroom-config',\s*required:\s*true/);
      });

      it('has editor script that parses', () => {
        const scripts = [...html().matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((m) => m[1]);
        assert.ok(scripts.length > 0);
        for (const src of scripts) assert.doesNotThrow(() => new Function('RED', '$', src), 'the editor script is valid JavaScript');
      });

      /** Run the editor script against a stand-in RED and return what it registered. */
      function definition(): { defaults: Record<string, { value: unknown; required?: boolean; validate?: (this: object, v: unknown) => unknown }> } {
        const src = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html())![1];
        let def: unknown;
        const RED = { nodes: { registerType: (t: string, d: unknown) => t === type && (def = d) }, validators: {} };
        new Function('RED', '$', src)(RED, () => ({}));
        return def as ReturnType<typeof definition>;
      }

      it('validates its form: operations offered are the ones accepted', () => {
        if (!isRecord()) return;
        const d = definition();
        const node = { _: (k: string) => k };
        const offered = [...html().matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]);
        assert.equal(offered[0], '', '"from msg.topic" comes first');
        for (const op of offered) assert.equal(d.defaults.operation.validate!.call(node, op), true, op);
        assert.equal(d.defaults.operation.validate!.call(node, 'bogus'), `${type}.errors.operation`);
        assert.equal(d.defaults.operation.value, '');
        assert.equal(d.defaults.config.required, true);
        // The runtime serves exactly the operations the editor offers, in the spec's order.
        assert.deepEqual(offered.slice(1), Object.keys(spec()!.operations));
      });

      it('validates its form: a config names its database', () => {
        if (type !== 'toolroom-config') return;
        const d = definition();
        const node = (backend: string) => ({ _: (k: string) => k, backend });
        assert.equal(d.defaults.backend.value, 'env');
        assert.equal(d.defaults.dataDir.validate!.call(node('pglite'), ' '), 'toolroom-config.errors.dataDir');
        assert.equal(d.defaults.dataDir.validate!.call(node('pglite'), '${TOOLROOM_DATA_DIR}/pglite'), true);
        assert.equal(d.defaults.dataDir.validate!.call(node('env'), ''), true, 'no directory needed from the environment');
        assert.equal(d.defaults.backend.validate!.call(node('mysql'), 'mysql'), 'toolroom-config.errors.backend');
        assert.equal(d.defaults.influxUrl.validate!.call(node('env'), 'ftp://x'), 'toolroom-config.errors.influxUrl');
        for (const ok of ['', '${INFLUX_URL}', 'http://127.0.0.1:8086/toolroom']) assert.equal(d.defaults.influxUrl.validate!.call(node('env'), ok), true, ok);
      });

      it('has every message the editor and the status use', () => {
        const m = messages();
        assert.ok(m[type], `messages under "${type}"`);
        for (const [, key] of html().matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)) {
          assert.equal(typeof lookup(m, key), 'string', `missing message ${key}`);
        }
        for (const [, key] of html().matchAll(/this\._\('([^']+)'\)/g)) {
          assert.equal(typeof lookup(m, key), 'string', `missing message ${key}`);
        }
        if (isRecord()) {
          for (const key of STATUS_KEYS) assert.equal(typeof lookup(m, `${type}.status.${key}`), 'string', `missing status ${key}`);
        }
      });

      it('has help whose first paragraph makes a tooltip', () => {
        const help = fs.readFileSync(path.join(dir, 'locales/en-US', `${type}.html`), 'utf8');
        assert.match(help, new RegExp(`data-help-name="${type}"`));
        const first = /<p>([\s\S]*?)<\/p>/.exec(help)?.[1].replace(/<[^>]+>/g, '').trim() ?? '';
        assert.ok(first.length > 20 && first.length <= 160, `first paragraph is one short sentence: "${first}"`);
        assert.ok(help.indexOf('<p>') < help.indexOf('<h3>'), 'the tooltip paragraph comes first');
      });

      it('has its icon, when it names its own', () => {
        const icon = /icon:\s*'([^']+)'/.exec(html())?.[1];
        if (icon && !icon.startsWith('font-awesome/')) assert.ok(fs.existsSync(path.join(dir, 'icons', icon)), `icons/${icon}`);
      });

      it('has an importable example flow using it', () => {
        const examples = fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.json'));
        const flows = examples.map((f) => ({ f, flow: JSON.parse(fs.readFileSync(path.join(root, 'examples', f), 'utf8')) as { type: string; config?: string; id: string }[] }));
        const own = flows.filter(({ f, flow }) => f.startsWith(type) && flow.some((n) => n.type === type));
        if (isConfig()) assert.ok(flows.some(({ flow }) => flow.some((n) => n.type === type)), 'some example holds a config');
        else assert.ok(own.length > 0, `examples/${type}*.json using ${type}`);
        if (isRecord()) for (const { f, flow } of own) {
          const ids = new Set(flow.map((n) => n.id));
          for (const n of flow.filter((n) => n.type === type)) assert.ok(n.config && ids.has(n.config), `${f}: ${n.id} names a config in the flow`);
        }
      });
    });
  }
});
