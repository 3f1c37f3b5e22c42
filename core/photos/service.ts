import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize, type Operation } from '../auth/permissions';
import { recordAudit } from '../audit/record';
import { fetchPage } from '../db/page';
import { inTransaction } from '../db/transaction';
import { conflict, isToolroomError, notFound, validationError } from '../errors';
import { parse, type Page } from '../validate';
import { renderAnnotated } from './annotate';
import { DEFAULT_LIMITS, photoJob, processPhoto, type PhotoLimits } from './image';
import {
  LINK_FIELDS,
  annotatePhotoInput,
  getPhotoInput,
  listPhotosInput,
  readPhotoInput,
  toPhoto,
  uploadPhotoInput,
  withdrawPhotoInput,
  type Photo,
  type PhotoLink,
  type PhotoVariant,
} from './schema';
import { photoStoreFromEnv, type PhotoStore } from './store';

type Queryable = Knex | Knex.Transaction;

/** Where the files go and what is accepted; both from the environment unless a caller (a test, the bench) says. */
export interface PhotoOptions {
  store?: PhotoStore;
  limits?: PhotoLimits;
}

/** The limits the environment sets (TOOLROOM_PHOTO_MAX_BYTES, TOOLROOM_PHOTO_MAX_PIXELS). */
export function photoLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): PhotoLimits {
  const n = (v: string | undefined, d: number) => (v && /^\d+$/.test(v.trim()) ? Number(v) : d);
  return { maxBytes: n(env.TOOLROOM_PHOTO_MAX_BYTES, DEFAULT_LIMITS.maxBytes), maxPixels: n(env.TOOLROOM_PHOTO_MAX_PIXELS, DEFAULT_LIMITS.maxPixels) };
}

const READ_OPERATION: Record<PhotoLink, Operation> = { tool: 'tool.read', inspection: 'inspection.read', failure: 'failure.read', action: 'action.read' };
const LINK_TABLE: Record<Exclude<PhotoLink, 'tool'>, [table: string, entity: string]> = {
  inspection: ['inspections', 'inspection'],
  failure: ['failure_reports', 'failure report'],
  action: ['actions', 'action'],
};

interface Link {
  entity: PhotoLink;
  entityId: number;
  toolId: number;
  inspectionItemKey: string | null;
  phase: string | null;
}

/** The record a new photo is of: it must exist (and the caller may see it); its tool comes along. */
async function resolveLink(db: Queryable, actor: Actor, v: ReturnType<typeof uploadPhotoInput.parse>): Promise<Link> {
  const entity = (Object.keys(LINK_FIELDS) as PhotoLink[]).find((e) => v[LINK_FIELDS[e]] !== undefined)!;
  const field = LINK_FIELDS[entity];
  const entityId = v[field]!;
  authorize(actor, READ_OPERATION[entity]);
  let toolId = entityId;
  if (entity === 'tool') {
    if (!(await db('tools').where('id', entityId).first('id'))) throw notFound('tool', entityId, field);
  } else {
    const [table, name] = LINK_TABLE[entity];
    const row: { tool_id: number } | undefined = await db(table).where('id', entityId).first('tool_id');
    if (!row) throw notFound(name, entityId, field);
    toolId = row.tool_id;
  }
  if (v.inspectionItemKey !== undefined) {
    const item = await db('inspection_results').where({ inspection_id: entityId, item_key: v.inspectionItemKey }).first('item_key');
    if (!item) throw notFound(`checklist item of inspection ${entityId}`, v.inspectionItemKey, 'inspectionItemKey');
  }
  return { entity, entityId, toolId, inspectionItemKey: v.inspectionItemKey ?? null, phase: v.phase ?? null };
}

/**
 * The photo an earlier attempt with the same upload key made (the caller's own), if any. A key
 * reused for another record is refused: it names one chosen file, and that file was for that record.
 */
