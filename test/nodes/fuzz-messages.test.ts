import assert from 'node:assert/strict';
import { systemActor } from '../../core/auth/actor';
import type { Db } from '../../core/db/connect';
import { seedFailureCatalog } from '../../core/failures/seed';
import { reportFailure } from '../../core/failures/service';
import { seedInspectionTemplates, POST_RUN_TEMPLATE } from '../../core/inspections/seed';
import { mountTool } from '../../core/mounts/service';
import { createPlan } from '../../core/pm/service';
import { createPress } from '../../core/presses/service';
import { createTool } from '../../core/tools/service';
import { createAction } from '../../core/actions/service';
import { createUser } from '../../core/users/service';
import { seededRandom } from '../../core/seed/random';
import type { NodeMessage } from '../../nodes/lib/red';
import { uploadPhoto } from '../../core/photos/service';
import { PhotoStore } from '../../core/photos/store';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jpeg } from '../support/images';
import { resetData, tableCounts } from '../support/db';
import { catchTo, configNode, exchange, helper, holdDatabase, nodeBackends, statusUntil } from '../support/nodes';

/* eslint-disable @typescript-eslint/no-require-imports */
const nodeModules = ['tool', 'mount', 'pm', 'inspection', 'failure', 'action', 'photo'].map((n) => require(`../../nodes/toolroom-${n}`));
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * Malformed messages into every write operation of the record nodes, as a flow or a crafted
 * dashboard message could send them: wrong types, missing fields, huge strings, NUL, unicode,
 * SQL and script fragments, prototype keys, forged users. Each must come out at the Catch node as
 * a validation error naming the field, the runtime must go on, and nothing may be written.
 * The generator is seeded (FUZZ_SEED to replay a run; the seed is printed).
 */

const MESSAGES_PER_BACKEND = Number(process.env.FUZZ_MESSAGES || 2000);

type Kind = 'text' | 'enum' | 'int' | 'id' | 'date' | 'day' | 'bool' | 'array';
/** A field of a case: its kind, and `!` when required (then dropping it or null is wrong too). */
type FieldSpec = `${Kind}` | `${Kind}!`;

interface Case {
  node: 'tool' | 'mount' | 'pm' | 'inspection' | 'failure' | 'action' | 'photo';
  topic: string;
  valid: () => Record<string, unknown>;
  fields: Record<string, FieldSpec>;
}

const HUGE = 'x'.repeat(1_000_000);
const SQL = ["'; DROP TABLE tools; --", "1 OR 1=1", "' UNION SELECT password_hash FROM users --", '$1; DELETE FROM audit_events'];
const SCRIPT = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', '{{constructor.constructor("x")()}}'];
const UNICODE = ['ＭＡＪＯＲ', '١٢٣', 'ma\u200bjor', '\u202emajor', '😀', 'major\u0000'];

/** Values no field of the kind accepts. */
const BAD: Record<Kind, unknown[]> = {
  text: [{}, [], true, 12, HUGE, 'a\u0000b', { $ne: null }],
  enum: [...SQL, ...SCRIPT, ...UNICODE, '', 7, {}, [], true],
  int: ['12; DROP TABLE tools', 'abc', '', true, {}, [], 1.5, Infinity, NaN, -Infinity, '1e3', ...SCRIPT],
  id: ['1 OR 1=1', true, [1], {}, -3, 0, 1.5, '١', '0x10', ' ', 'null', NaN, ...SQL],
  date: [true, 'yesterday', '2026-13-45T00:00:00Z', {}, [], "'; DROP TABLE tools; --", '7', 'NaN', NaN, Infinity],
  day: [true, 'tomorrow', '2026-02-30', 20261126, {}, [], ...SQL],
  bool: ['yes', 1, 'true', {}, [], 'false'],
  array: ['not a list', {}, 5, true, HUGE],
};

interface Mutation {
  describe: string;
  payload: unknown;
  msgExtra?: Partial<NodeMessage>;
  /** The field the error must name ('' = the input as a whole); a RegExp for the message instead. */
  field: string;
  rule?: RegExp;
}

function set(obj: Record<string, unknown>, path: string, value: unknown, drop = false): void {
  const keys = path.split('.');
  let at: Record<string, unknown> = obj;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  const last = keys.at(-1)!;
  if (drop) delete at[last];
  else at[last] = value;
}

