/**
 * The capture time from a photo's EXIF block (sharp's metadata().exif: "Exif\0\0" + a TIFF
 * structure), read before the metadata is stripped. Only DateTimeOriginal (0x9003, with
 * OffsetTimeOriginal 0x9011 when the camera wrote one) or IFD0's DateTime (0x0132); anything
 * malformed is "no capture time", never an error: the photo itself is fine without it.
 */
const EXIF_IFD_POINTER = 0x8769;
const DATE_TIME = 0x0132;
const DATE_TIME_ORIGINAL = 0x9003;
const OFFSET_TIME_ORIGINAL = 0x9011;

type Tags = Map<number, string | number>;

function readIfd(tiff: Buffer, offset: number, little: boolean): Tags {
  const tags: Tags = new Map();
  const u16 = (o: number) => (little ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const u32 = (o: number) => (little ? tiff.readUInt32LE(o) : tiff.readUInt32BE(o));
  if (offset + 2 > tiff.length) return tags;
  const count = Math.min(u16(offset), 500);
  for (let i = 0; i < count; i++) {
    const entry = offset + 2 + i * 12;
    if (entry + 12 > tiff.length) break;
    const tag = u16(entry);
    const type = u16(entry + 2);
    const n = u32(entry + 4);
    if (type === 2) {
      // ASCII: inline when it fits in 4 bytes, else at an offset.
      const start = n <= 4 ? entry + 8 : u32(entry + 8);
      if (start + n <= tiff.length) tags.set(tag, tiff.toString('latin1', start, start + n).replace(/\0.*$/s, ''));
    } else if (type === 4 || type === 13) tags.set(tag, u32(entry + 8));
  }
  return tags;
}

/** "2026:11:26 14:30:05" (+ "+01:00") → Date; without an offset, the camera's clock is taken as this server's zone. */
function exifDate(value: string | number | undefined, offset: string | number | undefined): Date | null {
  const m = typeof value === 'string' ? /^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})/.exec(value) : null;
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  let date: Date;
  if (typeof offset === 'string' && /^[+-]\d{2}:\d{2}$/.test(offset)) {
    date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${offset}`);
  } else date = new Date(y, mo - 1, d, h, mi, s);
  return Number.isNaN(date.getTime()) || y < 1990 ? null : date;
}

export function captureTime(exif: Buffer | undefined): Date | null {
  if (!exif) return null;
  try {
    const tiff = exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif;
    const order = tiff.toString('latin1', 0, 2);
    if (order !== 'II' && order !== 'MM') return null;
    const little = order === 'II';
    const ifd0 = readIfd(tiff, little ? tiff.readUInt32LE(4) : tiff.readUInt32BE(4), little);
    const pointer = ifd0.get(EXIF_IFD_POINTER);
    const exifIfd = typeof pointer === 'number' ? readIfd(tiff, pointer, little) : new Map();
    return exifDate(exifIfd.get(DATE_TIME_ORIGINAL), exifIfd.get(OFFSET_TIME_ORIGINAL)) ?? exifDate(ifd0.get(DATE_TIME), undefined);
  } catch {
    return null;
  }
}
