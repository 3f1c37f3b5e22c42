/**
 * The few parts of Node-RED's runtime API our nodes use, typed here rather than pulling in
 * @types/node-red (and express with it) for a handful of calls.
 */

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

export interface NodeMessage {
  _msgid?: string;
  topic?: string;
  payload?: unknown;
  [key: string]: unknown;
}

export type SendFn = (msg: NodeMessage | (NodeMessage | NodeMessage[] | null)[]) => void;
export type DoneFn = (err?: Error) => void;

export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  z?: string;
}

export interface Node<Credentials = Record<string, unknown>> {
  id: string;
  type: string;
  name?: string;
  credentials: Credentials;
  status(status: NodeStatus | Record<string, never>): void;
  error(err: unknown, msg?: NodeMessage): void;
  warn(message: unknown): void;
  log(message: unknown): void;
  send(msg: NodeMessage | (NodeMessage | NodeMessage[] | null)[]): void;
  on(event: 'input', handler: (msg: NodeMessage, send: SendFn, done: DoneFn) => void): void;
  on(event: 'close', handler: (removed: boolean, done: () => void) => void): void;
}

/** Just what an admin endpoint uses of express. */
export interface AdminRequest {
  body?: unknown;
}
export interface AdminResponse {
  status(code: number): AdminResponse;
  json(body: unknown): void;
}
export type AdminHandler = (req: AdminRequest, res: AdminResponse, next: (err?: unknown) => void) => void;

export interface NodeAPI {
  nodes: {
    createNode(node: object, def: NodeDef): void;
    getNode(id: string): unknown;
    /** A deployed node's credentials (undefined for a node not deployed). */
    getCredentials(id: string): Record<string, unknown> | undefined;
    registerType(
      type: string,
      constructor: (this: never, def: never) => void,
      options?: { credentials?: Record<string, { type: 'text' | 'password' }> },
    ): void;
  };
  /** The editor's HTTP API (behind adminAuth when set). */
  httpAdmin: { post(path: string, ...handlers: AdminHandler[]): void };
  auth: { needsPermission(permission: string): AdminHandler };
  /** Message catalogue lookup in the calling node's namespace (identity in the test helper). */
  _(key: string, substitutions?: Record<string, unknown>): string;
}
