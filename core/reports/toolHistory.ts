/**
 * A tool's history as a PDF, for the toolmaker, the customer who owns the mould, or an audit:
 * identity, lifetime and cavities, PM plans and their history, inspections, failures, actions and
 * mounts, oldest first within each section. Photos are not printed yet (they are encrypted files;
 * thumbnails come with the photo work). Taking one is audited.
 */
import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { recordAudit } from '../audit/record';
import { inTransaction } from '../db/transaction';
import { notFound } from '../errors';
import { findTool } from '../tools/repository';
import { getToolInput, type Tool } from '../tools/schema';
import { parse } from '../validate';
import { printable, renderPdf, type Pdf } from './pdf';

type Row = Record<string, unknown>;

export interface ToolHistory {
  tool: Tool;
  plans: Row[];
  pms: Row[];
  inspections: Row[];
  failures: Row[];
  actions: Row[];
  mounts: Row[];
}

/** Everything the report prints, read in one go. */
export async function readToolHistory(db: Knex, tool: Tool): Promise<ToolHistory> {
  const id = tool.id;
  const [plans, pms, inspections, failures, actions, mounts] = await Promise.all([
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
  ]);
  return { tool, plans, pms, inspections, failures, actions, mounts };
}

const num = (v: unknown) => (v == null ? '' : Number(v).toLocaleString('en-US'));
const when = (v: unknown) => printable(v instanceof Date ? v : v == null ? null : new Date(String(v)));

function section(doc: Pdf, title: string, rows: Row[], line: (r: Row) => string, detail?: (r: Row) => string | null): void {
  doc.moveDown(0.8).font('Helvetica-Bold').fontSize(12).text(`${title} (${rows.length})`);
  doc.font('Helvetica').fontSize(9);
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
  doc.font('Helvetica-Bold').fontSize(18).text(printable(`${t.assetNumber}  ${t.name}`));
  doc.font('Helvetica').fontSize(9).fillColor('#444').text(`Tool history, printed ${printable(printedAt)} UTC by Toolroom`).fillColor('#000').moveDown(0.5);
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
}

export interface PdfFile {
  filename: string;
  content: Buffer;
}

/** The tool history PDF of one tool (by id or asset number). */
export async function toolHistoryPdf(db: Knex, actor: Actor, input: unknown, now = new Date()): Promise<PdfFile> {
  authorize(actor, 'report.tool');
  const v = parse(getToolInput, input);
  const tool = await findTool(db, v);
  if (!tool) throw 'id' in v ? notFound('tool', v.id) : notFound('tool', v.assetNumber, 'assetNumber');
  const history = await readToolHistory(db, tool);
  const content = await renderPdf({ title: `Tool history ${tool.assetNumber}`, size: 'A4' }, (doc) => drawToolHistory(doc, history, now));
  await inTransaction(db, (trx) => recordAudit(trx, actor, { action: 'report.tool_history', entity: 'tool', entityId: tool.id, after: { assetNumber: tool.assetNumber } }));
  return { filename: `tool-history-${tool.assetNumber.replace(/[^\w.-]+/g, '_')}.pdf`, content };
}
