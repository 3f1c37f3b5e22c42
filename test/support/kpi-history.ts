/**
 * A hand-built plant history for the KPI and Grafana tests: every number the tests expect is worked out
 * by hand from the rows below (comments beside them). Range of interest: 2026-01-01 to 2026-04-01 (UTC).
 *
 * Presses P1, P2. Tools: M-100 (customer Acme, expected 300,000 shots), M-200 (Bolt), M-300 (Acme, idle).
 * Mounts: M-100 on P1 Jan 1-31 (720 h), on P2 Feb 10-20 (240 h); M-200 on P2 Dec 20-Jan 5 (96 h in range),
 * on P1 Feb 1-Mar 1 (672 h). Shots (daily totals, median cycle time): M-100@P1 200,000 (10 s), M-100@P2
 * 50,000 (8 s), M-200@P1 60,000 (20 s), M-200@P2 10,000 (15 s); one reading before the range.
 * Failures: F1 M-100 EJ Jan 15 (repaired in 12 h), F2 M-100 EJ Jan 25 (48 h, two actions), F3 M-100 WL
 * Feb 15 (on P2, action done but not verified), F4 M-200 WL Feb 25 (closed after 6 h, no action),
 * F5 M-200 EJ May 1 (out of range), F6 M-300 WL Mar 10 (never mounted: no press). Two pending actions (one of
 * Mara Costa's, overdue since Mar 1). PM plans: see the comments at the end.
 */
import type { Knex } from 'knex';
import { createPlan, recordPm } from '../../core/pm/service';
import { createTool } from '../../core/tools/service';
import { resetData } from './db';
import { engineer, technician } from './actors';

export const RANGE = { from: '2026-01-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z' };

export interface KpiHistory {
  tools: Record<'A' | 'B' | 'C', number>;
  presses: Record<'P1' | 'P2', number>;
  plans: { aMixed: number; bDays: number; bShots: number };
}

const at = (s: string) => new Date(s);

