import assert from 'node:assert/strict';
import { migrateLatest, migrateRollbackAll } from '../../core/db/connect';
import { backends } from '../support/db';
import type { Db } from '../../core/db/connect';

const DOMAIN_TABLES = [
  'users', 'tools', 'tool_cavities', 'presses', 'tool_mounts', 'pm_plans', 'pm_events', 'shot_readings',
  'counter_states', 'inspection_templates', 'inspections', 'inspection_results', 'failure_codes',
  'failure_reports', 'actions', 'photos', 'audit_events', 'outbox',
];

async function tables(db: Db): Promise<string[]> {
  const { rows } = await db.raw<{ rows: { tablename: string }[] }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'knex_%' ORDER BY tablename",
  );
  return rows.map((r) => r.tablename);
}

async function schemaFingerprint(db: Db): Promise<string> {
  const { rows } = await db.raw<{ rows: unknown[] }>(`
    SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
      AND c.relname NOT LIKE 'knex_%'
    ORDER BY c.relname, a.attnum`);
  const { rows: constraints } = await db.raw<{ rows: unknown[] }>(`
    SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
    WHERE connamespace = current_schema()::regnamespace ORDER BY conname`);
  const { rows: indexes } = await db.raw<{ rows: unknown[] }>(
    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename NOT LIKE 'knex_%' ORDER BY indexname",
  );
  return JSON.stringify([rows, constraints, indexes]);
}

for (const backend of backends) {
  describe(`migrations [${backend.name}]`, function () {
    this.timeout(60000);
    let db: Db;
    before(async () => {
      db = await backend.db();
    });
    after(() => migrateLatest(db));

    it('creates every domain table', async () => {
      const have = await tables(db);
      for (const t of DOMAIN_TABLES) assert.ok(have.includes(t), `missing table ${t}`);
    });

    it('rolls back to nothing and comes back identical (latest → rollback all → latest)', async () => {
      const before = await schemaFingerprint(db);
      await migrateRollbackAll(db);
      assert.deepEqual(await tables(db), []);
      await migrateLatest(db);
      assert.equal(await schemaFingerprint(db), before);
      await migrateRollbackAll(db);
      await migrateLatest(db);
      assert.deepEqual((await tables(db)).filter((t) => DOMAIN_TABLES.includes(t)).sort(), [...DOMAIN_TABLES].sort());
    });

    it('is idempotent: latest twice changes nothing', async () => {
      const before = await schemaFingerprint(db);
      await migrateLatest(db);
      assert.equal(await schemaFingerprint(db), before);
    });
  });
}