async function uploadedBefore(db: Queryable, actor: Actor, key: string | undefined, link: Link): Promise<Photo | null> {
  if (key === undefined) return null;
  const row = await db('photos').where({ taken_by: actor.id, upload_key: key }).first();
  if (!row) return null;
  const photo = toPhoto(row);
  if (photo.entity !== link.entity || photo.entityId !== link.entityId || photo.inspectionItemKey !== link.inspectionItemKey || photo.phase !== link.phase) {
    throw conflict(`upload key ${key} was used for photo ${photo.id} of another record`, 'uploadKey', 'same_record');
  }
  return photo;
}

/** Write files inside a transaction; if anything fails (the transaction, its commit), the files go too: no orphans. */
async function withFiles<T>(db: Knex, store: PhotoStore, fn: (trx: Knex.Transaction, write: (file: string, bytes: Buffer) => Promise<void>) => Promise<T>): Promise<T> {
  const written: string[] = [];
  try {
    return await inTransaction(db, (trx) =>
      fn(trx, async (file, bytes) => {
        written.push(file);
        await store.write(file, bytes);
      }),
    );
  } catch (err) {
    await store.remove(written).catch(() => undefined);
    throw err;
  }
}

async function imageBytes(image: Buffer | { file: string }, limits: PhotoLimits): Promise<Buffer> {
  if (Buffer.isBuffer(image)) return image;
  const { size } = await fs.stat(image.file);
  // Checked before reading: a huge file is never loaded to be refused.
  if (size > limits.maxBytes) throw validationError([{ field: 'image', rule: 'max_bytes', message: `is larger than ${limits.maxBytes} bytes` }]);
  return fs.readFile(image.file);
}

/**
 * Add a photo to a tool, inspection (and checklist item), failure report or action (before/after).
 * The image is checked and processed first; then the row, the three encrypted files and the audit
 * event are written in one transaction, and the files are removed again if it does not commit.
 */
/** Who may add a photo and what its request names: checked before the body is read (http) and again by uploadPhoto. */
export function checkUploadRequest(actor: Actor, input: unknown) {
  authorize(actor, 'photo.add');
  return parse(uploadPhotoInput, input);
}

export async function uploadPhoto(db: Knex, actor: Actor, input: unknown, image: Buffer | { file: string }, options: PhotoOptions = {}): Promise<Photo> {
  const v = checkUploadRequest(actor, input);
  const store = options.store ?? photoStoreFromEnv();
  const limits = options.limits ?? photoLimitsFromEnv();
  // A photo of nothing is refused before any pixel is decoded; a retry is answered before too.
  const before = await uploadedBefore(db, actor, v.uploadKey, await resolveLink(db, actor, v));
  if (before) return before;
  const processed = await processPhoto(await imageBytes(image, limits), limits);
  const [current] = await store.keyring();
  const stem = store.newStem();
  const files = { original: `${stem}.original`, display: `${stem}.display`, thumbnail: `${stem}.thumbnail` };
  const made = withFiles(db, store, async (trx, write) => {
    const link = await resolveLink(trx, actor, v);
    const [{ id }] = await trx('photos')
      .insert({
        entity: link.entity,
        entity_id: link.entityId,
        tool_id: link.toolId,
        inspection_item_key: link.inspectionItemKey,
        phase: link.phase,
        path: files.original,
        display_path: files.display,
        thumbnail_path: files.thumbnail,
        key_id: current.id,
        mime_type: processed.mimeType,
        width: processed.width,
        height: processed.height,
        bytes: processed.original.length,
        sha256: createHash('sha256').update(processed.original).digest('hex'),
        caption: v.caption,
        captured_at: processed.capturedAt,
        taken_by: actor.id,
        upload_key: v.uploadKey ?? null,
      })
      .returning('id');
    await write(files.original, processed.original);
    await write(files.display, processed.display);
    await write(files.thumbnail, processed.thumbnail);
    const photo = toPhoto(await trx('photos').where('id', id).first());
    await recordAudit(trx, actor, { action: 'photo.upload', entity: 'photo', entityId: id, after: photo });
    return photo;
  });
  return made.catch(async (err: unknown) => {
    // Two attempts with one key raced: the one that lost answers with the winner's photo (its files are gone).
    const raced = isToolroomError(err) && err.cause.details.some((d) => d.field === 'uploadKey' && d.rule === 'unique_per_user');
    const winner = raced ? await uploadedBefore(db, actor, v.uploadKey, await resolveLink(db, actor, v)) : null;
    if (winner) return winner;
    throw err;
  });
}

