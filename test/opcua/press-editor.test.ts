import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { simulatorNodeId, type PressSimulator } from '../../sim/press-simulator';
import { launchBrowser, type Browser, type Page } from '../support/browser';
import { startTwoPresses } from '../support/opcua';
import { startChildRuntime, type ChildRuntime } from '../support/runtime';

/**
 * The toolroom-press-opcua edit dialog in the real Node-RED editor (headless Chromium, a runtime in
 * a child process loading this package, as test/nodes/editor.test.ts does): "Find EUROMAP 77
 * variables" shows what the press simulator has and "Use" fills the node id fields; the tree opens
 * level by level and a variable's button fills a field.
 */
describe('toolroom-press-opcua edit dialog in the Node-RED editor (Chromium)', function () {
  this.timeout(180_000);
  let red: ChildRuntime | undefined;
  let dir = '';
  let sim: PressSimulator;
  let browser: Browser;
  let page: Page;

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-press-editor-'));
    sim = await startTwoPresses(dir);
    red = await startChildRuntime(path.join(dir, 'node-red'), { TOOLROOM_DATA_DIR: dir });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${red.base}/`);
    await page.waitForFunction(
      () => {
        const red = (globalThis as unknown as { RED?: { nodes?: { getType(t: string): unknown }; workspaces?: { active(): string } } }).RED;
        return !!red?.nodes?.getType('toolroom-press-opcua') && !!red.workspaces?.active();
      },
      null,
      { timeout: 120_000 },
    );
  });

  after(async function () {
    await browser?.close();
    await red?.stop();
    await sim?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A new press node on the open tab, its edit dialog open. */
  async function editNew(id: string, counter = 'MachineCycleCounter') {
    await page.evaluate(
      ({ id, endpoint, pkiDir, counter }) => {
        type Red = {
          workspaces: { active(): string };
          view: { importNodes(nodes: object[], options?: object): void };
          nodes: { node(id: string): unknown };
          editor: { edit(node: unknown): void };
        };
        const RED = (globalThis as unknown as { RED: Red }).RED;
        RED.view.importNodes([{ id, type: 'toolroom-press-opcua', z: RED.workspaces.active(), x: 200, y: 100, endpoint, press: 'P9', pkiDir, counter, wires: [[]] }], {
          generateIds: false,
          touchImport: true,
        });
        RED.editor.edit(RED.nodes.node(id));
      },
      { id, endpoint: sim.endpoint, pkiDir: path.join(dir, 'client'), counter },
    );
    await page.waitForSelector('#toolroom-press-opcua-find', { state: 'visible', timeout: 30_000 });
  }

  async function closeDialog() {
    await page.click('#node-dialog-cancel');
    await page.waitForSelector('#toolroom-press-opcua-find', { state: 'detached', timeout: 30_000 });
  }

  it('finds the EUROMAP 77 variables, shows them, and fills the node id fields', async () => {
    await editNew('aa00000000000001', 'JobCycleCounter');
    await page.click('#toolroom-press-opcua-find');
    const use = page.locator('#toolroom-press-opcua-browse button', { hasText: 'P02' });
    await use.waitFor({ timeout: 60_000 }).catch(async (err: Error) => {
      throw new Error(`${err.message}\nthe dialog shows: ${await page.locator('#toolroom-press-opcua-browse').innerText()}`);
    });
    const shown = await page.locator('#toolroom-press-opcua-browse').innerText();
    assert.match(shown, /IMM2MES/, 'names the namespace found');
    assert.ok(shown.includes(`MachineCycleCounter: ${simulatorNodeId('P02', 'MachineCycleCounter')} (UInt64)`), shown);
    await use.click();
    const value = (field: string) => page.inputValue(`#node-input-${field}`);
    assert.equal(await value('machine'), 'P02');
    assert.equal(await value('counterNodeId'), simulatorNodeId('P02', 'JobCycleCounter'), 'the counter chosen in the dialog');
    assert.equal(await value('lastCycleTimeNodeId'), simulatorNodeId('P02', 'LastCycleTime'));
    assert.equal(await value('mouldIdNodeId'), simulatorNodeId('P02', 'MouldId'));
    assert.equal(await value('numCavitiesNodeId'), simulatorNodeId('P02', 'NumCavities'));
    await closeDialog();
  });

  it('opens the address space level by level and picks a variable into a field', async () => {
    await editNew('aa00000000000002');
    await page.click('#toolroom-press-opcua-tree');
    const browse = page.locator('#toolroom-press-opcua-browse');
    for (const name of ['Machines', 'P01', 'Jobs', 'ActiveJobValues']) {
      const link = browse.locator('a', { hasText: new RegExp(`^\\s*${name}$`) }).first();
      await link.waitFor({ timeout: 60_000 });
      await link.click();
    }
    const row = browse.locator('li', { hasText: 'MachineCycleCounter (UInt64)' }).last();
    await row.waitFor({ timeout: 60_000 });
    await row.locator('button').first().click();
    assert.equal(await page.inputValue('#node-input-counterNodeId'), simulatorNodeId('P01', 'MachineCycleCounter'));
    await closeDialog();
  });
});
