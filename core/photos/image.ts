/**
 * What an uploaded photo may be, and what is made of it. The type is decided by the first bytes,
 * never by a file name or a declared content type; sharp reads the header and refuses more pixels
 * than the limit before it decodes anything (a decompression bomb); a truncated or corrupt file is
 * refused (failOn); what is kept is re-encoded, turned upright and stripped of all metadata (GPS
 * above all), the capture time read first.
 */
import sharp, { type Metadata, type Sharp, type SharpOptions } from 'sharp';
import { validationError, type FieldProblem } from '../errors';
import { captureTime } from './exif';

export interface PhotoLimits {
  /** Largest upload in bytes (TOOLROOM_PHOTO_MAX_BYTES, default 20 MB). */
  maxBytes: number;
  /** Most pixels an image may declare (TOOLROOM_PHOTO_MAX_PIXELS, default 50 MP: above any phone's default mode). */
  maxPixels: number;
}

export const DEFAULT_LIMITS: PhotoLimits = { maxBytes: 20 * 1024 * 1024, maxPixels: 50_000_000 };
export const DISPLAY_MAX_PX = 2048;
export const THUMBNAIL_MAX_PX = 320;

type Format = 'jpeg' | 'png' | 'webp' | 'heif';
const MIME: Record<Format, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', heif: 'image/heic' };

/** HEIC from phones is HEVC-coded; the libvips bundled with sharp decodes only AVIF, so HEIC is accepted only where it can be read. */
export function heicSupported(): boolean {
  return (sharp.format.heif?.input as { fileSuffix?: string[] } | undefined)?.fileSuffix?.includes('.heic') === true;
}

function refuse(rule: string, message: string): never {
  const problem: FieldProblem = { field: 'image', rule, message };
  throw validationError([problem]);
}

/** The format the bytes really are, from their signature. */
export function sniffFormat(head: Buffer): Format | null {
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (head.length >= 8 && head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (head.length >= 12 && head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (head.length >= 12 && head.toString('latin1', 4, 8) === 'ftyp' && /^(heic|heix|hevc|hevx|heim|heis|mif1|msf1)$/.test(head.toString('latin1', 8, 12))) return 'heif';
  return null;
}

/** Size and type, from the bytes alone: refused before sharp sees them. */
export function checkUpload(bytes: Buffer, limits: PhotoLimits): Format {
  if (bytes.length === 0) refuse('not_empty', 'is empty (0 bytes)');
  if (bytes.length > limits.maxBytes) refuse('max_bytes', `is larger than ${limits.maxBytes} bytes`);
  const format = sniffFormat(bytes.subarray(0, 16));
  if (!format) refuse('type', 'is not a JPEG, PNG or WebP image (judged by its content, not its name)');
  if (format === 'heif' && !heicSupported()) refuse('type', 'is HEIC, which this installation cannot read: set the camera to JPEG ("Most Compatible")');
  return format;
}

export interface ProcessedPhoto {
  mimeType: string;
  width: number;
  height: number;
  capturedAt: Date | null;
  original: Buffer;
  display: Buffer;
  thumbnail: Buffer;
}

/** One sharp job at a time per process by default (a Pi has 4 cores and little memory); TOOLROOM_PHOTO_CONCURRENCY raises it. */
class Gate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(public size: number) {}
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

// libvips keeps recent operations' results (up to 50 MB) for reuse; each photo is decoded once, so
// on a Pi that cache is only memory held.
sharp.cache(false);

const gate = new Gate(Math.max(1, Math.floor(Number(process.env.TOOLROOM_PHOTO_CONCURRENCY)) || 1));

/** Run sharp work under the process's photo gate. */
export function photoJob<T>(job: () => Promise<T>): Promise<T> {
  return gate.run(job);
}

/** The number of photos processed at once in this process (at least 1). */
export function setPhotoConcurrency(n: number): void {
  gate.size = Math.max(1, Math.floor(n) || 1);
}

const DERIVED_JPEG = { quality: 82, mozjpeg: false } as const;

function reencode(image: Sharp, format: Format): Sharp {
  // sharp writes no metadata unless asked (keepMetadata/withMetadata): EXIF, GPS, XMP, IPTC and ICC go.
  if (format === 'png') return image.png({ compressionLevel: 6 });
  if (format === 'webp') return image.webp({ quality: 90 });
  // No second Huffman pass: it saves a few per cent of bytes for half again the time on a 12-MP photo.
  return image.jpeg({ quality: 92, optimiseCoding: false });
}

/** Check, decode and make the three stored images of one upload; refusals name the reason (field `image`). */
export async function processPhoto(bytes: Buffer, limits: PhotoLimits = DEFAULT_LIMITS): Promise<ProcessedPhoto> {
  const format = checkUpload(bytes, limits);
  return gate.run(async () => {
    const options: SharpOptions = { limitInputPixels: limits.maxPixels, failOn: 'truncated' };
    let meta: Metadata;
    try {
      // The header only (no pixel is decoded), without the pixel limit, so a bomb is named as one.
      meta = await sharp(bytes, { ...options, limitInputPixels: false }).metadata();
    } catch (err) {
      refuse('decodable', `is not a readable image (${shortReason(err)})`);
    }
    const pixels = (meta.width ?? 0) * (meta.height ?? 0);
    if (pixels > limits.maxPixels) refuse('max_pixels', `has ${meta.width}×${meta.height} pixels, more than ${limits.maxPixels}`);
    // The header says what the signature said (an SVG cannot pass as a JPEG; sharp would read it).
    if (meta.format !== format) refuse('type', `claims to be ${format} but reads as ${meta.format}`);
    let upright: { data: Buffer; info: { width: number; height: number; channels: 1 | 2 | 3 | 4 } };
    try {
      // Decoded once (a truncated or corrupt file fails here), upright; the three images are made from these pixels.
      upright = await sharp(bytes, options).autoOrient().raw().toBuffer({ resolveWithObject: true });
    } catch (err) {
      refuse('decodable', `is truncated or corrupt (${shortReason(err)})`);
    }
    const { width, height, channels } = upright.info;
    const pixelsIn = () => sharp(upright.data, { raw: { width, height, channels } });
    const derived = (size: number) => pixelsIn().resize(size, size, { fit: 'inside', withoutEnlargement: true }).flatten({ background: '#ffffff' }).jpeg(DERIVED_JPEG).toBuffer();
    // One after the other: a little slower than at once, a few tens of MB less at the peak (libvips threads each image anyway).
    const original = await reencode(pixelsIn(), format).toBuffer();
    const display = await derived(DISPLAY_MAX_PX);
    const thumbnail = await derived(THUMBNAIL_MAX_PX);
    return { mimeType: MIME[format], width, height, capturedAt: captureTime(meta.exif), original, display, thumbnail };
  });
}

/** libvips' first line, short: enough to tell truncated from unsupported, nothing of the server's paths. */
function shortReason(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0].slice(0, 160);
}