/**
 * The node's attach: `{image: Buffer, ...the upload's input}` in one object (a flow's msg.payload),
 * e.g. a file read by a file-in node, a camera's HTTP snapshot.
 */
export async function attachPhoto(db: Knex, actor: Actor, input: unknown, options: PhotoOptions = {}): Promise<Photo> {
  authorize(actor, 'photo.add');
  const { image, ...rest } = (typeof input === 'object' && input !== null && !Buffer.isBuffer(input) ? input : {}) as { image?: unknown };
  if (!Buffer.isBuffer(image)) {
    const message = Buffer.isBuffer(input) ? 'put the image in payload.image, beside the record it is of (e.g. toolId)' : 'must be the image as a Buffer';
    throw validationError([{ field: 'image', rule: 'buffer', message }]);
  }
  return uploadPhoto(db, actor, rest, image, options);
}

async function findRow(db: Queryable, id: number, lock = false): Promise<Record<string, unknown>> {
  const q = db('photos').where('id', id);
  if (lock) q.forUpdate();
  const row = await q.first();
  if (!row) throw notFound('photo', id);
  return row;
}

function authorizeRead(actor: Actor, photo: Photo): void {
  authorize(actor, 'photo.read');
  authorize(actor, READ_OPERATION[photo.entity]);
}

export async function getPhoto(db: Knex, actor: Actor, input: unknown): Promise<Photo> {
  authorize(actor, 'photo.read');
  const v = parse(getPhotoInput, input);
  const photo = toPhoto(await findRow(db, v.id));
  authorizeRead(actor, photo);
  return photo;
}

export interface PhotoFile {
  photo: Photo;
  variant: PhotoVariant;
  mimeType: string;
  bytes: Buffer;
}

const VARIANT_COLUMN: Record<PhotoVariant, string> = { original: 'path', display: 'display_path', thumbnail: 'thumbnail_path', annotated: 'annotated_path' };

/** One of a photo's images, decrypted: the original as stored (its SHA-256 checked), display, thumbnail or annotated view. */
export async function readPhoto(db: Knex, actor: Actor, input: unknown, options: PhotoOptions = {}): Promise<PhotoFile> {
  authorize(actor, 'photo.read');
  const v = parse(readPhotoInput, input);
  const row = await findRow(db, v.id);
  const photo = toPhoto(row);
  authorizeRead(actor, photo);
  const file = row[VARIANT_COLUMN[v.variant]] as string | null;
  if (!file) throw notFound(`annotated view of photo`, v.id);
  const bytes = await (options.store ?? photoStoreFromEnv()).read(v.id, file);
  if (v.variant === 'original' && createHash('sha256').update(bytes).digest('hex') !== photo.sha256) {
    throw conflict(`photo ${v.id}: the original does not match its SHA-256 (replaced or damaged)`, 'id', 'integrity');
  }
  return { photo, variant: v.variant, mimeType: v.variant === 'original' ? photo.mimeType : 'image/jpeg', bytes };
}

/**
 * Photos of a tool (its own and those of its inspections, failures and actions: the timeline), of
 * an inspection (or one checklist item), a failure report or an action (before/after); newest first.
 */
