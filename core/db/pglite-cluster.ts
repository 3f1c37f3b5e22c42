import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';

/**
 * An embedded database's first start without initdb (issue 16). PGlite's initdb runs a second
 * PGlite and its initdb module side by side in the process that opens the database: a first start
 * peaked at 1.1 GB of RSS for initdb alone (PGlite 0.5.16), more than a 1 GB Pi has. So the build
 * makes that empty cluster once (`makeClusterArchive`, run by scripts/copy-assets.sh) as a tarball
 * beside this file, and a new data directory is unpacked from it (PGlite's `loadDataDir`): 358 MB
 * peak for the same cluster. The tarball is PGlite's own dump, named by PGlite's version so an
 * upgrade makes a new one; without it the first start runs initdb as before.
 */
export function clusterArchivePath(): string {
  const pkg = path.join(path.dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
  const version = (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version: string }).version;
  return path.join(__dirname, `pglite-cluster-${version}.tar.gz`);
}

/** `{ loadDataDir }` for a directory that holds no cluster yet, when the build made the archive; else nothing. */
export function firstStartCluster(dir: string): { loadDataDir?: Blob } {
  if (fs.existsSync(path.join(dir, 'PG_VERSION'))) return {};
  const archive = clusterArchivePath();
  return fs.existsSync(archive) ? { loadDataDir: new Blob([fs.readFileSync(archive)]) } : {};
}

/** initdb in memory and PGlite's dump of the result, written whole or not at all. Returns the file. */
export async function makeClusterArchive(file = clusterArchivePath()): Promise<string> {
  const pg = await PGlite.create('memory://');
  try {
    const dump = await pg.dumpDataDir('gzip');
    const partial = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    fs.renameSync(partial, file);
    return file;
  } finally {
    await pg.close();
  }
}
