/**
 * Builds helper C2's shop-floor work pages (dashboards/20-inspection.json, 21-failure-report,
 * 30-actions, 40-triage, 41-pm-plans, 42-catalog, 50-audit) from the Vue sources beside this file:
 * `node dashboards/work/build.mjs`. Same shape as the tool pages (dashboards/src/build.mjs, whose
 * shared methods and CSS these pages reuse): one ui-template per page sends {target, topic, payload,
 * ask}; a switch lets through only messages with a logged-in user (msg._client.user; or, without
 * login in development, TOOLROOM_AUTH=off or TOOLROOM_DASHBOARD_ANONYMOUS=1); a second switch picks the Toolroom node by
 * msg.target; the answer, or the caught error as topic "error", goes back to the asking browser only
 * (ui-template is client-constrained in ui-base and the message keeps msg._client.socketId).
 */
import fs from 'node:fs';
import process from 'node:process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(here, '..');
const shared = path.resolve(here, '..', 'src');
const read = (dir, f) => fs.readFileSync(path.join(dir, f), 'utf8');

const BASE = 'a7c3f0d1e2b400c2';
const THEME = 'a7c3f0d1e2b400c5';
const CONFIG = 'a7c3f0d1e2b400c1';

const BREAKPOINTS = [
  { name: 'Default', px: 0, cols: 3 },
  { name: 'Tablet', px: 576, cols: 6 },
  { name: 'Small Desktop', px: 768, cols: 9 },
  { name: 'Desktop', px: 1024, cols: 12 },
];

const NODE_TYPES = {
  user: 'toolroom-user',
  tool: 'toolroom-tool',
  inspection: 'toolroom-inspection',
  failure: 'toolroom-failure',
  action: 'toolroom-action',
  pm: 'toolroom-pm',
};

function vue(file) {
  const src = read(here, file)
    .replace('/* SHARED METHODS */', read(shared, 'shared.js').trim() + '\n' + read(here, 'work-shared.methods').trim())
    .replace('/* SHARED CSS */', read(shared, 'shared.css').trim() + '\n' + read(here, 'work-shared.css').trim());
  if (src.includes('/* SHARED')) throw new Error(`${file}: a SHARED marker left`);
  return src;
}

function page({ prefix, label, name, pagePath, icon, order, source, targets }) {
  const id = (n) => `${prefix}${n}`;
  const tab = id('0001');
  const template = id('0010');
  const signedIn = id('0011');
  const route = id('0012');
  const refuse = id('0013');
  const caught = id('0030');
  const errorReply = id('0031');
  const nodeIds = targets.map((t, i) => id(`002${i}`));
  return [
    { id: tab, type: 'tab', label: `Dashboard: ${label}`, disabled: false, info: `The ${name} page (${pagePath}). Built by dashboards/work/build.mjs from dashboards/work/${source}.` },
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
      head: '', format: vue(source), storeOutMessages: false, passthru: false, resendOnRefresh: false, templateScope: 'local', className: '',
      x: 160, y: 120, wires: [[signedIn]],
    },
    {
      id: signedIn, type: 'switch', z: tab, name: 'logged in?', property: `$exists(_client.user) or $env('TOOLROOM_AUTH') = 'off' or $env('TOOLROOM_DASHBOARD_ANONYMOUS') = '1'`,
      propertyType: 'jsonata', rules: [{ t: 'true' }, { t: 'else' }], checkall: 'false', repair: false, outputs: 2, x: 360, y: 120, wires: [[route], [refuse]],
    },
    {
      id: route, type: 'switch', z: tab, name: 'msg.target', property: 'target', propertyType: 'msg',
      rules: targets.map((t) => ({ t: 'eq', v: t, vt: 'str' })), checkall: 'false', repair: false, outputs: targets.length,
      x: 550, y: 120, wires: nodeIds.map((n) => [n]),
    },
    ...targets.map((t, i) => ({ id: nodeIds[i], type: NODE_TYPES[t], z: tab, name: '', config: CONFIG, operation: '', x: 760, y: 80 + 60 * i, wires: [[template]] })),
    {
      id: refuse, type: 'change', z: tab, name: 'log in first',
      rules: [
        { t: 'set', p: 'topic', pt: 'msg', to: 'error', tot: 'str' },
        { t: 'set', p: 'payload', pt: 'msg', to: '{"code":"forbidden","message":"Log in first","details":[{"field":"","rule":"unauthenticated","message":"log in first"}]}', tot: 'json' },
      ],
      x: 560, y: 200, wires: [[template]],
    },
    { id: caught, type: 'catch', z: tab, name: 'Toolroom errors', scope: nodeIds, uncaught: false, x: 560, y: 260 + 60 * targets.length, wires: [[errorReply]] },
    {
      id: errorReply, type: 'change', z: tab, name: 'error → page',
      rules: [
        { t: 'set', p: 'payload', pt: 'msg', to: '{"code": error.code, "message": $replace($string(error.message), /^[A-Za-z]*Error: /, ""), "details": error.cause.details ? error.cause.details : []}', tot: 'jsonata' },
        { t: 'set', p: 'topic', pt: 'msg', to: 'error', tot: 'str' },
        { t: 'delete', p: 'error', pt: 'msg' },
      ],
      x: 760, y: 260 + 60 * targets.length, wires: [[template]],
    },
  ];
}

