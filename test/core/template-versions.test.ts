/**
 * Checklist templates are versioned (issue 14, migration 015): a checklist an inspection was
 * recorded with is never changed under it; a template can apply to some tools only.
 */
import assert from 'node:assert/strict';
import { createTool } from '../../core/tools/service';
import { createTemplate, getTemplate, listTemplates, updateTemplate } from '../../core/inspections/templates';
import { getInspection, recordInspection } from '../../core/inspections/service';
import { seedFailureCatalog } from '../../core/failures/seed';
import { backends, resetData, tableCounts, type Backend } from '../support/db';
import { rejects } from '../support/expect';
import { engineer, technician } from '../support/actors';
import type { Db } from '../../core/db/connect';
import type { Tool } from '../../core/tools/schema';

const v1Items = [
  { key: 'vents', label: 'Vents cleaned', failureCode: 'PL-VENT-BLOCKED' },
  { key: 'grease', label: 'Guide pins greased' },
];
const v2Items = [
  { key: 'grease', label: 'Guide pins and bushes greased' },
  { key: 'water', label: 'Cooling circuits blown out' },
];
const checklist = { code: 'pr-std', name: 'Post-run', kind: 'post_run', items: v1Items };
const pass = (items: { key: string }[]) => items.map((i) => ({ itemKey: i.key, result: 'pass' }));

