/**
 * Builds the Dashboard 2 page flows (dashboards/flows/*.json, deployed by `npm start` on the first
 * start) from their sources: `node dashboards/build.mjs [file.json ...]`; `--check` only compares (the
 * test suite runs it, so a committed flow never lags its source).
 *
 * Sources: one Vue file a page in pages/, the site-wide style and account widget in site/, and the
 * code pages share as ES modules in lib/. Dashboard 2's ui-template compiles its Vue text in the
 * browser with no module loader and takes only data, computed, methods, watch, mounted and
 * unmounted, so each page's template must be self-contained. The build makes it so the way a
 * bundler would, from real modules rather than text markers:
 * - a page's <script> imports mixins from lib/ and lists them in `mixins`; the build imports the
 *   page (Node runs it as a module), merges the mixins' data, computed and methods into the page's
 *   own (a name defined twice is an error) and writes the result back as one object literal;
 * - a mixin's `parts` are template pieces: <tr-name></tr-name> in a page's template becomes the part;
 * - `@import "../lib/x.css";` in a page's <style> becomes the file's rules; lib/page.css, every
 *   page's, comes first without being named (a page that still names it gets it once, where named).
 *
 * A page source may be written in either of two layouts, which build to the same page:
 * - <template>, <script>, <style> (the first pages), each hook written out, `data() {` and `return {`
 *   on lines of their own;
 * - <script>, <style>, <template> (the shorter one): `data() { return {` on one line (its lines
 *   indented as any object's), no `@import "../lib/page.css";`, and the hooks every page has left to
 *   the mixins: the `page` mixin's `mounted` listens and then calls the page's `start()` method (what
 *   it asks for first), its `unmounted` stops listening, and toolPicker's clears its search timer.
 *   A page that needs more writes its own hook, which then is the only one: a mixin's hook runs only
 *   in pages without their own, after those of the mixins listed before it.
 *
 * Every page is one ui-template (Vue, Vuetify) and a small flow: the template sends
 * {target, topic, payload, ask}; a switch lets through only messages with a logged-in user
 * (msg._client.user, set from the session by the login plugin, http/login/dashboard.ts; only the
 * start command's no-login development mode, TOOLROOM_AUTH=off on loopback, lets others through);
 * a second switch picks the Toolroom node by msg.target and the node runs msg.topic; the answer (or
 * the caught error as topic "error") goes back to the template. ui-template is client-constrained
 * (ui-base acceptsClientConfig) and every answer keeps msg._client.socketId, so only the browser
 * that asked sees it.
 */
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const read = (dir, f) => fs.readFileSync(path.join(here, dir, f), 'utf8');

export const BASE = 'a7c3f0d1e2b400c2';
export const THEME = 'a7c3f0d1e2b400c5';
export const CONFIG = 'a7c3f0d1e2b400c1';

const BREAKPOINTS = [
  { name: 'Default', px: 0, cols: 3 },
  { name: 'Tablet', px: 576, cols: 6 },
  { name: 'Small Desktop', px: 768, cols: 9 },
  { name: 'Desktop', px: 1024, cols: 12 },
];

const NODE_TYPES = {
  user: 'toolroom-user',
  tool: 'toolroom-tool',
  mount: 'toolroom-mount',
  inspection: 'toolroom-inspection',
  failure: 'toolroom-failure',
  action: 'toolroom-action',
  pm: 'toolroom-pm',
  operations: 'toolroom-operations',
  shot: 'toolroom-shot',
  press: 'toolroom-press',
  account: 'toolroom-account',
};

/** The component options ui-template takes (anything else it ignores with a warning). */
const OPTIONS = ['data', 'computed', 'methods', 'watch', 'mounted', 'unmounted'];
/** What a mixin in lib/ may carry. */
const MIXIN = ['data', 'computed', 'methods', 'parts', 'mounted', 'unmounted'];
const HOOKS = ['mounted', 'unmounted'];
/** The names lib/ exports: none may appear in a mixin's function, which reaches the browser without its module. */
const LIB = Object.keys(await import('./lib/mixins.mjs'));

const key = (name) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name));

/** A function as an object member: `name(…) {…}` as written, or `name: <function or arrow>`. */
function member(name, fn) {
  const text = fn.toString();
  return new RegExp(`^(async\\s+)?${name}\\s*\\(`).test(text) ? text : `${key(name)}: ${text}`;
}

/** Members of an object literal, indented like the page sources (keys 4, bodies as written). */
function members(obj, indent) {
  return Object.entries(obj).map(([k, fn]) => `${indent}${member(k, fn)},\n`).join('');
}

