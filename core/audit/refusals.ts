import type { Knex } from 'knex';
import { systemActor, type Actor } from '../auth/actor';
import { inTransaction } from '../db/transaction';
import { recordAudit } from './record';

/** A request refused for who sent it: the role may not (permission), no CSRF token, a dead credential. */
export interface Refusal {
  /** The caller when known; null = nobody we could identify (a bad token, no session). */
  actor: Actor | null;
  address: string;
  /** The rule that refused it: `permission`, `csrf`, `invalid_token`, `revoked`, ... */
  rule: string;
  method: string;
  path: string;
}

interface Window {
  startedAt: number;
  /** Refusals in this window after the first (which was written at once). */
  repeats: number;
  last: Refusal;
}

/** Who refused requests are audited as when the caller is unknown. */
const GATEKEEPER = systemActor('gatekeeper');

/**
 * Refused requests in the audit trail (ASVS 16.3.1–16.3.3): the first refusal of a kind (same
 * caller or address, same rule) in a window is written at once; further ones in that window are
 * counted and written as one `security.refused_repeatedly` event with the count when it closes.
 * So a flood of refusals costs at most two audit events per caller, rule and window, and none is
 * left out of the count. The windows live in this process: another runtime keeps its own count.
 */
export class RefusalAudit {
  private readonly windows = new Map<string, Window>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly database: () => Promise<Knex>,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
    /** At most this many open windows; beyond it, the oldest are closed early. */
    private readonly maxWindows = 10_000,
  ) {
    this.timer = setInterval(() => void this.flush().catch(() => undefined), windowMs).unref();
  }

  async note(refusal: Refusal): Promise<void> {
    const key = `${refusal.actor?.id ?? `@${refusal.address}`}|${refusal.rule}`;
    const open = this.windows.get(key);
    if (open && this.now() - open.startedAt < this.windowMs) {
      open.repeats++;
      open.last = refusal;
      return;
    }
    if (open) await this.close(key, open);
    if (this.windows.size >= this.maxWindows) await this.flush(true);
    this.windows.set(key, { startedAt: this.now(), repeats: 0, last: refusal });
    await this.write('security.refused', refusal, 1);
  }

  /** Writes the counts of windows that have closed (all of them when `all`). */
  async flush(all = false): Promise<void> {
    for (const [key, w] of [...this.windows]) {
      if (all || this.now() - w.startedAt >= this.windowMs) await this.close(key, w);
    }
  }

  /** Writes what is still counted and stops the timer. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush(true);
  }

  private async close(key: string, w: Window): Promise<void> {
    this.windows.delete(key);
    if (w.repeats > 0) await this.write('security.refused_repeatedly', w.last, w.repeats, new Date(w.startedAt));
  }

  private async write(action: string, r: Refusal, count: number, since?: Date): Promise<void> {
    const db = await this.database();
    await inTransaction(db, (trx) =>
      recordAudit(trx, r.actor ?? GATEKEEPER, {
        action,
        entity: 'request',
        entityId: `${r.method} ${r.path}`.slice(0, 200),
        after: { rule: r.rule, address: r.address, count, ...(since ? { since: since.toISOString() } : {}) },
      }),
    );
  }
}
