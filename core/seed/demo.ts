import type { Knex } from 'knex';
import { actorFromUser, systemActor, type Actor } from '../auth/actor';
import { createUser } from '../users/service';
import { createPress } from '../presses/service';
import { createTool, retireTool, updateTool } from '../tools/service';
import { mountTool, unmountTool } from '../mounts/service';
import { createPlan, recordPm } from '../pm/service';
import { POST_RUN_TEMPLATE } from '../inspections/seed';
import { recordInspection } from '../inspections/service';
import { reportFailure, triageFailure } from '../failures/service';
import { completeAction, createAction, startAction, verifyAction } from '../actions/service';
import { seedReferenceData } from './reference';
import { seededRandom } from './random';

/**
 * A realistic small plant for the quick start and demos: 6 presses, 40 moulds for five customers,
 * PM plans in every state, and six weeks of history (mounts, post-run inspections, failures and the
 * actions that followed), all written through the services as the plant's people, so the audit
 * trail reads like a real one. Deterministic: the same plant on every machine.
 */

export interface DemoSummary {
  users: number;
  presses: number;
  tools: number;
  mounts: number;
  pmPlans: number;
  inspections: number;
  failures: number;
  actions: number;
}

const DAY = 86_400_000;
const HISTORY_DAYS = 42;

const USERS = [
  { username: 'tina.berg', displayName: 'Tina Berg', role: 'technician' },
  { username: 'tomas.novak', displayName: 'Tomáš Novák', role: 'technician' },
  { username: 'kai.yilmaz', displayName: 'Kai Yilmaz', role: 'technician' },
  { username: 'lena.fischer', displayName: 'Lena Fischer', role: 'technician' },
  { username: 'erik.lund', displayName: 'Erik Lund', role: 'engineer' },
  { username: 'mara.costa', displayName: 'Mara Costa', role: 'engineer' },
] as const;

const PRESSES = [
  { code: 'P01', name: 'Engel victory 120', tonnage: 120, location: 'Hall 1, line A' },
  { code: 'P02', name: 'Arburg Allrounder 470 E', tonnage: 100, location: 'Hall 1, line A' },
  { code: 'P03', name: 'KraussMaffei CX 160', tonnage: 160, location: 'Hall 1, line B' },
  { code: 'P04', name: 'Engel e-mac 180', tonnage: 180, location: 'Hall 1, line B' },
  { code: 'P05', name: 'Sumitomo Demag IntElect 100', tonnage: 100, location: 'Hall 2, cleanroom' },
  { code: 'P06', name: 'Haitian Mars III 250', tonnage: 250, location: 'Hall 2' },
] as const;

// Customer, product family, typical cavities and SPI class: the mix of an automotive/medical/packaging moulder.
const FAMILIES = [
  { customer: 'Acme Automotive', names: ['Door handle bezel', 'Vent louvre', 'Switch cap', 'Cable clip', 'Sensor housing'], cavities: [2, 4, 8], spi: [102, 103] },
  { customer: 'Beta Medical', names: ['Syringe barrel', 'Luer cap', 'Inhaler body', 'Test-tube rack'], cavities: [8, 16, 32], spi: [101, 102] },
  { customer: 'Nordic Appliances', names: ['Fan blade', 'Knob', 'Filter frame', 'Hinge cover'], cavities: [1, 2, 4], spi: [102, 103] },
  { customer: 'Vela Packaging', names: ['Flip-top closure', 'Jar lid', 'Tamper band'], cavities: [16, 24, 32], spi: [101] },
  { customer: 'Orbit Electronics', names: ['Connector shell', 'Battery cover', 'Lens holder'], cavities: [2, 4], spi: [103, 104] },
] as const;

const TOOLMAKERS = ['Formenbau Müller', 'Stampi Rossi', 'Precision Moulds Ltd', 'Ningbo Mould Tech', 'in-house toolroom'];
const EXPECTED_LIFETIME: Record<number, number> = { 101: 2_000_000, 102: 1_000_000, 103: 500_000, 104: 100_000, 105: 10_000 };

/** True when the database already holds a plant (tools): a second start never seeds again. */
export async function isSeeded(db: Knex): Promise<boolean> {
  const row = await db('tools').first('id');
  return row !== undefined;
}