function mutate(c: Case, rand: () => number): Mutation {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const roll = rand();
  const payload = c.valid();
  if (roll < 0.08) {
    // The whole payload of the wrong kind.
    return { describe: 'payload of the wrong type', payload: pick(['a string', 42, [payload], true, SQL[0], HUGE]), field: '' };
  }
  if (roll < 0.16) {
    // A key no operation knows: strict schemas refuse it, whatever it is called.
    const key = pick(['__proto__', 'constructor', 'prototype', "x'; DROP TABLE tools; --", '<script>', 'id ', 'ÿ', 'version\u0000']);
    const withKey = JSON.parse(JSON.stringify(payload)) as Record<string, unknown>;
    Object.defineProperty(withKey, key, { value: { polluted: true }, enumerable: true, configurable: true, writable: true });
    return { describe: `unknown key ${JSON.stringify(key)}`, payload: withKey, field: '', rule: /^(unrecognized_keys|no_nul)$/ };
  }
  if (roll < 0.22) {
    // A forged or malformed user: the actor must be a well-formed user, never the system by accident.
    const forged = pick<[string, Partial<NodeMessage>]>([
      ['user', { user: { id: {}, role: 'admin' } }],
      ['user', { user: 'admin' }],
      ['user', { user: { id: 1, role: 'superuser' } }],
      ['_client.user', { _client: { user: { id: 1, role: 'root', username: 'x' } } }],
      ['_client.user', { _client: { user: { id: [], role: 'engineer' } } }],
      ['_client.user', { _client: { user: {} } }],
    ]);
    return { describe: `forged ${forged[0]}`, payload, msgExtra: forged[1], field: forged[0] };
  }
  const fields = Object.entries(c.fields);
  const [field, spec] = pick(fields);
  const kind = spec.replace('!', '') as Kind;
  const required = spec.endsWith('!');
  if (required && rand() < 0.25) {
    if (rand() < 0.5) {
      set(payload, field, undefined, true);
      return { describe: `${field} missing`, payload, field };
    }
    set(payload, field, null);
    return { describe: `${field} null`, payload, field };
  }
  const value = pick(BAD[kind]);
  set(payload, field, value);
  const shown = typeof value === 'string' && value.length > 40 ? `${value.length} characters` : JSON.stringify(value) ?? String(value);
  return { describe: `${field} = ${shown}`, payload, field };
}

