import assert from 'node:assert/strict';
import { OVERDUE_PERCENT, pmStatus, urgency, type PmStateInput } from '../../core/pm/state';

const DAY = 86_400_000;
const NOW = new Date('2026-03-01T12:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);

const shotsPlan = (shotsSinceLastPm: number, extra: Partial<PmStateInput> = {}) =>
  pmStatus({ intervalShots: 50_000, intervalDays: null, warningPercent: 90, shotsSinceLastPm, lastPmAt: NOW, now: NOW, ...extra });
const daysPlan = (elapsedMs: number, extra: Partial<PmStateInput> = {}) =>
  pmStatus({ intervalShots: null, intervalDays: 90, warningPercent: 90, shotsSinceLastPm: 0, lastPmAt: ago(elapsedMs), now: NOW, ...extra });

describe('PM state (pure)', () => {
  it('overdue starts at 110 % of the interval', () => {
    assert.equal(OVERDUE_PERCENT, 110);
  });

  describe('shots-only plan: every 50 000 shots, warning at 90 %', () => {
    const cases: [number, string, number][] = [
      [0, 'NOT_DUE', 0],
      [44_999, 'NOT_DUE', 89.9],
      [45_000, 'WARNING', 90],
      [49_999, 'WARNING', 99.9],
      [50_000, 'DUE', 100],
      [54_999, 'DUE', 109.9],
      [55_000, 'OVERDUE', 110],
      [200_000, 'OVERDUE', 400],
    ];
    for (const [shots, state, percent] of cases) {
      it(`${shots} shots since the PM is ${state} at ${percent} %`, () => {
        const s = shotsPlan(shots);
        assert.deepEqual([s.state, s.percent, s.shotsPercent, s.drivenBy], [state, percent, percent, 'shots']);
        assert.equal(s.remainingShots, 50_000 - shots);
        assert.equal(s.daysPercent, null);
        assert.equal(s.dueAt, null);
        assert.equal(s.remainingDays, null);
      });
    }

    it('reads the due point on the tool counter when the lifetime at the last PM is known', () => {
      assert.equal(shotsPlan(10, { lastPmLifetimeShots: 412_000 }).dueAtShots, 462_000);
      assert.equal(shotsPlan(10).dueAtShots, 50_000);
    });
  });

  describe('days-only plan: every 90 days, warning at 90 % (day 81)', () => {
    const cases: [string, number, string][] = [
      ['a millisecond before day 81', 81 * DAY - 1, 'NOT_DUE'],
      ['exactly day 81', 81 * DAY, 'WARNING'],
      ['a millisecond before day 90', 90 * DAY - 1, 'WARNING'],
      ['exactly day 90', 90 * DAY, 'DUE'],
      ['a millisecond before day 99', 99 * DAY - 1, 'DUE'],
      ['exactly day 99', 99 * DAY, 'OVERDUE'],
    ];
    for (const [label, elapsed, state] of cases) {
      it(`${label} is ${state}`, () => {
        const s = daysPlan(elapsed);
        assert.equal(s.state, state);
        assert.equal(s.drivenBy, 'days');
        assert.equal(s.shotsPercent, null);
        assert.equal(s.dueAtShots, null);
        assert.equal(s.remainingShots, null);
      });
    }

    it('gives the due date and the days left, negative once past', () => {
      const s = daysPlan(85 * DAY);
      assert.equal(s.dueAt, new Date(ago(85 * DAY).getTime() + 90 * DAY).toISOString());
      assert.deepEqual([s.daysSince, s.remainingDays, s.daysPercent], [85, 5, 94.4]);
      const late = daysPlan(100 * DAY + DAY / 2);
      assert.deepEqual([late.daysSince, late.remainingDays, late.state], [100.5, -10.5, 'OVERDUE']);
    });
  });

  describe('shots and days: whichever is further along decides', () => {
    const both = (shots: number, elapsedMs: number) =>
      pmStatus({ intervalShots: 50_000, intervalDays: 90, warningPercent: 90, shotsSinceLastPm: shots, lastPmAt: ago(elapsedMs), now: NOW });

    it('shots in warning, days early: WARNING by shots', () => {
      const s = both(47_500, 45 * DAY);
      assert.deepEqual([s.state, s.drivenBy, s.percent, s.shotsPercent, s.daysPercent], ['WARNING', 'shots', 95, 95, 50]);
    });

    it('shots early, days due: DUE by days', () => {
      const s = both(5_000, 90 * DAY);
      assert.deepEqual([s.state, s.drivenBy, s.percent], ['DUE', 'days', 100]);
    });

    it('shots overdue, days due: OVERDUE by shots', () => {
      const s = both(60_000, 95 * DAY);
      assert.deepEqual([s.state, s.drivenBy], ['OVERDUE', 'shots']);
    });

    it('both in warning: the larger fraction drives', () => {
      assert.equal(both(46_000, 89 * DAY).drivenBy, 'days');
      assert.equal(both(49_000, 82 * DAY).drivenBy, 'shots');
    });

    it('equally far along: shots drive', () => {
      const s = both(45_000, 81 * DAY);
      assert.deepEqual([s.state, s.drivenBy, s.percent], ['WARNING', 'shots', 90]);
    });

    it('zero elapsed is NOT_DUE at 0 %', () => {
      const s = both(0, 0);
      assert.deepEqual(
        [s.state, s.percent, s.shotsSince, s.daysSince, s.remainingShots, s.remainingDays, s.drivenBy],
        ['NOT_DUE', 0, 0, 0, 50_000, 90, 'shots'],
      );
    });
  });

  it('compares exactly: 57 of 100 shots is at a 57 % warning, though 57 / 100 * 100 < 57 in floating point', () => {
    assert.ok((57 / 100) * 100 < 57);
    const s = pmStatus({ intervalShots: 100, intervalDays: null, warningPercent: 57, shotsSinceLastPm: 57, lastPmAt: NOW, now: NOW });
    assert.deepEqual([s.state, s.percent], ['WARNING', 57]);
  });

  it('a warning at 100 % never warns; at 1 % it warns at the first percent', () => {
    assert.equal(shotsPlan(49_999, { warningPercent: 100 }).state, 'NOT_DUE');
    assert.equal(shotsPlan(50_000, { warningPercent: 100 }).state, 'DUE');
    assert.equal(shotsPlan(499, { warningPercent: 1 }).state, 'NOT_DUE');
    assert.equal(shotsPlan(500, { warningPercent: 1 }).state, 'WARNING');
  });

  it('counts a lowered counter or a last PM stamped in the future as zero elapsed', () => {
    const s = pmStatus({ intervalShots: 1000, intervalDays: 30, warningPercent: 90, shotsSinceLastPm: -20, lastPmAt: new Date(NOW.getTime() + 60_000), now: NOW });
    assert.deepEqual([s.state, s.shotsSince, s.daysSince, s.percent], ['NOT_DUE', 0, 0, 0]);
  });

  it('accepts the last PM as an ISO string', () => {
    assert.equal(daysPlan(0, { lastPmAt: ago(90 * DAY).toISOString() }).state, 'DUE');
  });

  it('refuses a plan with neither interval', () => {
    assert.throws(
      () => pmStatus({ intervalShots: null, intervalDays: null, warningPercent: 90, shotsSinceLastPm: 0, lastPmAt: NOW, now: NOW }),
      RangeError,
    );
  });

  it('orders states by urgency', () => {
    assert.deepEqual(['OVERDUE', 'NOT_DUE', 'DUE', 'WARNING'].map((s) => urgency(s as never)), [3, 0, 2, 1]);
  });
});
