import assert from 'node:assert/strict';
import { systemActor } from '../../core/auth/actor';
import { maintainEmbedded, maintenanceIntervalMs } from '../../core/db/maintenance';
import { createTool } from '../../core/tools/service';
import { backends, resetData } from '../support/db';

/** PGlite has no autovacuum: core/db/maintenance.ts does its housekeeping, a server's does its own. */
describe('embedded database maintenance', function () {
  this.timeout(60000);
  const system = systemActor('test');

  it('on PGlite: gathers planner statistics and vacuums, losing nothing', async () => {
    const db = await backends.find((b) => b.name === 'pglite')!.db();
    await resetData(db);
    const tool = await createTool(db, system, { assetNumber: 'M-1001', name: 'Door handle', cavityCount: 4 });
    for (let i = 2; i <= 50; i++) await createTool(db, system, { assetNumber: `M-${1000 + i}`, name: `Tool ${i}`, cavityCount: 1 });
    // Shot batches update lifetime shots over and over.
    for (let i = 0; i < 500; i++) await db('tools').where({ id: tool.id }).increment('lifetime_shots', 1);
    const statistics = async () =>
      Number((await db.raw<{ rows: { n: string | number }[] }>("SELECT count(*) AS n FROM pg_stats WHERE tablename = 'tools'")).rows[0].n);
    const vacuumed = async () =>
      (await db.raw<{ rows: { at: unknown }[] }>("SELECT last_vacuum AS at FROM pg_stat_user_tables WHERE relname = 'tools'")).rows[0]?.at ?? null;
    assert.equal(await statistics(), 0, 'PGlite never analyzes by itself');

    const run = await maintainEmbedded(db);
    assert.equal(run.ran, true);
    assert.ok((await statistics()) > 0, 'ANALYZE left statistics for the planner');
    assert.notEqual(await vacuumed(), null, 'the table was vacuumed');
    assert.equal(Number((await db('tools').where({ id: tool.id }).first()).lifetime_shots), 500, 'nothing lost');
    assert.equal(Number((await db('tools').count<{ n: string }[]>({ n: '*' }))[0].n), 50);
  });

  it('leaves a PostgreSQL server to its autovacuum', async function () {
    const server = backends.find((b) => b.name === 'postgres');
    if (!server) this.skip();
    assert.deepEqual(await maintainEmbedded(await server!.db()), { ran: false, ms: 0 });
  });

  it('runs every 30 minutes unless TOOLROOM_PGLITE_MAINTENANCE_MINUTES says otherwise', () => {
    assert.equal(maintenanceIntervalMs({}), 30 * 60_000);
    assert.equal(maintenanceIntervalMs({ TOOLROOM_PGLITE_MAINTENANCE_MINUTES: '5' }), 5 * 60_000);
    assert.equal(maintenanceIntervalMs({ TOOLROOM_PGLITE_MAINTENANCE_MINUTES: 'soon' }), 30 * 60_000);
    assert.equal(maintenanceIntervalMs({ TOOLROOM_PGLITE_MAINTENANCE_MINUTES: '-1' }), 30 * 60_000);
  });
});
