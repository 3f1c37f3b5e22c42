/**
 * Photos over HTTP: the upload takes the raw image as the body (not JSON, not the dashboard socket,
 * whose messages are small), streamed to a temporary file within the size limit; the images are
 * served decrypted to whoever core lets read them, as what they really are, never sniffed or cached
 * by anyone but the caller. Everything else (type, pixels, links, permissions, audit) is core's.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import * as photos from '../../core/photos/service';
import * as photoSchema from '../../core/photos/schema';
import { pageOf } from '../../core/validate';
import { HttpProblem } from '../problem';
import { STREAMED, call, type Route, type RouteContext } from './operations';

/** The body, streamed to a file of its own (0600) and counted: past the limit the upload stops there (413). */
async function receiveImage(ctx: RouteContext, limit: number): Promise<string> {
  const tooLarge = () => new HttpProblem(413, 'max_bytes', `the image is larger than ${limit} bytes`, { field: 'body' });
  const declared = Number(ctx.req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    ctx.req.resume();
    throw tooLarge();
  }
  const file = path.join(os.tmpdir(), `toolroom-upload-${randomBytes(8).toString('hex')}`);
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done(size > limit ? tooLarge() : null, chunk);
    },
  });
  try {
    await pipeline(ctx.req, counter, fs.createWriteStream(file, { mode: 0o600, flags: 'wx' }));
  } catch (err) {
    await fs.promises.rm(file, { force: true });
    // Read the rest away, so the answer reaches a client still sending.
    ctx.req.resume();
    throw err instanceof HttpProblem ? err : new HttpProblem(400, 'body', 'the upload was cut off');
  }
  return file;
}

async function upload(ctx: RouteContext): Promise<unknown> {
  const limits = photos.photoLimitsFromEnv();
  // Who may add and what the query names are core's to say before 20 MB reach the disk (uploadPhoto says it again).
  photos.checkUploadRequest(ctx.actor, ctx.input);
  const file = await receiveImage(ctx, limits.maxBytes);
  try {
    return await photos.uploadPhoto(ctx.db, ctx.actor, ctx.input, { file }, { limits });
  } finally {
    await fs.promises.rm(file, { force: true });
  }
}

const EXTENSION: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp', 'image/heic': 'heic' };

async function serveImage(ctx: RouteContext): Promise<typeof STREAMED> {
  const image = await photos.readPhoto(ctx.db, ctx.actor, ctx.input);
  ctx.res.writeHead(200, {
    'Content-Type': image.mimeType,
    'Content-Length': image.bytes.length,
    'Content-Disposition': `inline; filename="photo-${image.photo.id}-${image.variant}.${EXTENSION[image.mimeType] ?? 'bin'}"`,
    // Evidence about a customer's tool: only the caller's browser keeps it.
    'Cache-Control': 'private',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
  });
  ctx.res.end(image.bytes);
  return STREAMED;
}

export const PHOTO_ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/photos',
    operationId: 'listPhotos',
    tag: 'Photos',
    summary: 'Photos of a tool (its timeline: with those of its inspections, failures and actions), an inspection, a failure report or an action; newest first',
    permission: 'photo.read',
    input: photoSchema.listPhotosInput,
    output: pageOf(photoSchema.photoRecord),
    run: call(photos.listPhotos),
  },
  {
    method: 'POST',
    path: '/photos',
    operationId: 'uploadPhoto',
    tag: 'Photos',
    summary: 'Add a photo: the body is the image itself (JPEG, PNG or WebP, judged by its bytes; at most TOOLROOM_PHOTO_MAX_BYTES, default 20 MB), the record it is of in the query',
    permission: 'photo.add',
    input: photoSchema.uploadPhotoInput,
    output: photoSchema.photoRecord,
    consumes: 'image/*',
    status: 201,
    run: upload,
  },
  {
    method: 'GET',
    path: '/photos/{id}',
    operationId: 'getPhoto',
    tag: 'Photos',
    summary: 'A photo record by id',
    permission: 'photo.read',
    input: photoSchema.getPhotoInput,
    output: photoSchema.photoRecord,
    run: call(photos.getPhoto),
  },
  {
    method: 'GET',
    path: '/photos/{id}/image',
    operationId: 'getPhotoImage',
    tag: 'Photos',
    summary: 'The image: display (default, ≤2048 px), thumbnail (≤320 px), annotated, or the original (metadata stripped)',
    permission: 'photo.read',
    input: photoSchema.readPhotoInput,
    produces: 'image/*',
    run: serveImage,
  },
  {
    method: 'POST',
    path: '/photos/{id}/annotate',
    operationId: 'annotatePhoto',
    tag: 'Photos',
    summary: 'Annotate a photo (arrows, circles, freehand, text; an empty list clears it): the original stays as it is',
    permission: 'photo.annotate',
    input: photoSchema.annotatePhotoInput,
    output: photoSchema.photoRecord,
    run: call((db, actor, input) => photos.annotatePhoto(db, actor, input)),
  },
  {
    method: 'POST',
    path: '/photos/{id}/withdraw',
    operationId: 'withdrawPhoto',
    tag: 'Photos',
    summary: 'Withdraw a photo, with the reason (it leaves the lists; the bytes stay until retention purges them)',
    permission: 'photo.withdraw',
    input: photoSchema.withdrawPhotoInput,
    output: photoSchema.photoRecord,
    run: call(photos.withdrawPhoto),
  },
];
