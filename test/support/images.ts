/**
 * Real image files for the photo suites, made with sharp (and by hand where sharp would refuse to
 * make them): a JPEG with GPS and capture time, a decompression bomb, a polyglot, and the like.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';

/** A plain JPEG `width`×`height` in one colour (quick to make, real to decode). */
export function jpeg(width = 640, height = 480, background = '#c04020'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background } }).jpeg().toBuffer();
}

export function png(width = 400, height = 300): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 0, g: 120, b: 200, alpha: 0.5 } } }).png().toBuffer();
}

export function webp(width = 400, height = 300): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#208040' } }).webp().toBuffer();
}

/** A phone photo: EXIF with GPS position, camera make and the time it was taken (+01:00). */
export function jpegWithGps(width = 640, height = 480): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#406080' } })
    .jpeg()
    .withExif({
      IFD0: { Make: 'ToolroomTestCam', Model: 'T-1' },
      IFD2: { DateTimeOriginal: '2026:11:26 14:30:05', OffsetTimeOriginal: '+01:00' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 8/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '11/1 34/1 0/1' },
    })
    .toBuffer();
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A decompression bomb: a valid 30000×30000 1-bit PNG (900 megapixels, 112 MB of pixels) of about 110 KB. */
export async function decompressionBomb(size = 30000): Promise<Buffer> {
  const rows = Buffer.alloc((1 + size / 8) * 1000);
  const deflate = zlib.createDeflate({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (c: Buffer) => out.push(c));
  const ended = new Promise((resolve) => deflate.on('end', resolve));
  for (let i = 0; i < size / 1000; i++) deflate.write(rows);
  deflate.end();
  await ended;
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // greyscale
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', header), pngChunk('IDAT', Buffer.concat(out)), pngChunk('IEND', Buffer.alloc(0))]);
}

/** JPEG signature, then HTML: passes a naive magic-byte check, decodes as nothing. */
export const polyglot = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0<html><script>alert(document.cookie)</script></html>')]);

export const svgNamedJpg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><script>alert(1)</script></svg>');
export const htmlNamedJpg = Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>');

/** Every file under a directory (relative paths), for "no file was left" checks. */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile());
}
