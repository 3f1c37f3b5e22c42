import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

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
      // Record nodes go through nodes/lib/record-node: its statuses and a required toolroom-config.
      const isRecord = () => fs.readFileSync(path.join(root, 'nodes', `${type}.ts`), 'utf8').includes('registerRecordNode(');

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
