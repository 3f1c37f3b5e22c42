import type http from 'node:http';

/** The part of Node-RED's embedding API that app/start.ts (and the benchmarks' runtime, embedded the same way) use. */
export interface NodeRed {
  init(server: http.Server, settings: object): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  httpAdmin: http.RequestListener;
  httpNode: http.RequestListener;
  version(): string;
}
