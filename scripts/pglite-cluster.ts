/**
 * Build step (scripts/copy-assets.sh): the empty PGlite cluster a new embedded database is unpacked
 * from (core/db/pglite-cluster.ts), made once per PGlite version. It runs initdb, which needs about
 * 1.1 GB of RAM for a few seconds: here, in a build, rather than in Node-RED's process on a Pi.
 */
import fs from 'node:fs';
import { clusterArchivePath, makeClusterArchive } from '../core/db/pglite-cluster';

async function main(): Promise<void> {
  const file = clusterArchivePath();
  if (fs.existsSync(file)) return;
  await makeClusterArchive(file);
  console.log(`pglite-cluster: made ${file} (${(fs.statSync(file).size / 1e6).toFixed(1)} MB)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
