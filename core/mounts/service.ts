import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { audited } from '../audit/audited';
import { inTransaction } from '../db/transaction';
import { nextVersion } from '../db/version';
import { conflict, notFound, validationError } from '../errors';
import { SETTABLE_STATUSES, type ToolStatus } from '../tools/schema';
import { parse, type Page } from '../validate';
import { findMount, findOpenMount, lastUnmountedAt, mountQuery, toMount, type MountRow } from './repository';
import {
  mountHistoryInput,
  mountToolInput,
  unmountToolInput,
  type Mount,
} from './schema';
import { fetchPage } from '../db/page';
import { recordAudit } from '../audit/record';
import { overduePlansInTransaction } from '../pm/service';

type Queryable = Knex | Knex.Transaction;
type ToolKey = { toolId?: number; assetNumber?: string };
type PressKey = { pressId?: number; pressCode?: string };
type SettableStatus = (typeof SETTABLE_STATUSES)[number];

/** The instant of a mount or unmount: now when not given (the schema refuses the future). */
function instant(at: Date | null): Date {
  return at ?? new Date();
}

async function resolveToolId(db: Queryable, key: ToolKey): Promise<number> {
  const row = (await (key.toolId !== undefined
    ? db('tools').where('id', key.toolId)
    : db('tools').where('asset_number', key.assetNumber!)
  ).first('id')) as { id: number } | undefined;
  if (!row) throw key.toolId !== undefined ? notFound('tool', key.toolId, 'toolId') : notFound('tool', key.assetNumber!, 'assetNumber');
  return row.id;
}

async function resolvePressId(db: Queryable, key: PressKey): Promise<number> {
  const row = (await (key.pressId !== undefined
    ? db('presses').where('id', key.pressId)
    : db('presses').where('code', key.pressCode!)
  ).first('id')) as { id: number } | undefined;
  if (!row) throw key.pressId !== undefined ? notFound('press', key.pressId, 'pressId') : notFound('press', key.pressCode!, 'pressCode');
  return row.id;
}

/** The caller's names for the tool, the press and the time, so a problem names the field the caller gave. */
export interface MountFields {
  tool: string;
  press: string;
  at: string;
}

const DEFAULT_FIELDS: MountFields = { tool: 'toolId', press: 'pressId', at: 'at' };

export interface MountSpec {
  toolId: number;
  pressId: number;
  at: Date;
  note?: string | null;
  /** Why a tool with an OVERDUE PM is mounted anyway (see mountInTransaction). */
  overrideReason?: string | null;
  /** The press reported the tool (OPC 40077 MouldId): it is in the press already, whatever its PM says. */
  pressReported?: boolean;
  fields?: Partial<MountFields>;
}

export interface UnmountSpec {
  toolId: number;
  /** When given, the tool must still be on this press (it was found through the press). */
  pressId?: number;
  at: Date;
  status?: SettableStatus;
  note?: string | null;
  fields?: Partial<MountFields>;
}

interface LockedTool {
  id: number;
  asset_number: string;
  status: ToolStatus;
  version: number;
}

/**
 * Lock the rows a mount or unmount writes: tools first, then presses, each in id order, so
 * mounts, unmounts and remounts cannot deadlock one another. FOR NO KEY UPDATE (the lock an
 * UPDATE of these rows takes anyway), not FOR UPDATE: that would also wait on the key-share locks
 * that recording shot readings leaves on the tool and press it references, while that recorder
 * waits for the tool we hold (core/shots/service.ts locks tools the same way).
 */
export async function lockMountRows(trx: Knex.Transaction, rows: { toolIds: number[]; pressIds: number[] }): Promise<void> {
  const order = (ids: number[]) => [...new Set(ids)].sort((a, b) => a - b);
  const tools = order(rows.toolIds);
  const presses = order(rows.pressIds);
  if (tools.length) await trx('tools').whereIn('id', tools).orderBy('id').forNoKeyUpdate().select('id');
  if (presses.length) await trx('presses').whereIn('id', presses).orderBy('id').forNoKeyUpdate().select('id');
}

