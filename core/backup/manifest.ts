import { z } from 'zod';
import type { ExtractedEntry } from './tar';

/** The last entry of an archive: what it holds and each entry's sha256, checked before anything is restored. */
export const MANIFEST = 'manifest.json';
/** The keys part: a tar of the key files, encrypted on its own. */
export const KEYS_PART = 'keys.tar.age';

const manifestSchema = z.object({
  format: z.literal('toolroom-backup'),
  version: z.literal(1),
  createdAt: z.string(),
  database: z.object({
    backend: z.enum(['postgres', 'pglite']),
    file: z.enum(['database.dump', 'database.sql']),
    migrations: z.array(z.string()),
  }),
  entries: z.array(z.object({ name: z.string(), size: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
});
export type Manifest = z.infer<typeof manifestSchema>;

/**
 * The manifest, once every extracted entry matches it exactly (same set, sizes and hashes); else an
 * error naming the first difference. age already authenticates the bytes: this catches an archive put
 * together wrongly (a file that changed while it was read, a bug) rather than an attacker.
 */
export function checkManifest(text: string, extracted: ExtractedEntry[]): Manifest {
  let manifest: Manifest;
  try {
    manifest = manifestSchema.parse(JSON.parse(text));
  } catch {
    throw new Error(`its ${MANIFEST} is not a Toolroom backup manifest (version 1)`);
  }
  const got = new Map(extracted.filter((e) => e.name !== MANIFEST).map((e) => [e.name, e]));
  for (const want of manifest.entries) {
    const e = got.get(want.name);
    if (!e) throw new Error(`${want.name} is listed in its manifest but missing`);
    if (e.size !== want.size || e.sha256 !== want.sha256) throw new Error(`${want.name} does not match its manifest (size or sha256)`);
    got.delete(want.name);
  }
  if (got.size) throw new Error(`${[...got.keys()][0]} is not listed in its manifest`);
  if (!manifest.entries.some((e) => e.name === manifest.database.file)) throw new Error(`it holds no database dump (${manifest.database.file})`);
  if (!manifest.entries.some((e) => e.name === KEYS_PART)) throw new Error(`it holds no keys part (${KEYS_PART})`);
  return manifest;
}
