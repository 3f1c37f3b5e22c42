/**
 * The API's documentation page: one self-contained HTML file (no CDN, works offline on a Pi) that
 * fetches the OpenAPI document and renders it, with the roles table taken from core's permission table.
 */
import { PERMISSIONS } from '../../core/auth/permissions';

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #5b636e; --bg: #fff; --line: #d8dde3; --code: #f3f5f7;
  --get: #1f6feb; --post: #1a7f37; --put: #9a6700; --patch: #8250df; --delete: #cf222e; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ed; --muted: #9aa4af; --bg: #14171a; --line: #30363d; --code: #1f2428; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header, main { max-width: 1100px; margin: 0 auto; padding: 0 16px; }
header { padding-top: 24px; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { margin: 32px 0 8px; font-size: 20px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
p.lead { color: var(--muted); max-width: 80ch; }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--code); border-radius: 4px; }
code { padding: 1px 4px; } pre { padding: 10px; overflow: auto; }
details.op { border: 1px solid var(--line); border-radius: 6px; margin: 6px 0; }
details.op > summary { cursor: pointer; padding: 8px 10px; display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
details.op[open] > summary { border-bottom: 1px solid var(--line); }
.m { font: bold 12px ui-monospace, monospace; color: #fff; border-radius: 4px; padding: 2px 6px; min-width: 58px; text-align: center; }
.m.get { background: var(--get); } .m.post { background: var(--post); } .m.put { background: var(--put); }
.m.patch { background: var(--patch); } .m.delete { background: var(--delete); }
.path { font: 14px ui-monospace, monospace; } .sum { color: var(--muted); }
.body { padding: 8px 12px 12px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; font-size: 14px; }
th, td { text-align: left; border-bottom: 1px solid var(--line); padding: 4px 8px; vertical-align: top; }
th { font-weight: 600; }
.yes { color: var(--post); } .no { color: var(--muted); } .own { color: var(--put); }
nav a { margin-right: 12px; } input[type=search] { width: 100%; max-width: 420px; padding: 6px 8px; margin: 8px 0; font: inherit; }
.err { color: var(--delete); }
`;

/** The roles table, from core's PERMISSIONS (rendered on the server: the one table, never copied). */
function rolesTable(): string {
  const cell = (g: boolean | 'own') =>
    g === true ? '<td class="yes">yes</td>' : g === 'own' ? '<td class="own">own</td>' : '<td class="no">no</td>';
  const rows = Object.entries(PERMISSIONS)
    .map(([op, grants]) => `<tr><td><code>${op}</code></td>${grants.map((g) => cell(g as boolean | 'own')).join('')}</tr>`)
    .join('');
  return `<table><thead><tr><th>operation</th><th>technician</th><th>engineer</th><th>admin</th></tr></thead><tbody>${rows}</tbody></table>`;
}

const SCRIPT = `
(function () {
  var out = document.getElementById('ops');
  var filter = document.getElementById('filter');
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) { if (k === 'text') e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]); }
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function typeOf(s) {
    if (!s || typeof s !== 'object') return 'any';
    if (s.enum) return s.enum.map(function (v) { return JSON.stringify(v); }).join(' | ');
    if (s.anyOf) return s.anyOf.map(typeOf).join(' | ');
    if (s.type === 'array') return typeOf(s.items) + '[]';
    var t = s.type || (s.properties ? 'object' : 'any');
    var extra = [];
    if (s.minLength !== undefined) extra.push('min ' + s.minLength);
    if (s.maxLength !== undefined) extra.push('max ' + s.maxLength);
    if (s.minimum !== undefined && s.minimum > -9007199254740991) extra.push('≥ ' + s.minimum);
    if (s.exclusiveMinimum !== undefined) extra.push('> ' + s.exclusiveMinimum);
    if (s.maximum !== undefined && s.maximum < 9007199254740991) extra.push('≤ ' + s.maximum);
    if (s.pattern) extra.push('pattern ' + s.pattern);
    if (s.default !== undefined) extra.push('default ' + JSON.stringify(s.default));
    return t + (extra.length ? ' (' + extra.join(', ') + ')' : '');
  }
  function fields(schema) {
    var variants = schema && schema.anyOf && schema.anyOf.every(function (v) { return v.properties; }) ? schema.anyOf : [schema];
    var wrap = el('div');
    variants.forEach(function (v, i) {
      if (variants.length > 1) wrap.appendChild(el('p', { text: i === 0 ? 'One of:' : 'or:' }));
      if (!v || !v.properties) { wrap.appendChild(el('pre', { text: JSON.stringify(v, null, 2) })); return; }
      var req = v.required || [];
      var body = el('tbody');
      Object.keys(v.properties).forEach(function (name) {
        var p = v.properties[name];
        body.appendChild(el('tr', {}, [el('td', {}, [el('code', { text: name })]), el('td', { text: typeOf(p) }),
          el('td', { text: req.indexOf(name) >= 0 ? 'required' : '' })]));
      });
      wrap.appendChild(el('table', {}, [el('thead', {}, [el('tr', {}, [el('th', { text: 'field' }), el('th', { text: 'type' }), el('th', { text: '' })])]), body]));
    });
    return wrap;
  }
  function render(doc) {
    document.getElementById('base').textContent = doc.servers && doc.servers[0] ? doc.servers[0].url : '';
    var byTag = {};
    Object.keys(doc.paths).forEach(function (path) {
      Object.keys(doc.paths[path]).forEach(function (method) {
        var op = doc.paths[path][method];
        var tag = (op.tags || ['Other'])[0];
        (byTag[tag] = byTag[tag] || []).push({ path: path, method: method, op: op });
      });
    });
    var nav = document.getElementById('nav');
    Object.keys(byTag).forEach(function (tag) {
      nav.appendChild(el('a', { href: '#tag-' + tag, text: tag }));
      out.appendChild(el('h2', { id: 'tag-' + tag, text: tag }));
      byTag[tag].forEach(function (o) {
        // Backticked words in a description become <code>; the rest stays text.
        var desc = el('p');
        (o.op.description || '').split('\x60').forEach(function (part, i) { desc.appendChild(i % 2 ? el('code', { text: part }) : document.createTextNode(part)); });
        var body = el('div', { class: 'body' }, [desc]);
        var params = o.op.parameters || [];
        if (params.length) {
          body.appendChild(el('h4', { text: 'Parameters' }));
          var tb = el('tbody');
          params.forEach(function (p) {
            tb.appendChild(el('tr', {}, [el('td', {}, [el('code', { text: p.name })]), el('td', { text: p.in }), el('td', { text: typeOf(p.schema) }), el('td', { text: p.required ? 'required' : '' })]));
          });
          body.appendChild(el('table', {}, [tb]));
        }
        var rb = o.op.requestBody && o.op.requestBody.content['application/json'];
        if (rb) { body.appendChild(el('h4', { text: 'JSON body' })); body.appendChild(fields(rb.schema)); }
        var codes = Object.keys(o.op.responses || {});
        body.appendChild(el('h4', { text: 'Responses' }));
        var rt = el('tbody');
        codes.forEach(function (c) { rt.appendChild(el('tr', {}, [el('td', {}, [el('code', { text: c })]), el('td', { text: o.op.responses[c].description })])); });
        body.appendChild(el('table', {}, [rt]));
        var d = el('details', { class: 'op', 'data-search': (o.method + ' ' + o.path + ' ' + o.op.summary + ' ' + o.op.operationId).toLowerCase() }, [
          el('summary', {}, [el('span', { class: 'm ' + o.method, text: o.method.toUpperCase() }), el('span', { class: 'path', text: o.path }), el('span', { class: 'sum', text: o.op.summary })]),
          body]);
        out.appendChild(d);
      });
    });
    filter.addEventListener('input', function () {
      var q = filter.value.toLowerCase();
      out.querySelectorAll('details.op').forEach(function (d) { d.style.display = d.getAttribute('data-search').indexOf(q) >= 0 ? '' : 'none'; });
    });
  }
  fetch(document.body.getAttribute('data-openapi'), { credentials: 'same-origin' })
    .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
    .then(render)
    .catch(function (e) { out.appendChild(el('p', { class: 'err', text: 'Could not load the OpenAPI document: ' + e.message })); });
})();
`;

const escapeAttr = (s: string) => s.replace(/[&"<>]/g, (c) => ({ '&': '&amp;', '"': '&quot;', '<': '&lt;', '>': '&gt;' })[c]!);

export function docsPage(openapiUrl: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Toolroom REST API</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body data-openapi="${escapeAttr(openapiUrl)}">
<header>
<h1>Toolroom REST API</h1>
<p class="lead">Base URL <code id="base"></code>. The machine-readable document is <a href="${escapeAttr(openapiUrl)}">openapi.json</a> (OpenAPI 3.1).</p>
<h2>Authentication</h2>
<p>Integrations (MES, ERP) send an API token: <code>Authorization: Bearer toolroom_…</code>. Create one with <code>POST /tokens</code>
(or ask an admin); the secret is shown once. A browser logs in with <code>POST /session</code> <code>{"username","password"}</code>
(or <code>"pin"</code>): the answer sets an HttpOnly session cookie and returns <code>csrfToken</code>, which every write with the cookie
must send back in the <code>x-csrf-token</code> header. A session ends when unused for a while, at its absolute lifetime, at logout
(<code>DELETE /session</code>), or when an admin disables the user. Repeated failed logins lock the username (429 with <code>Retry-After</code>).</p>
<h2>Errors</h2>
<p>Every error is <code>application/problem+json</code>: <code>status</code>, <code>detail</code>, <code>code</code>
(validation 400, unauthenticated 401, forbidden 403, not_found 404, conflict 409, http 405/413/415/429) and <code>errors</code>,
a list of <code>{field, rule, message}</code> naming each broken rule. Nothing is written when a request is refused.</p>
<h2>Roles</h2>
<p>What each role may do (core's permission table; <em>own</em> = on records assigned to the caller or to nobody, or the caller's own tokens and sessions):</p>
${rolesTable()}
<h2>Operations</h2>
<input type="search" id="filter" placeholder="Filter operations (e.g. tools, POST, retire)" aria-label="Filter operations">
<nav id="nav"></nav>
</header>
<main id="ops"></main>
<script>${SCRIPT}</script>
</body></html>`;
}
