/**
 * QR label sheets: each chosen tool gets a label with its asset number, name and the URL of its tool
 * page (`/dashboard/tool?asset=…`) as a QR code and as text, laid out for common self-adhesive sheets.
 * The QR code is drawn as vector squares (sharp at any printer resolution), error correction M
 * (readable with a scratch or some oil on it). Printing a sheet is audited.
 */
import type { Knex } from 'knex';
import QRCode from 'qrcode';
import { z } from 'zod';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { recordAudit } from '../audit/record';
import { inTransaction } from '../db/transaction';
import { validationError } from '../errors';
import { assetNumber } from '../codes';
import { parse } from '../validate';
import { BODY, BOLD, MM, printable, renderPdf, type Pdf } from './pdf';
import type { PdfFile } from './toolHistory';

/** A sheet: page size, labels across and down, label size, page margins and pitch, in millimetres. */
interface Sheet {
  size: 'A4' | 'LETTER';
  across: number;
  down: number;
  width: number;
  height: number;
  left: number;
  top: number;
  pitchX: number;
  pitchY: number;
}

export const LABEL_SHEETS = {
  /** Avery L7163 / J8163: A4, 2 × 7 labels of 99.1 × 38.1 mm. */
  'avery-l7163': { size: 'A4', across: 2, down: 7, width: 99.1, height: 38.1, left: 4.65, top: 15.15, pitchX: 101.6, pitchY: 38.1 },
  /** Avery L7160 / J8160: A4, 3 × 7 labels of 63.5 × 38.1 mm. */
  'avery-l7160': { size: 'A4', across: 3, down: 7, width: 63.5, height: 38.1, left: 7.25, top: 15.15, pitchX: 66.04, pitchY: 38.1 },
  /** Avery 5163: US Letter, 2 × 5 labels of 4 × 2 in. */
  'avery-5163': { size: 'LETTER', across: 2, down: 5, width: 101.6, height: 50.8, left: 3.97, top: 12.7, pitchX: 106.36, pitchY: 50.8 },
} as const satisfies Record<string, Sheet>;

export const labelSheetInput = z
  .object({
    assetNumbers: z.array(assetNumber).min(1).max(500),
    sheet: z.enum(Object.keys(LABEL_SHEETS) as [keyof typeof LABEL_SHEETS]).default('avery-l7163'),
    /** Toolroom's address as the phones that scan the label reach it, e.g. https://toolroom.plant.example. */
    baseUrl: z.url({ protocol: /^https?$/ }).max(200),
  })
  .strict();

/** The URL a tool's label carries: its page in the dashboard. */
export function toolPageUrl(baseUrl: string, asset: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/dashboard/tool?asset=${encodeURIComponent(asset)}`;
}

function drawQr(doc: Pdf, text: string, x: number, y: number, size: number): void {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const quiet = 2; // modules of white margin (the label's own margin adds to it)
  const cell = size / (n + 2 * quiet);
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      if (qr.modules.get(row, col)) doc.rect(x + (col + quiet) * cell, y + (row + quiet) * cell, cell, cell);
    }
  }
  doc.fill('#000');
}

function drawLabel(doc: Pdf, sheet: Sheet, index: number, tool: { assetNumber: string; name: string }, url: string): void {
  const col = index % sheet.across;
  const row = Math.floor(index / sheet.across) % sheet.down;
  const x = (sheet.left + col * sheet.pitchX) * MM;
  const y = (sheet.top + row * sheet.pitchY) * MM;
  const w = sheet.width * MM;
  const h = sheet.height * MM;
  const pad = 2 * MM;
  const qr = h - 2 * pad;
  drawQr(doc, url, x + pad, y + pad, qr);
  const tx = x + pad + qr + pad;
  const tw = w - (tx - x) - pad;
  doc.font(BOLD).fontSize(Math.min(16, h / 4)).text(printable(tool.assetNumber), tx, y + pad + 2, { width: tw, lineBreak: false, ellipsis: true });
  doc.font(BODY).fontSize(8).text(printable(tool.name), tx, doc.y + 2, { width: tw, height: 20, ellipsis: true });
  // The URL on one line where a slightly smaller size does it (readable when the QR code is not), else wrapped.
  const link = printable(url);
  doc.fontSize(Math.max(4.5, Math.min(5.5, (5.5 * (tw - 1)) / doc.fontSize(5.5).widthOfString(link))));
  doc.fillColor('#333').text(link, tx, y + h - pad - 14, { width: tw, height: 14, ellipsis: true }).fillColor('#000');
}

/** A sheet of labels for the given tools (in the order given; an unknown asset number is refused by name). */
export async function labelSheetPdf(db: Knex, actor: Actor, input: unknown): Promise<PdfFile> {
  authorize(actor, 'report.tool');
  const v = parse(labelSheetInput, input);
  const rows: { asset_number: string; name: string }[] = await db('tools').whereIn('asset_number', v.assetNumbers).select('asset_number', 'name');
  const byAsset = new Map(rows.map((r) => [r.asset_number, r.name]));
  const missing = v.assetNumbers.map((a, i) => ({ a, i })).filter(({ a }) => !byAsset.has(a));
  if (missing.length) {
    throw validationError(missing.slice(0, 10).map(({ a, i }) => ({ field: `assetNumbers.${i}`, rule: 'exists', message: `no tool with asset number ${a}` })));
  }
  const sheet: Sheet = LABEL_SHEETS[v.sheet];
  const perPage = sheet.across * sheet.down;
  const content = await renderPdf({ title: 'Toolroom QR labels', size: sheet.size, margin: 0 }, (doc) => {
    v.assetNumbers.forEach((asset, i) => {
      if (i > 0 && i % perPage === 0) doc.addPage({ size: sheet.size, margin: 0 });
      drawLabel(doc, sheet, i % perPage, { assetNumber: asset, name: byAsset.get(asset)! }, toolPageUrl(v.baseUrl, asset));
    });
  });
  await inTransaction(db, (trx) =>
    recordAudit(trx, actor, { action: 'report.labels', entity: 'report', entityId: 'labels', after: { sheet: v.sheet, assetNumbers: v.assetNumbers } }),
  );
  return { filename: `toolroom-labels-${v.sheet}.pdf`, content };
}
