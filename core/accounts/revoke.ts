import type { Knex } from 'knex';
import { revokeUserSessions } from './repository';

/**
 * Everything that lets a user in without their password: login sessions and API tokens. Ended
 * together when the password changes (own change or an admin's reset) and when the user is
 * disabled — a token made before a compromise must not outlive the fix (ASVS 7.4.3). The session
 * a user changes their password from may be kept. Re-enabling a user brings nothing back.
 */
export async function revokeUserAccess(
  trx: Knex,
  userId: number,
  reason: string,
  by: string,
  now: Date,
  keepSession?: number,
): Promise<{ revokedSessions: number; revokedTokens: number }> {
  const revokedSessions = await revokeUserSessions(trx, userId, reason, now, keepSession);
  const revokedTokens = await trx('api_tokens').where('user_id', userId).whereNull('revoked_at').update({ revoked_at: now, revoked_by: by });
  return { revokedSessions, revokedTokens };
}
