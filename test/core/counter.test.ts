import assert from 'node:assert/strict';
import {
  countReading,
  counterMax,
  counterWidthFor,
  COUNTING_OUTCOMES,
  OUTCOMES,
  type CounterConfig,
  type CounterState,
  type CounterValue,
  type Outcome,
} from '../../core/shots/counter';
import { shotReadingInput, shotReadingsInput } from '../../core/shots/schema';
import { parse } from '../../core/validate';
import { rejects } from '../support/expect';

// Pure semantics: no database, so no backends here (the service's suite runs these against both).

const t0 = Date.parse('2026-03-02T06:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000);
const fresh: CounterState = { lastCounter: null, lastAt: null, held: null };
const state = (lastCounter: CounterValue, s = 0, held: CounterValue | null = null): CounterState => ({
  lastCounter: BigInt(lastCounter),
  lastAt: at(s),
  held: held === null ? null : BigInt(held),
});
const u16: CounterConfig = { width: 'uint16', jumpLimit: 1000 };
const u32: CounterConfig = { width: 'uint32', jumpLimit: 1000 };
const u64: CounterConfig = { width: 'uint64', jumpLimit: 1000 };
const display: CounterConfig = { width: { decimal: 999_999 }, jumpLimit: 1000 };

/** Feed counter readings one second apart; returns each outcome and delta and the final state. */
function run(config: CounterConfig, counters: CounterValue[], start: CounterState = fresh) {
  let s = start;
  const out: [Outcome, number][] = [];
  counters.forEach((c, i) => {
    const r = countReading(s, { counter: c, at: at(i + 1) }, config);
    out.push([r.outcome, Number(r.delta)]);
    s = r.nextState;
  });
  return { out, state: s, total: out.reduce((n, [o, d]) => (COUNTING_OUTCOMES.includes(o) ? n + d : n), 0) };
}

describe('shot counter semantics', () => {
  const table: [string, CounterConfig, CounterState, CounterValue, Outcome, bigint, CounterValue | null][] = [
    // name, config, state before, counter, outcome, delta, lastCounter after
    ['first reading is the baseline', u32, fresh, 1234, 'baseline', 0n, 1234],
    ['an increase is a delta', u32, state(100), 105, 'counted', 5n, 105],
    ['an increase of exactly the jump limit counts', u32, state(100), 1100, 'counted', 1000n, 1100],
    ['the same counter again is a repeat', u32, state(100), 100, 'repeat', 0n, 100],
    ['a decrease is a reset counting from zero', u32, state(5000), 7, 'reset', 7n, 7],
    ['a reset to zero counts nothing yet', u32, state(5000), 0, 'reset', 0n, 0],
    ['UInt16 near-wrap decrease is a rollover (65534 → 3 = 5 shots)', u16, state(65534), 3, 'rollover', 5n, 3],
    ['UInt16 65535 → 0 is one shot', u16, state(65535), 0, 'rollover', 1n, 0],
    // Rollover boundary: (max - last) + 1 + new <= jumpLimit. 65535-64536+1+0 = 1000 → rollover; one less → reset.
    ['UInt16 rollover at exactly the jump limit', u16, state(64536), 0, 'rollover', 1000n, 0],
    ['UInt16 one shot past the limit across the wrap is a reset', u16, state(64535), 0, 'reset', 0n, 0],
    ['UInt16 old value near max but too far across the wrap: reset', u16, state(65000), 600, 'reset', 600n, 600],
    ['UInt32 rollover', u32, state(4_294_967_290), 4, 'rollover', 10n, 4],
    ['UInt32: a UInt16-sized wrap is a reset there', u32, state(65534), 3, 'reset', 3n, 3],
    ['UInt64 beyond 2^53 counts exactly', u64, state('9007199254740993'), '9007199254740999', 'counted', 6n, '9007199254740999'],
    ['UInt64 rollover', u64, state('18446744073709551614'), 3n, 'rollover', 5n, 3],
    ['UInt64 counter as bigint', u64, state(2n ** 60n), 2n ** 60n + 1n, 'counted', 1n, 2n ** 60n + 1n],
    ['decimal 999 999 display counter rollover', display, state(999_998), 2, 'rollover', 4n, 2],
    ['decimal display counter reset', display, state(500_000), 20, 'reset', 20n, 20],
    ['a jump above the limit is held, trusted counter stays', u32, state(100), 1101, 'held', 0n, 100],
    ['a reset to a value above the limit is held', u32, state(50_000), 4000, 'held', 0n, 50_000],
  ];
  for (const [name, config, before, counter, outcome, delta, after] of table) {
    it(name, () => {
      const r = countReading(before, { counter, at: at(10) }, config);
      assert.equal(r.outcome, outcome);
      assert.equal(r.delta, delta);
      assert.equal(r.nextState.lastCounter, after === null ? null : BigInt(after));
      assert.deepEqual(r.nextState.lastAt, at(10));
    });
  }

  it('a held jump tells what accepting it would add, and remembers the held counter', () => {
    const r = countReading(state(100), { counter: 50_100, at: at(10) }, u32);
    assert.equal(r.pending, 50_000n);
    assert.equal(r.nextState.held, 50_100n);
    const reset = countReading(state(50_000), { counter: 4000, at: at(10) }, u32);
    assert.equal(reset.pending, 4000n);
  });

  it('an out-of-order reading counts nothing and leaves the state as it was', () => {
    const before = state(500, 60);
    const r = countReading(before, { counter: 400, at: at(30) }, u32);
    assert.equal(r.outcome, 'out_of_order');
    assert.equal(r.delta, 0n);
    assert.deepEqual(r.nextState, before);
    // Even a plausible increase with an older time is out of order.
    assert.equal(countReading(before, { counter: 501, at: at(59) }, u32).outcome, 'out_of_order');
    // The same instant is not older.
    assert.equal(countReading(before, { counter: 501, at: at(60) }, u32).outcome, 'counted');
  });

  it('a repeat counts once: the shots are counted by the first reading only', () => {
    assert.deepEqual(run(u32, [10, 15, 15, 15, 18]).out, [['baseline', 0], ['counted', 5], ['repeat', 0], ['repeat', 0], ['counted', 3]]);
  });

  it('after a held jump, a plausible step from the held value counts from there (the press is there)', () => {
    const r = run(u32, [100, 60_000, 60_010, 60_015]);
    assert.deepEqual(r.out, [['baseline', 0], ['held', 0], ['counted', 10], ['counted', 5]]);
    assert.equal(r.state.held, null);
    assert.equal(r.total, 15);
  });

  it('after a held jump, a plausible step from the trusted value counts from that (the jump was a glitch)', () => {
    const r = run(u32, [100, 4_000_000_000, 103, 110]);
    assert.deepEqual(r.out, [['baseline', 0], ['held', 0], ['counted', 3], ['counted', 7]]);
    assert.equal(r.total, 10);
  });

  it('the held value repeated confirms nothing, and a reset after a held jump counts from zero', () => {
    const r = run(u32, [100, 60_000, 60_000, 4]);
    assert.deepEqual(r.out, [['baseline', 0], ['held', 0], ['repeat', 0], ['reset', 4]]);
    assert.equal(r.state.held, null);
  });

  it('a second jump while one is held is held too', () => {
    const r = run(u32, [100, 60_000, 90_000]);
    assert.deepEqual(r.out, [['baseline', 0], ['held', 0], ['held', 0]]);
    assert.equal(r.state.lastCounter, 100n);
    assert.equal(r.state.held, 90_000n);
  });

  it('counts a press exactly through wraps and job changes (total = cycles made)', () => {
    // A UInt16 job counter polled every 1..1000 cycles (the jump limit), wrapping at 65 536, reset by a
    // job change now and then. Not within a jump of the wrap: there a reset looks like a rollover, by the rule.
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31), seed % n);
    let counter = 60_000;
    let made = 0;
    let resets = 0;
    const readings: number[] = [counter];
    for (let i = 0; i < 3000; i++) {
      const cycles = 1 + rnd(1000);
      made += cycles;
      if (rnd(300) === 0 && counter < 65_536 - 1000) {
        counter = cycles - 1; // job change: the counter restarts at 0, then runs
        made -= 1; // ...and the restart itself is no cycle
        resets += 1;
      } else counter = (counter + cycles) % 65_536;
      readings.push(counter);
    }
    const r = run(u16, readings);
    assert.ok(resets > 10);
    assert.ok(r.out.filter(([o]) => o === 'rollover').length > 5);
    assert.ok(!r.out.some(([o]) => o === 'held'));
    assert.equal(r.total, made);
  });

  it('a held jump adds nothing until reviewed; the shots after it still count', () => {
    const r = run(u16, [0, 400, 800, 5, 600, 65_000, 65_530, 65_535, 4, 900, 0, 250]);
    assert.deepEqual(r.out.map(([o]) => o), ['baseline', 'counted', 'counted', 'reset', 'counted', 'held', 'counted', 'counted', 'rollover', 'counted', 'reset', 'counted']);
    assert.equal(r.total, 400 + 400 + 5 + 595 + 530 + 5 + 5 + 896 + 0 + 250);
  });

  it('manual entries count as given and leave the counter state untouched; a typed extra zero is held', () => {
    const before = state(500, 60);
    const m = countReading(before, { shots: 250, at: at(10) }, u32);
    assert.deepEqual([m.outcome, m.delta, m.nextState], ['manual', 250n, before]);
    const big = countReading(before, { shots: '25000', at: at(70) }, u32);
    assert.deepEqual([big.outcome, big.delta, big.pending, big.nextState], ['held', 0n, 25_000n, before]);
  });

  it('knows every width', () => {
    assert.equal(counterMax('uint16'), 65_535n);
    assert.equal(counterMax('uint32'), 4_294_967_295n);
    assert.equal(counterMax('uint64'), 18_446_744_073_709_551_615n);
    assert.equal(counterMax({ decimal: 999_999 }), 999_999n);
  });

  it('refuses a counter beyond its width, a bad width or jump limit, and unsafe numbers, naming the field', async () => {
    await rejects((async () => countReading(state(1), { counter: 70_000, at: at(5) }, u16))(), 'validation', 'counter', 'within_width');
    await rejects((async () => countReading(state(1), { counter: 1_000_000, at: at(5) }, display))(), 'validation', 'counter', 'within_width');
    await rejects((async () => countReading(state(1), { counter: 2 ** 60, at: at(5) }, u64))(), 'validation', 'counter', 'counter_value');
    await rejects((async () => countReading(state(1), { counter: -1, at: at(5) }, u32))(), 'validation', 'counter', 'counter_value');
    await rejects((async () => countReading(state(1), { counter: 2, at: at(5) }, { width: 'uint32', jumpLimit: 0 }))(), 'validation', 'jumpLimit', 'positive_integer');
    await rejects((async () => countReading(state(1), { counter: 2, at: at(5) }, { width: { decimal: 0 }, jumpLimit: 5 }))(), 'validation', 'width.decimal', 'positive_integer');
  });

  it('lists the outcomes the database allows', () => {
    assert.deepEqual([...OUTCOMES].sort(), ['accepted', 'baseline', 'counted', 'held', 'manual', 'out_of_order', 'rejected', 'repeat', 'reset', 'rollover', 'unattributed']);
  });
});