async function lockedTool(trx: Knex.Transaction, id: number, field: string): Promise<LockedTool> {
  const tool = (await trx('tools').where('id', id).forNoKeyUpdate().first('id', 'asset_number', 'status', 'version')) as LockedTool | undefined;
  if (!tool) throw notFound('tool', id, field);
  return tool;
}

async function lockedPress(trx: Knex.Transaction, id: number, field: string): Promise<{ id: number; code: string; active: boolean }> {
  const press = (await trx('presses').where('id', id).forNoKeyUpdate().first('id', 'code', 'active')) as { id: number; code: string; active: boolean } | undefined;
  if (!press) throw notFound('press', id, field);
  return press;
}

/**
 * Mount a tool on a press inside the caller's transaction: the one place the mount rules live
 * (mountTool and the shot recorder's remount both come here). A tool is on one press at a time and
 * a press holds one tool: mounting a mounted tool, or onto an occupied press, is a conflict (unmount
 * first; nothing moves silently). The tool row is locked, then the press row, so concurrent mounts
 * serialise; the database's one-open-mount indexes are the last line of defence. The tool becomes `in_press`.
 *
 * A tool with an OVERDUE PM plan goes into a press only with `overrideReason` (issue 14: "engineers
 * may, technicians are warned and need one"). The rule is the same for every role, engineers,
 * technicians, admins and flows alike: anyone who may mount may override, and nobody without saying
 * why; the reason and the overdue plans are in the mount's audit event. The page warns a technician
 * that the PM is overdue before asking. A press that reports the tool (MouldId) is not refused: the
 * tool is in it already and its shots must count; its audit event names the overdue plans all the same.
 */
export async function mountInTransaction(trx: Knex.Transaction, actor: Actor, spec: MountSpec): Promise<Mount> {
  authorize(actor, 'mount.mount');
  const f = { ...DEFAULT_FIELDS, ...spec.fields };
  const { toolId, pressId, at } = spec;
  const tool = await lockedTool(trx, toolId, f.tool);
  const press = await lockedPress(trx, pressId, f.press);
  if (tool.status === 'retired') throw conflict(`tool ${tool.asset_number} is retired`, f.tool, 'not_retired');
  if (!press.active) throw conflict(`press ${press.code} is not active`, f.press, 'press_active');
  // Read after the locks: a mount that committed while we waited is seen here.
  const toolMount = await findOpenMount(trx, { toolId });
  if (toolMount) {
    throw conflict(
      `tool ${tool.asset_number} is already mounted on press ${toolMount.press.code}: unmount it first`,
      f.tool,
      'one_open_mount_per_tool',
    );
  }
  const pressMount = await findOpenMount(trx, { pressId });
  if (pressMount) {
    throw conflict(
      `press ${press.code} already holds tool ${pressMount.tool.assetNumber}: unmount it first`,
      f.press,
      'one_open_mount_per_press',
    );
  }
  // Spans of a tool, and of a press, never overlap: a back-dated mount starts after the last one ended.
  for (const [last, what] of [
    [await lastUnmountedAt(trx, { toolId }), `tool ${tool.asset_number}`],
    [await lastUnmountedAt(trx, { pressId }), `press ${press.code}`],
  ] as const) {
    if (last && at < last) {
      throw validationError([
        { field: f.at, rule: 'not_before_previous_unmount', message: `${what} was unmounted at ${last.toISOString()}, after ${at.toISOString()}` },
      ]);
    }
  }
  const overdue = (await overduePlansInTransaction(trx, toolId)).map((p) => ({ id: p.id, name: p.name, percent: p.status.percent }));
  if (overdue.length && !spec.overrideReason && !spec.pressReported) {
    throw validationError([{
      field: 'overrideReason',
      rule: 'overdue_pm_reason',
      message: `tool ${tool.asset_number} is OVERDUE for PM (${overdue.map((p) => p.name).join(', ')}): say why it is mounted anyway`,
    }]);
  }
  const [{ id }] = await trx('tool_mounts')
    .insert({ tool_id: toolId, press_id: pressId, mounted_at: at, mounted_by: actor.id, note: spec.note ?? null })
    .returning('id');
  await trx('tools')
    .where('id', toolId)
    .update({ status: 'in_press', ...nextVersion(trx, tool) });
  const mount = (await findMount(trx, id))!;
  // The mount event carries the override: who put an overdue tool into the press, and why.
  const override = overdue.length ? { overduePlans: overdue, overrideReason: spec.overrideReason ?? null } : {};
  await recordAudit(trx, actor, { action: 'mount.mount', entity: 'tool_mount', entityId: id, after: { ...mount, ...override } });
  return mount;
}

