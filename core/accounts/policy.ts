/** How long sessions live and how hard login is rate-limited. Every runtime sharing a database should use the same. */
export interface AccessPolicy {
  /** A session unused this long ends (ASVS 7.3.1). */
  idleTimeoutMs: number;
  /** A session ends this long after login, used or not (ASVS 7.3.2). */
  sessionLifetimeMs: number;
  /** last_seen_at is written at most this often per session: a busy dashboard is not a write per request. */
  touchIntervalMs: number;
  /** Failures count within this sliding window; a lock lifts when enough of them leave it. */
  lockoutWindowMs: number;
  /**
   * Failed attempts for one username from one address (since the username's last success) that lock
   * that username on that address: the guesser is stopped, the user at another terminal is not.
   */
  maxFailuresPerUser: number;
  /** The same for PIN login: a 4-digit PIN has only 10,000 values, so fewer tries. */
  maxPinFailuresPerUser: number;
  /**
   * Failed attempts for one username from all addresses together that lock it everywhere (a guess
   * spread over many addresses). Softer, so that one address cannot lock anyone out; reaching it is
   * audited as `security.account_attacked` for the admins.
   */
  maxFailuresPerUserEverywhere: number;
  /** The same for PIN login, whose secret is weak: kept low. */
  maxPinFailuresPerUserEverywhere: number;
  /** Failed attempts from one address, over all usernames (password spraying). */
  maxFailuresPerAddress: number;
}

export const DEFAULT_ACCESS_POLICY: AccessPolicy = {
  idleTimeoutMs: 30 * 60_000,
  sessionLifetimeMs: 12 * 3_600_000,
  touchIntervalMs: 60_000,
  lockoutWindowMs: 15 * 60_000,
  maxFailuresPerUser: 5,
  maxPinFailuresPerUser: 3,
  maxFailuresPerUserEverywhere: 30,
  maxPinFailuresPerUserEverywhere: 10,
  maxFailuresPerAddress: 20,
};

/** The policy with `TOOLROOM_SESSION_IDLE_MINUTES` and `TOOLROOM_SESSION_LIFETIME_HOURS` applied when set and sensible. */
export function accessPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): AccessPolicy {
  const positive = (value: string | undefined) => {
    const n = Number(value);
    return value && Number.isFinite(n) && n > 0 ? n : undefined;
  };
  const idle = positive(env.TOOLROOM_SESSION_IDLE_MINUTES);
  const lifetime = positive(env.TOOLROOM_SESSION_LIFETIME_HOURS);
  return {
    ...DEFAULT_ACCESS_POLICY,
    ...(idle && { idleTimeoutMs: idle * 60_000 }),
    ...(lifetime && { sessionLifetimeMs: lifetime * 3_600_000 }),
  };
}

export function withDefaults(policy?: Partial<AccessPolicy>): AccessPolicy {
  return { ...DEFAULT_ACCESS_POLICY, ...policy };
}
