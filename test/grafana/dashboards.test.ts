import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import yaml from 'js-yaml';
import { dashboardFile, dashboards } from '../../grafana/src/dashboards';
import { DASHBOARD_DIR } from '../../grafana/src/generate';
import type { InfluxQuery, SqlQuery } from '../../grafana/src/queries';
import { createDatabase, parseInfluxUrl, query as influxQuery, writeLines, type InfluxTarget } from '../../core/outbox/influx';
import { shotLine } from '../../core/outbox/lineProtocol';
import { backends } from '../support/db';
import { buildKpiHistory, RANGE } from '../support/kpi-history';
import { expandInfluxMacros, expandSqlMacros, interpolate, type GrafanaContext } from '../support/grafana';

type Row = Record<string, unknown>;
const PROVISIONING = path.resolve(__dirname, '../../../grafana/provisioning');
const DAY = 86_400_000;
/** An InfluxDB time (epoch nanoseconds) as its UTC day. */
const day = (ns: unknown) => new Date(Number(ns) / 1e6).toISOString().slice(0, 10);
const daysSince = (iso: string) => (Date.now() - Date.parse(iso)) / DAY;

interface Panel {
  title: string;
  type: string;
  interval?: string;
  datasource?: { uid: string };
  targets?: (SqlQuery | InfluxQuery)[];
  fieldConfig?: { defaults?: { links?: { url: string }[] } };
}
const all = dashboards();
const panels = all.flatMap(({ json }) => ((json.panels ?? []) as unknown as Panel[]).map((panel) => ({ uid: json.uid!, panel })));

/** Values as a person reads them: numeric text and bigints as numbers, times as ISO, numbers to 6 decimals. */
function plain(rows: Row[]): Row[] {
  return rows.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => {
        if (v instanceof Date) return [k, v.toISOString()];
        if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) v = Number(v);
        return [k, typeof v === 'number' ? Math.round(v * 1e6) / 1e6 : v];
      }),
    ),
  );
}
const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
const near = (actual: unknown, expected: number, tolerance: number, what: string) =>
  assert.ok(typeof actual === 'number' && Math.abs(actual - expected) <= tolerance, `${what}: ${String(actual)} ≠ ${expected}`);