/**
 * Unmount a tool inside the caller's transaction (unmountTool and the shot recorder's remount):
 * the span closes at `at`, never before it began, and the tool goes to `status` (default `in_store`).
 * Locks tool then press, like mounting.
 */
export async function unmountInTransaction(trx: Knex.Transaction, actor: Actor, spec: UnmountSpec): Promise<Mount> {
  authorize(actor, 'mount.unmount');
  const f = { ...DEFAULT_FIELDS, ...spec.fields };
  const { toolId, at } = spec;
  const tool = await lockedTool(trx, toolId, f.tool);
  const before = await findOpenMount(trx, { toolId });
  if (!before) throw conflict(`tool ${tool.asset_number} is not mounted`, f.tool, 'mounted');
  // Found through its press: the tool we locked must still be the one on that press.
  if (spec.pressId !== undefined && before.press.id !== spec.pressId) {
    throw conflict(`the tool on the press changed while unmounting, try again`, f.tool, 'concurrent_update');
  }
  await lockedPress(trx, before.press.id, f.press);
  if (at.getTime() < Date.parse(before.mountedAt)) {
    throw validationError([
      { field: f.at, rule: 'not_before_mounted_at', message: `tool ${tool.asset_number} was mounted at ${before.mountedAt}, after ${at.toISOString()}` },
    ]);
  }
  const note = spec.note ? [before.note, `Unmount: ${spec.note}`].filter(Boolean).join('\n') : before.note;
  await trx('tool_mounts').where('id', before.id).update({ unmounted_at: at, unmounted_by: actor.id, note });
  await trx('tools').where('id', toolId).update({ status: spec.status ?? 'in_store', ...nextVersion(trx, tool) });
  return audited(trx, actor, { action: 'mount.unmount', entity: 'tool_mount', entityId: before.id, before }, findMount(trx, before.id));
}

export interface Remount {
  /** The spans closed: the press's previous tool, and the tool's span on another press. */
  unmounted: Mount[];
  mounted: Mount;
}

/**
 * Put a tool on a press at `at`, moving what is in the way: the press's current tool goes to the
 * store and the tool leaves any other press, all at `at`. What a press reporting another mould
 * (OPC 40077 MouldId) means; the shot recorder calls it. Every step is the ordinary mount or unmount
 * with its rules and audit event; the rows are locked up front in the one lock order.
 */
