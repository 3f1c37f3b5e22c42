import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { exportCsv } from '../../core/reports/csv';
import { labelSheetPdf, toolPageUrl } from '../../core/reports/labels';
import { toolHistoryPdf } from '../../core/reports/toolHistory';
import { createTool } from '../../core/tools/service';
import { uploadPhoto, withdrawPhoto } from '../../core/photos/service';
import { PhotoStore } from '../../core/photos/store';
import { backends, countRows } from '../support/db';
import { rejects } from '../support/expect';
import { engineer, technician } from '../support/actors';
import { buildKpiHistory, RANGE, type KpiHistory } from '../support/kpi-history';
import { jpeg, png } from '../support/images';
import { parseCsv, pdfImages, readPdf } from '../support/pdf';

async function collect(lines: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const l of lines) out += l;
  return out;
}
const audits = (db: Knex, action: string) => db('audit_events').where('action', action).orderBy('id');

for (const backend of backends) {
  describe(`reports and exports [${backend.name}]`, function () {
    this.timeout(60000);
    let db: Knex;
    let h: KpiHistory;
    before(async () => {
      db = await backend.db();
      h = await buildKpiHistory(db);
    });

    it('prints a tool history that reads back: identity, lifetime, PMs, inspections, failures, actions, mounts; audited', async () => {
      const file = await toolHistoryPdf(db, technician, { assetNumber: 'M-100' }, new Date('2026-04-01T08:00:00Z'));
      assert.equal(file.filename, 'tool-history-M-100.pdf');
      const { pages, text } = await readPdf(file.content);
      assert.equal(pages, 1);
      for (const expected of [
        'M-100 Door handle 4-cav', 'printed 2026-04-01 08:00 UTC', 'Customer: Acme', 'Lifetime shots: 290,000 of 300,000 expected (96.7 %)',
        'Cavities: 4, 4 active', 'PM plans (1)', 'PM history (3)', '2026-01-28 00:00', '120 % of the interval, late', 'Inspections (1)', 'Failures (3)',
        'EJ Broken ejector pin (major), ejector at 0 shots: open', 'Actions (6)', 'Check cooling circuit', 'Mounts (2)', 'on P2',
      ]) assert.ok(text.includes(expected), `missing "${expected}" in:\n${text}`);
      const [event] = await audits(db, 'report.tool_history');
      assert.deepEqual([event.entity, event.entity_id, event.actor_id], ['tool', String(h.tools.A), technician.id]);
    });

    it('a long history runs over pages and keeps its last entry', async () => {
      const [{ id: template }] = await db('inspection_templates').where('code', 'pm').select('id');
      const rows = Array.from({ length: 300 }, (_, i) => ({
        tool_id: h.tools.C, template_id: template, kind: 'post_run', outcome: 'pass', performed_by: 'test', lifetime_shots: i,
        performed_at: new Date(Date.UTC(2025, 0, 1) + i * 3_600_000), findings: i === 299 ? 'The last one, vents cleaned' : null,
      }));
      await db('inspections').insert(rows);
      const { pages, text } = await readPdf((await toolHistoryPdf(db, engineer, { id: h.tools.C })).content);
      assert.ok(pages >= 4, `${pages} pages`);
      assert.ok(text.includes('Inspections (300)') && text.includes('The last one, vents cleaned'));
      await db('inspections').where('tool_id', h.tools.C).delete();
    });

    it('prints names and notes in German, Polish, Czech, Turkish, Greek and Cyrillic with an embedded font; CJK as ? without failing', async () => {
      const tool = await createTool(db, technician, {
        assetNumber: 'U-100', name: 'Łożysko ślizgowe ŻÓŁW', cavityCount: 2, customer: 'ООО «Пресс-Форма» Щёлково', owner: 'Kalıpçılık Ağır Sanayi İzmir',
        toolmaker: 'Nástrojárna Žďár, Příbram', location: 'Halle Süd, Gießerei', partNumbers: ['Δ-4 σύνδεσμος'],
      });
      await db('failure_reports').insert({
        tool_id: tool.id, failure_code_id: (await db('failure_codes').where('code', 'EJ').first('id')).id, severity: 'minor', component: 'ejector', shot_count: 10,
        reported_by: 'test', reported_at: new Date('2026-06-01T00:00:00Z'), description: 'Auswerfer gebrochen – 顶针断裂 (Werkzeugbau Müller)',
      });
      const file = await toolHistoryPdf(db, engineer, { id: tool.id });
      const { text } = await readPdf(file.content);
      for (const expected of [
        'U-100 Łożysko ślizgowe ŻÓŁW', 'Customer: ООО «Пресс-Форма» Щёлково', 'Owner: Kalıpçılık Ağır Sanayi İzmir', 'Toolmaker: Nástrojárna Žďár, Příbram',
        'Location: Halle Süd, Gießerei', 'Part numbers: Δ-4 σύνδεσμος', 'Auswerfer gebrochen – ???? (Werkzeugbau Müller)',
      ]) assert.ok(text.includes(expected), `missing "${expected}" in:\n${text}`);
      const raw = file.content.toString('latin1');
      assert.match(raw, /\/BaseFont \/[A-Z]{6}\+DejaVuSans\b/, 'the font is embedded (as a subset)');
      assert.ok(!raw.includes('Helvetica'), 'no standard font is used');
    });

    it('prints the thumbnails of the tool’s photos: withdrawn ones left out, an unreadable one listed as such', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-report-photos-'));
      try {
        const store = new PhotoStore(path.join(dir, 'photos'), path.join(dir, 'keys', 'photo.key'));
        const tool = await createTool(db, technician, { assetNumber: 'PH-1', name: 'Photo tool', cavityCount: 1 });
        const [failureId] = (await db('failure_reports').insert({
          tool_id: tool.id, failure_code_id: (await db('failure_codes').where('code', 'WL').first('id')).id, severity: 'major', component: 'cooling', shot_count: 5,
          reported_by: 'test', reported_at: new Date('2026-06-02T00:00:00Z'),
        }).returning('id')).map((r: { id: number }) => r.id);
        const upload = (image: Buffer, input: Record<string, unknown>) => uploadPhoto(db, technician, input, image, { store });
        const own = await upload(await jpeg(800, 600), { toolId: tool.id, caption: 'Kühlkanal verkalkt, łączka' });
        const leak = await upload(await png(400, 300), { failureReportId: failureId, caption: 'Течь у разъёма' });
        const gone = await upload(await jpeg(640, 480, '#2040c0'), { toolId: tool.id, caption: 'wrong tool' });
        const broken = await upload(await jpeg(640, 480, '#20c040'), { toolId: tool.id });
        await withdrawPhoto(db, engineer, { id: gone.id, reason: 'another tool' });
        const { thumbnail_path: thumb } = await db('photos').where('id', broken.id).first('thumbnail_path');
        fs.writeFileSync(path.join(store.dir, thumb), 'not an encrypted photo');

        const file = await toolHistoryPdf(db, technician, { id: tool.id }, new Date(), { store });
        const { text } = await readPdf(file.content);
        assert.ok(text.includes('Photos (3)'), text);
        assert.ok(text.includes(`#${own.id} tool`) && text.includes('Kühlkanal verkalkt, łączka'), text);
        assert.ok(text.includes(`#${leak.id} failure #${failureId}`) && text.includes('Течь у разъёма'), text);
        // (The reason wraps inside its box.)
        assert.ok(text.includes(`#${broken.id} tool`) && text.replace(/\s+/g, ' ').includes('unreadable: its file is damaged or was altered'), text);
        assert.ok(!text.includes(`#${gone.id} `) && !text.includes('wrong tool'), 'the withdrawn photo is left out');
        const images = await pdfImages(file.content);
        assert.equal(images.length, 2, 'one image XObject per readable photo');
        // The thumbnails as core/photos made them (at most 320 px), not the originals.
        assert.deepEqual(images.map((i) => [i.width, i.height]).sort(), [[320, 240], [320, 240]]);

        // Without a photo the section says so, and nothing is painted.
        const plain = await toolHistoryPdf(db, technician, { assetNumber: 'M-200' }, new Date(), { store });
        assert.ok((await readPdf(plain.content)).text.includes('Photos (0)'));
        assert.equal((await pdfImages(plain.content)).length, 0);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('refuses an unknown tool by its field', async () => {
      await rejects(toolHistoryPdf(db, engineer, { assetNumber: 'M-404' }), 'not_found', 'assetNumber');
    });

    it('prints QR labels on Avery L7163 sheets (14 a page), each with asset number, name and tool page URL; audited', async () => {
      for (let i = 0; i < 12; i++) await createTool(db, technician, { assetNumber: `L-${100 + i}`, name: `Label tool ${i}`, cavityCount: 1 });
      const assets = ['M-100', 'M-200', 'M-300', ...Array.from({ length: 12 }, (_, i) => `L-${100 + i}`)];
      const file = await labelSheetPdf(db, technician, { assetNumbers: assets, baseUrl: 'https://toolroom.plant.example/' });
      const { pages, text } = await readPdf(file.content);
      assert.equal(pages, 2);
      for (const a of assets) assert.ok(text.includes(a), a);
      assert.ok(text.includes('Door handle 4-cav') && text.includes('Label tool 11'));
      assert.equal(toolPageUrl('https://toolroom.plant.example/', 'M 1/2'), 'https://toolroom.plant.example/dashboard/tool?asset=M%201%2F2');
      assert.ok(text.includes('https://toolroom.plant.example/dashboard/tool?asset=M-100'));
      const three = await readPdf((await labelSheetPdf(db, engineer, { assetNumbers: assets, sheet: 'avery-l7160', baseUrl: 'http://10.0.0.5:1880' })).content);
      assert.equal(three.pages, 1, '21 labels a page');
      const [event] = await audits(db, 'report.labels');
      assert.deepEqual(event.after.assetNumbers, assets);
    });

    it('prints a label whose tool name is not Latin-1', async () => {
      await createTool(db, technician, { assetNumber: 'L-XXX', name: 'Форма крышки, kalıp łożysko', cavityCount: 1 });
      const { text } = await readPdf((await labelSheetPdf(db, engineer, { assetNumbers: ['L-XXX'], baseUrl: 'https://toolroom.plant.example' })).content);
      assert.ok(text.includes('Форма крышки, kalıp łożysko'), text);
    });

    it('refuses unknown tools and a base URL that is not http(s), naming the field, with nothing audited', async () => {
      const before = await countRows(db, 'audit_events');
      await rejects(labelSheetPdf(db, engineer, { assetNumbers: ['M-100', 'NOPE'], baseUrl: 'https://x.example' }), 'validation', 'assetNumbers.1', 'exists');
      await rejects(labelSheetPdf(db, engineer, { assetNumbers: ['M-100'], baseUrl: 'javascript:alert(1)' }), 'validation', 'baseUrl');
      await rejects(labelSheetPdf(db, engineer, { assetNumbers: [], baseUrl: 'https://x.example' }), 'validation', 'assetNumbers');
      assert.equal(await countRows(db, 'audit_events'), before);
    });

    it('exports failures over a range as CSV that reads back to the same records, defusing formulas', async () => {
      await db('failure_reports').where('reported_at', '2026-02-25T00:00:00Z').update({ description: '=HYPERLINK("x"), said "the, operator"\nnext line' });
      const file = await exportCsv(db, engineer, { kind: 'failures', ...RANGE });
      const rows = parseCsv(await collect(file.lines));
      const [header, ...data] = rows;
      assert.deepEqual(header.slice(0, 6), ['id', 'assetNumber', 'code', 'title', 'severity', 'component']);
      const col = (name: string) => header.indexOf(name);
      assert.deepEqual(data.map((r) => [r[col('assetNumber')], r[col('code')], r[col('reportedAt')]]), [
        ['M-100', 'EJ', '2026-01-15T00:00:00.000Z'], ['M-100', 'EJ', '2026-01-25T00:00:00.000Z'], ['M-100', 'WL', '2026-02-15T00:00:00.000Z'],
        ['M-200', 'WL', '2026-02-25T00:00:00.000Z'], ['M-300', 'WL', '2026-03-10T00:00:00.000Z'],
      ]);
      assert.equal(data[3][col('description')], `'=HYPERLINK("x"), said "the, operator"\nnext line`);
      const [event] = await audits(db, 'report.export');
      assert.deepEqual([event.entity_id, event.after.from], ['failures', RANGE.from]);
    });

    it('exports every kind, header first, in pages past the page size', async () => {
      for (const kind of ['tools', 'inspections', 'actions'] as const) {
        const rows = parseCsv(await collect((await exportCsv(db, engineer, { kind })).lines));
        const expected = await countRows(db, kind);
        assert.equal(rows.length - 1, expected, kind);
      }
      const actions = parseCsv(await collect((await exportCsv(db, engineer, { kind: 'actions' })).lines));
      const h2 = actions[0];
      assert.ok(actions.some((r) => r[h2.indexOf('assignee')] === 'Mara Costa' && r[h2.indexOf('dueDate')] === '2026-03-01'));
      const [{ id: template }] = await db('inspection_templates').where('code', 'pm').select('id');
      await db('inspections').insert(Array.from({ length: 2100 }, (_, i) => ({
        tool_id: h.tools.B, template_id: template, kind: 'post_run', outcome: 'pass', performed_by: 'test', lifetime_shots: i, performed_at: new Date(Date.UTC(2024, 0, 1) + i * 60_000),
      })));
      const all = parseCsv(await collect((await exportCsv(db, engineer, { kind: 'inspections' })).lines));
      assert.equal(all.length - 1, await countRows(db, 'inspections'));
      assert.equal(new Set(all.slice(1).map((r) => r[0])).size, all.length - 1, 'no row twice across pages');
    });

    it('exports are for engineers and admins: a technician is refused with nothing written', async () => {
      const before = await countRows(db, 'audit_events');
      await rejects(exportCsv(db, technician, { kind: 'tools' }), 'forbidden');
      await rejects(exportCsv(db, engineer, { kind: 'photos' }), 'validation', 'kind');
      await rejects(exportCsv(db, engineer, { kind: 'tools', from: RANGE.to, to: RANGE.from }), 'validation', 'to');
      assert.equal(await countRows(db, 'audit_events'), before);
    });
  });
}
