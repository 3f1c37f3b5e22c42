import { z } from 'zod';
import { iso } from '../db/transaction';
import { id, oneOf, optionalText, pagination, text } from '../validate';

/** The records a photo can be of (photos.entity), and the input field that names each. */
export const PHOTO_LINKS = ['tool', 'inspection', 'failure', 'action'] as const;
export type PhotoLink = (typeof PHOTO_LINKS)[number];
export const LINK_FIELDS = { tool: 'toolId', inspection: 'inspectionId', failure: 'failureReportId', action: 'actionId' } as const;
const linkFields = Object.values(LINK_FIELDS);

export const PHASES = ['before', 'after'] as const;

/** What is stored of each photo: the original (re-encoded, no metadata), a display image, a thumbnail, and the annotated view. */
export const PHOTO_VARIANTS = ['original', 'display', 'thumbnail', 'annotated'] as const;
export type PhotoVariant = (typeof PHOTO_VARIANTS)[number];

export const PHOTO_MIME_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/heic'] as const;

const linkShape = {
  toolId: id.optional(),
  inspectionId: id.optional(),
  failureReportId: id.optional(),
  actionId: id.optional(),
};

/** Which record a new photo is of (exactly one), and what the photo shows. */
export const uploadPhotoInput = z
  .object({
    ...linkShape,
    /** The checklist item of an inspection the photo shows (a failed item, usually). */
    inspectionItemKey: text(100).optional(),
    /** An action's photo is taken before or after the work. */
    phase: z.enum(PHASES).optional(),
    caption: optionalText(500).default(null),
    /**
     * An idempotency key the client makes once per chosen file (e.g. a random UUID): a retry with the
     * same key, by the same person, for the same record, answers with the photo the first attempt made.
     */
    uploadKey: z.string().regex(/^[A-Za-z0-9_-]{8,100}$/, { message: 'must be 8 to 100 letters, digits, - or _' }).optional(),
  })
  .strict()
  .superRefine(oneOf(linkFields))
  .superRefine((v, ctx) => {
    if (v.inspectionItemKey !== undefined && v.inspectionId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['inspectionItemKey'], message: 'goes with inspectionId', params: { rule: 'with_inspection' } });
    }
    if (v.phase !== undefined && v.actionId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['phase'], message: 'goes with actionId', params: { rule: 'with_action' } });
    }
  });
export type UploadPhotoInput = z.input<typeof uploadPhotoInput>;

// Annotation: vector shapes in coordinates relative to the image (0..1 across, 0..1 down), so the
// same drawing fits the display image, a thumbnail or a screen of any size.
const coordinate = z.number().min(0).max(1);
const point = z.object({ x: coordinate, y: coordinate }).strict();
/** Colours as #rrggbb: they go into SVG, so nothing but hex digits. */
const colour = z.string().regex(/^#[0-9a-fA-F]{6}$/, { message: 'must be a colour as #rrggbb' });
export const annotationShape = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('arrow'), from: point, to: point, colour }).strict(),
  z.object({ kind: z.literal('circle'), centre: point, radius: z.number().positive().max(1), colour }).strict(),
  z.object({ kind: z.literal('freehand'), points: z.array(point).min(2).max(2000), colour }).strict(),
  z.object({ kind: z.literal('text'), at: point, text: text(200), colour }).strict(),
]);
export type AnnotationShape = z.output<typeof annotationShape>;
export const annotations = z.array(annotationShape).max(200);

const version = z.number().int().positive().optional();
export const getPhotoInput = z.object({ id }).strict();
/** `version` only names which state of the photo the caller wants to see (a browser's cache key: each annotation makes a new one). */
export const readPhotoInput = z.object({ id, variant: z.enum(PHOTO_VARIANTS).default('display'), version }).strict();
/** Annotate (or, with an empty list, clear the annotation); the original is never touched. */
export const annotatePhotoInput = z.object({ id, version, annotations }).strict();
export const withdrawPhotoInput = z.object({ id, version, reason: text(1000) }).strict();
export const listPhotosInput = z
  .object({
    ...linkShape,
    inspectionItemKey: text(100).optional(),
    phase: z.enum(PHASES).optional(),
    /** Withdrawn photos are left out unless asked for. */
    withdrawn: z.boolean().default(false),
    ...pagination,
  })
  .strict()
  .superRefine(oneOf(linkFields, false));

/** A photo as every adapter returns it: the one description of the record (the type is inferred from it). */
export const photoRecord = z.object({
  id: z.number().int(),
  entity: z.enum(PHOTO_LINKS),
  entityId: z.number().int(),
  toolId: z.number().int(),
  inspectionItemKey: z.string().nullable(),
  phase: z.enum(PHASES).nullable(),
  mimeType: z.enum(PHOTO_MIME_TYPES),
  width: z.number().int(),
  height: z.number().int(),
  /** Size of the stored original (re-encoded without metadata), and its SHA-256 (hex). */
  bytes: z.number().int(),
  sha256: z.string(),
  caption: z.string().nullable(),
  annotations,
  annotated: z.boolean(),
  annotatedAt: z.string().nullable(),
  annotatedBy: z.string().nullable(),
  /** When the camera took it (from the EXIF data, read before it was stripped), if it said. */
  capturedAt: z.string().nullable(),
  takenBy: z.string(),
  createdAt: z.string(),
  withdrawn: z.boolean(),
  withdrawnAt: z.string().nullable(),
  withdrawnBy: z.string().nullable(),
  withdrawnReason: z.string().nullable(),
  version: z.number().int(),
}).meta({ id: 'Photo' });
export type Photo = z.infer<typeof photoRecord>;

/** The one mapping from a photos row to the record (the file names and key id stay inside core). */
export function toPhoto(row: Record<string, unknown>): Photo {
  const time = (v: unknown) => iso(v as Date | string | null);
  return photoRecord.parse({
    id: row.id,
    entity: row.entity,
    entityId: row.entity_id,
    toolId: row.tool_id,
    inspectionItemKey: row.inspection_item_key,
    phase: row.phase,
    mimeType: row.mime_type,
    width: row.width,
    height: row.height,
    bytes: row.bytes,
    sha256: row.sha256,
    caption: row.caption,
    annotations: typeof row.annotations === 'string' ? JSON.parse(row.annotations) : row.annotations,
    annotated: row.annotated_path !== null,
    annotatedAt: time(row.annotated_at),
    annotatedBy: row.annotated_by,
    capturedAt: time(row.captured_at),
    takenBy: row.taken_by,
    createdAt: time(row.created_at),
    withdrawn: row.withdrawn_at !== null,
    withdrawnAt: time(row.withdrawn_at),
    withdrawnBy: row.withdrawn_by,
    withdrawnReason: row.withdrawn_reason,
    version: row.version,
  });
}