for (const backend of nodeBackends) {
  describe(`record nodes under malformed messages [${backend.name}]`, function () {
    this.timeout(180000);
    const held = holdDatabase(backend);
    let db: Db;

    it(`refuse ${MESSAGES_PER_BACKEND} malformed messages naming the field, write nothing and keep running`, async () => {
      db = held.db();
      await resetData(db);
      const system = systemActor('fuzz');
      await seedFailureCatalog(db);
      await seedInspectionTemplates(db);
      await createPress(db, system, { code: 'P01', name: 'Press 1' });
      await createPress(db, system, { code: 'P02', name: 'Press 2' });
      const tool = await createTool(db, system, { assetNumber: 'M-1001', name: 'Door handle', cavityCount: 4 });
      await createTool(db, system, { assetNumber: 'M-1002', name: 'Bezel', cavityCount: 2 });
      await mountTool(db, system, { assetNumber: 'M-1001', pressCode: 'P01', at: new Date(Date.now() - 3_600_000).toISOString() });
      const plan = await createPlan(db, system, { assetNumber: 'M-1001', name: 'Every 50k', intervalShots: 50_000 });
      const failure = await reportFailure(db, system, { toolId: tool.id, failureCode: 'CL-WATER-LEAK' });
      const tina = await createUser(db, system, { username: 'tina.tech', displayName: 'Tina', role: 'technician' });
      const action = await createAction(db, system, { toolId: tool.id, title: 'Fix the leak', assigneeId: tina.id });
      // A photo to aim at (its files in a directory of this test's own: no malformed message reaches them).
      const photoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-fuzz-photos-'));
      const photoStore = new PhotoStore(path.join(photoDir, 'photos'), path.join(photoDir, 'photo.key'));
      const photo = await uploadPhoto(db, system, { failureReportId: failure.id }, await jpeg(64, 48), { store: photoStore });
      after(() => fs.rmSync(photoDir, { recursive: true, force: true }));

      const passAll = () => POST_RUN_TEMPLATE.items.map((i) => ({ itemKey: i.key, result: 'pass' }));
      const cases: Case[] = [
        {
          node: 'tool',
          topic: 'create',
          valid: () => ({ assetNumber: 'M-2001', name: 'Fuzz', cavityCount: 4, customer: 'ACME', year: 2020, spiClass: 102, status: 'in_store', partNumbers: ['P-1'] }),
          fields: { assetNumber: 'text!', name: 'text!', cavityCount: 'int!', customer: 'text', year: 'int', spiClass: 'int', status: 'enum', partNumbers: 'array' },
        },
        {
          node: 'tool',
          topic: 'update',
          valid: () => ({ id: tool.id, name: 'Renamed', location: 'Rack 4', hotRunnerZones: 2 }),
          fields: { id: 'id!', name: 'text', location: 'text', hotRunnerZones: 'int' },
        },
        { node: 'tool', topic: 'retire', valid: () => ({ id: tool.id, reason: 'worn out' }), fields: { id: 'id!', reason: 'text!' } },
        {
          node: 'mount',
          topic: 'mount',
          valid: () => ({ assetNumber: 'M-1002', pressCode: 'P02', note: 'job 7' }),
          fields: { assetNumber: 'text', pressCode: 'text', at: 'date', note: 'text' },
        },
        {
          node: 'mount',
          topic: 'unmount',
          valid: () => ({ assetNumber: 'M-1001', status: 'in_maintenance' }),
          fields: { assetNumber: 'text', status: 'enum', at: 'date', note: 'text' },
        },
        {
          node: 'pm',
          topic: 'create',
          valid: () => ({ assetNumber: 'M-1002', name: 'Fuzz PM', intervalShots: 40_000, intervalDays: 90, warningPercent: 85 }),
          fields: { name: 'text', intervalShots: 'int', intervalDays: 'int', warningPercent: 'int', active: 'bool', lastPmAt: 'date' },
        },
        {
          node: 'pm',
          topic: 'update',
          valid: () => ({ id: plan.id, intervalShots: 60_000, active: true }),
          fields: { id: 'id!', intervalShots: 'int', active: 'bool', name: 'text', version: 'int' },
        },
        {
          node: 'pm',
          topic: 'record',
          valid: () => ({ planId: plan.id, notes: 'greased' }),
          fields: { planId: 'id!', performedAt: 'date', notes: 'text', inspectionId: 'id' },
        },
        {
          node: 'inspection',
          topic: 'record',
          valid: () => ({ assetNumber: 'M-1001', templateCode: 'post-run', results: passAll(), minutesSpent: 12, findings: 'clean' }),
          fields: {
            results: 'array!',
            'results.0.result': 'enum!',
            'results.0.itemKey': 'text!',
            'results.1.cavity': 'int',
            minutesSpent: 'int',
            findings: 'text',
            kind: 'enum',
            performedAt: 'date',
            spareParts: 'array',
          },
        },
        {
          node: 'failure',
          topic: 'report',
          valid: () => ({ toolId: tool.id, failureCode: 'EJ-PIN-BROKEN', severity: 'major', cavity: 2, description: 'pin 7' }),
          fields: { toolId: 'id!', failureCode: 'text!', severity: 'enum', component: 'enum', cavity: 'int', description: 'text', reportedAt: 'date' },
        },
        {
          node: 'failure',
          topic: 'triage',
          valid: () => ({ id: failure.id, status: 'investigating', rootCause: 'o-ring aged' }),
          fields: { id: 'id!', status: 'enum', severity: 'enum', rootCause: 'text', version: 'int' },
        },
        {
          node: 'action',
          topic: 'create',
          valid: () => ({ toolId: tool.id, title: 'Check pins', kind: 'preventive', assigneeId: tina.id }),
          fields: { toolId: 'id!', title: 'text!', kind: 'enum', description: 'text', assigneeId: 'id', dueDate: 'day', failureReportId: 'id' },
        },
        { node: 'action', topic: 'assign', valid: () => ({ id: action.id, assigneeId: tina.id }), fields: { id: 'id!', assigneeId: 'id', version: 'int' } },
        { node: 'action', topic: 'start', valid: () => ({ id: action.id }), fields: { id: 'id!', version: 'int' } },
        { node: 'action', topic: 'complete', valid: () => ({ id: action.id, resolution: 'replaced the o-ring' }), fields: { id: 'id!', resolution: 'text!', version: 'int' } },
        { node: 'action', topic: 'cancel', valid: () => ({ id: action.id, reason: 'duplicate' }), fields: { id: 'id!', reason: 'text!', version: 'int' } },
        // capture: every message here is malformed, so none reaches the camera command.
        { node: 'photo', topic: 'capture', valid: () => ({ toolId: tool.id, caption: 'after the run' }), fields: { toolId: 'id!', caption: 'text' } },
        {
          node: 'photo',
          topic: 'annotate',
          valid: () => ({ id: photo.id, annotations: [{ kind: 'arrow', from: { x: 0.1, y: 0.1 }, to: { x: 0.5, y: 0.5 }, colour: '#ff0000' }] }),
          fields: { id: 'id!', annotations: 'array!', 'annotations.0.kind': 'enum', 'annotations.0.colour': 'enum', 'annotations.0.from.x': 'int', version: 'int' },
        },
        { node: 'photo', topic: 'withdraw', valid: () => ({ id: photo.id, reason: 'wrong tool' }), fields: { id: 'id!', reason: 'text!', version: 'int' } },
      ];

      const cfg = backend.config('cfg');
      await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
      try {
        const kinds = [...new Set(cases.map((c) => c.node))];
        await helper.load(
          [configNode, ...nodeModules],
          [
            { id: 'flow', type: 'tab' },
            cfg.node,
            ...kinds.map((k) => ({ id: k, type: `toolroom-${k}`, z: 'flow', config: 'cfg', wires: [['out']] })),
            { id: 'out', type: 'helper', z: 'flow' },
            ...catchTo('errors'),
          ],
          cfg.credentials,
        );
        for (const k of kinds) await statusUntil(helper.getNode(k), (s) => s.fill === 'grey');
        const out = helper.getNode('out');
        const errors = helper.getNode('errors');

        const before = await tableCounts(db);
        const seed = Number(process.env.FUZZ_SEED || Date.now() % 2 ** 31);
        console.log(`      fuzz seed ${seed} (FUZZ_SEED=${seed} replays this run)`);
        const rand = seededRandom(seed).next;
        const tally: Record<string, number> = {};
        for (let n = 0; n < MESSAGES_PER_BACKEND; n++) {
          const c = cases[Math.floor(rand() * cases.length)];
          const m = mutate(c, rand);
          const label = `#${n} ${c.node}/${c.topic}: ${m.describe} (seed ${seed})`;
          const caught = await exchange(helper.getNode(c.node), { topic: c.topic, payload: m.payload, ...m.msgExtra }, out, errors);
          assert.ok(caught.error, `${label}: accepted, output ${JSON.stringify(caught.output?.payload)?.slice(0, 200)}`);
          const err = caught.error.error as { code?: string; message?: string; cause?: { details?: { field: string; rule: string; message: string }[] } };
          assert.equal(err.code, 'validation', `${label}: ${err.code} ${err.message}`);
          const details = err.cause?.details ?? [];
          assert.ok(details.length > 0 && details.every((d) => typeof d.rule === 'string' && d.rule && d.message), `${label}: details ${JSON.stringify(details)}`);
          if (m.rule) assert.ok(details.some((d) => m.rule!.test(d.rule)), `${label}: expected rule ${m.rule}, got ${JSON.stringify(details)}`);
          if (m.field) {
            assert.ok(
              details.some((d) => d.field === m.field || d.field.startsWith(`${m.field}.`) || (m.field.startsWith(d.field + '.') && d.field !== '')),
              `${label}: no problem names ${m.field}: ${JSON.stringify(details)}`,
            );
            assert.ok(err.message!.includes(m.field.split('.')[0]), `${label}: the message names ${m.field}: ${err.message}`);
          }
          assert.ok(err.message!.length < 2000, `${label}: the message does not echo a huge input (${err.message!.length} characters)`);
          tally[`${c.node}/${c.topic}`] = (tally[`${c.node}/${c.topic}`] ?? 0) + 1;
        }
        assert.deepEqual(await tableCounts(db), before, 'nothing written by any malformed message');
        assert.equal(Object.keys(tally).length, cases.length, `every operation was fuzzed: ${JSON.stringify(tally)}`);

        // The runtime and the database still work: a well-formed message goes through.
        const ok = await exchange(helper.getNode('tool'), { topic: 'create', payload: { assetNumber: 'M-3001', name: 'After the fuzz', cavityCount: 1 } }, out, errors);
        assert.equal((ok.output?.payload as { assetNumber?: string })?.assetNumber, 'M-3001', JSON.stringify(ok.error?.error));
      } finally {
        await helper.unload();
        await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
      }
    });
  });
}
