import { createDatabase, query, type InfluxTarget } from '../outbox/influx';

/**
 * InfluxDB keeps shot time series as long as PostgreSQL keeps the readings they come from: the
 * retention policy the app writes to (INFLUX_URL's `?rp=`, else `autogen`) gets the shot readings'
 * period, and InfluxDB drops older shards itself. Created when missing, altered when it differs;
 * run by `toolroom purge` (nightly), so a changed period reaches InfluxDB within a day.
 */
const quoted = (name: string) => `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;

export async function applyInfluxRetention(target: InfluxTarget, days: number, opts: { timeoutMs?: number } = {}): Promise<{ policy: string; duration: string; changed: boolean }> {
  const policy = target.retentionPolicy ?? 'autogen';
  const duration = `${days * 24}h0m0s`;
  await createDatabase(target, opts);
  const [result] = await query(target, `SHOW RETENTION POLICIES ON ${quoted(target.database)}`, opts);
  const series = result?.series?.[0];
  const row = series?.values.find((v) => v[series.columns.indexOf('name')] === policy);
  if (row && row[series!.columns.indexOf('duration')] === duration) return { policy, duration, changed: false };
  const verb = row ? 'ALTER' : 'CREATE';
  const replication = row ? '' : ' REPLICATION 1';
  await query(target, `${verb} RETENTION POLICY ${quoted(policy)} ON ${quoted(target.database)} DURATION ${days}d${replication}`, opts);
  return { policy, duration, changed: true };
}