/**
 * The page's <script> as one `export default {…}` ui-template can read: the page module imported,
 * its mixins' data, computed and methods merged in. A mixin's functions travel as their source, so
 * one that names a module-level binding (an import, another export) would fail in the browser: refused.
 */
async function script(file, text) {
  const abs = text.replace(/from\s+'(\.{1,2}\/[^']+)'/g, (_m, spec) => `from '${pathToFileURL(path.join(here, 'pages', spec)).href}'`);
  const { default: c } = await import('data:text/javascript,' + encodeURIComponent(abs));
  const imported = [...text.matchAll(/import\s*\{([^}]*)\}/g)].flatMap((m) => m[1].split(',').map((s) => s.trim().split(/\s+as\s+/).pop())).filter(Boolean);
  const outsiders = [...new Set([...LIB, ...imported])];
  const mixins = c.mixins || [];
  for (const option of Object.keys(c)) if (option !== 'mixins' && !OPTIONS.includes(option)) throw new Error(`pages/${file}: ui-template does not take "${option}"`);
  for (const m of mixins) for (const option of Object.keys(m)) if (!MIXIN.includes(option)) throw new Error(`pages/${file}: a mixin may not carry "${option}"`);
  const merged = { computed: {}, methods: {} };
  const state = {};
  const insider = (name, fn) => {
    const code = fn.toString().replace(/'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`/g, "''");
    const outside = outsiders.find((n) => new RegExp(`(?<![\\w$.])${n}(?![\\w$:])`).test(code));
    if (outside) throw new Error(`pages/${file}: mixin method ${name} uses ${outside}, which the browser does not have`);
  };
  // A hook is the page's own as written, else the mixins' that carry it, one after the other in `mixins` order.
  const hooks = {};
  for (const hook of HOOKS) {
    const carriers = mixins.filter((m) => m[hook]);
    if (c[hook]) hooks[hook] = member(hook, c[hook]);
    else if (carriers.length === 1) hooks[hook] = member(hook, reindentFunction(carriers[0][hook].toString()));
    else if (carriers.length) hooks[hook] = `${hook}() {\n${carriers.map((m) => hookBody(m[hook])).join('\n')}\n  }`;
    if (!c[hook]) for (const m of carriers) insider(hook, m[hook]);
  }
  for (const part of [...mixins, c]) {
    for (const kind of ['computed', 'methods']) {
      for (const [name, fn] of Object.entries(part[kind] || {})) {
        if (name in merged[kind] || name in merged[kind === 'methods' ? 'computed' : 'methods']) throw new Error(`pages/${file}: ${name} is defined twice`);
        if (part !== c) insider(name, fn);
        merged[kind][name] = fn;
      }
    }
    if (part !== c && part.data) {
      if (JSON.stringify(JSON.parse(JSON.stringify(part.data))) !== JSON.stringify(part.data)) throw new Error(`pages/${file}: a mixin's data must be plain values`);
      const twice = Object.keys(part.data).find((k) => k in state);
      if (twice) throw new Error(`pages/${file}: ${twice} is in two mixins' data`);
      Object.assign(state, part.data);
    }
  }
  // The page mixin's mounted asks what start() asks: a page that leaves mounted to it must have one.
  if (!c.mounted && hooks.mounted && /this\.start\(/.test(hooks.mounted) && !merged.methods.start) {
    throw new Error(`pages/${file}: without a mounted hook of its own, a page needs a start() method`);
  }
  let out = 'export default {\n';
  // The mixins' state first, then the page's own (a page may set a mixin's value, e.g. listDelay).
  const own = c.data ? Object.keys(c.data.call({})) : [];
  const entries = [Object.entries(state).filter(([k]) => !own.includes(k)).map(([k, v]) => `${key(k)}: ${JSON.stringify(v)}`).join(', ')];
  if (c.data) {
    const body = /^data\(\)\s*\{\s*return \{\s*([\s\S]*?)\s*\};\s*\}$/.exec(c.data.toString());
    if (!body) throw new Error(`pages/${file}: write data as data() { return {…}; }`);
    entries.push(reindent(body[1], 6));
  }
  out += `  data() {\n    return {\n${entries.filter(Boolean).map((e) => '      ' + e + (e.endsWith(',') ? '' : ',')).join('\n')}\n    };\n  },\n`;
  if (Object.keys(merged.computed).length) out += `  computed: {\n${members(merged.computed, '    ')}  },\n`;
  if (c.watch) out += `  watch: {\n${members(c.watch, '    ')}  },\n`;
  out += `  methods: {\n${members(merged.methods, '    ')}  },\n`;
  for (const hook of HOOKS) if (hooks[hook]) out += `  ${hooks[hook]},\n`;
  return { text: out + '};\n', mixins };
}

/** `text`'s lines after the first moved so that the least indented of them is at `indent` (the first line is the caller's). */
function reindent(text, indent) {
  const [first, ...rest] = text.split('\n');
  const least = Math.min(...rest.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  if (!rest.length || !Number.isFinite(least) || least === indent) return text;
  return [first, ...rest.map((l) => (l.trim() ? ' '.repeat(indent) + l.slice(least) : l))].join('\n');
}

/** A function's source whose closing brace sits at 2 spaces, as a page's own hooks do (a mixin's are indented deeper in lib/). */
function reindentFunction(text) {
  const last = text.split('\n').pop();
  return last === '}' || /^ {2}\}$/.test(last) ? text : reindent(text, 4).replace(/\n *\}$/, '\n  }');
}