describe('shot reading validation', () => {
  const ok = (input: unknown) => parse(shotReadingInput, input);
  const bad = (input: unknown, field: string, rule: string | RegExp) => rejects((async () => ok(input))(), 'validation', field, rule);

  it('accepts the issue 4 message shape and fills the defaults', () => {
    const before = Date.now();
    const r = ok({ press: 'p-07', counter: 1234 });
    assert.equal(r.press, 'P-07');
    assert.equal(r.counter, 1234n);
    assert.equal(r.source, 'press:P-07');
    assert.ok(r.at.getTime() >= before && r.at.getTime() <= Date.now());
    assert.equal(r.shots, null);
    const full = ok({ press: 3, counter: '18446744073709551615', at: '2026-03-02T06:00:00Z', source: 'ns=2;s=P7.MachineCycleCounter', cycleTimeMs: 11800.4, mouldId: 'm-1001' });
    assert.deepEqual(full, {
      press: 3, tool: null, counter: 18_446_744_073_709_551_615n, shots: null, counterType: null, at: new Date('2026-03-02T06:00:00Z'),
      source: 'ns=2;s=P7.MachineCycleCounter', cycleTimeMs: 11800, mouldId: 'M-1001',
    });
    const manual = ok({ tool: 'm-1001', shots: 500 });
    assert.equal(manual.source, 'tool:M-1001:manual');
    assert.equal(manual.shots, 500n);
    assert.equal(ok({ press: 'P1', counter: 5n, mouldId: '' }).mouldId, null);
  });

  const invalid: [string, Record<string, unknown>, string, string | RegExp][] = [
    ['neither press nor tool', { counter: 1 }, 'press', 'required'],
    ['both press and tool', { press: 'P1', tool: 'M-1', counter: 1 }, 'tool', 'one_of'],
    ['neither counter nor shots', { press: 'P1' }, 'counter', 'required'],
    ['both counter and shots', { press: 'P1', counter: 1, shots: 1 }, 'shots', 'one_of'],
    ['negative counter', { press: 'P1', counter: -1 }, 'counter', 'non_negative_integer'],
    ['fractional counter', { press: 'P1', counter: 1.5 }, 'counter', 'non_negative_integer'],
    ['counter beyond 2^53 as a number', { press: 'P1', counter: 2 ** 60 }, 'counter', 'safe_integer'],
    ['counter with letters', { press: 'P1', counter: '12a' }, 'counter', 'digits'],
    ['counter beyond UInt64', { press: 'P1', counter: '18446744073709551616' }, 'counter', 'uint64'],
    ['counter of the wrong type', { press: 'P1', counter: true }, 'counter', /invalid_union/],
    ['zero shots', { tool: 'M-1', shots: 0 }, 'shots', 'positive'],
    ['negative shots', { tool: 'M-1', shots: -5 }, 'shots', 'non_negative_integer'],
    ['time in the future', { press: 'P1', counter: 1, at: new Date(Date.now() + 3_600_000).toISOString() }, 'at', 'not_in_future'],
    ['time that is no time', { press: 'P1', counter: 1, at: 'yesterday-ish' }, 'at', /invalid_type|custom|invalid_date/],
    ['press code with spaces', { press: 'P 1', counter: 1 }, 'press', /invalid_union|invalid_format/],
    ['press id zero', { press: 0, counter: 1 }, 'press', /invalid_union|too_small/],
    ['empty source', { press: 'P1', counter: 1, source: ' ' }, 'source', /too_small/],
    ['negative cycle time', { press: 'P1', counter: 1, cycleTimeMs: -1 }, 'cycleTimeMs', /too_small/],
    ['cycle time of a day and more', { press: 'P1', counter: 1, cycleTimeMs: 90_000_000 }, 'cycleTimeMs', /too_big/],
    ['mould id too long', { press: 'P1', counter: 1, mouldId: 'M'.repeat(41) }, 'mouldId', /too_big/],
    ['unknown field', { press: 'P1', counter: 1, value: 3 }, '', /unrecognized_keys/],
    ['a counter type with shots', { tool: 'M-1', shots: 5, counterType: 'UInt16' }, 'counterType', 'with_counter'],
  ];
  for (const [name, input, field, rule] of invalid) {
    it(`rejects ${name}, naming ${field || 'the input'} and the rule`, () => bad(input, field, rule));
  }

  it('validates a batch, naming the reading by its index', async () => {
    assert.equal(parse(shotReadingsInput, [{ press: 'P1', counter: 1 }, { press: 'P1', counter: 2 }]).length, 2);
    await rejects((async () => parse(shotReadingsInput, [{ press: 'P1', counter: 1 }, { press: 'P1', counter: -2 }]))(), 'validation', '1.counter', 'non_negative_integer');
    await rejects((async () => parse(shotReadingsInput, []))(), 'validation', '', /too_small/);
  });
});

