/**
 * A background loop of passes over an outbox (the InfluxDB drainer, the notification sender): a
 * pass, then an idle wait (cut short by `wake()`), and after a failure a wait that doubles up to a
 * cap. One pass at a time; `stop()` ends the wait and lets the pass in flight finish. All state that
 * matters is in the database, so a stopped or crashed loop loses nothing.
 */

export interface LoopStatus {
  state: 'connecting' | 'idle' | 'error' | 'stopped';
  lastError: string | null;
  /** Milliseconds until the next try after an error. */
  retryInMs: number | null;
}

export interface LoopOptions<Extra extends object> {
  /** Idle wait between passes. */
  pollMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** What the owner adds to the status (e.g. how many rows it sent); a change of it is reported too. */
  extra: () => Extra;
  onStatus?: (status: LoopStatus & Extra) => void;
}

export interface Loop<T, Extra extends object> {
  /** Run one pass now (after the one in flight). */
  runOnce(): Promise<T>;
  wake(): void;
  stop(): Promise<void>;
  status(): LoopStatus & Extra;
  /** Report the status now if it changed (after a pass run outside the loop). */
  report(): void;
}

/** Delay before retry number `failures` (1, 2, ...): doubling from min, capped at max, with ±20 % jitter. */
export function backoffMs(failures: number, minMs: number, maxMs: number): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

export function startLoop<T, Extra extends object>(pass: () => Promise<T>, options: LoopOptions<Extra>): Loop<T, Extra> {
  const own: LoopStatus = { state: 'connecting', lastError: null, retryInMs: null };
  const status = () => ({ ...own, ...options.extra() });
  let reported = JSON.stringify(status());
  let stopped = false;
  let wakeUp: (() => void) | null = null;
  let inFlight: Promise<T> | null = null;

  const report = () => {
    const now = status();
    const text = JSON.stringify(now);
    if (text === reported) return;
    reported = text;
    options.onStatus?.(now);
  };
  const set = (patch: Partial<LoopStatus>) => {
    Object.assign(own, patch);
    report();
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
    runOnce: once,
    wake: () => wakeUp?.(),
    async stop() {
      stopped = true;
      wakeUp?.();
      await loop;
      await inFlight?.catch(() => undefined);
      set({ state: 'stopped', retryInMs: null });
    },
    status,
    report,
  };
}
