import { backoffMs } from './drainer';

/**
 * A background loop of passes over an outbox: a pass, then an idle wait (cut short by `wake()`),
 * and after a failure a wait that doubles up to a cap. One pass at a time; `stop()` ends the wait
 * and lets the pass in flight finish. All state that matters is in the database, so a stopped or
 * crashed loop loses nothing.
 */

export interface LoopStatus {
  state: 'connecting' | 'idle' | 'error' | 'stopped';
  lastError: string | null;
  /** Milliseconds until the next try after an error. */
  retryInMs: number | null;
}

export interface LoopOptions {
  /** Idle wait between passes. */
  pollMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  onStatus?: (status: LoopStatus) => void;
}

export interface Loop {
  /** Run one pass now (after the one in flight). */
  runOnce<T>(): Promise<T>;
  wake(): void;
  stop(): Promise<void>;
  status(): LoopStatus;
}

export function startLoop<T>(pass: () => Promise<T>, options: LoopOptions): Loop {
  const status: LoopStatus = { state: 'connecting', lastError: null, retryInMs: null };
  let stopped = false;
  let wakeUp: (() => void) | null = null;
  let inFlight: Promise<T> | null = null;

  const set = (patch: Partial<LoopStatus>) => {
    const before = JSON.stringify(status);
    Object.assign(status, patch);
    if (JSON.stringify(status) !== before) options.onStatus?.({ ...status });
  };
  const once = (): Promise<T> => {
    const p = (inFlight ?? Promise.resolve()).catch(() => undefined).then(pass);
    inFlight = p;
    return p;
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wakeUp = null;
        resolve();
      }
      wakeUp = done;
    });

  const loop = (async () => {
    let failures = 0;
    while (!stopped) {
      try {
        await once();
        failures = 0;
        set({ state: 'idle', lastError: null, retryInMs: null });
        if (!stopped) await sleep(options.pollMs);
      } catch (err) {
        if (stopped) break;
        failures += 1;
        const wait = backoffMs(failures, options.minBackoffMs, options.maxBackoffMs);
        set({ state: 'error', lastError: (err as Error).message, retryInMs: wait });
        await sleep(wait);
      }
    }
  })();

  return {
    runOnce: <R>() => once() as unknown as Promise<R>,
    wake: () => wakeUp?.(),
    async stop() {
      stopped = true;
      wakeUp?.();
      await loop;
      await inFlight?.catch(() => undefined);
      set({ state: 'stopped', retryInMs: null });
    },
    status: () => ({ ...status }),
  };
}