export async function buildKpiHistory(db: Knex): Promise<KpiHistory> {
  await resetData(db);
  const A = await createTool(db, technician, { assetNumber: 'M-100', name: 'Door handle 4-cav', customer: 'Acme', cavityCount: 4, expectedLifetimeShots: 300_000 });
  const B = await createTool(db, technician, { assetNumber: 'M-200', name: 'Bezel', customer: 'Bolt', cavityCount: 2 });
  const C = await createTool(db, technician, { assetNumber: 'M-300', name: 'Clip', customer: 'Acme', cavityCount: 8 });
  // Registered long before the range (a tool registered after a range was not idle in it).
  await db('tools').update({ created_at: at('2025-01-01T00:00:00Z') });
  const [{ id: P1 }] = await db('presses').insert({ code: 'P1', name: 'Press 1' }).returning('id');
  const [{ id: P2 }] = await db('presses').insert({ code: 'P2', name: 'Press 2' }).returning('id');

  await db('tool_mounts').insert([
    { tool_id: B.id, press_id: P2, mounted_at: at('2025-12-20T00:00:00Z'), unmounted_at: at('2026-01-05T00:00:00Z'), mounted_by: 'test' },
    { tool_id: A.id, press_id: P1, mounted_at: at('2026-01-01T00:00:00Z'), unmounted_at: at('2026-01-31T00:00:00Z'), mounted_by: 'test' },
    { tool_id: B.id, press_id: P1, mounted_at: at('2026-02-01T00:00:00Z'), unmounted_at: at('2026-03-01T00:00:00Z'), mounted_by: 'test' },
    { tool_id: A.id, press_id: P2, mounted_at: at('2026-02-10T00:00:00Z'), unmounted_at: at('2026-02-20T00:00:00Z'), mounted_by: 'test' },
  ]);
  const reading = (tool: number, press: number | null, when: string, delta: number, cycle: number | null) => ({
    source: `manual:${tool}:${press}`, tool_id: tool, press_id: press, at: at(when), delta, outcome: 'manual', cycle_time_ms: cycle,
  });
  await db('shot_readings').insert([
    reading(A.id, null, '2025-12-31T23:00:00Z', 99_999, 9_000), // before the range
    reading(A.id, P1, '2026-01-10T00:00:00Z', 100_000, 10_000),
    reading(A.id, P1, '2026-01-20T00:00:00Z', 80_000, 10_000),
    reading(A.id, P1, '2026-01-30T00:00:00Z', 20_000, 12_000),
    reading(A.id, P1, '2026-01-30T12:00:00Z', 0, null), // a reading that counted nothing
    reading(A.id, P2, '2026-02-15T00:00:00Z', 50_000, 8_000),
    reading(B.id, P2, '2026-01-03T00:00:00Z', 10_000, 15_000),
    reading(B.id, P1, '2026-02-10T00:00:00Z', 30_000, 20_000),
    reading(B.id, P1, '2026-02-20T00:00:00Z', 30_000, 20_000),
  ]);

  const [{ id: EJ }] = await db('failure_codes').insert({ code: 'EJ', title: 'Broken ejector pin', component: 'ejector' }).returning('id');
  const [{ id: WL }] = await db('failure_codes').insert({ code: 'WL', title: 'Water leak', component: 'cooling' }).returning('id');
  const failure = async (tool: number, code: number, component: string, when: string, extra: Record<string, unknown> = {}) => {
    const [{ id }] = await db('failure_reports')
      .insert({ tool_id: tool, failure_code_id: code, severity: 'major', component, shot_count: 0, reported_by: 'test', reported_at: at(when), ...extra })
      .returning('id');
    return id as number;
  };
  const F1 = await failure(A.id, EJ, 'ejector', '2026-01-15T00:00:00Z');
  const F2 = await failure(A.id, EJ, 'ejector', '2026-01-25T00:00:00Z');
  const F3 = await failure(A.id, WL, 'cooling', '2026-02-15T00:00:00Z');
  await failure(B.id, WL, 'cooling', '2026-02-25T00:00:00Z', { status: 'closed', closed_at: at('2026-02-25T06:00:00Z') });
  await failure(B.id, EJ, 'ejector', '2026-05-01T00:00:00Z');
  await failure(C.id, WL, 'cooling', '2026-03-10T00:00:00Z');

  const action = (tool: number, f: number | null, kind: string, status: string, completed: string | null, verified: string | null, minutes: number | null, cost: number | null) => ({
    kind, title: `${kind} work`, tool_id: tool, failure_report_id: f, status, created_by: 'test',
    completed_at: completed && at(completed), verified_at: verified && at(verified), minutes_spent: minutes, cost,
  });
  const [{ id: mara }] = await db('users').insert({ username: 'mara.costa', display_name: 'Mara Costa', role: 'engineer' }).returning('id');
  await db('actions').insert([
    // Pending work: one unassigned, one of Mara's past its due date (neither counts as maintenance done).
    { ...action(A.id, null, 'corrective', 'in_progress', null, null, null, null), title: 'Check cooling circuit', assignee_id: mara, due_date: '2026-03-01' },
    action(A.id, F1, 'corrective', 'verified', '2026-01-15T10:00:00Z', '2026-01-15T12:00:00Z', 120, 200),
    action(A.id, F1, 'corrective', 'cancelled', null, null, null, null),
    action(A.id, F2, 'corrective', 'verified', '2026-01-25T20:00:00Z', '2026-01-26T00:00:00Z', 60, 80),
    action(A.id, F2, 'corrective', 'verified', '2026-01-26T10:00:00Z', '2026-01-27T00:00:00Z', 60, null),
    action(A.id, F3, 'corrective', 'done', '2026-02-16T00:00:00Z', null, 30, 25),
    action(B.id, null, 'preventive', 'done', '2026-02-21T00:00:00Z', null, 45, 0),
    action(B.id, null, 'corrective', 'open', null, null, null, null),
  ]);
  const [{ id: template }] = await db('inspection_templates').insert({ code: 'pm', name: 'PM', kind: 'preventive', items: '[]' }).returning('id');
  const inspection = (tool: number, kind: string, when: string, minutes: number, cost: number) => ({
    tool_id: tool, template_id: template, kind, outcome: 'pass', performed_at: at(when), performed_by: 'test', lifetime_shots: 0, minutes_spent: minutes, cost,
  });
  await db('inspections').insert([
    inspection(A.id, 'post_run', '2026-01-31T00:00:00Z', 30, 10),
    inspection(B.id, 'preventive', '2026-02-20T00:00:00Z', 90, 50.5),
  ]);

  // PMs through the service, so the trigger records how far along each plan was when it was done.
  const lifetime = (tool: number, shots: number) => db('tools').where('id', tool).update({ lifetime_shots: shots });
  const aMixed = await createPlan(db, engineer, { toolId: A.id, intervalShots: 100_000, intervalDays: 30, lastPmAt: '2025-12-20T00:00:00Z', lastPmLifetimeShots: 0 });
  await lifetime(A.id, 105_000);
  await recordPm(db, technician, { planId: aMixed.id, performedAt: '2026-01-15T00:00:00Z', notes: 'PM done' }); // 105 % of shots: on time
  await lifetime(A.id, 225_000);
  await recordPm(db, technician, { planId: aMixed.id, performedAt: '2026-01-28T00:00:00Z', notes: 'PM done' }); // 120 %: late
  await lifetime(A.id, 250_000);
  await recordPm(db, technician, { planId: aMixed.id, performedAt: '2026-02-25T00:00:00Z', notes: 'PM done' }); // 28 of 30 days: on time
  await lifetime(A.id, 290_000);
  const bDays = await createPlan(db, engineer, { toolId: B.id, intervalDays: 10, lastPmAt: '2026-01-01T00:00:00Z' });
  await recordPm(db, technician, { planId: bDays.id, performedAt: '2026-01-20T00:00:00Z', notes: 'PM done' }); // 19 of 10 days: late
  await lifetime(B.id, 70_000);
  const bShots = await createPlan(db, engineer, { toolId: B.id, intervalShots: 100_000, lastPmAt: '2026-02-01T00:00:00Z', lastPmLifetimeShots: 0 });

  return { tools: { A: A.id, B: B.id, C: C.id }, presses: { P1, P2 }, plans: { aMixed: aMixed.id, bDays: bDays.id, bShots: bShots.id } };
}