/** Every SQL panel's answer on the hand-built history (test/support/kpi-history.ts), worked out there. */
const SQL_ANSWERS: Record<string, (rows: Row[]) => void> = {
  'toolroom-plant/MTBF (shots)': (rows) => assert.deepEqual(rows, [{ 'MTBF shots': 64_000 }]),
  'toolroom-plant/MTTR (hours)': (rows) => assert.deepEqual(rows, [{ MTTR: 22 }]),
  'toolroom-plant/PM compliance': (rows) => assert.deepEqual(rows, [{ 'PM compliance': 50 }]),
  'toolroom-plant/Utilisation': (rows) => assert.deepEqual(rows, [{ Utilisation: r6((320_000 / 511_200) * 100) }]),
  'toolroom-plant/Tools': (rows) =>
    assert.deepEqual(rows, [
      { Asset: 'M-100', Shots: 250_000, 'Shots/day': 2777.8, 'Days mounted': 40, 'Utilisation %': 68.1, Idle: false },
      { Asset: 'M-200', Shots: 70_000, 'Shots/day': 777.8, 'Days mounted': 32, 'Utilisation %': 48.6, Idle: false },
      { Asset: 'M-300', Shots: 0, 'Shots/day': 0, 'Days mounted': 0, 'Utilisation %': null, Idle: true },
    ]),
  'toolroom-plant/Near end of life': (rows) => assert.deepEqual(rows, [{ Asset: 'M-100', 'Used %': 96.7, 'Shots left': 10_000, 'Reached at': null }]),
  'toolroom-tool/PM progress': (rows) => {
    assert.equal(rows.length, 1);
    // Past the 30 days since Feb 25 by far; 40 % of the shots.
    near(rows[0].value, (daysSince('2026-02-25T00:00:00Z') * 100) / 30, 0.01, 'percent');
  },
  'toolroom-tool/PM forecast': (rows) => {
    assert.deepEqual(rows.map((r) => [r.State, r.Due, r['Shots/day this week']]), [['OVERDUE', '2026-03-27T00:00:00.000Z', 0]]);
  },
  'toolroom-tool/Reliability': (rows) => assert.deepEqual(rows, [{ Failures: 3, 'MTBF shots': r6(250_000 / 3), 'MTTR hours': 30 }]),
  'toolroom-tool/Failures and actions': (rows) => {
    assert.deepEqual(rows.map((r) => [String(r.Time).slice(0, 13), r.What]), [
      ['2026-01-15T00', 'failure'], ['2026-01-15T10', 'corrective action'], ['2026-01-25T00', 'failure'], ['2026-01-25T20', 'corrective action'],
      ['2026-01-26T10', 'corrective action'], ['2026-02-15T00', 'failure'], ['2026-02-16T00', 'corrective action'],
    ]);
  },
  'toolroom-reliability/MTBF and MTTR': (rows) =>
    assert.deepEqual(rows, [
      { Subject: 'M-100', Failures: 3, Shots: 250_000, Hours: 960, 'MTBF shots': 83_333, 'MTBF hours': 320, 'MTTR hours': 30 },
      { Subject: 'M-200', Failures: 1, Shots: 70_000, Hours: 768, 'MTBF shots': 70_000, 'MTBF hours': 768, 'MTTR hours': 6 },
      { Subject: 'M-300', Failures: 1, Shots: 0, Hours: 0, 'MTBF shots': 0, 'MTBF hours': 0, 'MTTR hours': null },
    ]),
  'toolroom-reliability/Failures by code': (rows) => assert.deepEqual(rows, [{ code: 'WL', Failures: 3 }, { code: 'EJ', Failures: 2 }]),
  'toolroom-reliability/Failures by component': (rows) => assert.deepEqual(rows, [{ component: 'cooling', Failures: 3 }, { component: 'ejector', Failures: 2 }]),
  'toolroom-reliability/Failures by tool': (rows) =>
    assert.deepEqual(rows, [{ tool: 'M-100', Failures: 3 }, { tool: 'M-200', Failures: 1 }, { tool: 'M-300', Failures: 1 }]),
  // Daily buckets (the panel's 1d minimum: 90 days / 1,000 points would be 2h): epoch seconds of each day.
  'toolroom-reliability/Failures per day': (rows) =>
    assert.deepEqual(rows, ['2026-01-15', '2026-01-25', '2026-02-15', '2026-02-25', '2026-03-10'].map((d) => ({ time: Date.parse(d) / 1000, failures: 1 }))),
  'toolroom-maintenance/PM compliance per month': (rows) =>
    assert.deepEqual(rows, [{ Month: '2026-01', 'On time %': r6(100 / 3) }, { Month: '2026-02', 'On time %': 100 }]),
  'toolroom-maintenance/Scheduled vs unscheduled hours': (rows) =>
    assert.deepEqual(rows, [{ Month: '2026-01', Scheduled: 0.5, Unscheduled: 4 }, { Month: '2026-02', Scheduled: 2.25, Unscheduled: 0.5 }]),
  'toolroom-maintenance/Maintenance cost per month': (rows) => assert.deepEqual(rows, [{ Month: '2026-01', Cost: 290 }, { Month: '2026-02', Cost: 75.5 }]),
  'toolroom-maintenance/Hours and cost per tool': (rows) =>
    assert.deepEqual(rows, [{ Asset: 'M-100', Hours: 5, Cost: 315 }, { Asset: 'M-200', Hours: 2.25, Cost: 50.5 }]),
  'toolroom-maintenance/PMs overdue now': (rows) =>
    assert.deepEqual(rows.map((r) => [r.Asset, r['Shots past due']]), [['M-100', -60_000], ['M-200', null]]),
  'toolroom-actions/Open actions by assignee': (rows) =>
    assert.deepEqual([...rows].sort((a, b) => String(a.Assignee).localeCompare(String(b.Assignee))), [
      { Assignee: '(unassigned)', Open: 1, Overdue: 0 },
      { Assignee: 'Mara Costa', Open: 1, Overdue: 1 },
    ]),
  'toolroom-actions/Open actions by age': (rows) => assert.deepEqual(rows, [{ Age: '< 1 week', Actions: 2 }]),
  'toolroom-actions/Overdue actions': (rows) => {
    assert.deepEqual(rows.map((r) => [r.Asset, r.Action, r.Assignee, String(r.Due).slice(0, 10)]), [['M-100', 'Check cooling circuit', 'Mara Costa', '2026-03-01']]);
    near(rows[0]['Days overdue'], Math.floor(daysSince('2026-03-01T00:00:00Z')), 1, 'days overdue');
  },
};