describe("the counter's width from its OPC-UA data type", () => {
  const source = 'opc.tcp://press:4840#ns=4;i=6012';
  it('takes the data type unless the setting fixes a width; none reported: the setting, else UInt32', () => {
    assert.equal(counterWidthFor({ jumpLimit: 10 }, 'UInt16', source), 'uint16');
    assert.equal(counterWidthFor({ jumpLimit: 10 }, 'UInt32', source), 'uint32');
    assert.equal(counterWidthFor({ jumpLimit: 10 }, 'UInt64', source), 'uint64');
    assert.deepEqual(counterWidthFor({ jumpLimit: 10 }, 'Byte', source), { decimal: 255 });
    assert.equal(counterWidthFor({ width: 'uint32', jumpLimit: 10 }, 'UInt16', source), 'uint32');
    assert.equal(counterWidthFor({ jumpLimit: 10 }, null, source), 'uint32');
    assert.deepEqual(counterWidthFor({ width: { decimal: 999 }, jumpLimit: 10 }, null, source), { decimal: 999 });
  });

  for (const type of ['Double', 'Float', 'Int32', 'Int16', 'Int64', 'SByte', 'String']) {
    it(`refuses a ${type} counter whatever the setting, naming the counter's node id`, async () => {
      for (const config of [{ jumpLimit: 10 }, { width: 'uint64', jumpLimit: 10 }] as CounterConfig[]) {
        const err = await rejects((async () => counterWidthFor(config, type, source, '3.counterType'))(), 'validation', '3.counterType', 'unsigned_counter');
        assert.match(err.message, new RegExp(`${source.replace(/[.;=]/g, '.')} is ${type}`));
      }
    });
  }

  it('a UInt16 counter rolls over at 65535 when its width comes from its type', () => {
    const config: CounterConfig = { width: counterWidthFor({ jumpLimit: 100 }, 'UInt16', source), jumpLimit: 100 };
    const r = countReading({ lastCounter: 65530n, lastAt: new Date(1000) }, { counter: 3, at: new Date(2000) }, config);
    assert.deepEqual([r.outcome, r.delta], ['rollover', 9n]);
  });
});
