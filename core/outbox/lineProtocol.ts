import type { ShotPoint } from './shots';

/**
 * InfluxDB 1.x line protocol for the `shots` measurement:
 *   shots,press=P-07,source=ns\=2;s\=Counter,tool=M-1001 delta=5i,lifetime=120005i,cycle_time_ms=11800i 1700000000000000000
 * Tag keys are written sorted (what InfluxDB stores them as); fields are integers, always, because a
 * field's type is fixed per shard and a float once would make later integer writes fail.
 */

const NEEDS_ESCAPE = /[,= \\\r\n]/;

/** Tag keys and values: comma, equals sign and space are escaped; a line break cannot be, so it becomes a space. */
export function escapeTag(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  // A trailing backslash would escape the separator after it; InfluxDB 1.x has no escape for a backslash itself.
  return value.replace(/[\r\n]+/g, ' ').replace(/\\+$/, '').replace(/[,= ]/g, (c) => `\\${c}`);
}

/** Milliseconds since the epoch (or an ISO time) → nanoseconds, as InfluxDB's `precision=ns` expects. */
export function nanoseconds(at: string | Date): string {
  const ms = at instanceof Date ? at.getTime() : Date.parse(at);
  if (!Number.isInteger(ms)) throw new Error(`not a time: ${String(at)}`);
  return ms === 0 ? '0' : `${ms}000000`;
}

function int(value: number | bigint): string {
  return `${typeof value === 'bigint' ? value : Math.trunc(value)}i`;
}

/** One point of the `shots` measurement; tags that are unknown (e.g. no tool mounted) are left out. */
export function shotLine(p: ShotPoint): string {
  let line = 'shots';
  for (const [key, value] of [['press', p.press], ['source', p.source], ['tool', p.tool]] as const) {
    // An empty tag value is invalid line protocol; a missing tag is not.
    if (value != null && value !== '') line += `,${key}=${escapeTag(value)}`;
  }
  line += ` delta=${int(p.delta)}`;
  if (p.lifetime != null) line += `,lifetime=${int(p.lifetime)}`;
  if (p.cycleTimeMs != null) line += `,cycle_time_ms=${int(p.cycleTimeMs)}`;
  return `${line} ${nanoseconds(p.at)}`;
}
