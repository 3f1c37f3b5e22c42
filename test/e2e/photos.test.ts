import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { systemActor } from '../../core/auth/actor';
import { createTool } from '../../core/tools/service';
import { htmlNamedJpg, jpeg } from '../support/images';
import {
  eventually,
  launchBrowser,
  login,
  dashboardReady,
  requireDashboardServers,
  roleUsers,
  screenshot,
  startDashboardApp,
  type Browser,
  type BrowserContext,
  type DashboardApp,
  type Page,
  type RoleUsers,
} from '../support/browser';

/** The app refuses photos over this many bytes (TOOLROOM_PHOTO_MAX_BYTES), so a real "too large" happens quickly. */
const MAX_BYTES = 400_000;

/** A JPEG of noise: it does not compress, so it is over MAX_BYTES. */
async function largeJpeg(): Promise<Buffer> {
  const [width, height] = [1000, 800];
  return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Photos on the dashboard (issue 10) in Chromium against the real start command, PostgreSQL and the
 * photo store, as a technician on a tablet held upright with a touch screen: a failure reported with
 * a photo, its thumbnail in the tool's timeline, opened full size and annotated with a finger (the
 * server draws it; the original is untouched), a retry that makes one photo, and the server's
 * refusals shown on the page.
 */
describe('dashboard: photos', function () {
  this.timeout(300000);
  let dash: DashboardApp;
  let browser: Browser;
  let users: RoleUsers;

  before(async function () {
    requireDashboardServers(this);
    dash = await startDashboardApp('photos', { env: { TOOLROOM_PHOTO_MAX_BYTES: String(MAX_BYTES) } });
    users = await roleUsers(dash.db);
    await createTool(dash.db, systemActor('e2e'), { assetNumber: 'M-7001', name: 'Closure 16-cav', customer: 'Vela Packaging', cavityCount: 16, partNumbers: [] });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await dash?.stop();
  });

  /** A tablet (800×1280, touch) logged in as the technician, on `target`. */
  async function tablet(target: string, ready: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 800, height: 1280 }, hasTouch: true, isMobile: false, baseURL: dash.base });
    const page = await context.newPage();
    if (dash.login) await login(page, dash.base, users.technician, target);
    if (new URL(page.url()).pathname + new URL(page.url()).search !== target) await page.goto(`${dash.base}${target}`);
    await dashboardReady(page, ready, 60000);
    return { context, page };
  }

  /** Tap the camera button of `where` and give the chooser a file (what the camera or the picker would). */
  async function choosePhoto(page: Page, where: string, file: { name: string; mimeType: string; buffer: Buffer }): Promise<void> {
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click(`${where} [data-test=add-photo]`)]);
    assert.equal(await chooser.element().getAttribute('capture'), 'environment', 'the camera on the back');
    assert.equal(await chooser.element().getAttribute('accept'), 'image/*');
    await chooser.setFiles(file);
  }

  /** A finger drags across the element from (fx, fy) to (tx, ty), as fractions of its box: touch events through the DevTools protocol. */
  async function fingerDrag(page: Page, selector: string, from: [number, number], to: [number, number]): Promise<void> {
    const box = (await page.locator(selector).boundingBox())!;
    const at = (f: [number, number]) => ({ x: box.x + f[0] * box.width, y: box.y + f[1] * box.height });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [at(from)] });
    for (let i = 1; i <= 8; i++) {
      const f: [number, number] = [from[0] + ((to[0] - from[0]) * i) / 8, from[1] + ((to[1] - from[1]) * i) / 8];
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [at(f)] });
    }
    // The finger rests before it lifts: lifted while moving it would fling, and Chromium takes the next tap as stopping the fling, not as a tap.
    for (let i = 0; i < 3; i++) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [at(to)] });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await cdp.detach();
  }

  /** A finger taps the middle of the element (or `at`, fractions of its box), in the same touch session as the drags. */
  async function fingerTap(page: Page, selector: string, at: [number, number] = [0.5, 0.5]): Promise<void> {
    const box = (await page.locator(selector).boundingBox())!;
    const point = { x: box.x + at[0] * box.width, y: box.y + at[1] * box.height };
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [point] });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await cdp.detach();
  }

  it('reports a failure with a photo, sees it in the tool timeline, annotates it with a finger; the original is unchanged', async () => {
    const { context, page } = await tablet('/dashboard/report-failure?asset=M-7001', '[data-test=tool]');
    try {
      await page.waitForSelector('[data-test=code] optgroup', { state: 'attached' });
      await page.selectOption('[data-test=code]', 'EJ-PIN-BROKEN');
      await page.fill('textarea[name=description]', 'pin 7 snapped');
      // The photo is taken before the report exists: it waits in the browser, nothing is uploaded yet.
      await choosePhoto(page, '[data-test=report-photos]', { name: 'pin.jpg', mimeType: 'image/jpeg', buffer: await jpeg(1600, 1200, '#8a8f98') });
      await page.waitForSelector('[data-test=report-photos] [data-upload=waiting]');
      assert.equal(Number((await dash.db('photos').count<{ n: string }[]>('* as n'))[0].n), 0, 'nothing uploaded before the failure exists');
      await page.click('[data-test=submit]');
      await page.waitForSelector('[data-test=saved]', { timeout: 30000 });
      const failure = await dash.db('failure_reports').orderBy('id', 'desc').first();
      const photo = await eventually(dash, 'the photo uploaded to the new failure', () => dash.db('photos').where({ entity: 'failure', entity_id: failure.id }).first());
      await page.waitForSelector(`[data-test=saved-photos] [data-photo="${photo.id}"] img`, { timeout: 30000 });
      const originalSha = photo.sha256;
      assert.equal(photo.taken_by, dash.login ? users.technician.id : 'system');

      // The tool's timeline shows the failure with its thumbnail.
      await page.goto(`${dash.base}/dashboard/tool?asset=M-7001`);
      await dashboardReady(page, `[data-test=timeline] [data-kind=failure] [data-photo="${photo.id}"] img`, 60000);
      // The <img> is in the page before its bytes are: wait for the image to load, then read its size.
      const thumb = `[data-test=timeline] [data-photo="${photo.id}"] img`;
      await page.waitForFunction((sel) => {
        const img = (globalThis as unknown as { document: { querySelector(s: string): { complete: boolean; naturalWidth: number } | null } }).document.querySelector(sel);
        return !!img && img.complete && img.naturalWidth > 0;
      }, thumb, { timeout: 30000 }).catch(() => undefined);
      const thumbLoaded = await page.$eval(thumb, (img) => (img as unknown as { naturalWidth: number }).naturalWidth);
      assert.ok(thumbLoaded > 0 && thumbLoaded <= 320, `the thumbnail image is served (${thumbLoaded} px wide)`);
      await page.tap(`[data-test=timeline] [data-photo="${photo.id}"]`);
      await page.waitForSelector(`[data-test=photo-viewer][data-photo="${photo.id}"] [data-test=photo-image][data-variant=display]`);
      assert.match((await page.getAttribute('[data-test=photo-original]', 'href'))!, new RegExp(`/photos/${photo.id}/image\\?variant=original`));

      // Annotate: an arrow drawn with a finger, then saved; the server draws it.
      await page.tap('[data-test=annotate]');
      await page.waitForSelector('[data-test=draw]');
      await page.click('[data-tool=arrow]');
      await fingerDrag(page, '[data-test=draw]', [0.2, 0.7], [0.6, 0.3]);
      await page.waitForSelector('[data-test=draw] [data-shape=arrow][data-state=done]');
      // The arrow shows under the finger: from its start to where it came up, on the screen.
      const box = (await page.locator('[data-test=draw]').boundingBox())!;
      const drawn = (await page.locator('[data-test=draw] [data-shape=arrow] line').boundingBox())!;
      const near = (a: number, b: number, span: number) => Math.abs(a - b) < span * 0.05;
      assert.ok(near(drawn.x, box.x + 0.2 * box.width, box.width) && near(drawn.x + drawn.width, box.x + 0.6 * box.width, box.width), `across: ${JSON.stringify(drawn)} in ${JSON.stringify(box)}`);
      assert.ok(near(drawn.y, box.y + 0.3 * box.height, box.height) && near(drawn.y + drawn.height, box.y + 0.7 * box.height, box.height), `down: ${JSON.stringify(drawn)} in ${JSON.stringify(box)}`);
      // A circle, a freehand line and a label too, in another colour. (The buttons are clicked: headless Chromium's
      // gesture detector drops a synthetic tap that follows a synthetic drag now and then; the drawing is by touch.)
      await page.click('[data-tool=circle]');
      await page.click('[data-colour="#ffea00"]');
      await page.waitForSelector('[data-tool=circle].v-btn--active');
      await fingerDrag(page, '[data-test=draw]', [0.6, 0.3], [0.7, 0.3]);
      await page.waitForSelector('[data-test=draw] [data-shape=circle][data-state=done]');
      await page.click('[data-tool=freehand]');
      await fingerDrag(page, '[data-test=draw]', [0.1, 0.1], [0.3, 0.2]);
      await page.waitForSelector('[data-test=draw] [data-shape=freehand][data-state=done]');
      await page.click('[data-tool=text]');
      await page.waitForSelector('[data-tool=text].v-btn--active');
      await page.fill('[name=annotationText]', 'pin 7');
      await fingerTap(page, '[data-test=draw]', [0.05, 0.1]);
      await page.waitForSelector('[data-test=draw] [data-shape=text][data-state=done]');
      await screenshot(page, 'photos-annotate-tablet');
      await page.click('[data-test=save-annotation]');
      // The annotated view once the server has drawn it, or the reason it did not.
      await page.waitForSelector('[data-test=photo-image][data-variant=annotated], [data-test=photo-problem]', { timeout: 60000 });
      assert.equal(await page.$('[data-test=photo-problem]') && (await page.textContent('[data-test=photo-problem]')), null, 'saved without a problem');
      const row = await dash.db('photos').where('id', photo.id).first();
      const shapes = typeof row.annotations === 'string' ? JSON.parse(row.annotations) : row.annotations;
      assert.deepEqual(shapes.map((x: { kind: string; colour: string }) => [x.kind, x.colour]), [['arrow', '#ff1744'], ['circle', '#ffea00'], ['freehand', '#ffea00'], ['text', '#ffea00']]);
      assert.ok(Math.abs(shapes[1].radius - 0.1) < 0.02, `the circle's radius is the drag's length: ${shapes[1].radius}`);
      assert.ok(shapes[2].points.length >= 3, 'the freehand line follows the finger');
      assert.equal(shapes[3].text, 'pin 7');
      assert.ok(Math.abs(shapes[0].from.x - 0.2) < 0.05 && Math.abs(shapes[0].from.y - 0.7) < 0.05, `starts where the finger went down: ${JSON.stringify(shapes[0].from)}`);
      assert.ok(Math.abs(shapes[0].to.x - 0.6) < 0.05 && Math.abs(shapes[0].to.y - 0.3) < 0.05, `ends where it came up: ${JSON.stringify(shapes[0].to)}`);
      assert.ok(row.annotated_path, 'the annotated view is stored');

      // What the server serves: the annotated view differs from the display image; the original is the one uploaded.
      const image = async (variant: string) => {
        const res = await page.request.get(`/toolroom/api/v1/photos/${photo.id}/image?variant=${variant}`);
        assert.equal(res.status(), 200, variant);
        return res.body();
      };
      const [display, annotated, original] = [await image('display'), await image('annotated'), await image('original')];
      assert.notEqual(sha256(annotated), sha256(display));
      const raw = async (b: Buffer) => sharp(b).resize(64, 48, { fit: 'fill' }).raw().toBuffer();
      const [a, d] = [await raw(annotated), await raw(display)];
      const changed = a.reduce((n, v, i) => n + (Math.abs(v - d[i]) > 40 ? 1 : 0), 0);
      assert.ok(changed > 10, `the arrow shows in the annotated view (${changed} channel values changed)`);
      assert.equal(sha256(original), originalSha, 'the original is the one stored at upload');
      assert.equal(row.sha256, originalSha, "the row's SHA-256 is unchanged");
      // The viewer's image is the annotated one, loaded.
      await page.waitForFunction(() => {
        const img = (globalThis as unknown as { document: { querySelector(s: string): { complete: boolean; naturalWidth: number } | null } }).document.querySelector('[data-test=photo-image]');
        return !!img && img.complete && img.naturalWidth > 0;
      });
      await page.click('[data-test=close-photo]');
      await page.waitForSelector(`[data-test=timeline] [data-photo="${photo.id}"][data-annotated=yes]`);
    } finally {
      await context.close();
    }
  });

  it('a failed inspection item and an action (before) take photos; they show on the saved inspection and the action card', async () => {
    const tool = await dash.db('tools').where('asset_number', 'M-7001').first();
    const { context, page } = await tablet('/dashboard/inspect?asset=M-7001', '[data-test=checklist]');
    try {
      const items = await page.$$eval('[data-item]', (els) => els.map((e) => e.getAttribute('data-item')!));
      const failed = items[1];
      await page.tap('[data-test=all-pass]');
      await page.tap(`[data-item="${failed}"] [data-result=fail]`);
      await page.fill(`[name="note-${failed}"]`, 'vent blocked');
      await choosePhoto(page, `[data-item="${failed}"] [data-test=fail-detail]`, { name: 'vent.jpg', mimeType: 'image/jpeg', buffer: await jpeg(800, 600, '#505a40') });
      await page.waitForSelector(`[data-item="${failed}"] [data-upload=waiting]`);
      await page.tap('[data-test=submit]');
      await page.waitForSelector('[data-test=saved]', { timeout: 30000 });
      const inspection = await dash.db('inspections').orderBy('id', 'desc').first();
      const photo = await eventually(dash, 'the item photo', () => dash.db('photos').where({ entity: 'inspection', entity_id: inspection.id }).first());
      assert.equal(photo.inspection_item_key, failed);
      await page.waitForSelector(`[data-test=saved] [data-photo="${photo.id}"] img`, { timeout: 30000 });
    } finally {
      await context.close();
    }

    const action = await dash.db('actions').where('tool_id', tool.id).orderBy('id', 'desc').first();
    const a = await tablet(`/dashboard/actions?inspection=${action.inspection_id}`, `[data-action="${action.id}"]`);
    try {
      const before = `[data-action="${action.id}"] [data-phase=before]`;
      await choosePhoto(a.page, before, { name: 'before.jpg', mimeType: 'image/jpeg', buffer: await jpeg(800, 600, '#7a3050') });
      const photo = await eventually(dash, 'the before photo', () => dash.db('photos').where({ entity: 'action', entity_id: action.id }).first());
      assert.equal(photo.phase, 'before');
      await a.page.waitForSelector(`${before} [data-photo="${photo.id}"] img`, { timeout: 30000 });
      assert.equal(await a.page.$(`[data-action="${action.id}"] [data-phase=after] [data-photo]`), null, 'not shown as after');
    } finally {
      await a.context.close();
    }
  });

  it('a photo over the limit is refused with the reason, a good one then uploads once; a retry after a lost upload makes one photo', async () => {
    const { context, page } = await tablet('/dashboard/tool?asset=M-7001', '[data-test=tool-photos] [data-test=add-photo]');
    try {
      const tool = await dash.db('tools').where('asset_number', 'M-7001').first();
      const count = async () => Number((await dash.db('photos').where({ entity: 'tool', entity_id: tool.id }).count<{ n: string }[]>('* as n'))[0].n);
      const big = await largeJpeg();
      assert.ok(big.length > MAX_BYTES, `the test photo is over the limit (${big.length})`);
      await choosePhoto(page, '[data-test=tool-photos]', { name: 'big.jpg', mimeType: 'image/jpeg', buffer: big });
      const refused = await page.waitForSelector('[data-test=tool-photos] [data-upload=failed] [data-test=photo-error]', { timeout: 30000 });
      assert.match((await refused.textContent())!, new RegExp(`larger than ${MAX_BYTES} bytes`));
      assert.equal(await page.$('[data-test=tool-photos] [data-test=photo-retry]'), null, 'the same file is not offered again: it would be refused again');
      assert.equal(await count(), 0, 'nothing written');
      await page.tap('[data-test=tool-photos] [data-test=photo-drop]');

      // The first attempt of the next photo never gets through (the connection drops); Retry sends it again, with the same key.
      const attempts: string[] = [];
      await page.route('**/toolroom/api/v1/photos?**', async (route) => {
        if (route.request().method() !== 'POST') return route.continue();
        attempts.push(new URL(route.request().url()).searchParams.get('uploadKey') ?? '');
        if (attempts.length === 1) return route.abort('connectionreset');
        return route.continue();
      });
      const good = await jpeg(1200, 900, '#30507a');
      await choosePhoto(page, '[data-test=tool-photos]', { name: 'good.jpg', mimeType: 'image/jpeg', buffer: good });
      await page.waitForSelector('[data-test=tool-photos] [data-test=photo-retry]', { timeout: 30000 });
      assert.match((await page.textContent('[data-test=tool-photos] [data-test=photo-error]'))!, /network/);
      await page.tap('[data-test=tool-photos] [data-test=photo-retry]');
      const made = await eventually(dash, 'the photo after the retry', () => dash.db('photos').where({ entity: 'tool', entity_id: tool.id }).first());
      await page.waitForSelector(`[data-test=tool-photos] [data-photo="${made.id}"]`, { timeout: 30000 });
      assert.equal(attempts.length, 2);
      assert.equal(attempts[0], attempts[1], 'both attempts carry the one key of the chosen file');
      assert.equal(made.upload_key, attempts[0]);
      // The same file's key sent once more (as after an answer lost on the way back) answers with that photo: still one.
      const again = await page.evaluate(async ({ key, toolId, base64 }) => {
        const g = globalThis as unknown as { fetch: typeof fetch; atob(s: string): string; document: { cookie: string } };
        const csrf = /(?:^|;\s*)toolroom_csrf=([^;]*)/.exec(g.document.cookie)?.[1] ?? '';
        const bytes = Uint8Array.from(g.atob(base64), (c) => c.charCodeAt(0));
        const res = await g.fetch(`/toolroom/api/v1/photos?toolId=${toolId}&uploadKey=${key}`, { method: 'POST', headers: { 'x-csrf-token': decodeURIComponent(csrf) }, body: bytes });
        return { status: res.status, id: ((await res.json()) as { id: number }).id };
      }, { key: attempts[0], toolId: tool.id, base64: good.toString('base64') });
      assert.deepEqual(again, { status: 201, id: made.id });
      assert.equal(await count(), 1, 'one photo, however many attempts');
      await page.unroute('**/toolroom/api/v1/photos?**');

      // A file that is not an image: the server's reason on the page, nothing written.
      await choosePhoto(page, '[data-test=tool-photos]', { name: 'notes.jpg', mimeType: 'image/jpeg', buffer: htmlNamedJpg });
      const notImage = await page.waitForSelector('[data-test=tool-photos] [data-upload=failed] [data-test=photo-error]', { timeout: 30000 });
      assert.match((await notImage.textContent())!, /not a JPEG, PNG or WebP image/);
      assert.equal(await count(), 1);
      await screenshot(page, 'photos-refused-tablet');
    } finally {
      await context.close();
    }
  });
});
