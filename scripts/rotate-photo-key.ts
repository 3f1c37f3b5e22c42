/**
 * `node dist/scripts/rotate-photo-key.js`: give the photo store a new key (TOOLROOM_PHOTO_KEY_FILE,
 * default TOOLROOM_DATA_DIR/keys/photo.key) and re-encrypt every photo file under TOOLROOM_DATA_DIR/photos
 * with it, for the database named by DATABASE_URL (or the PGlite files under TOOLROOM_DATA_DIR).
 * Stop the app first. Says how many files; exit code 0 done, 2 could not (run it again to finish).
 */
import fs from 'node:fs';
import { openDatabase, optionsFromEnv } from '../core/db/connect';
import { rotatePhotoKey } from '../core/photos/rotate';
import { photoStoreFromEnv } from '../core/photos/store';

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const options = optionsFromEnv(env);
  if (!options.url && !fs.existsSync(options.dataDir!)) {
    console.error(`rotate-photo-key: no database at ${options.dataDir} (set DATABASE_URL or TOOLROOM_DATA_DIR)`);
    return 2;
  }
  const store = photoStoreFromEnv(env);
  const db = openDatabase({ ...options, poolMax: 1 });
  try {
    const report = await rotatePhotoKey(db, store);
    console.log(`rotate-photo-key: re-encrypted ${report.files} files of ${report.photos} photos with key ${report.keyId} (${store.keyFile})`);
    return 0;
  } catch (err) {
    console.error(`rotate-photo-key: ${(err as Error).message} (run it again to finish: the key file keeps the old key until done)`);
    return 2;
  } finally {
    await db.destroy();
  }
}

if (require.main === module) {
  main().then((code) => {
    process.exitCode = code;
  });
}
