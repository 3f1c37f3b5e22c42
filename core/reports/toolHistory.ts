/**
 * A tool's history as a PDF, for the toolmaker, the customer who owns the mould, or an audit:
 * identity, lifetime and cavities, PM plans and their history, inspections, failures, actions and
 * mounts, oldest first within each section, and the thumbnails of the tool's photos (its own and its
 * records'; withdrawn ones left out), decrypted through core/photos as the reader's role may see them.
 * A photo whose file cannot be read is listed as unreadable, with why; the report still prints. Taking
 * one is audited.
 */
import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize, can } from '../auth/permissions';
import { recordAudit } from '../audit/record';
import { inTransaction } from '../db/transaction';
import { isToolroomError, notFound } from '../errors';
import { readPhoto, type PhotoOptions } from '../photos/service';
import { findTool } from '../tools/repository';
import { getToolInput, type Tool } from '../tools/schema';
import { parse } from '../validate';
import { BODY, BOLD, printable, renderPdf, type Pdf } from './pdf';

type Row = Record<string, unknown>;

export interface ToolHistory {
  tool: Tool;
  plans: Row[];
  pms: Row[];
  inspections: Row[];
  failures: Row[];
  actions: Row[];
  mounts: Row[];
  /** Withdrawn photos are not in it; none when the reader may not see photos. */
  photos: PrintedPhoto[];
  /** Photos left out beyond MAX_PHOTOS (the oldest). */
  photosLeftOut: number;
}

/** A photo as the report prints it: its thumbnail, or why it could not be read. */
export interface PrintedPhoto {
  id: number;
  entity: string;
  entityId: number;
  phase: string | null;
  caption: string | null;
  takenAt: Date | string;
  takenBy: string;
  thumbnail: Buffer | null;
  unreadable: string | null;
}

/** At most this many thumbnails (the newest): a page holds 20, so a report stays printable. */
export const MAX_PHOTOS = 200;

/**
 * Why a photo could not be printed, in words for whoever reads the report (who may be a customer:
 * no server paths; the photo's id says where an admin should look, e.g. with `readPhoto`).
 */
function whyUnreadable(err: unknown): string {
  if (!isToolroomError(err)) return 'its file could not be read';
  if (err.code === 'not_found') return 'its file is missing';
  if (err.code === 'forbidden') return 'not shown to your role';
  const rule = err.cause?.details?.[0]?.rule;
  return rule === 'key_missing' ? 'it is encrypted with a key the photo key file no longer holds' : 'its file is damaged or was altered';
}

/**
 * The tool's photos (not withdrawn), each thumbnail decrypted by core/photos' readPhoto (the reader's
 * permissions checked there); a file that is missing, altered or under a lost key is caught as unreadable.
 */
async function readPhotos(db: Knex, actor: Actor, toolId: number, options: PhotoOptions): Promise<{ photos: PrintedPhoto[]; left: number }> {
  if (!can(actor, 'photo.read')) return { photos: [], left: 0 };
  const [{ n }] = await db('photos').where('tool_id', toolId).whereNull('withdrawn_at').count({ n: '*' });
  const rows: Row[] = await db('photos').where('tool_id', toolId).whereNull('withdrawn_at').orderBy('id', 'desc').limit(MAX_PHOTOS)
    .select('id', 'entity', 'entity_id', 'phase', 'caption', 'captured_at', 'created_at', 'taken_by');
  const photos: PrintedPhoto[] = [];
  for (const r of rows.reverse()) {
    let thumbnail: Buffer | null = null;
    let unreadable: string | null = null;
    try {
      thumbnail = (await readPhoto(db, actor, { id: r.id, variant: 'thumbnail' }, options)).bytes;
    } catch (err) {
      unreadable = whyUnreadable(err);
    }
    photos.push({
      id: r.id as number, entity: r.entity as string, entityId: r.entity_id as number, phase: r.phase as string | null, caption: r.caption as string | null,
      takenAt: (r.captured_at ?? r.created_at) as Date | string, takenBy: r.taken_by as string, thumbnail, unreadable,
    });
  }
  return { photos, left: Number(n) - photos.length };
}