export async function listPhotos(db: Knex, actor: Actor, input: unknown): Promise<Page<Photo>> {
  authorize(actor, 'photo.read');
  const v = parse(listPhotosInput, input);
  const entity = (Object.keys(LINK_FIELDS) as PhotoLink[]).find((e) => v[LINK_FIELDS[e]] !== undefined);
  if (entity) authorize(actor, READ_OPERATION[entity]);
  const filter = (q: Knex.QueryBuilder) => {
    if (v.toolId !== undefined) q.where('tool_id', v.toolId);
    else if (entity) q.where({ entity, entity_id: v[LINK_FIELDS[entity]] });
    if (v.inspectionItemKey !== undefined) q.where('inspection_item_key', v.inspectionItemKey);
    if (v.phase !== undefined) q.where('phase', v.phase);
    if (!v.withdrawn) q.whereNull('withdrawn_at');
    return q;
  };
  return fetchPage(filter(db('photos')).orderBy('id', 'desc'), filter(db('photos')), v, (rows: Record<string, unknown>[]) => rows.map(toPhoto));
}

/** Lock a photo for a change: it exists, is at the version given (if one is), and is not withdrawn. */
async function lockPhoto(trx: Knex.Transaction, id: number, version: number | undefined): Promise<{ row: Record<string, unknown>; photo: Photo }> {
  const row = await findRow(trx, id, true);
  const photo = toPhoto(row);
  if (version !== undefined && version !== photo.version) {
    throw conflict(`photo ${id} was changed by someone else (version ${photo.version}, not ${version})`, 'version', 'current_version');
  }
  if (photo.withdrawn) throw conflict(`photo ${id} is withdrawn`, 'id', 'not_withdrawn');
  return { row, photo };
}

/**
 * Draw on a photo: the shapes are stored as they are and drawn onto the display image as the
 * annotated view (an empty list takes it away). The original is never touched.
 */
export async function annotatePhoto(db: Knex, actor: Actor, input: unknown, options: PhotoOptions = {}): Promise<Photo> {
  authorize(actor, 'photo.annotate');
  const v = parse(annotatePhotoInput, input);
  const store = options.store ?? photoStoreFromEnv();
  const seen = await findRow(db, v.id);
  authorizeRead(actor, toPhoto(seen));
  // Drawn before the transaction (no row lock held while sharp works); the version read here must still be current.
  const annotated = v.annotations.length ? await photoJob(async () => renderAnnotated(await store.read(v.id, seen.display_path as string), v.annotations)) : null;
  const file = annotated ? `${(seen.path as string).replace(/\.original$/, '')}.annotated-${store.newStem().slice(3, 11)}` : null;
  const result = await withFiles(db, store, async (trx, write) => {
    const { row, photo: before } = await lockPhoto(trx, v.id, v.version ?? (seen.version as number));
    if (annotated && file) await write(file, annotated);
    await trx('photos')
      .where('id', v.id)
      .update({ annotations: JSON.stringify(v.annotations), annotated_path: file, annotated_at: trx.fn.now(), annotated_by: actor.id, version: before.version + 1 });
    const after = toPhoto(await findRow(trx, v.id));
    await recordAudit(trx, actor, { action: 'photo.annotate', entity: 'photo', entityId: v.id, before: { annotations: before.annotations, version: before.version }, after: { annotations: after.annotations, version: after.version } });
    return { after, previous: row.annotated_path as string | null };
  });
  // The view it replaces goes once the new one is committed.
  if (result.previous) await store.remove([result.previous]).catch(() => undefined);
  return result.after;
}

/** Withdraw a photo, saying why: it leaves the lists but stays (evidence) until retention purges it. */
export async function withdrawPhoto(db: Knex, actor: Actor, input: unknown): Promise<Photo> {
  authorize(actor, 'photo.withdraw');
  const v = parse(withdrawPhotoInput, input);
  return inTransaction(db, async (trx) => {
    const { photo: before } = await lockPhoto(trx, v.id, v.version);
    authorizeRead(actor, before);
    await trx('photos')
      .where('id', v.id)
      .update({ withdrawn_at: trx.fn.now(), withdrawn_by: actor.id, withdrawn_reason: v.reason, version: before.version + 1 });
    const after = toPhoto(await findRow(trx, v.id));
    await recordAudit(trx, actor, { action: 'photo.withdraw', entity: 'photo', entityId: v.id, before, after });
    return after;
  });
}