/** The InfluxQL panels' answers: the `shots` points written from the same history. */
const INFLUX_ANSWERS: Record<string, (series: { columns: string[]; values: unknown[][] }[]) => void> = {
  'toolroom-plant/Shots per day': ([s]) => {
    // Jan 1 … Apr 1 inclusive (Grafana's filter includes its end): 91 daily buckets; Dec 31's reading is outside.
    assert.equal(s.values.length, 91);
    assert.equal(s.values.reduce((sum, v) => sum + Number(v[1]), 0), 320_000);
    assert.deepEqual(s.values.filter((v) => Number(v[1]) > 0).map((v) => [day(v[0]), v[1]]), [
      ['2026-01-03', 10_000], ['2026-01-10', 100_000], ['2026-01-20', 80_000], ['2026-01-30', 20_000],
      ['2026-02-10', 30_000], ['2026-02-15', 50_000], ['2026-02-20', 30_000],
    ]);
  },
  'toolroom-tool/Shots per day': ([s]) => {
    assert.equal(s.values.length, 91);
    assert.deepEqual(s.values.filter((v) => Number(v[1]) > 0).map((v) => [day(v[0]), v[1]]), [
      ['2026-01-10', 100_000], ['2026-01-20', 80_000], ['2026-01-30', 20_000], ['2026-02-15', 50_000],
    ]);
  },
  'toolroom-tool/Cycle time': ([s]) =>
    assert.deepEqual(s.values.map((v) => [day(v[0]), v[1]]), [
      ['2026-01-10', 10_000], ['2026-01-20', 10_000], ['2026-01-30', 12_000], ['2026-02-15', 8_000],
    ]),
};

const CONTEXT: GrafanaContext = { from: new Date(RANGE.from), to: new Date(RANGE.to), vars: { asset: 'M-100', by: 'tool', toolroom_url: 'http://localhost:1880' } };

