/**
 * List and search over a large plant: 10,000 tools, 100,000 inspections and 100,000 failure reports,
 * on embedded PGlite and on the PostgreSQL server (BENCH_DATABASE_URL). Prints p50/p95 per query
 * against the target: p95 ≤ 20 ms on the server.
 */
import { openDatabase, migrateLatest, type Db } from '../core/db/connect';
import { listTools, getTool } from '../core/tools/service';
import { listInspections } from '../core/inspections/service';
import { listFailures } from '../core/failures/service';
import { engineer } from './actors';
import { time, printTimings, type Timing } from './lib';

const TOOLS = 10_000;
const INSPECTIONS = 100_000;
const FAILURES = 100_000;
const TARGET_P95_MS = 20;

async function fill(db: Db): Promise<void> {
  const { rows } = await db.raw<{ rows: { tablename: string }[] }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'knex_%'",
  );
  await db.raw(`TRUNCATE ${rows.map((r) => `"${r.tablename}"`).join(', ')} RESTART IDENTITY CASCADE`);
  await db.raw(`
    INSERT INTO tools (asset_number, name, part_numbers, customer, owner, cavity_count, hot_runner_zones,
                       expected_lifetime_shots, lifetime_shots, status, retired_at, location, spi_class, year)
    SELECT 'M-' || lpad(i::text, 5, '0'),
           (ARRAY['Door handle','Bezel','Housing','Cap','Connector','Lens','Clip','Grille'])[1 + i % 8] || ' ' || i,
           jsonb_build_array('PN-' || (100000 + i), 'PN-' || (200000 + i)),
           'Customer ' || (i % 25), 'Customer ' || (i % 25), 1 + i % 8, i % 9, 1000000, (i * 7919) % 900000,
           (ARRAY['in_store','in_store','in_press','in_maintenance','at_toolmaker','retired'])[1 + i % 6],
           CASE WHEN i % 6 = 5 THEN now() END, 'Rack ' || (i % 40), 101 + i % 5, 2000 + i % 25
    FROM generate_series(1, ${TOOLS}) AS i`);
  await db.raw(`INSERT INTO tool_cavities (tool_id, number) SELECT t.id, n FROM tools t, generate_series(1, t.cavity_count) AS n`);
  await db.raw(`INSERT INTO inspection_templates (code, name, kind, items) VALUES ('POST-RUN', 'Post-run', 'post_run', '[]')`);
  await db.raw(`
    INSERT INTO inspections (tool_id, template_id, kind, outcome, performed_at, performed_by, lifetime_shots, minutes_spent)
    SELECT 1 + (i * 31) % ${TOOLS}, 1, 'post_run', CASE WHEN i % 10 = 0 THEN 'fail' ELSE 'pass' END,
           now() - (i || ' minutes')::interval, 'tech' || (i % 12), i, 20 + i % 40
    FROM generate_series(1, ${INSPECTIONS}) AS i`);
  await db.raw(`
    INSERT INTO failure_codes (code, title, component, default_severity)
    SELECT 'FC-' || lpad(i::text, 2, '0'), 'Failure ' || i,
           (ARRAY['ejector_system','cavity_core_inserts','slides_lifters','hot_runner','cooling','parting_line_vents','gating','guiding'])[1 + i % 8],
           (ARRAY['minor','major','critical'])[1 + i % 3]
    FROM generate_series(1, 40) AS i`);
  await db.raw(`
    INSERT INTO failure_reports (tool_id, failure_code_id, severity, component, shot_count, status, reported_by, reported_at, description)
    SELECT 1 + (i * 17) % ${TOOLS}, 1 + i % 40, (ARRAY['minor','major','critical'])[1 + i % 3],
           (ARRAY['ejector_system','cavity_core_inserts','slides_lifters','hot_runner','cooling','parting_line_vents','gating','guiding'])[1 + i % 8],
           i * 10, (ARRAY['open','investigating','resolved','closed'])[1 + i % 4], 'tech' || (i % 12),
           now() - (i || ' minutes')::interval, 'observed at shot ' || i
    FROM generate_series(1, ${FAILURES}) AS i`);
  await db.raw('ANALYZE');
}

async function measure(db: Db): Promise<Timing[]> {
  const a = engineer;
  return [
    await time('tools: first page (50)', () => listTools(db, a, {})),
    await time('tools: status = in_maintenance', () => listTools(db, a, { status: 'in_maintenance' })),
    await time('tools: customer', () => listTools(db, a, { customer: 'Customer 7' })),
    await time('tools: free text "housing 12"', () => listTools(db, a, { q: 'housing 12' })),
    await time('tools: free text part number', () => listTools(db, a, { q: 'PN-104321' })),
    await time('tools: page 100 (offset 4,950)', () => listTools(db, a, { offset: 4950 })),
    await time('tool by asset number', () => getTool(db, a, { assetNumber: 'M-04321' })),
    await time('inspections: newest 50', () => listInspections(db, a, {})),
    await time('inspections: one tool', () => listInspections(db, a, { toolId: 4321 })),
    await time('inspections: failed only', () => listInspections(db, a, { outcome: 'fail' })),
    await time('failures: newest 50', () => listFailures(db, a, {})),
    await time('failures: one tool', () => listFailures(db, a, { toolId: 4321 })),
    await time('failures: open, critical', () => listFailures(db, a, { status: 'open', severity: 'critical' })),
  ];
}

async function main() {
  const targets: [string, Db][] = [['embedded PGlite', openDatabase({ dataDir: ':memory:' })]];
  if (process.env.BENCH_DATABASE_URL) targets.unshift(['PostgreSQL server', openDatabase({ url: process.env.BENCH_DATABASE_URL })]);
  else console.log('BENCH_DATABASE_URL not set: PostgreSQL server skipped');
  for (const [name, db] of targets) {
    await migrateLatest(db);
    const t0 = Date.now();
    await fill(db);
    console.log(`${name}: ${TOOLS} tools, ${INSPECTIONS} inspections, ${FAILURES} failures loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    printTimings(`${name} — list/search, target p95 ≤ ${TARGET_P95_MS} ms on the server`, await measure(db), TARGET_P95_MS);
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
