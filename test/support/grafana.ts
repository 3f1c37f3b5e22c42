/**
 * Grafana's query expansion, done here because no Grafana server runs in the tests: the dashboards'
 * queries go to the real PostgreSQL and InfluxDB after the same two steps Grafana takes.
 *
 * 1. The frontend interpolates template variables: `$var`, `${var}`, `${var:sqlstring}` (quoted, ' doubled),
 *    and the built-ins `$__interval` / `$__interval_ms` (the range divided by the panel's data points, rounded
 *    to a "nice" interval, never below the panel's min interval: public/app/core/utils/kbn roundInterval).
 * 2. The datasource expands its macros — PostgreSQL (pkg/tsdb/grafana-postgresql-datasource/macros.go):
 *    `$__timeFilter(c)` → `c BETWEEN 'from' AND 'to'` (RFC 3339, UTC), `$__timeFrom()`, `$__timeTo()`,
 *    `$__timeGroup(c, i)` → `floor(extract(epoch from c)/s)*s`, `$__timeGroupAlias` the same `AS "time"`;
 *    InfluxQL (pkg/tsdb/influxdb/influxql): `$timeFilter` → `time >= {from}ms and time <= {to}ms`.
 * Anything left unexpanded (`$__…` or `$name`) fails the test rather than reaching the database.
 */

export interface GrafanaContext {
  from: Date;
  to: Date;
  vars: Record<string, string>;
  /** The panel's data points (its width in pixels in Grafana); 1,000 is a wide panel. */
  maxDataPoints?: number;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** '1d', '30m', '500ms' → milliseconds. */
export function intervalMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d|w|y)$/.exec(text.trim());
  if (!m) throw new Error(`not a Grafana interval: ${text}`);
  return Number(m[1]) * UNITS[m[2]];
}

/** Grafana's roundInterval ladder: the raw interval up to each bound becomes the nice interval beside it. */
const LADDER: [number, string][] = [
  [15, '10ms'], [35, '20ms'], [75, '50ms'], [150, '100ms'], [350, '200ms'], [750, '500ms'], [1_500, '1s'], [3_500, '2s'],
  [7_500, '5s'], [12_500, '10s'], [17_500, '15s'], [25_000, '20s'], [45_000, '30s'], [90_000, '1m'], [210_000, '2m'],
  [450_000, '5m'], [750_000, '10m'], [1_050_000, '15m'], [1_500_000, '20m'], [2_700_000, '30m'], [5_400_000, '1h'],
  [9_000_000, '2h'], [16_200_000, '3h'], [32_400_000, '6h'], [86_400_000, '12h'], [604_800_000, '1d'], [1_814_400_000, '1w'],
  [3_628_800_000, '30d'],
];

/** `$__interval` for a panel: range / data points, rounded, at least the panel's min interval. */
export function grafanaInterval(ctx: GrafanaContext, minInterval?: string): string {
  const raw = (ctx.to.getTime() - ctx.from.getTime()) / (ctx.maxDataPoints ?? 1000);
  let nice = raw <= 10 ? '1ms' : (LADDER.find(([bound]) => raw <= bound)?.[1] ?? '1y');
  if (minInterval && intervalMs(minInterval) > intervalMs(nice)) nice = minInterval;
  return nice;
}

const rfc3339 = (d: Date) => d.toISOString().replace('.000Z', 'Z');
const sqlString = (v: string) => `'${v.replaceAll("'", "''")}'`;

/** Step 1: template variables and $__interval. */
export function interpolate(query: string, ctx: GrafanaContext, minInterval?: string): string {
  const interval = grafanaInterval(ctx, minInterval);
  const builtins: Record<string, string> = { __interval: interval, __interval_ms: String(intervalMs(interval)) };
  return query.replace(/\$\{(\w+)(?::(\w+))?\}|\$(\w+)/g, (whole, braced: string, format: string | undefined, bare: string) => {
    const name = braced ?? bare;
    const value = builtins[name] ?? ctx.vars[name];
    if (value === undefined) return whole; // a datasource macro ($__timeFilter, $timeFilter): step 2
    if (format === 'sqlstring') return sqlString(value);
    if (format && format !== 'raw') throw new Error(`format :${format} is not expanded here`);
    return value;
  });
}

/** Step 2 for PostgreSQL: the macros of Grafana's SQL datasource. */
export function expandSqlMacros(query: string, ctx: GrafanaContext): string {
  const from = rfc3339(ctx.from);
  const to = rfc3339(ctx.to);
  const out = query.replace(/\$(__\w+)\(([^)]*)\)/g, (_, name: string, args: string) => {
    const [column, interval] = args.split(',').map((a) => a.trim());
    const seconds = () => intervalMs(interval.replace(/^'|'$/g, '')) / 1000;
    switch (name) {
      case '__timeFilter': return `${column} BETWEEN '${from}' AND '${to}'`;
      case '__timeFrom': return `'${from}'`;
      case '__timeTo': return `'${to}'`;
      case '__time': return `${column} AS "time"`;
      case '__timeGroup': return `floor(extract(epoch from ${column})/${seconds()})*${seconds()}`;
      case '__timeGroupAlias': return `floor(extract(epoch from ${column})/${seconds()})*${seconds()} AS "time"`;
      default: throw new Error(`macro $${name} is not expanded here`);
    }
  });
  if (/\$\w/.test(out)) throw new Error(`unexpanded variable in: ${out}`);
  return out;
}

/** Step 2 for InfluxQL. */
export function expandInfluxMacros(query: string, ctx: GrafanaContext): string {
  const out = query.replaceAll('$timeFilter', `time >= ${ctx.from.getTime()}ms and time <= ${ctx.to.getTime()}ms`);
  if (/\$\w/.test(out)) throw new Error(`unexpanded variable in: ${out}`);
  return out;
}
