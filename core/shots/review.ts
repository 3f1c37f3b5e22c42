import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { recordAudit } from '../audit/record';
import { audited } from '../audit/audited';
import { listPage } from '../db/page';
import { inTransaction } from '../db/transaction';
import { at, atOrNull, count, countOrNull, recordMapper } from '../db/record';
import type { ShotReadingTable } from '../db/tables';
import { conflict, notFound, ToolroomError } from '../errors';
import type { CounterConfig } from './counter';
import { enqueueShots } from '../outbox/shots';
import { pmTransitionsInTransaction } from '../pm/service';
import { parse, type Page } from '../validate';
import type { Outcome } from './counter';
import { addShots } from './lifetime';
import {
  acceptHeldReadingInput,
  listHeldReadingsInput,
  manualShotsInput,
  rejectHeldReadingInput,
  shotReadingInput,
  type AcceptResult,
  type HeldReading,
  type ManualShotsResult,
} from './schema';
import { recordReadingsInTransaction } from './service';

export type { AcceptResult, HeldReading, ManualShotsResult };

type Queryable = Knex | Knex.Transaction;

/** A shot reading row with its press's code and tool's asset number, as heldQuery selects it (counters as text). */
type HeldRow = Omit<ShotReadingTable, 'counter' | 'pending'> & {
  press_code: string | null;
  asset_number: string | null;
  counter: string | null;
  pending: string | null;
};

const held = recordMapper<HeldRow, HeldReading>({
  id: count('id'),
  source: 'source',
  at: at('at'),
  press: (r) => (r.press_id === null ? null : { id: r.press_id, code: r.press_code! }),
  tool: (r) => (r.tool_id === null ? null : { id: r.tool_id, assetNumber: r.asset_number! }),
  counter: 'counter',
  pending: countOrNull('pending'),
  delta: count('delta'),
  outcome: 'outcome',
  cycleTimeMs: 'cycle_time_ms',
  mouldId: 'mould_id',
  recordedAt: at('created_at'),
  reviewedAt: atOrNull('reviewed_at'),
  reviewedBy: 'reviewed_by',
  reviewNote: 'review_note',
});
const toHeld = held.toRecord;

function heldQuery(db: Queryable) {
  return db('shot_readings as r')
    .leftJoin('presses as p', 'p.id', 'r.press_id')
    .leftJoin('tools as t', 't.id', 'r.tool_id')
    .select(
      'r.id', 'r.source', 'r.at', 'r.press_id', 'p.code as press_code', 'r.tool_id', 't.asset_number',
      db.raw('r.counter::text AS counter'), db.raw('r.pending::text AS pending'), 'r.delta', 'r.outcome',
      'r.cycle_time_ms', 'r.mould_id', 'r.created_at', 'r.reviewed_at', 'r.reviewed_by', 'r.review_note',
    );
}

async function findReading(db: Queryable, id: number): Promise<HeldReading | undefined> {
  const row = (await heldQuery(db).where('r.id', id).first()) as HeldRow | undefined;
  return row ? toHeld(row) : undefined;
}

/** Held readings waiting for an engineer, oldest first (the review queue), of a press and/or a tool. */
export async function listHeldReadings(db: Knex, actor: Actor, input: unknown): Promise<Page<HeldReading>> {
  return listPage(db, actor, 'shot.review', listHeldReadingsInput, input, {
    rows: (db) => heldQuery(db).orderBy([{ column: 'r.at' }, { column: 'r.id' }]),
    count: (db) => db('shot_readings as r'),
    filter: (q, v) => {
      q.where('r.outcome', 'held');
      if (v.pressId !== undefined) q.where('r.press_id', v.pressId);
      if (v.toolId !== undefined) q.where('r.tool_id', v.toolId);
    },
    toItems: (rows: HeldRow[]) => rows.map(toHeld),
  });
}

/**
 * Lock a held reading for its review, in recordReadings' lock order: its source's counter state
 * first, then the reading. A reading reviewed already is a conflict: each is reviewed once.
 */
async function lockHeld(trx: Knex.Transaction, id: number): Promise<HeldReading> {
  const found = (await trx('shot_readings').where('id', id).first('source')) as { source: string } | undefined;
  if (!found) throw notFound('shot reading', id, 'id');
  await trx('counter_states').where('source', found.source).forUpdate().first('source');
  await trx('shot_readings').where('id', id).forUpdate().first('id');
  const reading = (await findReading(trx, id))!;
  if (reading.outcome !== 'held') {
    throw conflict(`shot reading ${id} is ${reading.outcome}, not held: it was reviewed already or never held`, 'id', 'held');
  }
  return reading;
}

/**
 * The counter state after a review. A held jump's counter waits in counter_states.held_counter
 * until the readings after it decide (core/shots/counter.ts): a plausible step from it confirms the
 * press is there, a plausible step from the trusted counter says it was a glitch. While the state
 * still holds this very jump, the review decides in their stead: accepting trusts it (the next
 * reading counts from the held counter), rejecting drops it (the next counts from the trusted one,
 * and a jump again is held again). Once later readings decided, the state is theirs and the review
 * only decides this reading's own shots.
 */
async function settleCounter(trx: Knex.Transaction, reading: HeldReading, accepted: boolean): Promise<void> {
  if (reading.counter === null) return;
  await trx('counter_states')
    .where('source', reading.source)
    .andWhere('held_counter', reading.counter)
    .update({ ...(accepted ? { last_counter: trx.ref('held_counter') } : {}), held_counter: null, updated_at: trx.fn.now() });
}