describe('Grafana dashboards as code', () => {
  it('the committed JSON is what the generator writes (run `npm run grafana` after changing grafana/src)', () => {
    const files = fs.readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json')).sort();
    assert.deepEqual(files, all.map((d) => d.file).sort());
    for (const { file, json } of all) assert.equal(fs.readFileSync(path.join(DASHBOARD_DIR, file), 'utf8'), dashboardFile(json), `${file} lags behind grafana/src`);
  });

  it('provisioning files are the ones Grafana reads: datasources with the uids the panels use, dashboards from their folder', () => {
    const ds = yaml.load(fs.readFileSync(path.join(PROVISIONING, 'datasources/toolroom.yaml'), 'utf8')) as { apiVersion: number; datasources: { uid: string; type: string; jsonData: Record<string, unknown>; secureJsonData?: Record<string, string> }[] };
    assert.equal(ds.apiVersion, 1);
    const byUid = new Map(ds.datasources.map((d) => [d.uid, d] as const));
    assert.equal(byUid.get('toolroom-postgres')?.type, 'grafana-postgresql-datasource');
    assert.match(byUid.get('toolroom-postgres')!.secureJsonData!.password, /^\$__file\{/, 'the password comes from a file');
    assert.equal(byUid.get('toolroom-influxdb')?.jsonData.version, 'InfluxQL');
    for (const { uid, panel } of panels) {
      for (const t of panel.targets ?? []) assert.ok(byUid.has(t.datasource.uid!), `${uid}/${panel.title}: datasource ${t.datasource.uid}`);
      assert.equal(panel.datasource?.uid, panel.targets?.[0]?.datasource.uid, `${uid}/${panel.title}: panel and query datasource`);
    }
    const dash = yaml.load(fs.readFileSync(path.join(PROVISIONING, 'dashboards/toolroom.yaml'), 'utf8')) as { providers: { type: string; options: { path: string } }[] };
    assert.equal(dash.providers[0].options.path, '/etc/grafana/provisioning/dashboards/toolroom');
    assert.equal(path.relative(PROVISIONING, DASHBOARD_DIR), 'dashboards/toolroom');
  });

  it('has an answer for every panel, and links tool rows to the Tool dashboard and to Toolroom’s tool page', () => {
    for (const { uid, panel } of panels) {
      const key = `${uid}/${panel.title}`;
      const influx = panel.targets?.some((t) => 'query' in t);
      assert.ok(influx ? INFLUX_ANSWERS[key] : SQL_ANSWERS[key], `no expected answer for ${key}`);
    }
    const tools = panels.find((p) => p.uid === 'toolroom-plant' && p.panel.title === 'Tools')!.panel;
    assert.deepEqual(tools.fieldConfig?.defaults?.links?.map((l) => l.url), [
      '/d/toolroom-tool/tool?var-asset=${__data.fields.Asset}&${__url_time_range}',
      '${toolroom_url}/dashboard/tool?asset=${__data.fields.Asset}',
    ]);
  });

  for (const backend of backends) {
    describe(`every SQL panel on the hand-built history, as the read-only role [${backend.name}]`, function () {
      this.timeout(60000);
      let db: Knex;
      before(async () => {
        db = await backend.db();
        await buildKpiHistory(db);
      });

      /** A query as Grafana's datasource user runs it: as toolroom_reader where the role exists. */
      async function asReader(text: string): Promise<Row[]> {
        return db.transaction(async (trx) => {
          const { rows: role } = await trx.raw("SELECT 1 FROM pg_roles WHERE rolname = 'toolroom_reader'");
          if (role.length) await trx.raw('SET LOCAL ROLE toolroom_reader');
          return (await trx.raw(text)).rows as Row[];
        });
      }

      it('the asset variable lists the tools in service', async () => {
        const variable = all.find((d) => d.json.uid === 'toolroom-tool')!.json.templating!.list!.find((v) => v.name === 'asset')!;
        assert.deepEqual((await asReader(String(variable.query))).map((r) => r.asset_number), ['M-100', 'M-200', 'M-300']);
      });

      for (const { uid, panel } of panels) {
        for (const target of (panel.targets ?? []).filter((t): t is SqlQuery => 'rawSql' in t)) {
          it(`${uid} / ${panel.title}`, async () => {
            const text = expandSqlMacros(interpolate(target.rawSql, CONTEXT, panel.interval), CONTEXT);
            SQL_ANSWERS[`${uid}/${panel.title}`](plain(await asReader(text)));
          });
        }
      }
    });
  }

  describe('every InfluxQL panel on the same shots in InfluxDB', function () {
    this.timeout(30000);
    let target: InfluxTarget;
    before(async function () {
      if (!process.env.TEST_INFLUX_URL) {
        if (process.env.CI || process.env.TOOLROOM_REQUIRE_SERVER) throw new Error('TEST_INFLUX_URL is not set');
        return this.skip();
      }
      const url = new URL(process.env.TEST_INFLUX_URL);
      url.pathname = '/toolroom_grafana_test';
      target = parseInfluxUrl(url.toString());
      await influxQuery(target, 'DROP DATABASE "toolroom_grafana_test"').catch(() => undefined);
      await createDatabase(target);
      const db = await backends[0].db();
      await buildKpiHistory(db);
      const readings = await db('shot_readings as r').join('tools as t', 't.id', 'r.tool_id').leftJoin('presses as p', 'p.id', 'r.press_id')
        .where('r.delta', '>', 0).select('t.asset_number', 'p.code', 'r.source', 'r.delta', 'r.cycle_time_ms', 'r.at');
      await writeLines(target, readings.map((r) => shotLine({ tool: r.asset_number, press: r.code, source: r.source, delta: Number(r.delta), lifetime: null, cycleTimeMs: r.cycle_time_ms, at: r.at })).join('\n'));
    });

    for (const { uid, panel } of panels) {
      for (const q of (panel.targets ?? []).filter((t): t is InfluxQuery => 'query' in t)) {
        it(`${uid} / ${panel.title}`, async () => {
          const text = expandInfluxMacros(interpolate(q.query, CONTEXT, panel.interval), CONTEXT);
          const [result] = await influxQuery(target, text);
          INFLUX_ANSWERS[`${uid}/${panel.title}`]((result.series ?? []) as { columns: string[]; values: unknown[][] }[]);
        });
      }
    }
  });
});
