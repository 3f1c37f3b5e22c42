/**
 * The demo mode of `npm start` (`--simulate` or TOOLROOM_SIMULATOR=1): the press simulator
 * (sim/press-simulator.ts) in the same process, serving presses P01..P06 with the moulds the
 * database says are mounted on them, so the application flows' press nodes count out of the box.
 */
import path from 'node:path';
import type { Db } from '../core/db/connect';
import { startPressSimulator, type PressSimulator, type SimulatedPressOptions } from '../sim/press-simulator';

export const DEMO_PRESSES = ['P01', 'P02', 'P03', 'P04', 'P05', 'P06'];

export interface DemoSimulatorOptions {
  port: number;
  cycleTimeMs: number;
  certificateRoot: string;
}

export function demoSimulatorOptions(env: NodeJS.ProcessEnv, dataDir: string): DemoSimulatorOptions {
  const whole = (name: string, fallback: number, min: number, max: number) => {
    const raw = env[name];
    const n = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`start: ${name} must be a whole number from ${min} to ${max}, not ${raw}`);
    return n;
  };
  return {
    port: whole('PRESS_SIM_PORT', 48400, 0, 65535),
    cycleTimeMs: whole('PRESS_SIM_CYCLE_MS', 5000, 0, 3_600_000),
    certificateRoot: path.join(dataDir, 'press-simulator-pki'),
  };
}

/**
 * Each demo press as the database has it: the mounted tool's asset number as MouldId ('' for
 * none) with its active cavities, and the machine counter where Toolroom last saw it, so a
 * restarted demo carries on counting instead of looking like a PLC reset.
 */
export async function demoPresses(db: Db, cycleTimeMs: number): Promise<SimulatedPressOptions[]> {
  const rows = (await db('presses as p')
    .leftJoin('tool_mounts as m', (j) => j.on('m.press_id', 'p.id').andOnNull('m.unmounted_at'))
    .leftJoin('tools as t', 't.id', 'm.tool_id')
    .whereIn('p.code', DEMO_PRESSES)
    .select(
      'p.code',
      't.asset_number',
      db.raw("(SELECT count(*) FROM tool_cavities c WHERE c.tool_id = t.id AND c.state = 'active')::int AS cavities"),
      db.raw(
        `(SELECT s.last_counter::text FROM counter_states s WHERE s.press_id = p.id AND s.source LIKE '%/MachineCycleCounter'
          AND s.last_counter IS NOT NULL ORDER BY s.updated_at DESC LIMIT 1) AS last_counter`,
      ),
    )) as { code: string; asset_number: string | null; cavities: number | null; last_counter: string | null }[];
  return DEMO_PRESSES.map((code, i) => {
    const row = rows.find((r) => r.code === code);
    return {
      name: code,
      mouldId: row?.asset_number ?? '',
      cavities: Math.max(1, row?.cavities ?? 1),
      cycleTimeMs,
      // A made-up machine history for a fresh demo; otherwise where it was.
      machineCycleCounter: row?.last_counter ? BigInt(row.last_counter) : BigInt(1_000_000 + i * 137_000),
    };
  });
}

export async function startDemoSimulator(db: Db, options: DemoSimulatorOptions): Promise<{ simulator: PressSimulator; presses: SimulatedPressOptions[] }> {
  const presses = await demoPresses(db, options.cycleTimeMs);
  const simulator = await startPressSimulator({ port: options.port, certificateRoot: options.certificateRoot, presses });
  return { simulator, presses };
}
