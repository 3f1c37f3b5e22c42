/**
 * PDF documents (pdfkit) as a Buffer. Reports use PDF's standard Helvetica, which needs no font
 * files and covers Latin-1 (the plant's names and notes); other characters print as '?' rather than
 * as a wrong glyph.
 */
import PDFDocument from 'pdfkit';

export type Pdf = PDFKit.PDFDocument;

export const MM = 72 / 25.4;

export interface PdfOptions {
  title: string;
  size: 'A4' | 'LETTER';
  margin?: number;
}

/** Draw into a new document and collect its bytes. */
export function renderPdf(options: PdfOptions, draw: (doc: Pdf) => void): Promise<Buffer> {
  const doc = new PDFDocument({ size: options.size, margin: options.margin ?? 40, info: { Title: options.title, Creator: 'Toolroom' }, autoFirstPage: true });
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

/** Text as the standard fonts can show it (WinAnsi, roughly Latin-1). */
export function printable(value: unknown): string {
  if (value == null) return '';
  const text = value instanceof Date ? value.toISOString().slice(0, 16).replace('T', ' ') : String(value);
  return text.replace(/[^\t\n\r\x20-\x7e\xa0-\xff]/g, '?');
}