export const PAGES = {
  '20-inspection.json': { prefix: 'c2a0e6d1a000', label: 'Post-run inspection', name: 'Inspect', pagePath: '/inspect', icon: 'clipboard-check-outline', order: 20, source: 'inspection.vue', targets: ['user', 'tool', 'inspection'] },
  '21-failure-report.json': { prefix: 'c2a0e6d1b000', label: 'Failure report', name: 'Report failure', pagePath: '/report-failure', icon: 'alert-octagon-outline', order: 21, source: 'failure-report.vue', targets: ['user', 'tool', 'failure'] },
  '30-actions.json': { prefix: 'c2a0e6d1c000', label: 'Actions', name: 'Actions', pagePath: '/actions', icon: 'wrench-clock', order: 30, source: 'actions.vue', targets: ['user', 'action'] },
  '40-triage.json': { prefix: 'c2a0e6d1d000', label: 'Failure triage', name: 'Triage', pagePath: '/triage', icon: 'magnify-scan', order: 40, source: 'triage.vue', targets: ['user', 'failure', 'action'] },
  '41-pm-plans.json': { prefix: 'c2a0e6d1e000', label: 'PM plans', name: 'PM plans', pagePath: '/pm-plans', icon: 'calendar-check', order: 41, source: 'pm-plans.vue', targets: ['user', 'pm', 'inspection'] },
  '42-catalog.json': { prefix: 'c2a0e6d1f000', label: 'Failure catalog', name: 'Failure catalog', pagePath: '/catalog', icon: 'book-open-variant', order: 42, source: 'catalog.vue', targets: ['user', 'failure'] },
  '50-audit.json': { prefix: 'c2a0e6d1a100', label: 'Audit log', name: 'Audit log', pagePath: '/audit', icon: 'shield-search', order: 50, source: 'audit.vue', targets: ['user'] },
};

const only = process.argv.slice(2);
for (const [file, spec] of Object.entries(PAGES)) {
  if (only.length && !only.includes(file)) continue;
  if (!fs.existsSync(path.join(here, spec.source))) continue;
  const nodes = page(spec);
  const ids = new Set();
  for (const n of nodes) {
    if (!/^[0-9a-f]{16}$/.test(n.id) || ids.has(n.id)) throw new Error(`${file}: bad or repeated id ${n.id}`);
    ids.add(n.id);
  }
  fs.writeFileSync(path.join(outDir, file), JSON.stringify(nodes, null, 2) + '\n');
}