export async function seedDemoPlant(db: Knex, options: { now?: Date } = {}): Promise<DemoSummary> {
  const now = options.now ?? new Date();
  const rnd = seededRandom(20261126);
  const seed = systemActor('seed');
  await seedReferenceData(db);

  const people: Actor[] = [];
  for (const u of USERS) people.push(actorFromUser(await createUser(db, seed, u), 'seed'));
  const technicians = people.filter((p) => p.role === 'technician');
  const engineers = people.filter((p) => p.role === 'engineer');

  const presses = [];
  for (const p of PRESSES) {
    presses.push(await createPress(db, engineers[0], { ...p, opcuaEndpoint: 'opc.tcp://127.0.0.1:48400' }));
  }

  // 40 tools: an opening shot count (moulds arrive in service), some blocked cavities.
  const tools = [];
  for (let i = 0; i < 40; i++) {
    const family = FAMILIES[i % FAMILIES.length];
    const name = family.names[Math.floor(i / FAMILIES.length) % family.names.length];
    const cavityCount = rnd.pick(family.cavities);
    const spiClass = rnd.pick(family.spi);
    const expected = EXPECTED_LIFETIME[spiClass];
    const blocked = cavityCount >= 8 && rnd.chance(0.2) ? [{ number: rnd.int(1, cavityCount), reason: rnd.pick(['cracked insert, awaiting repair', 'gate freeze-off', 'core pin broken']) }] : [];
    tools.push(
      await createTool(db, rnd.pick(technicians), {
        assetNumber: `M-${String(1001 + i)}`,
        name: `${name} ${cavityCount}-cav`,
        partNumbers: [`${family.customer.slice(0, 3).toUpperCase()}-${4000 + i * 7}`],
        customer: family.customer,
        owner: i % 4 === 0 ? family.customer : 'Plant',
        toolmaker: rnd.pick(TOOLMAKERS),
        year: rnd.int(2012, 2025),
        spiClass,
        cavityCount,
        hotRunnerZones: cavityCount >= 8 ? cavityCount + 1 : rnd.pick([0, 0, 2, 4]),
        expectedLifetimeShots: expected,
        lifetimeShots: Math.round(expected * (0.05 + rnd.next() * 0.7)),
        location: `Rack ${String.fromCharCode(65 + (i % 6))}${1 + (i % 5)}`,
        blockedCavities: blocked,
      }),
    );
  }

  // Six weeks of production: each press runs a tool for 1–6 days, then the tool comes off
  // with a post-run inspection; now and then an item fails and raises an action.
  let mounts = 0;
  let inspections = 0;
  // Simulated in time order across presses, so a tool is only mounted once it is off its last press.
  const freeAt = new Map(tools.slice(0, 30).map((t) => [t.id, 0]));
  const pressAt = presses.map((_, pi) => now.getTime() - HISTORY_DAYS * DAY + pi * 3_600_000);
  const running = new Set<number>();
  for (;;) {
    const candidates = presses.map((_, pi) => pi).filter((pi) => !running.has(pi) && pressAt[pi] < now.getTime() - DAY);
    if (candidates.length === 0) break;
    const pi = candidates.reduce((a, b) => (pressAt[a] <= pressAt[b] ? a : b));
    const t = pressAt[pi];
    const free = [...freeAt].filter(([, at]) => at <= t).map(([id]) => id);
    if (free.length === 0) {
      pressAt[pi] = t + 6 * 3_600_000;
      continue;
    }
    const toolId = rnd.pick(free);
    const who = rnd.pick(technicians);
    await mountTool(db, who, { toolId, pressId: presses[pi].id, at: new Date(t) });
    mounts++;
    const end = t + rnd.int(1, 6) * DAY;
    if (end >= now.getTime() - 2 * 3_600_000 && pi < 5) {
      running.add(pi); // still running now
      freeAt.delete(toolId);
      continue;
    }
    const off = new Date(Math.min(end, now.getTime() - 3_600_000));
    await unmountTool(db, who, { toolId, at: off, status: 'in_store' });
    const failedItem = rnd.chance(0.15) ? rnd.pick(POST_RUN_TEMPLATE.items.filter((it) => it.failureCode)) : undefined;
    await recordInspection(db, who, {
      toolId,
      templateCode: POST_RUN_TEMPLATE.code,
      performedAt: new Date(off.getTime() + 20 * 60_000),
      results: POST_RUN_TEMPLATE.items.map((item) => ({
        itemKey: item.key,
        result: item === failedItem ? 'fail' : item.key === 'hot_runner_zones' && rnd.chance(0.3) ? 'na' : 'pass',
        ...(item === failedItem ? { note: 'found at last-shot check', severity: rnd.pick(['minor', 'major'] as const) } : {}),
      })),
      minutesSpent: rnd.int(20, 55),
      findings: failedItem ? `${failedItem.label}: not OK` : null,
    });
    inspections++;
    freeAt.set(toolId, off.getTime() + DAY); // cleaned and back on the rack the next day
    pressAt[pi] = off.getTime() + rnd.int(2, 10) * 3_600_000;
  }

  // Failures reported during production, some triaged with a root cause and an action.
  let failures = 0;
  let actions = 0;
  const failureSamples = [
    { failureCode: 'EJ-PIN-BROKEN', description: 'Ejector pin broken at cavity, part hanging on core' },
    { failureCode: 'CL-WATER-LEAK', description: 'Water dripping at the fixed half, O-ring suspected' },
    { failureCode: 'HR-ZONE-FAILURE', description: 'Zone 3 does not reach set point, short shots on that drop' },
    { failureCode: 'PL-WORN-FLASH', description: 'Flash along the parting line on the latch side' },
    { failureCode: 'SL-GALLING', description: 'Slide squeaks and leaves marks on the part' },
  ];
  for (let i = 0; i < 14; i++) {
    const tool = tools[rnd.int(0, 29)];
    const sample = failureSamples[i % failureSamples.length];
    const report = await reportFailure(db, rnd.pick(technicians), {
      toolId: tool.id,
      ...sample,
      cavity: tool.cavityCount > 1 ? rnd.int(1, tool.cavityCount) : null,
      reportedAt: new Date(now.getTime() - rnd.int(1, HISTORY_DAYS - 1) * DAY),
    });
    failures++;
    if (i % 3 !== 0) {
      const engineer = rnd.pick(engineers);
      await triageFailure(db, engineer, {
        id: report.id,
        status: 'investigating',
        rootCause: 'Why 1: part sticks. Why 2: draft worn. Why 3: no polish at last PM. Action: repolish and add to PM checklist.',
      });
      const action = await createAction(db, engineer, {
        kind: 'corrective',
        title: `Repair: ${sample.description.split(',')[0]}`,
        toolId: tool.id,
        failureReportId: report.id,
        assigneeId: Number(rnd.pick(technicians).id),
        dueDate: new Date(now.getTime() + rnd.int(0, 10) * DAY).toISOString().slice(0, 10),
      });
      actions++;
      if (i % 3 === 2) {
        const assignee = people.find((p) => p.id === String(action.assigneeId))!;
        const started = await startAction(db, assignee, { id: action.id });
        const done = await completeAction(db, assignee, { id: started.id, resolution: 'Replaced and tested on the bench' });
        await verifyAction(db, engineer, { id: done.id });
      }
    }
  }
  // A preventive action nobody has picked up yet, for the "unassigned" list.
  await createAction(db, engineers[0], {
    kind: 'preventive',
    title: 'Check all hot-runner thermocouples on 32-cavity tools',
    toolId: tools[3].id,
    dueDate: new Date(now.getTime() + 14 * DAY).toISOString().slice(0, 10),
  });
  actions++;

  // PM plans in every state: shots plans sized to the tool, a calendar plan on the medical tools.
  let pmPlans = 0;
  for (const [i, tool] of tools.entries()) {
    const intervalShots = tool.cavityCount >= 16 ? 100_000 : tool.spiClass === 104 ? 20_000 : 50_000;
    const progress = [0.3, 0.6, 0.85, 0.92, 0.97, 1.02, 1.15][i % 7];
    const plan = await createPlan(db, engineers[i % 2], {
      toolId: tool.id,
      name: 'Preventive maintenance',
      intervalShots,
      intervalDays: tool.customer === 'Beta Medical' ? 90 : null,
      warningPercent: 90,
      lastPmAt: new Date(now.getTime() - rnd.int(10, 80) * DAY),
      lastPmLifetimeShots: Math.max(0, tool.lifetimeShots - Math.round(intervalShots * progress)),
    });
    pmPlans++;
    if (i % 11 === 5) await recordPm(db, rnd.pick(technicians), { planId: plan.id, notes: 'PM done in the toolroom, vents and ejectors serviced' });
  }

  // Tools away from the press: in maintenance, at the toolmaker, one retired.
  await updateTool(db, technicians[0], { id: tools[31].id, status: 'in_maintenance', location: 'Toolroom bench 2' });
  await updateTool(db, engineers[0], { id: tools[32].id, status: 'at_toolmaker', location: 'Formenbau Müller' });
  await retireTool(db, engineers[1], { id: tools[39].id, reason: 'Programme ended, tool scrapped after customer release' });

  return { users: people.length, presses: presses.length, tools: tools.length, mounts, pmPlans, inspections, failures, actions };
}
