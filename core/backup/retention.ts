/**
 * Which backup archives to keep (grandfather-father-son, as restic and borg count): the newest
 * archive of each of the last `daily` days that have one, of the last `weekly` ISO weeks and of the
 * last `monthly` months, all in UTC; the newest archive always. Periods without an archive do not
 * count, so a week of failed backups never prunes the last good ones.
 */

export interface KeepPolicy {
  daily: number;
  weekly: number;
  monthly: number;
}

export const DEFAULT_KEEP: KeepPolicy = { daily: 7, weekly: 4, monthly: 12 };

export interface ArchiveFile {
  name: string;
  at: Date;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** ISO 8601 week of a UTC date, as 'YYYY-Www' (the week's Thursday decides the year). */
export function isoWeek(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${pad(week)}`;
}

const PERIODS: [keyof KeepPolicy, (d: Date) => string][] = [
  ['daily', (d) => d.toISOString().slice(0, 10)],
  ['weekly', isoWeek],
  ['monthly', (d) => d.toISOString().slice(0, 7)],
];

/** The names of the archives to keep; every other archive may be deleted. */
export function archivesToKeep(archives: ArchiveFile[], policy: KeepPolicy): Set<string> {
  const newestFirst = [...archives].sort((a, b) => b.at.getTime() - a.at.getTime() || (a.name < b.name ? 1 : -1));
  const keep = new Set<string>();
  if (newestFirst.length) keep.add(newestFirst[0].name);
  for (const [kind, period] of PERIODS) {
    const seen = new Set<string>();
    for (const a of newestFirst) {
      if (seen.size >= policy[kind]) break;
      const key = period(a.at);
      if (seen.has(key)) continue;
      seen.add(key);
      keep.add(a.name);
    }
  }
  return keep;
}

/** Archive file names: `toolroom-YYYYMMDD-HHMMSS-mmm.tar.age`, in UTC. */
const NAME = /^toolroom-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-(\d{3})\.tar\.age$/;

export function archiveName(at: Date): string {
  const d = at;
  return `toolroom-${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}-${pad(d.getUTCMilliseconds(), 3)}.tar.age`;
}

/** The time in an archive's name, or null for any other file (which retention never touches). */
export function archiveTime(name: string): Date | null {
  const m = NAME.exec(name);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, ms] = m.map(Number);
  const at = new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms));
  // Date.UTC rolls day 99 into the next months: only a name that is its own time's name counts.
  return Number.isNaN(at.getTime()) || archiveName(at) !== name ? null : at;
}
