import type { Knex } from 'knex';
import type { AccessPolicy } from './policy';
import type { LoginMethod } from './schema';

export type AttemptOutcome = 'succeeded' | 'failed' | 'locked' | 'refused';

/** Failures that count towards a lock: wrong secrets, and attempts still being checked elsewhere. */
const COUNTED = ['failed', 'pending'];

/** Which limit locked an attempt: the username on this address, the username everywhere, or the address. */
export type LockScope = 'username_on_address' | 'username' | 'address';

/**
 * Start a login attempt: write it as pending, then count the failures before it. Written first
 * (outside any transaction, which would hold the connection through a 70 ms hash) so that
 * concurrent attempts from several runtimes see each other and cannot get past the limit together.
 * Returns the attempt's id and, when too many failures came before, until when it stays locked and
 * by which limit (ASVS 6.3.1 without a lockout anyone can trigger: see AccessPolicy).
 */
export async function beginAttempt(
  db: Knex,
  attempt: { username: string; address: string; method: LoginMethod },
  now: Date,
  policy: AccessPolicy,
): Promise<{ id: number; lockedUntil: Date | null; lockedBy: LockScope | null }> {
  const [{ id }] = await db('login_attempts')
    .insert({ at: now, username: attempt.username, address: attempt.address, method: attempt.method })
    .returning('id');
  const since = new Date(now.getTime() - policy.lockoutWindowMs);
  // A success clears the username's count: a user who mistyped twice this morning starts afresh.
  // By id, not time: attempts in the same millisecond still come in order.
  // On one address only a success there clears it: the user logging in elsewhere does not give the guesser new tries.
  const lastSuccess = async (where: Record<string, string>) =>
    Number((await db('login_attempts').where({ ...where, outcome: 'succeeded' }).where('at', '>', since).max({ id: 'id' }).first())?.id ?? 0);
  const [lastAnywhere, lastHere] = await Promise.all([lastSuccess({ username: attempt.username }), lastSuccess({ username: attempt.username, address: attempt.address })]);
  const pin = attempt.method === 'pin';
  const counted = (where: Record<string, string>, limit: number, afterId: number) => newestFailures(db, where, since, now, Number(id), limit, afterId);
  const locks: [LockScope, Date[] | null][] = await Promise.all([
    counted({ username: attempt.username, address: attempt.address }, pin ? policy.maxPinFailuresPerUser : policy.maxFailuresPerUser, lastHere),
    counted({ username: attempt.username }, pin ? policy.maxPinFailuresPerUserEverywhere : policy.maxFailuresPerUserEverywhere, lastAnywhere),
    counted({ address: attempt.address }, policy.maxFailuresPerAddress, 0),
  ]).then((lists) => lists.map((list, i) => [(['username_on_address', 'username', 'address'] as const)[i], list]));
  // The lock lifts when the oldest failure that completes the limit leaves the window.
  let lockedUntil: Date | null = null;
  let lockedBy: LockScope | null = null;
  for (const [scope, list] of locks) {
    if (!list) continue;
    const until = new Date(list.at(-1)!.getTime() + policy.lockoutWindowMs);
    if (!lockedUntil || until > lockedUntil) [lockedUntil, lockedBy] = [until, scope];
  }
  return { id: Number(id), lockedUntil, lockedBy };
}

/** The newest `limit` counted failures matching `where` (username, address or both), or null when there are fewer. */
async function newestFailures(
  db: Knex,
  where: Record<string, string>,
  since: Date,
  now: Date,
  exclude: number,
  limit: number,
  afterId: number,
): Promise<Date[] | null> {
  const rows: { at: Date | string }[] = await db('login_attempts')
    .where(where)
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