/**
 * Accept a held reading: its pending shots count for the tool it was attributed to, as a counted
 * reading's do (tool and active cavities, an outbox row for InfluxDB, PM transitions announced once).
 * Attributed to no tool (nothing was mounted), the reading keeps its shots as `unattributed`.
 */
export async function acceptHeldReading(db: Knex, actor: Actor, input: unknown): Promise<AcceptResult> {
  authorize(actor, 'shot.review');
  const v = parse(acceptHeldReadingInput, input);
  return inTransaction(db, async (trx) => {
    const before = await lockHeld(trx, v.id);
    if (before.pending === null) throw conflict(`shot reading ${v.id} does not say how many shots it held`, 'id', 'pending_known');
    if (!Number.isSafeInteger(before.pending)) throw conflict(`shot reading ${v.id} holds ${before.pending} shots: too many to count`, 'id', 'countable');
    let outcome: Outcome = 'unattributed';
    let lifetime: number | null = null;
    if (before.tool) {
      // Locked as addShots locks it, so nobody retires it in between.
      const { status } = (await trx('tools').where('id', before.tool.id).forNoKeyUpdate().first('status')) as { status: string };
      if (status === 'retired') throw conflict(`tool ${before.tool.assetNumber} is retired`, 'id', 'not_retired');
      lifetime = (await addShots(trx, new Map([[before.tool.id, before.pending]]))).get(before.tool.id)!.lifetimeShots;
      outcome = 'accepted';
    }
    await settleCounter(trx, before, true);
    await trx('shot_readings')
      .where('id', v.id)
      .update({ outcome, delta: before.pending, reviewed_at: trx.fn.now(), reviewed_by: actor.id, review_note: v.note });
    if (before.tool) {
      await enqueueShots(trx, [{
        tool: before.tool.assetNumber,
        press: before.press?.code ?? null,
        source: before.source,
        delta: before.pending,
        lifetime,
        cycleTimeMs: before.cycleTimeMs,
        at: before.at,
      }]);
    }
    const after = (await findReading(trx, v.id))!;
    await recordAudit(trx, actor, { action: 'shots.accept', entity: 'shot_reading', entityId: v.id, before, after: { ...after, lifetimeShots: lifetime } });
    const transitions = before.tool ? await pmTransitionsInTransaction(trx, actor, { toolIds: [before.tool.id] }) : [];
    return { reading: after, transitions };
  });
}

/** Reject a held reading: its shots never count; the reason stays on the reading and in the audit trail. */
export async function rejectHeldReading(db: Knex, actor: Actor, input: unknown): Promise<HeldReading> {
  authorize(actor, 'shot.review');
  const v = parse(rejectHeldReadingInput, input);
  return inTransaction(db, async (trx) => {
    const before = await lockHeld(trx, v.id);
    await settleCounter(trx, before, false);
    await trx('shot_readings')
      .where('id', v.id)
      .update({ outcome: 'rejected', reviewed_at: trx.fn.now(), reviewed_by: actor.id, review_note: v.reason });
    return audited(trx, actor, { action: 'shots.reject', entity: 'shot_reading', entityId: v.id, before }, findReading(trx, v.id));
  });
}

/**
 * An engineer's entry is the review: it counts as entered, never held (the jump limit guards a
 * counter's glitch; the schema bounds what one entry may add).
 */
const MANUAL_ENTRY: CounterConfig = { width: 'uint64', jumpLimit: 10_000_000 };

/**
 * A manual shot entry for a tool, by an engineer, with its reason (shot.review: changing a tool's
 * count by hand is the same judgement as accepting a held jump). It is recorded as any manual
 * reading is (the tool's and its cavities' lifetime, the outbox, PM transitions), marked reviewed
 * by the engineer with the reason, and audited as `shots.manual` with the reason.
 */
export async function enterManualShots(db: Knex, actor: Actor, input: unknown): Promise<ManualShotsResult> {
  authorize(actor, 'shot.review');
  const v = parse(manualShotsInput, input);
  const reading = parse(shotReadingInput, { tool: v.tool, shots: v.shots, at: v.at });
  return inTransaction(db, async (trx) => {
    const result = await recordReadingsInTransaction(trx, actor, [reading], MANUAL_ENTRY).catch((err: unknown) => {
      // The batch names the reading by its index; this entry is one reading, named by its own fields.
      if (!(err instanceof ToolroomError)) throw err;
      throw new ToolroomError(err.code, err.message, err.cause.details.map((d) => ({ ...d, field: d.field.replace(/^0\./, '') })));
    });
    const done = result.readings[0];
    if (done.outcome === 'duplicate') throw conflict(`a manual entry for tool ${done.assetNumber ?? v.tool} at ${done.at} exists already`, 'at', 'unique');
    const row = (await trx('shot_readings').where({ source: done.source, at: reading.at }).first('id')) as { id: number | string };
    const id = Number(row.id);
    await trx('shot_readings').where('id', id).update({ reviewed_at: trx.fn.now(), reviewed_by: actor.id, review_note: v.reason });
    const stored = (await findReading(trx, id))!;
    await recordAudit(trx, actor, {
      action: 'shots.manual',
      entity: 'shot_reading',
      entityId: id,
      after: { ...stored, reason: v.reason, lifetimeShots: done.lifetimeShots },
    });
    return { reading: stored, lifetimeShots: done.lifetimeShots!, transitions: result.transitions };
  });
}
