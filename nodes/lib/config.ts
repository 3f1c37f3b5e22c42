import type { Db } from '../../core/db/connect';
import { validationError } from '../../core/errors';
import { expandEnv, targetFromEnv, type DatabaseTarget } from '../../app/databases';
import type { Node, NodeDef } from './red';

// The toolroom-config node's settings and the interface nodes using it see; the node itself is ../toolroom-config.ts.

/** Where the database comes from: the environment (DATABASE_URL, else PGlite), a PGlite directory, or a server URL. */
export type DatabaseSource = 'env' | 'pglite' | 'postgres';

export interface ToolroomConfigDef extends NodeDef {
  backend?: DatabaseSource;
  dataDir?: string;
  influxUrl?: string;
}

export interface ToolroomConfigCredentials {
  url?: string;
  influxUsername?: string;
  influxPassword?: string;
}

export interface InfluxSettings {
  url: string;
  username?: string;
  password?: string;
}

/** What nodes using the config see (the shot counter's InfluxDB drainer uses `influx()`). */
export interface ToolroomConfigNode extends Node<ToolroomConfigCredentials> {
  /** The nodes using this config, by id. */
  users: Record<string, Node>;
  /** Count `user` in; the first user opens (and migrates) the database. */
  register(user: Node): void;
  /** Count `user` out; the last one closes the database, then `done`. */
  deregister(user: Node, done: () => void): void;
  /** The shared database, open and migrated. */
  database(): Promise<Db>;
  /** InfluxDB connection, or null when none is configured (the setting, else INFLUX_URL). */
  influx(): InfluxSettings | null;
  /** New outbox rows were committed: the InfluxDB drainer (if any) sends them now. */
  outboxChanged(): void;
  /** The database as people may read it: no password. */
  readonly describe: string;
}

export const DEFAULT_DATA_DIR = '${TOOLROOM_DATA_DIR}/pglite';

/**
 * The InfluxDB a config names: its setting (`${NAME}` expanded), else INFLUX_URL from the
 * environment; null for none. Credentials come from the node's credential store.
 */
export function influxOf(def: ToolroomConfigDef, credentials: ToolroomConfigCredentials, env: NodeJS.ProcessEnv = process.env): InfluxSettings | null {
  const url = (expandEnv(def.influxUrl?.trim() ?? '', env).trim() || env.INFLUX_URL?.trim()) ?? '';
  if (!url) return null;
  const { influxUsername: username, influxPassword: password } = credentials;
  return { url, username: username || undefined, password: password || undefined };
}

/** The database a config names. A server source without a URL is a configuration error naming `url`. */
export function targetOf(def: ToolroomConfigDef, credentials: ToolroomConfigCredentials): DatabaseTarget {
  switch (def.backend ?? 'env') {
    case 'pglite':
      return { dataDir: expandEnv(def.dataDir?.trim() || DEFAULT_DATA_DIR) };
    case 'postgres': {
      const url = credentials.url?.trim();
      if (!url) throw validationError([{ field: 'url', rule: 'required', message: 'a PostgreSQL URL is required' }]);
      return { url };
    }
    default:
      return targetFromEnv();
  }
}

/** A URL or directory for logs and the editor, password masked. */
export function describeTarget(target: DatabaseTarget): string {
  if ('dataDir' in target) return `PGlite ${target.dataDir}`;
  try {
    const u = new URL(target.url);
    if (u.password) u.password = '***';
    return `PostgreSQL ${u.toString()}`;
  } catch {
    return 'PostgreSQL (unparsable URL)';
  }
}
