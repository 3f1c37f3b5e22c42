import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { recordAudit } from '../audit/record';
import { inTransaction } from '../db/transaction';
import { conflict, notFound, validationError, type FieldProblem } from '../errors';
import { lockPress } from '../presses/repository';
import { lockTool } from '../tools/service';
import { parse, type Page } from '../validate';
import { findMount, findOpenMount, lastUnmountedAt, mountQuery, toMount, type MountRow } from './repository';
import {
  mountHistoryInput,
  mountToolInput,
  unmountToolInput,
  type Mount,
} from './schema';
import { fetchPage } from '../db/page';

type Queryable = Knex | Knex.Transaction;
type ToolKey = { toolId?: number; assetNumber?: string };
type PressKey = { pressId?: number; pressCode?: string };

/** At most one of `fields` (exactly one when `required`): a problem naming the first field otherwise. */
function oneOf(v: Record<string, unknown>, fields: string[], required: boolean): FieldProblem[] {
  const given = fields.filter((f) => v[f] !== undefined);
  if (given.length > 1) return [{ field: given[1], rule: 'one_of', message: `give only one of ${fields.join(', ')}` }];
  if (required && given.length === 0) return [{ field: fields[0], rule: 'required', message: `give one of ${fields.join(', ')}` }];
  return [];
}

function check(problems: FieldProblem[]): void {
  if (problems.length) throw validationError(problems);
}

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

/**
 * Mount a tool on a press. A tool is on one press at a time and a press holds one tool:
 * mounting a mounted tool, or onto an occupied press, is a conflict (unmount first; nothing moves
 * silently). The tool row is locked, then the press row, so concurrent mounts serialise; the
 * database's one-open-mount indexes are the last line of defence. The tool becomes `in_press`.
 */
export async function mountTool(db: Knex, actor: Actor, input: unknown): Promise<Mount> {
  authorize(actor, 'mount.mount');
  const v = parse(mountToolInput, input);
  check([...oneOf(v, ['toolId', 'assetNumber'], true), ...oneOf(v, ['pressId', 'pressCode'], true)]);
  const at = instant(v.at);
  const toolField = v.toolId !== undefined ? 'toolId' : 'assetNumber';
  const pressField = v.pressId !== undefined ? 'pressId' : 'pressCode';
  return inTransaction(db, async (trx) => {
    const toolId = await resolveToolId(trx, v);
    const pressId = await resolvePressId(trx, v);
    const tool = await lockTool(trx, toolId);
    const press = (await lockPress(trx, pressId))!;
    if (tool.status === 'retired') throw conflict(`tool ${tool.assetNumber} is retired`, toolField, 'not_retired');
    if (!press.active) throw conflict(`press ${press.code} is not active`, pressField, 'press_active');
    // Read after the locks: a mount that committed while we waited is seen here.
    const toolMount = await findOpenMount(trx, { toolId });
    if (toolMount) {
      throw conflict(
        `tool ${tool.assetNumber} is already mounted on press ${toolMount.press.code}: unmount it first`,
        toolField,
        'one_open_mount_per_tool',
      );
    }
    const pressMount = await findOpenMount(trx, { pressId });
    if (pressMount) {
      throw conflict(
        `press ${press.code} already holds tool ${pressMount.tool.assetNumber}: unmount it first`,
        pressField,
        'one_open_mount_per_press',
      );
    }
    // Spans of a tool, and of a press, never overlap: a back-dated mount starts after the last one ended.
    for (const [last, what] of [
      [await lastUnmountedAt(trx, { toolId }), `tool ${tool.assetNumber}`],
      [await lastUnmountedAt(trx, { pressId }), `press ${press.code}`],
    ] as const) {
      if (last && at < last) {
        throw validationError([
          { field: 'at', rule: 'not_before_previous_unmount', message: `${what} was unmounted at ${last.toISOString()}, after ${at.toISOString()}` },
        ]);
      }
    }
    const [{ id }] = await trx('tool_mounts')
      .insert({ tool_id: toolId, press_id: pressId, mounted_at: at, mounted_by: actor.id, note: v.note })
      .returning('id');
    await trx('tools')
      .where('id', toolId)
      .update({ status: 'in_press', version: tool.version + 1, updated_at: trx.fn.now() });
    const mount = (await findMount(trx, id))!;
    await recordAudit(trx, actor, { action: 'mount.mount', entity: 'tool_mount', entityId: id, after: mount });
    return mount;
  });
}

/**
 * Unmount the tool named by itself or by its press; the span closes at `at` (default now) and the
 * tool goes to `status` (default `in_store`). Locks tool then press, like mounting.
 */
export async function unmountTool(db: Knex, actor: Actor, input: unknown): Promise<Mount> {
  authorize(actor, 'mount.unmount');
  const v = parse(unmountToolInput, input);
  check(oneOf(v, ['toolId', 'assetNumber', 'pressId', 'pressCode'], true));
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
    const tool = await lockTool(trx, toolId);
    const before = await findOpenMount(trx, { toolId });
    if (!before) throw conflict(`tool ${tool.assetNumber} is not mounted`, field, 'mounted');
    // Unmounting by press: the tool we locked must still be the one on that press.
    if (pressId !== undefined && before.press.id !== pressId) {
      throw conflict(`the tool on the press changed while unmounting, try again`, field, 'concurrent_update');
    }
    await lockPress(trx, before.press.id);
    if (at.getTime() < Date.parse(before.mountedAt)) {
      throw validationError([
        { field: 'at', rule: 'not_before_mounted_at', message: `tool ${tool.assetNumber} was mounted at ${before.mountedAt}, after ${at.toISOString()}` },
      ]);
    }
    const note = v.note ? [before.note, `Unmount: ${v.note}`].filter(Boolean).join('\n') : before.note;
    await trx('tool_mounts').where('id', before.id).update({ unmounted_at: at, unmounted_by: actor.id, note });
    await trx('tools').where('id', toolId).update({ status: v.status, version: tool.version + 1, updated_at: trx.fn.now() });
    const after = (await findMount(trx, before.id))!;
    await recordAudit(trx, actor, { action: 'mount.unmount', entity: 'tool_mount', entityId: before.id, before, after });
    return after;
  });
}

/** Mount spans of a tool and/or a press, newest first. */
export async function mountHistory(db: Knex, actor: Actor, input: unknown): Promise<Page<Mount>> {
  authorize(actor, 'mount.read');
  const v = parse(mountHistoryInput, input);
  check([...oneOf(v, ['toolId', 'assetNumber'], false), ...oneOf(v, ['pressId', 'pressCode'], false)]);
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
