import type { Knex } from 'knex';
import { systemActor } from '../auth/actor';
import { startLoop, type LoopStatus } from '../outbox/loop';
import type { ChannelSettings } from './channels';
import { deliverOnce, purgeSiteRows, type DeliverOptions, type Transport } from './delivery';
import { emailTransport } from './email';
import type { Channel } from './events';
import { mqttTransport } from './mqtt';
import { sweep } from './sweep';

/**
 * The notification sender of one runtime: sweeps for events time raises (actions due, escalations)
 * and delivers what is due on the channels this runtime has (e-mail and MQTT from its settings,
 * `flow` for a toolroom-event node). Several runtimes may run one each against one database: the
 * outbox's claims make every notification go once. No Node-RED here: the app or a node starts it.
 */

export interface NotifierOptions {
  db: Knex;
  settings: ChannelSettings;
  /** Channels beyond those in `settings` (or instead of them, for tests): e.g. `flow`. */
  transports?: Partial<Record<Channel, Transport>>;
  /** The clock (tests move it by hand). */
  now?: () => Date;
  /** Whether this runtime sweeps for due actions and escalations (any runtime may; a toolroom-event node leaves it to the app). */
  sweeps?: boolean;
  pollMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  delivery?: Omit<DeliverOptions, 'now'>;
  onStatus?: (status: NotifierStatus) => void;
}

export interface NotifierStatus extends LoopStatus {
  /** Notifications sent since start. */
  sent: number;
}

export interface PassResult {
  sent: number;
  failed: number;
  escalated: number;
  raised: number;
}

export interface Notifier {
  /** One full pass now: sweep, then deliver until nothing due is left (or an error). */
  runOnce(): Promise<PassResult>;
  wake(): void;
  stop(): Promise<void>;
  status(): NotifierStatus;
}

const PURGE_EVERY_MS = 3600_000;

export function startNotifier(options: NotifierOptions): Notifier {
  const now = options.now ?? (() => new Date());
  const transports: Partial<Record<Channel, Transport>> = { ...options.transports };
  if (options.settings.smtp && !transports.email) transports.email = emailTransport(options.settings.smtp, options.settings);
  if (options.settings.mqtt && !transports.mqtt) transports.mqtt = mqttTransport(options.settings.mqtt, options.settings);
  const escalateAfterMs = options.settings.escalateAfterMinutes * 60_000;
  const actor = systemActor('notifier');
  let sent = 0;
  let purgedAt = 0;

  const pass = async (): Promise<PassResult> => {
    const result: PassResult = { sent: 0, failed: 0, escalated: 0, raised: 0 };
    if (options.sweeps !== false) {
      const s = await sweep(options.db, actor, { now: now(), escalateAfterMs });
      result.escalated = s.escalated;
      result.raised = s.dueTomorrow + s.overdue;
    }
    for (;;) {
      const r = await deliverOnce(options.db, transports, { ...options.delivery, now: now() });
      result.sent += r.sent;
      result.failed += r.failed;
      sent += r.sent;
      // A failed row is due again after its own backoff; the pass goes on with the rest, so a mail relay
      // that is down does not hold MQTT back. Only a round that moved nothing reports the failure.
      if (r.error && r.sent === 0) throw r.error;
      if (r.sent + r.failed === 0) break;
    }
    if (now().getTime() - purgedAt >= PURGE_EVERY_MS) {
      await purgeSiteRows(options.db, now());
      purgedAt = now().getTime();
    }
    return result;
  };

  const loop = startLoop(pass, {
    pollMs: options.pollMs ?? 5000,
    minBackoffMs: options.minBackoffMs ?? 1000,
    // Short: a row's own backoff spaces its retries; this only paces passes after a failed round.
    maxBackoffMs: options.maxBackoffMs ?? 30_000,
    extra: () => ({ sent }),
    onStatus: options.onStatus,
  });

  return {
    runOnce: async () => {
      const r = await loop.runOnce();
      loop.report();
      return r;
    },
    wake: loop.wake,
    async stop() {
      await loop.stop();
      await Promise.all(Object.values(transports).map((t) => t?.close?.()));
    },
    status: loop.status,
  };
}
