import assert from 'node:assert/strict';
import { seedDemoPlant, isSeeded } from '../../core/seed/demo';
import { seedReferenceData } from '../../core/seed/reference';
import { listPlans } from '../../core/pm/service';
import { backends, countRows, resetData } from '../support/db';
import { engineer } from '../support/actors';
import type { Db } from '../../core/db/connect';

for (const backend of backends) {
  describe(`demo plant and reference data [${backend.name}]`, function () {
    this.timeout(120000);
    let db: Db;
    before(async () => {
      db = await backend.db();
      await resetData(db);
    });

    it('seeds reference data once: a second run creates nothing', async () => {
      const first = await seedReferenceData(db);
      assert.ok(first.failureCodes >= 30 && first.failureCodes <= 50, `${first.failureCodes} catalog codes`);
      assert.equal(first.templates, 2);
      assert.deepEqual(await seedReferenceData(db), { failureCodes: 0, templates: 0 });
    });

    it('seeds a realistic plant through the services, audited, with PM plans in every state', async () => {
      assert.equal(await isSeeded(db), false);
      const summary = await seedDemoPlant(db);
      assert.equal(await isSeeded(db), true);
      assert.equal(summary.presses, 6);
      assert.equal(summary.tools, 40);
      assert.equal(await countRows(db, 'tools'), 40);
      assert.equal(await countRows(db, 'presses'), 6);
      assert.ok(summary.mounts >= 20, `${summary.mounts} mounts`);
      assert.equal(await countRows(db, 'inspections'), summary.inspections);
      assert.ok(summary.inspections >= 15);
      assert.ok((await countRows(db, 'failure_reports')) >= summary.failures);
      assert.ok((await countRows(db, 'actions')) >= summary.actions);
      const open = await db('tool_mounts').whereNull('unmounted_at').count<{ count: string }[]>({ count: '*' });
      assert.ok(Number(open[0].count) >= 4, 'most presses have a tool mounted now');
      const states = new Set((await listPlans(db, engineer, { limit: 500 })).items.map((p) => p.status.state));
      assert.deepEqual([...states].sort(), ['DUE', 'NOT_DUE', 'OVERDUE', 'WARNING']);
      // Every write went through a service: the audit trail has one event per record at least.
      const audited = await db('audit_events').select('entity').count<{ entity: string; count: string }[]>({ count: '*' }).groupBy('entity');
      const byEntity = Object.fromEntries(audited.map((r) => [r.entity, Number(r.count)]));
      assert.ok(byEntity.tool >= 40 && byEntity.press >= 6 && byEntity.tool_mount >= summary.mounts, JSON.stringify(byEntity));
      assert.ok(byEntity.inspection >= summary.inspections, JSON.stringify(byEntity));
    });
  });
}
