import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');

/** `node build.mjs --check` in `dir` (a dashboards folder). */
function check(dir: string): Promise<{ code: number; err: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [path.join(dir, 'build.mjs'), '--check'], (error, _out, err) => resolve({ code: error ? Number(error.code) : 0, err })),
  );
}

/** The committed Dashboard 2 page flows (dashboards/flows/*.json) are exactly what their sources build to. */
describe('dashboard pages', () => {
  it('match their sources (node dashboards/build.mjs --check)', async function () {
    this.timeout(30000);
    const run = await check(path.join(root, 'dashboards'));
    assert.equal(run.code, 0, run.err);
  });

  it('fail the check when a shared module changes under them, or a flow has no page', async function () {
    this.timeout(30000);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-dashboards-'));
    // The pages with what they read from beside them (the colours in http/assets).
    const dir = path.join(tmp, 'dashboards');
    try {
      fs.cpSync(path.join(root, 'dashboards'), dir, { recursive: true });
      fs.cpSync(path.join(root, 'http', 'assets'), path.join(tmp, 'http', 'assets'), { recursive: true });
      const format = path.join(dir, 'lib', 'format.mjs');
      fs.writeFileSync(format, fs.readFileSync(format, 'utf8').replace("'In press'", "'On the press'"));
      fs.writeFileSync(path.join(dir, 'flows', '99-gone.json'), '[]\n');
      const run = await check(dir);
      assert.equal(run.code, 1);
      // Every page takes the format mixin, so every page's flow lags; the orphan is named too.
      assert.match(run.err, /99-gone\.json.*10-home\.json.*50-audit\.json/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