/** A mixin hook's statements, indented as in a page's hook (4 spaces), to run after another mixin's. */
function hookBody(fn) {
  const src = fn.toString();
  const inner = src.slice(src.indexOf('{') + 1, src.lastIndexOf('}')).replace(/^\s*\n/, '').replace(/\s+$/, '');
  return reindent('\n' + inner, 4).slice(1);
}

/** A page's <template>: each <tr-name></tr-name> replaced by the mixins' part of that name, at its indent. */
function template(file, text, mixins, depth = 0) {
  const parts = Object.assign({}, ...mixins.map((m) => m.parts || {}));
  const out = text.replace(/^( *)<(tr-[a-z-]+)><\/\2>$/gm, (_m, indent, name) => {
    if (!(name in parts)) throw new Error(`pages/${file}: no mixin has the part <${name}>`);
    return parts[name].trim().split('\n').map((l) => indent + l).join('\n');
  });
  // A part may hold another (the checklist's failed item takes photos): expanded until none is left.
  if (out === text) return out;
  if (depth > 4) throw new Error(`pages/${file}: parts nested too deep (a part that holds itself?)`);
  return template(file, out, mixins, depth + 1);
}

/** A page's <style>: each `@import "../lib/x.css";` replaced by that file's rules. */
function style(file, text) {
  const own = text.replace(/^@import "(\.\.\/lib\/[a-z-]+\.css)";$/gm, (_m, f) => fs.readFileSync(path.join(here, 'pages', f), 'utf8').trim());
  // The site's widgets (site/) are no pages: only pages get page.css unasked.
  if (file.startsWith('../') || /^@import "\.\.\/lib\/page\.css";$/m.test(text)) return own;
  return `${read('lib', 'page.css').trim()}\n${own}`;
}

/** A page's Vue source as ui-template runs it: self-contained, mixins and shared style included. */
async function vue(file) {
  const source = read('pages', file);
  const first = /^<template>\n([\s\S]*)\n<\/template>\n\n<script>\n([\s\S]*)<\/script>\n\n<style>\n([\s\S]*)<\/style>\n$/.exec(source);
  const shorter = /^<script>\n([\s\S]*)<\/script>\n\n<style>\n([\s\S]*)<\/style>\n\n<template>\n([\s\S]*)\n<\/template>\n$/.exec(source);
  if (!first && !shorter) throw new Error(`pages/${file}: expected <template>, <script> and <style> (or <script>, <style>, <template>), in that order`);
  const [markup, code, css] = first ? [first[1], first[2], first[3]] : [shorter[3], shorter[1], shorter[2]];
  const { text, mixins } = await script(file, code);
  return `<template>\n${template(file, markup, mixins)}\n</template>\n\n<script>\n${text}</script>\n\n<style>\n${style(file, css)}</style>\n`;
}

/**
 * The flow behind a template (a page's, or the account widget's): the logged-in switch, the switch on
 * msg.target, the Toolroom nodes, and the refusal and caught errors back to the template.
 */
