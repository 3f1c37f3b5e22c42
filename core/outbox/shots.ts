import type { Knex } from 'knex';
import { shotLine } from './lineProtocol';

/** The outbox topic of counted shot readings, on their way to InfluxDB. */
export const SHOTS_TOPIC = 'shots';
/** Where a point InfluxDB refuses for good (HTTP 400 on its own) is parked, kept for a person to look at. */
export const SHOTS_REJECTED_TOPIC = 'shots:rejected';

/** One counted reading as the `shots` measurement stores it. */
export interface ShotPoint {
  /** Asset number of the tool the shots went to; null when no tool was mounted. */
  tool: string | null;
  /** Press code; null for a reading against a tool directly. */
  press: string | null;
  source: string;
  delta: number;
  /** The tool's lifetime shots after this reading. */
  lifetime: number | null;
  cycleTimeMs: number | null;
  /** The reading's time; it is the point's timestamp. */
  at: string | Date;
}

/**
 * Add outbox rows for counted readings, inside the caller's transaction: the reading and its
 * point commit together, so InfluxDB being down loses nothing. Each row carries its point as a
 * ready line of line protocol in `line` (text, not jsonb: nothing to parse on insert or on drain).
 */
export async function enqueueShots(trx: Knex.Transaction, points: ShotPoint[]): Promise<void> {
  if (!points.length) return;
  const rows = points.map((p) => ({ topic: SHOTS_TOPIC, line: shotLine(p) }));
  // Chunked: one INSERT per 1,000 rows keeps the statement's parameters well under PostgreSQL's limit.
  for (let i = 0; i < rows.length; i += 1000) await trx('outbox').insert(rows.slice(i, i + 1000));
}
