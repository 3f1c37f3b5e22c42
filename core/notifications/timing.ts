/**
 * When an e-mail may go: at once, after the person's quiet hours, or with their daily digest.
 * Pure (the caller passes `now`). Times are the person's wall clock ('HH:MM' in their time zone);
 * a DST change shifts a quiet hour's end by the hour changed, which nobody will mind.
 */

export interface DeliveryPrefs {
  quietFrom: string | null;
  quietUntil: string | null;
  timeZone: string;
  digest: boolean;
  digestAt: string;
}

const MINUTE_MS = 60_000;
const DAY_MINUTES = 1440;

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The wall clock in a time zone, in minutes since midnight (and the seconds past that minute). */
export function wallClock(now: Date, timeZone: string): { minutes: number; secondsMs: number } {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(now);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { minutes: get('hour') * 60 + get('minute'), secondsMs: now.getTime() % MINUTE_MS };
}

/** The next moment (now included) the wall clock in `timeZone` reads `hhmm`. */
export function nextWallTime(now: Date, timeZone: string, hhmm: string): Date {
  const { minutes, secondsMs } = wallClock(now, timeZone);
  const ahead = (minutesOf(hhmm) - minutes + DAY_MINUTES) % DAY_MINUTES;
  if (ahead === 0) return now;
  return new Date(now.getTime() - secondsMs + ahead * MINUTE_MS);
}

/** Within the quiet hours [from, until), which may run over midnight. */
export function inQuietHours(now: Date, prefs: DeliveryPrefs): boolean {
  if (!prefs.quietFrom || !prefs.quietUntil) return false;
  const { minutes } = wallClock(now, prefs.timeZone);
  const from = minutesOf(prefs.quietFrom);
  const until = minutesOf(prefs.quietUntil);
  return from <= until ? minutes >= from && minutes < until : minutes >= from || minutes < until;
}

/**
 * When an e-mail about an event may go, and whether it waits for the digest. A critical event (tool
 * down) goes at once: quiet hours and digests are for what can wait.
 */
export function emailTiming(now: Date, prefs: DeliveryPrefs, critical: boolean): { dueAt: Date; digest: boolean } {
  if (critical) return { dueAt: now, digest: false };
  if (prefs.digest) return { dueAt: nextWallTime(now, prefs.timeZone, prefs.digestAt), digest: true };
  if (inQuietHours(now, prefs)) return { dueAt: nextWallTime(now, prefs.timeZone, prefs.quietUntil!), digest: false };
  return { dueAt: now, digest: false };
}
