import type { Knex } from 'knex';
import type { AccessPolicy } from './policy';
import type { LoginMethod } from './schema';

export type AttemptOutcome = 'succeeded' | 'failed' | 'locked' | 'refused';

/** Failures that count towards a lock: wrong secrets, and attempts still being checked elsewhere. */
const COUNTED = ['failed', 'pending'];

/**
 * Start a login attempt: write it as pending, then count the failures before it. Written first
 * (outside any transaction, which would hold the connection through a 70 ms hash) so that
 * concurrent attempts from several runtimes see each other and cannot get past the limit together.
 * Returns the attempt's id and, when too many failures came before, until when it stays locked.
 */
export async function beginAttempt(
  db: Knex,
  attempt: { username: string; address: string; method: LoginMethod },
  now: Date,
  policy: AccessPolicy,
): Promise<{ id: number; lockedUntil: Date | null }> {
  const [{ id }] = await db('login_attempts')
    .insert({ at: now, username: attempt.username, address: attempt.address, method: attempt.method })
    .returning('id');
  const since = new Date(now.getTime() - policy.lockoutWindowMs);
  // A success clears the username's count: a user who mistyped twice this morning starts afresh.
  // By id, not time: attempts in the same millisecond still come in order.
  const last = await db('login_attempts').where({ username: attempt.username, outcome: 'succeeded' }).where('at', '>', since).max({ id: 'id' }).first();
  const userLimit = attempt.method === 'pin' ? policy.maxPinFailuresPerUser : policy.maxFailuresPerUser;
  const [byUser, byAddress] = await Promise.all([
    newestFailures(db, 'username', attempt.username, since, now, id, userLimit, Number(last?.id ?? 0)),
    newestFailures(db, 'address', attempt.address, since, now, id, policy.maxFailuresPerAddress, 0),
  ]);
  // The lock lifts when the oldest failure that completes the limit leaves the window.
  const until = [byUser, byAddress]
    .filter((list) => list !== null)
    .map((list) => new Date(list.at(-1)!.getTime() + policy.lockoutWindowMs));
  return { id: Number(id), lockedUntil: until.length ? new Date(Math.max(...until.map(Number))) : null };
}

/** The newest `limit` counted failures by this username or address, or null when there are fewer. */
async function newestFailures(
  db: Knex,
  column: 'username' | 'address',
  value: string,
  since: Date,
  now: Date,
  exclude: number,
  limit: number,
  afterId: number,
): Promise<Date[] | null> {
  const rows: { at: Date | string }[] = await db('login_attempts')
    .where(column, value)
    .where('at', '>', since)
    .where('at', '<=', now)
    .whereIn('outcome', COUNTED)
    .whereNot('id', exclude)
    .where('id', '>', afterId)
    .orderBy('at', 'desc')
    .limit(limit)
    .select('at');
  return rows.length >= limit ? rows.map((r) => new Date(r.at)) : null;
}

export async function finishAttempt(trx: Knex.Transaction, id: number, outcome: AttemptOutcome, userId: number | null): Promise<void> {
  await trx('login_attempts').where('id', id).update({ outcome, user_id: userId });
}

/** Attempts older than this are only history (the audit trail keeps them): dropped on successful logins. */
export const ATTEMPT_RETENTION_MS = 7 * 24 * 3_600_000;

export async function pruneAttempts(trx: Knex.Transaction, now: Date): Promise<void> {
  await trx('login_attempts').where('at', '<', new Date(now.getTime() - ATTEMPT_RETENTION_MS)).delete();
}