function behind({ id, tab, template, targets, y = 0 }) {
  const signedIn = id('0011');
  const route = id('0012');
  const refuse = id('0013');
  const caught = id('0030');
  const errorReply = id('0031');
  const nodeIds = targets.map((t, i) => id(`002${i}`));
  const errorsY = y + 260 + 60 * Math.max(0, targets.length - 3);
  return [
    {
      id: signedIn, type: 'switch', z: tab, name: 'logged in?', property: `$exists(_client.user) or $env('TOOLROOM_AUTH') = 'off'`,
      propertyType: 'jsonata', rules: [{ t: 'true' }, { t: 'else' }], checkall: 'false', repair: false, outputs: 2, x: 360, y: y + 120, wires: [[route], [refuse]],
    },
    {
      id: route, type: 'switch', z: tab, name: 'msg.target', property: 'target', propertyType: 'msg',
      rules: targets.map((t) => ({ t: 'eq', v: t, vt: 'str' })), checkall: 'false', repair: false, outputs: targets.length,
      x: 550, y: y + 120, wires: nodeIds.map((n) => [n]),
    },
    ...targets.map((t, i) => ({ id: nodeIds[i], type: NODE_TYPES[t], z: tab, name: '', config: CONFIG, operation: '', x: 760, y: y + 80 + 60 * i, wires: [[template]] })),
    {
      id: refuse, type: 'change', z: tab, name: 'log in first',
      rules: [
        { t: 'set', p: 'topic', pt: 'msg', to: 'error', tot: 'str' },
        { t: 'set', p: 'payload', pt: 'msg', to: '{"code":"forbidden","message":"Log in first","details":[{"field":"","rule":"unauthenticated","message":"log in first"}]}', tot: 'json' },
      ],
      x: 560, y: y + 200, wires: [[template]],
    },
    { id: caught, type: 'catch', z: tab, name: 'Toolroom errors', scope: nodeIds, uncaught: false, x: 560, y: errorsY, wires: [[errorReply]] },
    {
      id: errorReply, type: 'change', z: tab, name: 'error → page',
      rules: [
        { t: 'set', p: 'payload', pt: 'msg', to: '{"code": error.code, "message": $replace($string(error.message), /^[A-Za-z]*Error: /, ""), "details": error.cause.details ? error.cause.details : []}', tot: 'jsonata' },
        { t: 'set', p: 'topic', pt: 'msg', to: 'error', tot: 'str' },
        { t: 'delete', p: 'error', pt: 'msg' },
      ],
      x: 760, y: errorsY, wires: [[template]],
    },
  ];
}

/** One page: its tab, page, group, template and the flow behind it. */
async function page({ prefix, label, name, pagePath, icon, order, source, targets }) {
  const id = (n) => `${prefix}${n}`;
  const tab = id('0001');
  const template = id('0010');
  return [
    { id: tab, type: 'tab', label: `Dashboard: ${label}`, disabled: false, info: `The ${name} page (${pagePath}). Built by dashboards/build.mjs from dashboards/pages/${source}.` },
    {
      id: id('0002'), type: 'ui-page', name, ui: BASE, path: pagePath, icon, layout: 'grid', theme: THEME, breakpoints: BREAKPOINTS,
      order, className: '', visible: 'true', disabled: 'false',
    },
    {
      id: id('0003'), type: 'ui-group', name, page: id('0002'), width: '12', height: '1', order: 1, showTitle: false, className: '',
      visible: 'true', disabled: 'false', groupType: 'default',
    },
    {
      id: template, type: 'ui-template', z: tab, group: id('0003'), page: '', ui: '', name: `${name} page`, order: 1, width: '0', height: '0',
      head: '', format: await vue(source), storeOutMessages: false, passthru: false, resendOnRefresh: false, templateScope: 'local', className: '',
      x: 160, y: 120, wires: [[id('0011')]],
    },
    ...behind({ id, tab, template, targets }),
  ];
}