/** Everything the report prints, read in one go. */
export async function readToolHistory(db: Knex, actor: Actor, tool: Tool, options: PhotoOptions = {}): Promise<ToolHistory> {
  const id = tool.id;
  const [plans, pms, inspections, failures, actions, mounts, photos] = await Promise.all([
    db('pm_plans').where('tool_id', id).orderBy('id').select('name', 'interval_shots', 'interval_days', 'active', 'last_pm_at', 'last_pm_lifetime_shots'),
    db('pm_events as e').join('pm_plans as p', 'p.id', 'e.pm_plan_id').where('e.tool_id', id).orderBy('e.performed_at')
      .select('e.performed_at', 'p.name', 'e.lifetime_shots', 'e.performed_by', 'e.percent_at_pm', 'e.notes'),
    db('inspections as i').join('inspection_templates as t', 't.id', 'i.template_id').where('i.tool_id', id).orderBy('i.performed_at')
      .select('i.performed_at', 'i.kind', 't.name as template', 'i.outcome', 'i.performed_by', 'i.lifetime_shots', 'i.minutes_spent', 'i.cost', 'i.findings'),
    db('failure_reports as f').join('failure_codes as c', 'c.id', 'f.failure_code_id').where('f.tool_id', id).orderBy('f.reported_at')
      .select('f.id', 'f.reported_at', 'c.code', 'c.title', 'f.severity', 'f.component', 'f.cavity', 'f.shot_count', 'f.status', 'f.root_cause', 'f.description'),
    db('actions as a').leftJoin('users as u', 'u.id', 'a.assignee_id').where('a.tool_id', id).orderBy('a.created_at').orderBy('a.id')
      .select('a.created_at', 'a.kind', 'a.title', 'a.status', 'a.failure_report_id', 'u.display_name as assignee', 'a.completed_at', 'a.resolution', 'a.minutes_spent', 'a.cost'),
    db('tool_mounts as m').join('presses as p', 'p.id', 'm.press_id').where('m.tool_id', id).orderBy('m.mounted_at')
      .select('m.mounted_at', 'm.unmounted_at', 'p.code as press'),
    readPhotos(db, actor, id, options),
  ]);
  return { tool, plans, pms, inspections, failures, actions, mounts, photos: photos.photos, photosLeftOut: photos.left };
}

const num = (v: unknown) => (v == null ? '' : Number(v).toLocaleString('en-US'));
const when = (v: unknown) => printable(v instanceof Date ? v : v == null ? null : new Date(String(v)));

function heading(doc: Pdf, title: string): void {
  doc.moveDown(0.8).font(BOLD).fontSize(12).text(printable(title));
  doc.font(BODY).fontSize(9);
}

function section(doc: Pdf, title: string, rows: Row[], line: (r: Row) => string, detail?: (r: Row) => string | null): void {
  heading(doc, `${title} (${rows.length})`);
  if (!rows.length) doc.fillColor('#666').text('none').fillColor('#000');
  for (const r of rows) {
    doc.text(printable(line(r)));
    const more = detail?.(r);
    if (more) doc.fillColor('#444').text(printable(more), { indent: 14 }).fillColor('#000');
  }
}

