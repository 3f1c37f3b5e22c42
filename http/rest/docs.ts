/**
 * The API's documentation page: one self-contained HTML file (no CDN, works offline on a Pi) that
 * fetches the OpenAPI document and renders it, with the roles table taken from core's permission table.
 */
import { PERMISSIONS } from '../../core/auth/permissions';
import { asset, cspHash } from '../assets';

const STYLE = asset('theme.css') + asset('docs.css');
const SCRIPT = asset('docs.js');

/** The page allows its own inline style and script by hash, and fetches only from this origin. */
export const DOCS_CSP = `default-src 'none'; script-src ${cspHash(SCRIPT)}; style-src ${cspHash(STYLE)}; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/** The roles table, from core's PERMISSIONS (rendered on the server: the one table, never copied). */
function rolesTable(): string {
  const cell = (g: boolean | 'own') =>
    g === true ? '<td class="yes">yes</td>' : g === 'own' ? '<td class="own">own</td>' : '<td class="no">no</td>';
  const rows = Object.entries(PERMISSIONS)
    .map(([op, grants]) => `<tr><td><code>${op}</code></td>${grants.map((g) => cell(g as boolean | 'own')).join('')}</tr>`)
    .join('');
  return `<table><thead><tr><th>operation</th><th>technician</th><th>engineer</th><th>admin</th></tr></thead><tbody>${rows}</tbody></table>`;
}

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