async function base() {
  const account = 'a7c3f0d1e2b4b020';
  return [
    {
      id: BASE, type: 'ui-base', name: 'Toolroom', path: '/dashboard', appIcon: '', includeClientData: true,
      // Messages carrying msg._client.socketId go only to that browser for these widget types.
      acceptsClientConfig: ['ui-notification', 'ui-control', 'ui-template', 'ui-table', 'ui-text', 'ui-markdown', 'ui-form', 'ui-dropdown',
        'ui-text-input', 'ui-number-input', 'ui-button', 'ui-button-group', 'ui-radio-group', 'ui-switch', 'ui-slider', 'ui-gauge', 'ui-progress', 'ui-chart'],
      showPathInSidebar: false, headerContent: 'page', navigationStyle: 'default', titleBarStyle: 'default', showReconnectNotification: true,
      notificationDisplayTime: 1, showDisconnectNotification: true, allowInstall: false,
    },
    {
      id: THEME, type: 'ui-theme', name: 'Toolroom',
      colors: { surface: '#33475b', primary: '#0d74ce', bgPage: '#f9f9fb', groupBg: '#ffffff', groupOutline: '#d9d9e0' },
      sizes: { density: 'default', pagePadding: '12px', groupGap: '12px', groupBorderRadius: '4px', widgetGap: '12px' },
    },
    { id: 'a7c3f0d1e2b4b001', type: 'tab', label: 'Dashboard: base', disabled: false, info: 'Site-wide style of the Toolroom dashboard: dark theme when the device asks for it, 48 px touch targets. Built by dashboards/build.mjs.' },
    {
      id: 'a7c3f0d1e2b4b010', type: 'ui-template', z: 'a7c3f0d1e2b4b001', group: '', page: '', ui: BASE, name: 'Toolroom site style', order: 0, width: 0, height: 0,
      head: '', format: read('../http/assets', 'theme.css') + read('site', 'site.css'), storeOutMessages: false, passthru: false, resendOnRefresh: false, templateScope: 'site:style', className: '',
      x: 180, y: 80, wires: [[]],
    },
    {
      id: account, type: 'ui-template', z: 'a7c3f0d1e2b4b001', group: '', page: '', ui: BASE, name: 'Toolroom account (inbox count, log out, session ended)', order: 0,
      width: 0, height: 0, head: '', format: await vue('../site/account.vue'), storeOutMessages: false, passthru: false, resendOnRefresh: false,
      templateScope: 'widget:ui', className: '', x: 200, y: 240, wires: [['a7c3f0d1e2b50011']],
    },
    // The header's unread count asks toolroom-user like a page does (ids apart from flows/, which uses a7c3f0d1e2b4…).
    ...behind({ id: (n) => `a7c3f0d1e2b5${n}`, tab: 'a7c3f0d1e2b4b001', template: account, targets: ['user'], y: 120 }),
  ];
}

