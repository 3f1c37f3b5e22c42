/**
 * `node dist/scripts/rotate-photo-key.js`: give the photo store a new key (TOOLROOM_PHOTO_KEY_FILE,
 * default TOOLROOM_DATA_DIR/keys/photo.key) and re-encrypt every photo file under TOOLROOM_DATA_DIR/photos
 * with it, for the database named by DATABASE_URL (or the PGlite files under TOOLROOM_DATA_DIR).
 * Stop the app first. Says how many files; exit code 0 done, 2 could not (run it again to finish).
 */
import { rotatePhotoKey } from '../core/photos/rotate';
import { photoStoreFromEnv } from '../core/photos/store';
import { runAsScript, withScriptDatabase } from './lib/database';

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const store = photoStoreFromEnv(env);
  return withScriptDatabase(
    'rotate-photo-key',
    env,
    async (db) => {
      const report = await rotatePhotoKey(db, store);
      console.log(`rotate-photo-key: re-encrypted ${report.files} files of ${report.photos} photos with key ${report.keyId} (${store.keyFile})`);
      return 0;
    },
    (err) => `${(err as Error).message} (run it again to finish: the key file keeps the old key until done)`,
  );
}

runAsScript(module, main);
