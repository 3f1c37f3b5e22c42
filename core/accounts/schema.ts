import { z } from 'zod';
import { id, instant, oneOf, pagination, recordId, text, timestamp } from '../validate';
import { userRecord } from '../users/schema';

export const LOGIN_METHODS = ['password', 'pin'] as const;
export type LoginMethod = (typeof LOGIN_METHODS)[number];

// Secrets are checked against the rules in secrets.ts; here only their type and a sane size.
const secret = z.string().max(1024);

/** A login form: username and either the password or the PIN, and where it came from. */
export const loginInput = z
  .object({
    // Not the username format: a login never says whether a name could exist.
    username: z.string().trim().toLowerCase().min(1).max(100),
    password: secret.optional(),
    pin: z.string().max(64).optional(),
    address: z.string().trim().min(1).max(100),
    userAgent: z.string().max(1000).transform((s) => s.slice(0, 500)).optional(),
  })
  .strict()
  .superRefine(oneOf(['password', 'pin']));
export type LoginInput = z.input<typeof loginInput>;

export const setPasswordInput = z
  .object({
    userId: id,
    password: secret,
    // An admin's reset is a temporary password unless the admin says otherwise.
    mustChange: z.boolean().default(true),
  })
  .strict();

/** A reset to a generated temporary password names only the user. */
export const resetPasswordInput = z.object({ userId: id }).strict();

/** A reset's answer: the temporary password is in it once, for the admin to hand over; only its hash is kept. */
export const passwordResetRecord = z.object({ user: userRecord, temporaryPassword: z.string() }).meta({ id: 'PasswordReset' });
export type PasswordReset = z.infer<typeof passwordResetRecord>;

export const setPinInput = z.object({ userId: id, pin: z.string().max(64).nullable() }).strict();

export const changeOwnPasswordInput = z.object({ currentPassword: secret, password: secret }).strict();

export const ensureAdminInput = z.object({ password: secret.optional() }).strict();

export const userSessionsInput = z.object({ userId: id.optional() }).strict();

export const createApiTokenInput = z
  .object({
    userId: id.optional(),
    name: text(100),
    expiresAt: timestamp.nullish(),
  })
  .strict();

export const listApiTokensInput = z
  .object({ userId: id.optional(), includeRevoked: z.boolean().default(false), ...pagination })
  .strict();

export const revokeApiTokenInput = z.object({ id }).strict();

/** A login session as core hands it out: never its token or the token's hash. */
export const sessionRecord = z.object({
  id: recordId,
  userId: recordId,
  method: z.enum(LOGIN_METHODS),
  createdAt: instant,
  lastSeenAt: instant,
  expiresAt: instant,
  address: z.string(),
  userAgent: z.string().nullable(),
  revokedAt: instant.nullable(),
  revokedReason: z.string().nullable(),
}).meta({ id: 'Session' });
export type Session = z.infer<typeof sessionRecord>;

export const loginResultRecord = z.object({
  /** The session's bearer secret: set it as the cookie; only its SHA-256 is stored. */
  token: z.string(),
  user: userRecord,
  session: sessionRecord,
  expiresAt: instant,
  /** The password was set by an admin or generated: the adapter asks for a new one first. */
  mustChangePassword: z.boolean(),
}).meta({ id: 'LoginResult' });
export type LoginResult = z.infer<typeof loginResultRecord>;

/** An API token as listed: its prefix identifies it; the secret was shown once at creation. */
export const apiTokenRecord = z.object({
  id: recordId,
  userId: recordId,
  name: z.string(),
  prefix: z.string(),
  createdAt: instant,
  createdBy: z.string(),
  expiresAt: instant.nullable(),
  lastUsedAt: instant.nullable(),
  revokedAt: instant.nullable(),
  revokedBy: z.string().nullable(),
}).meta({ id: 'ApiToken' });
export type ApiToken = z.infer<typeof apiTokenRecord>;

/** A token just created: its secret is in this answer only. */
export const createdApiTokenRecord = z.object({ token: apiTokenRecord, secret: z.string() }).meta({ id: 'CreatedApiToken' });
