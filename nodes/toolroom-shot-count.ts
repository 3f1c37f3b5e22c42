import { validationError } from '../core/errors';
import type { ReadingResult } from '../core/shots/service';
import type { ToolroomConfigNode } from './lib/config';
import type { DoneFn, Node, NodeAPI, NodeMessage, SendFn } from './lib/red';
import { actorOf } from './lib/record-node';
import { ShotBatcher, shotCountSettings, type ShotCountDef } from './lib/shot-batcher';

/**
 * toolroom-shot-count: shot readings in (a press node's, or any `{press | tool, counter | shots, ...}`),
 * counted into PostgreSQL through core/shots (counter semantics, attribution, lifetime, outbox, PM
 * transitions). Readings arriving together share a transaction (lib/shot-batcher); a database
 * outage keeps them queued and retried. Output 1: one message per input message with its results;
 * output 2: each PM transition, once.
 */

interface ShotCountNode extends Node {
  config: ToolroomConfigNode | null;
}

/** Readings counted in the last few seconds, for the status's rate. */
const RATE_WINDOW_MS = 10_000;
const STATUS_EVERY_MS = 500;

export = function (RED: NodeAPI) {
  const t = (key: string, subs?: Record<string, unknown>) => RED._(`toolroom-shot-count.status.${key}`, subs);

  function ShotCount(this: ShotCountNode, def: ShotCountDef) {
    RED.nodes.createNode(this, def);
    start(this, def);
  }

  function describe(r: ReadingResult): string {
    const what = r.assetNumber ?? (r.pressId !== null ? `press ${r.pressId}` : r.source);
    const outcome = r.delta > 0 ? `${r.outcome} +${r.delta}` : r.pending !== null ? `${r.outcome} (+${r.pending})` : r.outcome;
    return `${what} ${outcome}`;
  }

  function start(node: ShotCountNode, def: ShotCountDef) {
    node.config = (def.config ? (RED.nodes.getNode(def.config) as ToolroomConfigNode | null) : null) ?? null;
    let settings: ReturnType<typeof shotCountSettings>;
    try {
      settings = shotCountSettings(def);
    } catch (err) {
      node.status({ fill: 'red', shape: 'ring', text: t('invalid') });
      node.error(err);
      node.on('input', (_msg: NodeMessage, _send: SendFn, done: DoneFn) => done(err as Error));
      node.on('close', (_removed, done) => done());
      return;
    }
    // The status: counted per second and the last outcome, at most every STATUS_EVERY_MS.
    const recent: { at: number; n: number }[] = [];
    let last = '';
    let shown = 0;
    let statusTimer: NodeJS.Timeout | null = null;
    if (!node.config) {
      node.status({ fill: 'red', shape: 'ring', text: t('noConfig') });
    } else {
      node.config.register(node);
      node.status({ fill: 'yellow', shape: 'ring', text: t('connecting') });
      node.config.database().then(
        () => shown === 0 && node.status({ fill: 'grey', shape: 'dot', text: t('ready') }),
        () => shown === 0 && node.status({ fill: 'red', shape: 'ring', text: t('unavailable') }),
      );
    }

    function showCounted() {
      const now = Date.now();
      while (recent.length && recent[0].at < now - RATE_WINDOW_MS) recent.shift();
      const n = recent.reduce((s, r) => s + r.n, 0);
      const span = Math.min(RATE_WINDOW_MS, Math.max(1000, now - (recent[0]?.at ?? now))) / 1000;
      node.status({ fill: 'green', shape: 'dot', text: t('counted', { rate: (n / span).toFixed(1), last }) });
      shown = now;
    }
    function counted(n: number, lastOutcome: string) {
      recent.push({ at: Date.now(), n });
      last = lastOutcome;
      const due = shown + STATUS_EVERY_MS - Date.now();
      if (due <= 0) showCounted();
      else statusTimer ??= setTimeout(() => {
        statusTimer = null;
        showCounted();
      }, due);
    }
    function problem(status: { fill: 'red'; shape: 'ring'; text: string }) {
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = null;
      shown = Date.now();
      node.status(status);
    }

    const batcher = new ShotBatcher({
      database: () => (node.config ? node.config.database() : Promise.reject(new Error('no toolroom-config'))),
      counter: settings.counter,
      maxWaitMs: settings.maxWaitMs,
      maxReadings: settings.maxReadings,
      onStored({ readings, transitions }) {
        if (readings.some((r) => r.delta > 0)) node.config?.outboxChanged();
        if (readings.length) counted(readings.length, describe(readings[readings.length - 1]));
        // Core announced each once (across runtimes too): each goes out once, here.
        if (transitions.length) node.send([null, transitions.map((tr) => ({ topic: 'transitions', payload: tr }))]);
      },
      onWaiting({ error, queued, retryInMs }) {
        problem({ fill: 'red', shape: 'ring', text: t('waiting', { queued, seconds: Math.ceil(retryInMs / 1000) }) });
        node.warn(RED._('toolroom-shot-count.errors.waiting', { queued, message: error.message }));
      },
    });

    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      let stored: Promise<ReadingResult[]>;
      try {
        if (!node.config) throw validationError([{ field: 'config', rule: 'required', message: 'toolroom-shot-count has no toolroom-config' }]);
        stored = batcher.add(msg.payload, actorOf(msg, node.id));
      } catch (err) {
        stored = Promise.reject(err);
      }
      const single = !Array.isArray(msg.payload);
      stored.then(
        (results) => {
          msg.payload = single ? results[0] : results;
          send([msg, null]);
          done();
        },
        (err: Error & { code?: unknown; cause?: { details?: { field: string }[] } }) => {
          const field = err.cause?.details?.map((d) => d.field || 'payload').join(', ') ?? '';
          problem({ fill: 'red', shape: 'ring', text: t('error', { code: err.code ?? 'error', field }) });
          done(err);
        },
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      // What is queued is stored before the database is let go (within Node-RED's close timeout).
      batcher.close(10_000).finally(() => {
        if (statusTimer) clearTimeout(statusTimer);
        if (!node.config) return done();
        node.config.deregister(node, done);
        node.config = null;
      });
    });
  }

  RED.nodes.registerType('toolroom-shot-count', ShotCount);
};