export async function remountInTransaction(trx: Knex.Transaction, actor: Actor, spec: MountSpec): Promise<Remount> {
  authorize(actor, 'mount.mount');
  authorize(actor, 'mount.unmount');
  const { toolId, pressId, at } = spec;
  const seen = [await findOpenMount(trx, { pressId }), await findOpenMount(trx, { toolId })];
  await lockMountRows(trx, {
    toolIds: [toolId, ...seen.flatMap((m) => (m ? [m.tool.id] : []))],
    pressIds: [pressId, ...seen.flatMap((m) => (m ? [m.press.id] : []))],
  });
  // Read again under the locks: what we act on is what is there now.
  const onPress = await findOpenMount(trx, { pressId });
  const elsewhere = await findOpenMount(trx, { toolId });
  const unmounted: Mount[] = [];
  if (onPress && onPress.tool.id !== toolId) {
    unmounted.push(await unmountInTransaction(trx, actor, { toolId: onPress.tool.id, pressId, at, status: 'in_store', note: spec.note, fields: spec.fields }));
  }
  if (elsewhere && elsewhere.press.id !== pressId) {
    unmounted.push(await unmountInTransaction(trx, actor, { toolId, pressId: elsewhere.press.id, at, status: 'in_store', note: spec.note, fields: spec.fields }));
  }
  if (onPress && onPress.tool.id === toolId) return { unmounted, mounted: onPress };
  return { unmounted, mounted: await mountInTransaction(trx, actor, { ...spec, pressReported: true }) };
}

/**
 * Mount a tool on a press, by id or asset number and id or code; see mountInTransaction.
 */
export async function mountTool(db: Knex, actor: Actor, input: unknown): Promise<Mount> {
  authorize(actor, 'mount.mount');
  const v = parse(mountToolInput, input);
  const fields = { tool: v.toolId !== undefined ? 'toolId' : 'assetNumber', press: v.pressId !== undefined ? 'pressId' : 'pressCode' };
  return inTransaction(db, async (trx) => {
    const toolId = await resolveToolId(trx, v);
    const pressId = await resolvePressId(trx, v);
    return mountInTransaction(trx, actor, { toolId, pressId, at: instant(v.at), note: v.note, overrideReason: v.overrideReason, fields });
  });
}

/**
 * Unmount the tool named by itself or by its press; the span closes at `at` (default now) and the
 * tool goes to `status` (default `in_store`). See unmountInTransaction.
 */
export async function unmountTool(db: Knex, actor: Actor, input: unknown): Promise<Mount> {
  authorize(actor, 'mount.unmount');
  const v = parse(unmountToolInput, input);
  const at = instant(v.at);
  const byTool = v.toolId !== undefined || v.assetNumber !== undefined;
  const field = v.toolId !== undefined ? 'toolId' : v.assetNumber !== undefined ? 'assetNumber' : v.pressId !== undefined ? 'pressId' : 'pressCode';
  return inTransaction(db, async (trx) => {
    let toolId: number;
    let pressId: number | undefined;
    if (byTool) toolId = await resolveToolId(trx, v);
    else {
      pressId = await resolvePressId(trx, v);
      const open = await findOpenMount(trx, { pressId });
      if (!open) throw conflict(`press ${v.pressCode ?? v.pressId} holds no tool`, field, 'mounted');
      toolId = open.tool.id;
    }
    return unmountInTransaction(trx, actor, { toolId, pressId, at, status: v.status, note: v.note, fields: { tool: field, press: field } });
  });
}

/** Mount spans of a tool and/or a press, newest first. */
export async function mountHistory(db: Knex, actor: Actor, input: unknown): Promise<Page<Mount>> {
  authorize(actor, 'mount.read');
  const v = parse(mountHistoryInput, input);
  // An unknown tool or press is a mistake to report, not an empty history.
  const toolId = v.toolId !== undefined || v.assetNumber !== undefined ? await resolveToolId(db, v) : undefined;
  const pressId = v.pressId !== undefined || v.pressCode !== undefined ? await resolvePressId(db, v) : undefined;
  const filter = (q: Knex.QueryBuilder) => {
    if (toolId !== undefined) q.where('m.tool_id', toolId);
    if (pressId !== undefined) q.where('m.press_id', pressId);
    return q;
  };
  return fetchPage(filter(mountQuery(db)).orderBy([{ column: 'm.mounted_at', order: 'desc' }, { column: 'm.id', order: 'desc' }]), filter(db('tool_mounts as m')), v, (list: MountRow[]) => list.map(toMount));
}
