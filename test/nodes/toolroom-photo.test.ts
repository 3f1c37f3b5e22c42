import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { createTool } from '../../core/tools/service';
import { systemActor } from '../../core/auth/actor';
import { resetData, tableCounts } from '../support/db';
import { jpeg, jpegWithGps } from '../support/images';
import { assertCaught, catchTo, configNode, exchange, helper, holdDatabase, nodeBackends, statusUntil } from '../support/nodes';
import type { Db } from '../../core/db/connect';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const photoNode = require('../../nodes/toolroom-photo');

/**
 * toolroom-photo in a Node-RED runtime: attach a Buffer, capture through a stand-in camera command
 * (a script that writes a JPEG where rpicam-still would), list, image, annotate, withdraw, and the
 * errors at a Catch node.
 */
for (const backend of nodeBackends) {
  describe(`toolroom-photo node [${backend.name}]`, function () {
    this.timeout(30000);
    const held = holdDatabase(backend);
    let db: Db;
    let toolId: number;
    let dir: string;
    const saved = { data: process.env.TOOLROOM_DATA_DIR, command: process.env.TOOLROOM_PHOTO_CAPTURE_COMMAND };
    const tina = { id: 11, username: 'tina.tech', role: 'technician' };
    const erik = { id: 21, username: 'erik.eng', role: 'engineer' };

    async function deploy() {
      const cfg = backend.config('cfg');
      await helper.load(
        [configNode, photoNode],
        [{ id: 'flow', type: 'tab' }, cfg.node, { id: 'photo', type: 'toolroom-photo', z: 'flow', config: 'cfg', wires: [['out']] }, { id: 'out', type: 'helper', z: 'flow' }, ...catchTo('errors')],
        cfg.credentials,
      );
      await statusUntil(helper.getNode('photo'), (s) => s.fill === 'grey');
      return (topic: string, payload: unknown, user: object = tina) => exchange(helper.getNode('photo'), { topic, payload, user }, helper.getNode('out'), helper.getNode('errors'), 20000);
    }

    /** A stand-in for rpicam-still: takes `-o FILE` and writes a JPEG there (or fails like a missing camera). */
    function standInCamera(fixture: string, fail = false): string {
      const script = path.join(dir, fail ? 'broken-camera.sh' : 'camera.sh');
      const body = fail ? 'echo "ERROR: no cameras available" >&2; exit 1' : `cp "${fixture}" "$out"`;
      fs.writeFileSync(script, `#!/bin/sh\nwhile [ $# -gt 0 ]; do case "$1" in -o) out="$2"; shift;; esac; shift; done\n${body}\n`, { mode: 0o755 });
      return `sh ${script} --nopreview --immediate -o {file}`;
    }

    beforeEach(async function () {
      db = held.db();
      await resetData(db);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-photo-node-'));
      process.env.TOOLROOM_DATA_DIR = dir;
      await db('users').insert([
        { id: tina.id, username: tina.username, display_name: 'Tina', role: 'technician' },
        { id: erik.id, username: erik.username, display_name: 'Erik', role: 'engineer' },
      ]);
      toolId = (await createTool(db, systemActor('test'), { assetNumber: 'M-6001', name: 'Bezel', cavityCount: 2 })).id;
      await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
    });
    afterEach(function (done) {
      for (const [k, v] of [['TOOLROOM_DATA_DIR', saved.data], ['TOOLROOM_PHOTO_CAPTURE_COMMAND', saved.command]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      fs.rmSync(dir, { recursive: true, force: true });
      helper.unload().then(() => helper.stopServer(done), done);
    });

    it('attaches a Buffer, lists, serves the image without GPS, annotates, and an engineer withdraws', async () => {
      const call = await deploy();
      const attached = await call('attach', { image: await jpegWithGps(), toolId, caption: 'water leak, circuit 3' });
      const photo = attached.output!.payload as { id: number; toolId: number; capturedAt: string; takenBy: string; version: number };
      assert.equal(photo.toolId, toolId);
      assert.equal(photo.takenBy, String(tina.id));
      assert.equal(photo.capturedAt, '2026-11-26T13:30:05.000Z');
      const image = (await call('image', { id: photo.id, variant: 'original' })).output!.payload as { bytes: Buffer; mimeType: string };
      assert.equal(image.mimeType, 'image/jpeg');
      assert.equal((await sharp(image.bytes).metadata()).exif, undefined);
      const list = (await call('list', { toolId })).output!.payload as { items: { id: number }[]; total: number };
      assert.deepEqual(list.items.map((p) => p.id), [photo.id]);
      const annotated = (await call('annotate', { id: photo.id, version: photo.version, annotations: [{ kind: 'circle', centre: { x: 0.5, y: 0.5 }, radius: 0.2, colour: '#ff0000' }] })).output!.payload as { annotated: boolean };
      assert.equal(annotated.annotated, true);
      assertCaught(await call('withdraw', { id: photo.id, reason: 'blurry' }), 'forbidden');
      const withdrawn = (await call('withdraw', { id: photo.id, reason: 'blurry' }, erik)).output!.payload as { withdrawn: boolean };
      assert.equal(withdrawn.withdrawn, true);
      const actions = (await db('audit_events').where('entity', 'photo').orderBy('id')).map((e) => `${e.action} ${e.via}`);
      assert.deepEqual(actions, ['photo.upload photo', 'photo.annotate photo', 'photo.withdraw photo']);
    });

    it('captures through the configured command (a stand-in camera) and reports a failing camera, writing nothing', async () => {
      const fixture = path.join(dir, 'fixture.jpg');
      fs.writeFileSync(fixture, await jpeg(1600, 1200));
      process.env.TOOLROOM_PHOTO_CAPTURE_COMMAND = standInCamera(fixture);
      const call = await deploy();
      const taken = await call('capture', { toolId, caption: 'press 4 after the run' });
      const photo = taken.output!.payload as { width: number; caption: string };
      assert.deepEqual([photo.width, photo.caption], [1600, 'press 4 after the run']);
      const before = await tableCounts(db);
      process.env.TOOLROOM_PHOTO_CAPTURE_COMMAND = standInCamera(fixture, true);
      const err = assertCaught(await call('capture', { toolId }), 'conflict', 'command', 'capture');
      assert.match(err.message, /no cameras available/);
      process.env.TOOLROOM_PHOTO_CAPTURE_COMMAND = standInCamera(fixture);
      assertCaught(await call('capture', { toolId: 9999 }), 'not_found', 'toolId');
      assert.deepEqual(await tableCounts(db), before);
      assert.deepEqual(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('toolroom-capture-')), []);
    });

    it('refuses a bare Buffer, a bad image and an unknown operation at the Catch node', async () => {
      const call = await deploy();
      const before = await tableCounts(db);
      assertCaught(await call('attach', await jpeg()), 'validation', 'image', 'buffer');
      assertCaught(await call('attach', { image: Buffer.from('<svg/>'), toolId }), 'validation', 'image', 'type');
      assertCaught(await call('attach', { image: await jpeg() }), 'validation', 'toolId', 'required');
      assertCaught(await call('delete', { id: 1 }), 'validation', 'topic', 'operation');
      assert.deepEqual(await tableCounts(db), before);
    });
  });
}
