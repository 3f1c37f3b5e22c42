import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { ToolroomError } from '../errors';
import { mountSpans } from '../mounts/repository';
import { remountInTransaction, type Remount } from '../mounts/service';
import type { ShotReading } from './schema';

/** A reading on its way through recordReadings: whom it counts for, and what its MouldId said. */
export interface Attributed {
  reading: ShotReading;
  pressId: number | null;
  pressCode: string | null;
  /** The tool the shots go to: the tool named by a manual entry, or the one mounted on the press at `at`. */
  toolId: number | null;
  /** Stored before, or earlier in this batch: counts nothing and moves nothing. */
  duplicate: boolean;
  /** The MouldId named no tool it could be attributed to (unknown, retired, or the remount was refused). */
  mouldMismatch: string | null;
}

/** Why a MouldId did not move a tool; kept for the batch's audit event. */
export interface MouldMismatch {
  press: string;
  mouldId: string;
  reason: string;
}

/**
 * Attribute readings (given in time order) to tools: a manual entry to its tool, a press reading to the
 * tool mounted on the press at its time (core/mounts' spans, one query for the batch). A reading
 * whose MouldId names another tool than the mounted one remounts the press at its time (audited,
 * by the recording actor), and it and the readings after it count for the named tool. The mount
 * rules are core/mounts' own: when they refuse (the swap would predate the current mount, the
 * press is inactive, ...), or the reading is not newer than what the press already counted (that
 * history stays as counted), or the MouldId names no tool, the reading counts for the mounted tool
 * and reports the mismatch. A tool moves at most once per batch: two presses claiming one mould do not ping-pong.
 */
export async function attribute(trx: Knex.Transaction, actor: Actor, work: Attributed[]): Promise<{ remounts: Remount[]; mismatches: MouldMismatch[] }> {
  const onPress = work.filter((w) => w.pressId !== null);
  const remounts: Remount[] = [];
  const mismatches: MouldMismatch[] = [];
  if (!onPress.length) return { remounts, mismatches };

  const pressIds = [...new Set(onPress.map((w) => w.pressId!))];
  const from = onPress[0].reading.at;
  const to = onPress[onPress.length - 1].reading.at;
  const assign = async () => {
    const toolAt = await mountSpans(trx, pressIds, from, to);
    for (const w of onPress) w.toolId = toolAt(w.pressId!, w.reading.at);
  };
  await assign();

  const claims = onPress.filter((w) => !w.duplicate && w.reading.mouldId !== null);
  if (!claims.length) return { remounts, mismatches };
  const named = new Map(
    ((await trx('tools').whereIn('asset_number', [...new Set(claims.map((w) => w.reading.mouldId!))]).select('id', 'asset_number', 'status')) as {
      id: number;
      asset_number: string;
      status: string;
    }[]).map((t) => [t.asset_number, t]),
  );
  let newest: Map<number, number> | undefined;
  const refused = new Map<string, string>();
  const moved = new Set<number>();
  const mismatch = (w: Attributed, reason: string) => {
    w.mouldMismatch = w.reading.mouldId;
    if (!mismatches.some((m) => m.press === w.pressCode && m.mouldId === w.reading.mouldId)) mismatches.push({ press: w.pressCode!, mouldId: w.reading.mouldId!, reason });
  };

  for (const w of claims) {
    const mouldId = w.reading.mouldId!;
    const tool = named.get(mouldId);
    if (!tool) { mismatch(w, 'no tool has this asset number'); continue; }
    if (tool.status === 'retired') { mismatch(w, `tool ${mouldId} is retired`); continue; }
    if (w.toolId === tool.id) continue;
    const key = `${w.pressId}:${tool.id}`;
    if (refused.has(key)) { mismatch(w, refused.get(key)!); continue; }
    if (moved.has(tool.id)) { mismatch(w, `tool ${mouldId} was moved to another press in this batch`); continue; }
    // Readings the press already counted keep their tool: a swap is only ever laid after them.
    newest ??= await newestReadings(trx, pressIds);
    const last = newest.get(w.pressId!);
    if (last !== undefined && last >= w.reading.at.getTime()) {
      refused.set(key, `press ${w.pressCode} has readings from ${new Date(last).toISOString()}, not before this one`);
      mismatch(w, refused.get(key)!);
      continue;
    }
    try {
      // A savepoint: a refused remount leaves nothing behind, and the batch goes on.
      const note = `MouldId ${mouldId} reported by press ${w.pressCode}`;
      remounts.push(await trx.transaction((sp) => remountInTransaction(sp, actor, { toolId: tool.id, pressId: w.pressId!, at: w.reading.at, note })));
      moved.add(tool.id);
      await assign();
    } catch (err) {
      if (!(err instanceof ToolroomError)) throw err;
      refused.set(key, err.message);
      mismatch(w, err.message);
    }
  }
  return { remounts, mismatches };
}

/** The newest reading time each press's counters have recorded (before this batch). */
async function newestReadings(trx: Knex.Transaction, pressIds: number[]): Promise<Map<number, number>> {
  const rows = (await trx('counter_states')
    .whereIn('press_id', pressIds)
    .whereNotNull('last_at')
    .groupBy('press_id')
    .select('press_id', trx.raw('max(last_at) AS last'))) as { press_id: number; last: Date | string }[];
  return new Map(rows.map((r) => [r.press_id, new Date(r.last).getTime()]));
}