/** The report's pages. */
export function drawToolHistory(doc: Pdf, h: ToolHistory, printedAt: Date): void {
  const t = h.tool;
  doc.font(BOLD).fontSize(18).text(printable(`${t.assetNumber}  ${t.name}`));
  doc.font(BODY).fontSize(9).fillColor('#444').text(`Tool history, printed ${printable(printedAt)} UTC by Toolroom`).fillColor('#000').moveDown(0.5);
  doc.fontSize(10);
  const facts: [string, unknown][] = [
    ['Status', t.status], ['Customer', t.customer], ['Owner', t.owner], ['Toolmaker', t.toolmaker], ['Year', t.year],
    ['SPI class', t.spiClass], ['Location', t.location], ['On press', t.press ? `${t.press.code} since ${when(t.press.mountedAt)}` : null],
    ['Part numbers', t.partNumbers.join(', ')], ['Hot-runner zones', t.hotRunnerZones],
    ['Lifetime shots', `${num(t.lifetimeShots)}${t.expectedLifetimeShots ? ` of ${num(t.expectedLifetimeShots)} expected (${((t.lifetimeShots * 100) / t.expectedLifetimeShots).toFixed(1)} %)` : ''}`],
    ['Cavities', `${t.cavityCount}, ${t.activeCavities} active`],
  ];
  for (const [label, value] of facts) if (value != null && value !== '') doc.text(printable(`${label}: ${value}`));
  const blocked = t.cavities.filter((c) => c.state === 'blocked');
  for (const c of blocked) doc.text(printable(`  cavity ${c.number} blocked: ${c.blockedReason ?? ''}`));

  section(doc, 'PM plans', h.plans, (p) =>
    `${p.name}: every ${[p.interval_shots ? `${num(p.interval_shots)} shots` : null, p.interval_days ? `${p.interval_days} days` : null].filter(Boolean).join(' / ')}` +
    `${p.active ? '' : ' (inactive)'}; last PM ${when(p.last_pm_at)} at ${num(p.last_pm_lifetime_shots)} shots`);
  section(doc, 'PM history', h.pms, (e) =>
    `${when(e.performed_at)}  ${e.name} at ${num(e.lifetime_shots)} shots by ${e.performed_by}` +
    `${e.percent_at_pm != null ? ` (${Number(e.percent_at_pm)} % of the interval${Number(e.percent_at_pm) >= 110 ? ', late' : ''})` : ''}`, (e) => (e.notes as string) ?? null);
  section(doc, 'Inspections', h.inspections, (i) =>
    `${when(i.performed_at)}  ${i.template} (${i.kind}): ${i.outcome} by ${i.performed_by} at ${num(i.lifetime_shots)} shots` +
    `${i.minutes_spent != null ? `, ${i.minutes_spent} min` : ''}${i.cost != null ? `, cost ${Number(i.cost).toFixed(2)}` : ''}`, (i) => (i.findings as string) ?? null);
  section(doc, 'Failures', h.failures, (f) =>
    `${when(f.reported_at)}  #${f.id} ${f.code} ${f.title} (${f.severity}), ${f.component}${f.cavity ? ` cavity ${f.cavity}` : ''} at ${num(f.shot_count)} shots: ${f.status}`,
  (f) => [f.description, f.root_cause ? `Root cause: ${f.root_cause}` : null].filter(Boolean).join(' ') || null);
  section(doc, 'Actions', h.actions, (a) =>
    `${when(a.created_at)}  ${a.kind} ${a.title}${a.failure_report_id ? ` (failure #${a.failure_report_id})` : ''}: ${a.status}` +
    `${a.assignee ? `, ${a.assignee}` : ''}${a.completed_at ? `, completed ${when(a.completed_at)}` : ''}` +
    `${a.minutes_spent != null ? `, ${a.minutes_spent} min` : ''}${a.cost != null ? `, cost ${Number(a.cost).toFixed(2)}` : ''}`, (a) => (a.resolution as string) ?? null);
  section(doc, 'Mounts', h.mounts, (m) => `${when(m.mounted_at)} to ${m.unmounted_at ? when(m.unmounted_at) : 'now'}  on ${m.press}`);
  photoSection(doc, h.photos, h.photosLeftOut);
}

const PHOTO_COLUMNS = 4;
const THUMB_HEIGHT = 96;
const CAPTION_HEIGHT = 36;

/** A thumbnail's caption: the photo and what it is of; when and by whom; its caption. */
function photoLines(p: PrintedPhoto): [string, string, string] {
  const of = p.entity === 'tool' ? 'tool' : `${p.entity} #${p.entityId}`;
  return [`#${p.id} ${of}${p.phase ? `, ${p.phase}` : ''}`, `${when(p.takenAt)} by ${p.takenBy}`, p.caption ?? ''];
}

/** The thumbnails in a grid, four across, each with what it is of, when, by whom and its caption. */
function photoSection(doc: Pdf, photos: PrintedPhoto[], leftOut: number): void {
  heading(doc, `Photos (${photos.length + leftOut})`);
  if (!photos.length) doc.fillColor('#666').text('none').fillColor('#000');
  if (leftOut > 0) doc.fillColor('#666').text(`the newest ${photos.length} printed, ${leftOut} older not`).fillColor('#000');
  const left = doc.page.margins.left;
  const gap = 8;
  const cell = (doc.page.width - left - doc.page.margins.right - gap * (PHOTO_COLUMNS - 1)) / PHOTO_COLUMNS;
  let top = doc.y + 4;
  photos.forEach((p, i) => {
    const col = i % PHOTO_COLUMNS;
    if (col === 0 && i > 0) top += THUMB_HEIGHT + CAPTION_HEIGHT + gap;
    if (col === 0 && top + THUMB_HEIGHT + CAPTION_HEIGHT > doc.page.height - doc.page.margins.bottom) {
      doc.addPage();
      top = doc.page.margins.top;
    }
    const x = left + col * (cell + gap);
    let problem = p.unreadable;
    if (p.thumbnail) {
      try {
        doc.image(p.thumbnail, x, top, { fit: [cell, THUMB_HEIGHT], align: 'center', valign: 'center' });
      } catch {
        problem = 'its thumbnail is not an image that can be printed';
      }
    }
    if (problem) {
      doc.rect(x, top, cell, THUMB_HEIGHT).fill('#eeeeee').fillColor('#900').fontSize(8)
        .text(printable(`unreadable: ${problem}`), x + 4, top + 4, { width: cell - 8, height: THUMB_HEIGHT - 8, ellipsis: true });
    }
    const [what, taken, caption] = photoLines(p).map(printable);
    const line = { width: cell, height: 8, ellipsis: true };
    doc.fillColor('#000').fontSize(7).text(what, x, top + THUMB_HEIGHT + 2, line);
    doc.fillColor('#444').text(taken, x, top + THUMB_HEIGHT + 10, line);
    if (caption) doc.text(caption, x, top + THUMB_HEIGHT + 18, { ...line, height: CAPTION_HEIGHT - 18 });
    doc.fillColor('#000');
  });
  if (photos.length) {
    doc.x = left;
    doc.y = top + THUMB_HEIGHT + CAPTION_HEIGHT;
  }
}

export interface PdfFile {
  filename: string;
  content: Buffer;
}

/** The tool history PDF of one tool (by id or asset number); `options.store`: where the photos are (else the environment's). */
export async function toolHistoryPdf(db: Knex, actor: Actor, input: unknown, now = new Date(), options: PhotoOptions = {}): Promise<PdfFile> {
  authorize(actor, 'report.tool');
  const v = parse(getToolInput, input);
  const tool = await findTool(db, v);
  if (!tool) throw 'id' in v ? notFound('tool', v.id) : notFound('tool', v.assetNumber, 'assetNumber');
  const history = await readToolHistory(db, actor, tool, options);
  const content = await renderPdf({ title: `Tool history ${tool.assetNumber}`, size: 'A4' }, (doc) => drawToolHistory(doc, history, now));
  await inTransaction(db, (trx) => recordAudit(trx, actor, { action: 'report.tool_history', entity: 'tool', entityId: tool.id, after: { assetNumber: tool.assetNumber } }));
  return { filename: `tool-history-${tool.assetNumber.replace(/[^\w.-]+/g, '_')}.pdf`, content };
}
