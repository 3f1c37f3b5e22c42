import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';

/** The committed Dashboard 2 page flows (dashboards/flows/*.json) are exactly what their sources build to. */
describe('dashboard pages', () => {
  it('match their sources (node dashboards/build.mjs --check)', async function () {
    this.timeout(30000);
    const root = path.resolve(__dirname, '../../..');
    const run = await new Promise<{ code: number; err: string }>((resolve) =>
      execFile(process.execPath, [path.join(root, 'dashboards/build.mjs'), '--check'], (error, _out, err) => resolve({ code: error ? Number(error.code) : 0, err })),
    );
    assert.equal(run.code, 0, run.err);
  });
});