/** Every page flow: its source in pages/, node id prefix, menu entry and the Toolroom nodes it talks to. */
export const PAGES = {
  '10-home.json': { prefix: 'c1a0e6d1a000', label: 'Home', name: 'Home', pagePath: '/home', icon: 'home', order: 1, source: 'home.vue', targets: ['user'] },
  '11-tools.json': { prefix: 'c1a0e6d1b000', label: 'Tools', name: 'Tools', pagePath: '/tools', icon: 'toolbox', order: 2, source: 'tools.vue', targets: ['user', 'tool'] },
  '12-tool.json': { prefix: 'c1a0e6d1c000', label: 'Tool', name: 'Tool', pagePath: '/tool', icon: 'cube-outline', order: 3, source: 'tool.vue', targets: ['user', 'tool', 'mount'] },
  '13-tool-form.json': { prefix: 'c1a0e6d1d000', label: 'Register / edit tool', name: 'Register tool', pagePath: '/tool-form', icon: 'plus-box', order: 4, source: 'tool-form.vue', targets: ['user', 'tool'] },
  '20-inspection.json': { prefix: 'c2a0e6d1a000', label: 'Post-run inspection', name: 'Inspect', pagePath: '/inspect', icon: 'clipboard-check-outline', order: 20, source: 'inspection.vue', targets: ['user', 'tool', 'inspection'] },
  '21-failure-report.json': { prefix: 'c2a0e6d1b000', label: 'Failure report', name: 'Report failure', pagePath: '/report-failure', icon: 'alert-octagon-outline', order: 21, source: 'failure-report.vue', targets: ['user', 'tool', 'failure'] },
  '23-pm-record.json': { prefix: 'c3a0e6d1e000', label: 'Record PM', name: 'Record PM', pagePath: '/record-pm', icon: 'clipboard-check-multiple-outline', order: 23, source: 'pm-record.vue', targets: ['user', 'pm', 'inspection', 'tool'] },
  '30-actions.json': { prefix: 'c2a0e6d1c000', label: 'Actions', name: 'Actions', pagePath: '/actions', icon: 'wrench-clock', order: 30, source: 'actions.vue', targets: ['user', 'action'] },
  '40-triage.json': { prefix: 'c2a0e6d1d000', label: 'Failure triage', name: 'Triage', pagePath: '/triage', icon: 'magnify-scan', order: 40, source: 'triage.vue', targets: ['user', 'failure', 'action'] },
  '41-pm-plans.json': { prefix: 'c2a0e6d1e000', label: 'PM plans', name: 'PM plans', pagePath: '/pm-plans', icon: 'calendar-check', order: 41, source: 'pm-plans.vue', targets: ['user', 'pm', 'inspection'] },
  '42-catalog.json': { prefix: 'c2a0e6d1f000', label: 'Failure catalog', name: 'Failure catalog', pagePath: '/catalog', icon: 'book-open-variant', order: 42, source: 'catalog.vue', targets: ['user', 'failure'] },
  '43-reliability.json': { prefix: 'c2a0e6d1a200', label: 'Reliability', name: 'Reliability', pagePath: '/reliability', icon: 'chart-bar', order: 43, source: 'reliability.vue', targets: ['user'] },
  '44-shot-review.json': { prefix: 'c3a0e6d1d000', label: 'Shot review', name: 'Shot review', pagePath: '/shot-review', icon: 'counter', order: 44, source: 'shot-review.vue', targets: ['user', 'shot', 'tool'] },
  '45-inbox.json': { prefix: 'c2a0e6d1a450', label: 'Inbox', name: 'Inbox', pagePath: '/inbox', icon: 'bell-outline', order: 45, source: 'inbox.vue', targets: ['user'] },
  '46-account.json': { prefix: 'c4a0e6d1a000', label: 'Account', name: 'Account', pagePath: '/account', icon: 'account-cog', order: 46, source: 'account.vue', targets: ['user'] },
  '50-audit.json': { prefix: 'c2a0e6d1a100', label: 'Audit log', name: 'Audit log', pagePath: '/audit', icon: 'shield-search', order: 50, source: 'audit.vue', targets: ['user'] },
  '63-operations.json': { prefix: 'c4a0e6d1b000', label: 'Operations', name: 'Operations', pagePath: '/operations', icon: 'server', order: 63, source: 'operations.vue', targets: ['user', 'operations', 'tool'] },
  '60-users.json': { prefix: 'c3a0e6d1a000', label: 'Users', name: 'Users', pagePath: '/users', icon: 'account-group', order: 60, source: 'users.vue', targets: ['user', 'account'] },
  '61-presses.json': { prefix: 'c3a0e6d1b000', label: 'Presses', name: 'Presses', pagePath: '/presses', icon: 'factory', order: 61, source: 'presses.vue', targets: ['user', 'press'] },
  '62-templates.json': { prefix: 'c3a0e6d1c000', label: 'Checklist templates', name: 'Checklists', pagePath: '/templates', icon: 'format-list-checks', order: 62, source: 'templates.vue', targets: ['user', 'tool', 'inspection'] },
};

async function build() {
  const files = { '00-base.json': await base() };
  for (const [file, spec] of Object.entries(PAGES)) files[file] = await page(spec);
  // The start deploys flows/ first and skips a later node with an id it has seen: ours must differ.
  const appFlows = path.join(here, '../flows');
  const application = new Set(
    fs.existsSync(appFlows) ? fs.readdirSync(appFlows).filter((f) => f.endsWith('.json')).flatMap((f) => JSON.parse(read('../flows', f)).map((n) => n.id)) : [],
  );
  for (const [file, nodes] of Object.entries(files)) {
    const ids = new Set();
    for (const n of nodes) {
      if (!/^[0-9a-f]{16}$/.test(n.id) || ids.has(n.id) || application.has(n.id)) throw new Error(`${file}: bad or repeated id ${n.id}`);
      ids.add(n.id);
    }
  }
  return files;
}

const args = process.argv.slice(2);
const check = args.includes('--check');
const only = args.filter((a) => a !== '--check');
const files = await build();
// A flow left behind by a page that is gone would still be deployed: it lags its (missing) source.
const gone = only.length ? [] : fs.readdirSync(path.join(here, 'flows')).filter((f) => f.endsWith('.json') && !(f in files));
const stale = check ? gone : [];
if (!check) for (const f of gone) fs.rmSync(path.join(here, 'flows', f));
for (const [file, nodes] of Object.entries(files)) {
  if (only.length && !only.includes(file)) continue;
  const text = JSON.stringify(nodes, null, 2) + '\n';
  const target = path.join(here, 'flows', file);
  if (check) {
    if (!fs.existsSync(target) || fs.readFileSync(target, 'utf8') !== text) stale.push(file);
  } else fs.writeFileSync(target, text);
}
if (stale.length) {
  process.stderr.write(`dashboards: ${stale.join(', ')} differ from their sources: run node dashboards/build.mjs\n`);
  process.exit(1);
}
