/**
 * PDF documents (pdfkit) as a Buffer, in DejaVu Sans (npm `dejavu-fonts-ttf`, Bitstream Vera licence:
 * free to embed and redistribute), embedded as a subset: names and notes print as typed in Latin with
 * its extensions (German, Polish, Czech, Turkish, Vietnamese...), Greek, Cyrillic, Armenian and
 * Georgian. Not covered: Chinese, Japanese, Korean, Thai and the Indic scripts — such a character
 * prints as '?' (never a wrong glyph, never a failed report); Arabic and Hebrew letters print, but
 * left to right (pdfkit does not reorder right-to-left text).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as fontkit from 'fontkit';
import PDFDocument from 'pdfkit';

export type Pdf = PDFKit.PDFDocument;

export const MM = 72 / 25.4;

/** The font names a report draws with (registered on every document). */
export const BODY = 'Body';
export const BOLD = 'Bold';

export interface PdfOptions {
  title: string;
  size: 'A4' | 'LETTER';
  margin?: number;
}

interface Fonts {
  body: Buffer;
  bold: Buffer;
  /** Code points both faces draw. */
  covered: Set<number>;
}
let fonts: Fonts | undefined;

/** The font files, read once per process (the package ships them; no system fonts are needed). */
function reportFonts(): Fonts {
  if (!fonts) {
    const dir = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
    const body = fs.readFileSync(path.join(dir, 'DejaVuSans.ttf'));
    const bold = fs.readFileSync(path.join(dir, 'DejaVuSans-Bold.ttf'));
    const inBold = new Set((fontkit.create(bold) as fontkit.Font).characterSet);
    const covered = new Set((fontkit.create(body) as fontkit.Font).characterSet.filter((c) => inBold.has(c)));
    fonts = { body, bold, covered };
  }
  return fonts;
}

/** Draw into a new document and collect its bytes. */
export function renderPdf(options: PdfOptions, draw: (doc: Pdf) => void): Promise<Buffer> {
  const { body, bold } = reportFonts();
  const doc = new PDFDocument({ size: options.size, margin: options.margin ?? 40, info: { Title: options.title, Creator: 'Toolroom' }, autoFirstPage: true });
  doc.registerFont(BODY, body);
  doc.registerFont(BOLD, bold);
  doc.font(BODY);
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  draw(doc);
  doc.end();
  return done;
}

/** Text as the report's font can show it: a character it has no glyph for (or a control character) becomes '?'. */
export function printable(value: unknown): string {
  if (value == null) return '';
  const text = value instanceof Date ? value.toISOString().slice(0, 16).replace('T', ' ') : String(value);
  const { covered } = reportFonts();
  let out = '';
  for (const ch of text.normalize('NFC')) {
    const cp = ch.codePointAt(0)!;
    out += cp === 9 || cp === 10 || cp === 13 || (cp >= 32 && covered.has(cp)) ? ch : '?';
  }
  return out;
}