for (const backend of backends) {
  describe(`checklist template versions [${backend.name}]`, function () {
    this.timeout(30000);
    let db: Db;
    let tool: Tool;
    let other: Tool;
    before(async function () {
      // The first suite of a run opens PGlite, which takes long on a loaded machine.
      this.timeout(180000);
      db = await (backend as Backend).db();
    });
    beforeEach(async () => {
      await resetData(db);
      await seedFailureCatalog(db);
      tool = await createTool(db, technician, { assetNumber: 'M-5001', name: 'Lid', cavityCount: 2 });
      other = await createTool(db, technician, { assetNumber: 'M-5002', name: 'Cup', cavityCount: 2 });
    });

    it('edits a checklist nobody used in place, as version 1', async () => {
      const t = await createTemplate(db, engineer, checklist);
      assert.equal(t.version, 1);
      const edited = await updateTemplate(db, engineer, { id: t.id, items: v2Items });
      assert.equal(edited.version, 1);
      assert.deepEqual(edited.items.map((i) => i.key), ['grease', 'water']);
      assert.deepEqual(await db('inspection_template_versions').where('template_id', t.id).pluck('version'), [1]);
      assert.deepEqual((await getTemplate(db, technician, { id: t.id, version: 1 })).items.map((i) => i.key), ['grease', 'water']);
    });

    it('makes a new version when the checklist was used; the old inspection keeps its own', async () => {
      const t = await createTemplate(db, engineer, checklist);
      const old = await recordInspection(db, technician, { toolId: tool.id, templateId: t.id, results: pass(v1Items) });
      assert.equal(old.templateVersion, 1);

      // A rename alone, or the same items again, is no new checklist.
      assert.equal((await updateTemplate(db, engineer, { id: t.id, name: 'Post-run, all tools', items: v1Items })).version, 1);

      const v2 = await updateTemplate(db, engineer, { id: t.id, items: v2Items });
      assert.equal(v2.id, t.id);
      assert.equal(v2.version, 2);
      assert.deepEqual(v2.items.map((i) => i.label), ['Guide pins and bushes greased', 'Cooling circuits blown out']);
      const [event] = await db('audit_events').where({ action: 'template.update', entity_id: String(t.id) }).orderBy('id', 'desc').limit(1);
      assert.equal(event.before.version, 1);
      assert.equal(event.after.version, 2);

      // Lists and look-ups show the newest; version 1 stays readable, as recorded.
      assert.deepEqual((await listTemplates(db, technician, {})).map((x) => [x.code, x.version]), [['pr-std', 2]]);
      const first = await getTemplate(db, technician, { code: 'PR-STD', version: 1 });
      assert.deepEqual(first.items.map((i) => [i.key, i.label]), [['vents', 'Vents cleaned'], ['grease', 'Guide pins greased']]);
      await rejects(getTemplate(db, technician, { id: t.id, version: 3 }), 'not_found', 'version');

      const again = await getInspection(db, technician, { id: old.id });
      assert.equal(again.templateVersion, 1);
      assert.deepEqual(again.results.map((r) => [r.itemKey, r.label]), [['vents', 'Vents cleaned'], ['grease', 'Guide pins greased']]);

      // New inspections answer version 2's checklist and point at it.
      await rejects(recordInspection(db, technician, { toolId: tool.id, templateId: t.id, results: pass(v1Items) }), 'validation', 'results.0.itemKey', 'template_item');
      const next = await recordInspection(db, technician, { toolId: tool.id, templateId: t.id, results: pass(v2Items) });
      assert.equal(next.templateVersion, 2);

      // Version 2 is in use now too: the next edit is version 3, version 1 is untouched.
      const v3 = await updateTemplate(db, engineer, { id: t.id, items: [v2Items[1]] });
      assert.equal(v3.version, 3);
      assert.deepEqual(await db('inspection_template_versions').where('template_id', t.id).orderBy('version').pluck('version'), [1, 2, 3]);
      assert.deepEqual((await getTemplate(db, technician, { id: t.id, version: 1 })).items.map((i) => i.key), ['vents', 'grease']);
      assert.deepEqual((await getInspection(db, technician, { id: next.id })).results.map((r) => r.itemKey), ['grease', 'water']);
    });

    it('an inspection written without a version (a flow, a migration) gets the newest', async () => {
      const t = await createTemplate(db, engineer, checklist);
      await recordInspection(db, technician, { toolId: tool.id, templateId: t.id, results: pass(v1Items) });
      await updateTemplate(db, engineer, { id: t.id, items: v2Items });
      const [{ template_version }] = await db('inspections')
        .insert({ tool_id: tool.id, template_id: t.id, kind: 'post_run', outcome: 'pass', performed_at: new Date(), performed_by: 'test', lifetime_shots: 0 })
        .returning('template_version');
      assert.equal(template_version, 2);
    });

    it('applies to the tools named, or every tool; lists by tool; refuses an inspection of another tool', async () => {
      const all = await createTemplate(db, engineer, { ...checklist, code: 'all' });
      const lid = await createTemplate(db, engineer, { ...checklist, code: 'lid-only', toolIds: [tool.id] });
      assert.deepEqual(all.tools, []);
      assert.deepEqual(lid.tools, [{ id: tool.id, assetNumber: 'M-5001', name: 'Lid' }]);
      assert.deepEqual((await listTemplates(db, technician, { toolId: tool.id })).map((x) => x.code), ['all', 'lid-only']);
      assert.deepEqual((await listTemplates(db, technician, { toolId: other.id })).map((x) => x.code), ['all']);

      const before = await tableCounts(db);
      await rejects(recordInspection(db, technician, { toolId: other.id, templateCode: 'lid-only', results: pass(v1Items) }), 'validation', 'templateCode', 'applies_to_tool');
      assert.deepEqual(await tableCounts(db), before);
      await recordInspection(db, technician, { toolId: tool.id, templateCode: 'lid-only', results: pass(v1Items) });

      // The tool list is no part of the checklist: changing it makes no version.
      const both = await updateTemplate(db, engineer, { id: lid.id, toolIds: [other.id, tool.id] });
      assert.equal(both.version, 1);
      assert.deepEqual(both.tools.map((x) => x.assetNumber), ['M-5001', 'M-5002']);
      await recordInspection(db, technician, { toolId: other.id, templateCode: 'lid-only', results: pass(v1Items) });
      assert.deepEqual((await updateTemplate(db, engineer, { id: lid.id, toolIds: [] })).tools, []);
    });

    it('names the tool that does not exist or is named twice, writing nothing', async () => {
      const t = await createTemplate(db, engineer, checklist);
      const before = await tableCounts(db);
      await rejects(createTemplate(db, engineer, { ...checklist, code: 'x', toolIds: [tool.id, 9999] }), 'validation', 'toolIds.1', 'exists');
      await rejects(updateTemplate(db, engineer, { id: t.id, toolIds: [tool.id, tool.id] }), 'validation', 'toolIds.1', 'unique');
      await rejects(updateTemplate(db, engineer, { id: t.id, name: 'renamed', toolIds: [9999] }), 'validation', 'toolIds.0', 'exists');
      assert.deepEqual(await tableCounts(db), before);
      assert.equal((await getTemplate(db, technician, { id: t.id })).name, 'Post-run');
    });

    it('lets only engineers and admins change a template', async () => {
      const t = await createTemplate(db, engineer, checklist);
      await rejects(updateTemplate(db, technician, { id: t.id, items: v2Items }), 'forbidden');
      await rejects(createTemplate(db, technician, { ...checklist, code: 'y' }), 'forbidden');
    });
  });
}
