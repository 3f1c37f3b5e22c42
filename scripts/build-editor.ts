import fs from 'node:fs';
import path from 'node:path';
import type { RecordNodeModule, RecordNodeSpec } from '../nodes/lib/record-node';

/**
 * The record nodes' editor side, built from the spec their runtime registers (nodes/lib/record-node.ts)
 * so an operation is named once, in its node's .ts. For every record node package.json lists, writes
 * into dist/nodes (after tsc and the copy of nodes/ by scripts/copy-assets.sh):
 * - `<type>.html`: the editor form, offering the spec's operations in its order;
 * - per language in nodes/locales, `<type>.json`: the shared catalogue record-node.json under the node's
 *   own messages (which win), and `<type>.html`: the node's own help with each `<!-- record-node: part -->`
 *   line replaced by that part of record-node.html.
 * The shared files themselves are no node's, so they are not shipped.
 */

const root = path.resolve(__dirname, '../..');
const SHARED = 'record-node';

/** The specs of the record nodes package.json lists, in its order (requires the compiled nodes). */
export function recordSpecs(): RecordNodeSpec[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  return Object.values(pkg['node-red'].nodes as Record<string, string>)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    .map((file) => (require(path.join(root, file)) as Partial<RecordNodeModule>).spec)
    .filter((spec): spec is RecordNodeSpec => spec !== undefined);
}

/** Names go into HTML and script unescaped: only plain ones. */
function plain(name: string, what: string, pattern = /^[a-z][a-z0-9-]*$/): string {
  if (!pattern.test(name)) throw new Error(`build-editor: ${what} "${name}" is not a plain name`);
  return name;
}

export function editorHtml(spec: RecordNodeSpec): string {
  const type = plain(spec.type, 'type');
  const operations = Object.keys(spec.operations).map((op) => plain(op, `${type} operation`));
  const icon = plain(spec.icon, `${type} icon`, /^[\w./-]+$/);
  const options = operations.map((op) => `      <option value="${op}" data-i18n="${type}.operation.${op}"></option>`);
  return `<!-- Built by scripts/build-editor.ts from the spec in nodes/${type}.ts. -->
<script type="text/javascript">
  (function () {
    const OPERATIONS = ${JSON.stringify(operations)};
    RED.nodes.registerType('${type}', {
      category: 'toolroom',
      color: '#C0CCD8',
      defaults: {
        name: { value: '' },
        config: { value: '', type: 'toolroom-config', required: true },
        operation: {
          value: '',
          validate: function (v) {
            return v === '' || OPERATIONS.indexOf(v) >= 0 || this._('${type}.errors.operation');
          },
        },
      },
      inputs: 1,
      outputs: 1,
      icon: '${icon}',
      paletteLabel: function () {
        return this._('${type}.paletteLabel');
      },
      label: function () {
        return this.name || (this.operation ? this._('${type}.paletteLabel') + ': ' + this.operation : this._('${type}.paletteLabel'));
      },
      labelStyle: function () {
        return this.name ? 'node_label_italic' : '';
      },
      inputLabels: function () {
        return this._('${type}.inputLabel');
      },
      outputLabels: function () {
        return this._('${type}.outputLabel');
      },
    });
  })();
</script>

<script type="text/html" data-template-name="${type}">
  <div class="form-row">
    <label for="node-input-config"><i class="fa fa-database"></i> <span data-i18n="${type}.label.config"></span></label>
    <input type="text" id="node-input-config" />
  </div>
  <div class="form-row">
    <label for="node-input-operation"><i class="fa fa-tasks"></i> <span data-i18n="${type}.label.operation"></span></label>
    <select id="node-input-operation" style="width: 70%">
      <option value="" data-i18n="${type}.operation.topic"></option>
${options.join('\n')}
    </select>
  </div>
  <div class="form-row">
    <label for="node-input-name"><i class="fa fa-tag"></i> <span data-i18n="${type}.label.name"></span></label>
    <input type="text" id="node-input-name" data-i18n="[placeholder]${type}.label.name" />
  </div>
</script>
`;
}

type Messages = { [key: string]: string | Messages };

function merge(shared: Messages, own: Messages): Messages {
  const out: Messages = { ...shared };
  for (const [key, value] of Object.entries(own)) {
    const base = out[key];
    out[key] = typeof value === 'object' && typeof base === 'object' ? merge(base, value) : value;
  }
  return out;
}

/** The node's messages with the shared catalogue beneath them. */
export function nodeMessages(spec: RecordNodeSpec, shared: Messages, own: Messages): Messages {
  return { [spec.type]: merge(shared, (own[spec.type] as Messages | undefined) ?? {}) };
}

/** `<code>a</code>, <code>b</code> or <code>c</code>`, with the help's own word for "or". */
function codeList(names: string[], or: string | undefined): string {
  const codes = names.map((n) => `<code>${n}</code>`);
  if (codes.length < 2) return codes.join('');
  if (!or) throw new Error('build-editor: {{operations}} needs its joining word, e.g. {{operations or}}');
  return `${codes.slice(0, -1).join(', ')} ${or} ${codes.at(-1)}`;
}

/** The node's help with the shared parts in place. */
export function nodeHelp(spec: RecordNodeSpec, shared: string, own: string): string {
  const parts = new Map<string, string>();
  const pieces = shared.split(/^<!-- part: ([a-z]+) -->\n/m);
  for (let i = 1; i < pieces.length; i += 2) parts.set(pieces[i], pieces[i + 1]);
  return own.replace(/^[ \t]*<!-- record-node: ([a-z]+) -->\n/gm, (_line, name: string) => {
    const part = parts.get(name);
    if (part === undefined) throw new Error(`build-editor: ${spec.type}'s help names "${name}", which ${SHARED}.html has no part for`);
    return part.replace(/\{\{(\w+)(?: (\w+))?\}\}/g, (placeholder, key: string, word: string | undefined) => {
      if (key === 'type') return spec.type;
      if (key === 'operations') return codeList(Object.keys(spec.operations), word);
      throw new Error(`build-editor: unknown placeholder ${placeholder} in ${SHARED}.html`);
    });
  });
}

export function buildEditor(): void {
  const specs = recordSpecs();
  const out = path.join(root, 'dist/nodes');
  for (const spec of specs) fs.writeFileSync(path.join(out, `${spec.type}.html`), editorHtml(spec));
  const locales = path.join(root, 'nodes/locales');
  for (const lang of fs.readdirSync(locales)) {
    const dir = path.join(locales, lang);
    const read = (file: string) => (fs.existsSync(path.join(dir, file)) ? fs.readFileSync(path.join(dir, file), 'utf8') : undefined);
    const sharedMessages = JSON.parse(read(`${SHARED}.json`) ?? '{}');
    const sharedHelp = read(`${SHARED}.html`) ?? '';
    for (const spec of specs) {
      const messages = read(`${spec.type}.json`);
      const help = read(`${spec.type}.html`);
      const target = (ext: string) => path.join(out, 'locales', lang, `${spec.type}.${ext}`);
      if (messages !== undefined) fs.writeFileSync(target('json'), `${JSON.stringify(nodeMessages(spec, sharedMessages, JSON.parse(messages)), null, 2)}\n`);
      if (help !== undefined) fs.writeFileSync(target('html'), nodeHelp(spec, sharedHelp, help));
    }
    fs.rmSync(path.join(out, 'locales', lang, `${SHARED}.json`), { force: true });
    fs.rmSync(path.join(out, 'locales', lang, `${SHARED}.html`), { force: true });
  }
}

if (require.main === module) buildEditor();
