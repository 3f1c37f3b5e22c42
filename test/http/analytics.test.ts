import assert from 'node:assert/strict';
import { createApiToken } from '../../core/accounts/tokens';
import type { Db } from '../../core/db/connect';
import { backends } from '../support/db';
import { makeUser, startApi, type TestServer } from '../support/api-server';
import { buildKpiHistory, RANGE } from '../support/kpi-history';
import { parseCsv, readPdf } from '../support/pdf';

// KPIs, reports and exports over HTTP (PostgreSQL server when the test command provides one).
const backend = backends.find((b) => b.name === 'postgres') ?? backends[0];

describe(`KPIs, reports and exports over the REST API (${backend.name})`, function () {
  this.timeout(60000);
  let db: Db;
  let api: TestServer;
  const token: Record<string, string> = {};

  before(async () => {
    db = await backend.db();
    await buildKpiHistory(db);
    api = await startApi(db);
    for (const role of ['technician', 'engineer'] as const) {
      const u = await makeUser(db, role);
      token[role] = (await createApiToken(db, { id: String(u.id), name: u.username, role, via: 'test' }, { name: 'analytics' })).secret;
    }
  });
  after(async () => api?.close());

  const get = (role: string, path: string, init: RequestInit = {}) =>
    fetch(`${api.url}${path}`, { ...init, headers: { authorization: `Bearer ${token[role]}`, 'content-type': 'application/json', ...init.headers } });
  const range = `from=${RANGE.from}&to=${RANGE.to}`;

  it('GET /kpi/reliability per tool: the hand-computed MTBF and MTTR; technicians 403', async () => {
    const res = await get('engineer', `/kpi/reliability?${range}&by=tool&subject=M-100`);
    assert.equal(res.status, 200);
    const [row] = (await res.json()) as { subject: string; failures: number; operatingShots: number; mttrHours: number }[];
    assert.deepEqual([row.subject, row.failures, row.operatingShots, row.mttrHours], ['M-100', 3, 250_000, 30]);
    const refused = await get('technician', `/kpi/reliability?${range}`);
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('content-type'), 'application/problem+json');
  });

  it('GET /exports/failures.csv streams a download that parses back; a bad kind is a 400 problem', async () => {
    const res = await get('engineer', `/exports/failures.csv?${range}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.match(res.headers.get('content-disposition')!, /^attachment; filename="toolroom-failures-2026-04-01T000000\.csv"$/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const rows = parseCsv(await res.text());
    assert.equal(rows.length, 1 + 5);
    const bad = await get('engineer', '/exports/photos.csv');
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { errors: { field: string }[] }).errors[0].field, 'kind');
    assert.equal((await get('technician', '/exports/tools.csv')).status, 403);
  });

  it('GET /reports/tool-history.pdf and POST /reports/labels.pdf send PDFs (labels carry the server’s address)', async () => {
    const res = await get('technician', '/reports/tool-history.pdf?assetNumber=M-200');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/pdf');
    const history = await readPdf(Buffer.from(await res.arrayBuffer()));
    assert.ok(history.text.includes('M-200 Bezel'));
    const labels = await get('technician', '/reports/labels.pdf', { method: 'POST', body: JSON.stringify({ assetNumbers: ['M-100', 'M-200'] }) });
    assert.equal(labels.status, 200, await labels.clone().text());
    const sheet = await readPdf(Buffer.from(await labels.arrayBuffer()));
    assert.ok(sheet.text.includes(`${new URL(api.url).origin}/dashboard/tool?asset=M-200`), sheet.text);
    const missing = await get('technician', '/reports/tool-history.pdf?assetNumber=NOPE');
    assert.equal(missing.status, 404);
  });
});
