import assert from 'node:assert/strict';
import { systemActor } from '../../core/auth/actor';
import type { Db } from '../../core/db/connect';
import { createPress } from '../../core/presses/service';
import { createTool } from '../../core/tools/service';
import { mountTool } from '../../core/mounts/service';
import { backoff, isOutage, ShotBatcher } from '../../nodes/lib/shot-batcher';
import { ToolroomError } from '../../core/errors';
import { resetData } from '../support/db';
import { holdDatabase, nodeBackends } from '../support/nodes';

/**
 * The shot counter's queue on its own (no Node-RED): what it does when a transaction's answer is
 * lost after the commit, and which failures it waits out.
 */

const system = systemActor('test');
const t0 = Date.now() - 3_600_000;
const at = (s: number) => new Date(t0 + s * 1000).toISOString();

describe('shot batcher: which failures are waited out', () => {
  it('waits for the database when it cannot be reached, not for a bad batch', () => {
    assert.ok(isOutage(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })));
    assert.ok(isOutage(new Error('Connection terminated unexpectedly')));
    assert.ok(isOutage(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })));
    assert.ok(isOutage(Object.assign(new Error('the database system is starting up'), { code: '57P03' })));
    assert.ok(isOutage(Object.assign(new Error('Knex: Timeout acquiring a connection'), { name: 'KnexTimeoutError' })));
    assert.ok(!isOutage(new ToolroomError('validation', 'Invalid input', [])));
    assert.ok(!isOutage(Object.assign(new Error('duplicate key'), { code: '23505' })));
    assert.ok(!isOutage(new TypeError('x is not a function')));
  });

  it('backs off doubling up to its maximum', () => {
    assert.deepEqual([1, 2, 3, 4, 10].map((n) => backoff(n, 500, 30_000)), [500, 1000, 2000, 4000, 30_000]);
  });
});

for (const backend of nodeBackends) {
  describe(`shot batcher [${backend.name}]`, function () {
    this.timeout(30000);
    const held = holdDatabase(backend);
    let db: Db;

    beforeEach(async () => {
      db = held.db();
      await resetData(db);
      await createPress(db, system, { code: 'P01', name: 'Press 1' });
      await createTool(db, system, { assetNumber: 'M-1001', name: 'Door handle', cavityCount: 1 });
      await mountTool(db, system, { assetNumber: 'M-1001', pressCode: 'P01', at: at(0) });
    });
    const lifetime = async () => Number((await db('tools').where('asset_number', 'M-1001').first('lifetime_shots')).lifetime_shots);

    it('counts nothing twice when the answer to a commit is lost and the batch is sent again', async () => {
      let call = 0;
      // The database commits, then the connection drops before the answer arrives (as a cut network does).
      const losing = Object.create(db, {
        transaction: {
          value: async (fn: never) => {
            const result = await db.transaction(fn);
            if (++call === 2) throw new Error('Connection terminated unexpectedly');
            return result;
          },
        },
      }) as Db;
      const waits: number[] = [];
      const batcher = new ShotBatcher({ database: async () => losing, maxWaitMs: 0, maxReadings: 100, minBackoffMs: 10, onWaiting: (w) => waits.push(w.queued) });
      await batcher.add({ press: 'P01', counter: 100, at: at(1) }, system);
      const results = await batcher.add([{ press: 'P01', counter: 110, at: at(2) }, { tool: 'M-1001', shots: 5 }], system);
      assert.deepEqual(waits, [2], 'the lost answer was waited out once, the readings kept');
      assert.deepEqual(results.map((r) => [r.outcome, r.delta]), [['duplicate', 0], ['duplicate', 0]], 'the second try finds them stored');
      assert.equal(await lifetime(), 15, 'counted once: 10 from the counter, 5 by hand (stamped once, on arrival)');
      await batcher.close();
    });

    it('gives up on a failure that is neither an outage nor a rule after a few tries, message by message', async () => {
      let calls = 0;
      const broken = Object.create(db, {
        transaction: {
          value: async () => {
            calls++;
            throw new TypeError('a bug');
          },
        },
      }) as Db;
      const batcher = new ShotBatcher({ database: async () => broken, maxWaitMs: 50, maxReadings: 100, minBackoffMs: 5 });
      const outcomes = await Promise.allSettled([
        batcher.add({ press: 'P01', counter: 1, at: at(1) }, system),
        batcher.add({ press: 'P01', counter: 2, at: at(2) }, system),
      ]);
      assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected']);
      assert.match(String((outcomes[0] as PromiseRejectedResult).reason), /a bug/);
      assert.equal(calls, 3 + 3 + 3, 'three tries together, then three each');
      assert.equal(batcher.pending(), 0);
      await batcher.close();
    });

    it('refuses new readings once closing, and what it could not store by the deadline', async () => {
      const down = async (): Promise<Db> => {
        throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      };
      const batcher = new ShotBatcher({ database: down, maxWaitMs: 0, maxReadings: 100, minBackoffMs: 10 });
      const waiting = batcher.add({ press: 'P01', counter: 1, at: at(1) }, system);
      const closed = batcher.close(300);
      await assert.rejects(batcher.add({ press: 'P01', counter: 2 }, system), /closing/);
      await closed;
      await assert.rejects(waiting, /closed before the database could store/);
    });
  });
}
