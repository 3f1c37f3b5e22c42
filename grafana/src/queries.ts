/**
 * Queries of Toolroom's two Grafana datasources as foundation-SDK builders (the SDK ships none for
 * PostgreSQL or InfluxQL; its README shows how to add a query type): raw SQL against the KPI views and
 * functions of migrations/013_kpi.ts, and InfluxQL against the `shots` measurement the outbox writes.
 */
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

/** The datasources as provisioned (grafana/provisioning/datasources/toolroom.yaml): fixed uids, so dashboards find them. */
export const POSTGRES: DataSourceRef = { type: 'grafana-postgresql-datasource', uid: 'toolroom-postgres' };
export const INFLUXDB: DataSourceRef = { type: 'influxdb', uid: 'toolroom-influxdb' };

export interface SqlQuery extends Dataquery {
  refId?: string;
  datasource: DataSourceRef;
  editorMode: 'code';
  format: 'table' | 'time_series';
  rawQuery: true;
  rawSql: string;
}

export interface InfluxQuery extends Dataquery {
  refId?: string;
  datasource: DataSourceRef;
  query: string;
  rawQuery: true;
  resultFormat: 'time_series' | 'table';
}

const variant = { _implementsDataqueryVariant() {} };

/** A PostgreSQL query written as SQL (Grafana's code editor), with Grafana's macros left for Grafana. */
export function sql(rawSql: string, format: SqlQuery['format'] = 'table', refId = 'A'): Builder<Dataquery> {
  const query: SqlQuery = { ...variant, refId, datasource: POSTGRES, editorMode: 'code', format, rawQuery: true, rawSql: squeeze(rawSql) };
  return { build: () => query };
}

/** An InfluxQL query (raw mode). */
export function influxql(text: string, refId = 'A', resultFormat: InfluxQuery['resultFormat'] = 'time_series'): Builder<Dataquery> {
  const query: InfluxQuery = { ...variant, refId, datasource: INFLUXDB, query: squeeze(text), rawQuery: true, resultFormat };
  return { build: () => query };
}

/** One line, single spaces: the JSON stays readable and diffs stay small. */
function squeeze(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
