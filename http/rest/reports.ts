/**
 * The REST side of reports and exports: files, not JSON. Core checks the role, validates and audits
 * (core/reports); these handlers only send what core made, with download headers.
 */
import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import { exportCsv } from '../../core/reports/csv';
import { labelSheetPdf } from '../../core/reports/labels';
import { toolHistoryPdf, type PdfFile } from '../../core/reports/toolHistory';
import type { RouteContext } from './operations';

/** Download headers: a file to save, never to render or cache. */
function attachment(type: string, filename: string): Record<string, string> {
  return {
    'Content-Type': type,
    'Content-Disposition': `attachment; filename="${filename.replace(/[^\w.-]/g, '_')}"`,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
  };
}

/**
 * Write lines with backpressure; a client that goes away mid-export stops it at the next line
 * (a 'drain' would never come).
 */
export async function streamLines(res: ServerResponse, lines: AsyncIterable<string>): Promise<void> {
  for await (const text of lines) {
    if (res.destroyed) break;
    if (res.write(text)) continue;
    const done = new AbortController();
    await Promise.race([once(res, 'drain', { signal: done.signal }), once(res, 'close', { signal: done.signal })]).catch(() => undefined);
    done.abort();
  }
  res.end();
}

function sendPdf(ctx: RouteContext, file: PdfFile): void {
  ctx.res.writeHead(200, { ...attachment('application/pdf', file.filename), 'Content-Length': String(file.content.length) });
  ctx.res.end(file.content);
}

export async function toolHistoryRoute(ctx: RouteContext): Promise<void> {
  sendPdf(ctx, await toolHistoryPdf(ctx.db, ctx.actor, ctx.input));
}

/** Labels carry TOOLROOM_PUBLIC_URL (what phones on the shop floor reach), else the address this request came to. */
export async function labelsRoute(ctx: RouteContext): Promise<void> {
  const origin = process.env.TOOLROOM_PUBLIC_URL || `${ctx.secureCookies ? 'https' : 'http'}://${ctx.req.headers.host ?? 'localhost'}`;
  // Only a body that leaves baseUrl out gets the default; anything else goes to core as sent, to be judged there.
  const input = ctx.input;
  const given = typeof input !== 'object' || input === null || Array.isArray(input) || 'baseUrl' in input;
  sendPdf(ctx, await labelSheetPdf(ctx.db, ctx.actor, given ? input : { ...input, baseUrl: origin }));
}

export async function exportRoute(ctx: RouteContext): Promise<void> {
  // Refusals and bad input are still problem+json: nothing is sent before core has said yes.
  const file = await exportCsv(ctx.db, ctx.actor, ctx.input);
  ctx.res.writeHead(200, attachment('text/csv; charset=utf-8', file.filename));
  await streamLines(ctx.res, file.lines);
}
