/** A PDF read back: its pages and its text (unpdf: PDF.js without a browser or native code). */
import { extractImages, extractText, getDocumentProxy } from 'unpdf';

export async function readPdf(content: Buffer): Promise<{ pages: number; text: string }> {
  const pdf = await getDocumentProxy(new Uint8Array(content));
  const { totalPages, text } = await extractText(pdf, { mergePages: true });
  return { pages: totalPages, text };
}

/** The images the PDF's pages paint (image XObjects, decoded by PDF.js), page by page. */
export async function pdfImages(content: Buffer): Promise<{ page: number; width: number; height: number }[]> {
  const pdf = await getDocumentProxy(new Uint8Array(content));
  const out: { page: number; width: number; height: number }[] = [];
  for (let page = 1; page <= pdf.numPages; page++) {
    for (const image of await extractImages(pdf, page)) out.push({ page, width: image.width, height: image.height });
  }
  return out;
}

/** RFC 4180 CSV → rows of fields (quoted fields may hold commas, quotes and line breaks). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const endField = () => {
    row.push(field);
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') endField();
    else if (c === '\r' && text[i + 1] === '\n') {
      endField();
      rows.push(row);
      row = [];
      i++;
    } else field += c;
  }
  if (field !== '' || row.length) {
    endField();
    rows.push(row);
  }
  return rows;
}
