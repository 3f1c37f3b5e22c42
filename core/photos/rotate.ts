import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { PhotoStore } from './store';

export interface RotationReport {
  photos: number;
  files: number;
  keyId: string;
}

const FILE_COLUMNS = ['path', 'display_path', 'thumbnail_path', 'annotated_path'] as const;

/**
 * A new photo key: every photo file (withdrawn ones too) is re-encrypted with it and each row names
 * it. The key file holds the new key and the old ones while this runs, so a rotation stopped halfway
 * loses nothing and is finished by running it again; at the end only the new key is left.
 * Run with the app stopped (a photo added meanwhile by another process would keep the old key).
 */
export async function rotatePhotoKey(db: Knex, store: PhotoStore, batch = 100): Promise<RotationReport> {
  const old = await store.keyring();
  const fresh = randomBytes(32);
  await store.writeKeys([fresh, ...old.map((k) => k.key)]);
  const [current] = await store.keyring();
  let photos = 0;
  let files = 0;
  for (let after = 0; ; ) {
    const rows: Record<string, unknown>[] = await db('photos').where('id', '>', after).orderBy('id').limit(batch).select('id', ...FILE_COLUMNS);
    if (!rows.length) break;
    for (const row of rows) {
      for (const column of FILE_COLUMNS) {
        const file = row[column] as string | null;
        if (!file) continue;
        await store.write(file, await store.read(row.id as number, file));
        files++;
      }
      await db('photos').where('id', row.id as number).update({ key_id: current.id });
      photos++;
    }
    after = rows[rows.length - 1].id as number;
  }
  await store.writeKeys([fresh]);
  return { photos, files, keyId: current.id };
}
