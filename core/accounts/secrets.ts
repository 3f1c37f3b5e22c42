import { createHash, randomBytes } from 'node:crypto';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import { validationError, type FieldProblem } from '../errors';
import { dictionary } from '@zxcvbn-ts/language-common';

/** OWASP's argon2id parameters (19 MiB, 2 passes, 1 lane): about 70 ms a hash on one core here. */
export const ARGON2_OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;
export const PIN_MIN = 4;
export const PIN_MAX = 8;

/**
 * Common passwords: zxcvbn's frequency-ordered list from leaked-password corpora (lower-cased), as the
 * maintained @zxcvbn-ts/language-common ships it. Entries shorter than the length rule are left out
 * (that rule refuses them anyway). Built on the first check, not at load.
 */
let common: Set<string> | undefined;
function commonPasswords(): Set<string> {
  common ??= new Set(dictionary['passwords-common'].filter((p) => p.length >= PASSWORD_MIN));
  return common;
}

/** The one spelling of a secret: the same password typed on a phone, a tablet or a PC hashes alike. */
export function normalizeSecret(secret: string): string {
  return secret.normalize('NFKC');
}

/**
 * What is wrong with a new password, if anything: at least 8 and at most 128 characters (code
 * points, after NFKC; any character, spaces included), not a common password, not containing the
 * username. No composition rules: length and the common list are what stop guessing (ASVS 6.2).
 */
export function passwordProblems(password: string, username: string, field = 'password'): FieldProblem[] {
  const problem = (rule: string, message: string) => [{ field, rule, message }];
  // Huge input is refused before NFKC (which can grow a string) so it costs nothing.
  if (password.length > PASSWORD_MAX * 4) return problem('too_long', `must be at most ${PASSWORD_MAX} characters`);
  const normalized = normalizeSecret(password);
  const length = [...normalized].length;
  if (normalized.trim() === '') return problem('blank', 'must not be only spaces');
  if (length < PASSWORD_MIN) return problem('too_short', `must be at least ${PASSWORD_MIN} characters`);
  if (length > PASSWORD_MAX) return problem('too_long', `must be at most ${PASSWORD_MAX} characters`);
  const lower = normalized.toLowerCase();
  if (commonPasswords().has(lower)) return problem('common', 'is one of the most common passwords; choose another');
  if (username && lower.includes(username.toLowerCase())) return problem('contains_username', 'must not contain the username');
  return [];
}

/** Throw a validation error naming `field` unless the password meets the rules; return it normalized. */
export function checkPassword(password: string, username: string, field = 'password'): string {
  const problems = passwordProblems(password, username, field);
  if (problems.length) throw validationError(problems);
  return normalizeSecret(password);
}

/**
 * A PIN for shared shop-floor tablets: 4 to 8 digits (full-width digits count, via NFKC), not one
 * digit repeated and not a run up or down (1234, 9876): those are the first ones anybody tries.
 */
export function checkPin(pin: string, field = 'pin'): string {
  const normalized = normalizeSecret(pin.slice(0, 64));
  const fail = (rule: string, message: string) => validationError([{ field, rule, message }]);
  if (!/^\d*$/.test(normalized)) throw fail('digits_only', 'must be digits only');
  if (normalized.length < PIN_MIN) throw fail('too_short', `must be at least ${PIN_MIN} digits`);
  if (normalized.length > PIN_MAX || pin.length > 64) throw fail('too_long', `must be at most ${PIN_MAX} digits`);
  const digits = [...normalized].map(Number);
  const steps = new Set(digits.slice(1).map((d, i) => (d - digits[i] + 10) % 10));
  if (steps.size === 1 && [0, 1, 9].includes([...steps][0])) throw fail('common', 'must not be one digit repeated or a run like 1234');
  return normalized;
}

export function hashSecret(secret: string): Promise<string> {
  return hash(normalizeSecret(secret), ARGON2_OPTIONS);
}

let dummy: Promise<string> | undefined;

/**
 * Check a secret against a stored hash. Without a hash (unknown user, no PIN set) a dummy hash is
 * checked instead, so the answer takes as long either way and timing does not tell who exists.
 */
export async function verifySecret(stored: string | null | undefined, secret: string): Promise<boolean> {
  dummy ??= hashSecret(randomBytes(16).toString('base64url'));
  const candidate = normalizeSecret(secret.slice(0, PASSWORD_MAX * 4));
  if (!stored) {
    await verify(await dummy, candidate);
    return false;
  }
  try {
    return await verify(stored, candidate);
  } catch {
    return false; // a hash that is not argon2 (edited by hand) matches nothing
  }
}

/** A random bearer secret: 32 bytes, base64url (43 characters). */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Bearer secrets are random and long, so a fast hash suffices: a stolen table yields nothing usable. */
export function sha256(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A strong password to print once (first start): 24 characters from 18 random bytes. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
