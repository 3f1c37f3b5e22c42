import type { Knex } from 'knex';
import { z } from 'zod';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { auditKeyFile, ensureAuditKey, type AuditKey } from '../audit/anchor';
import { deletedCount, purgeAuditPrefix } from '../audit/purge';
import { recordAudit } from '../audit/record';
import { inTransaction } from '../db/transaction';
import { photoStoreFromEnv, type PhotoStore } from '../photos/store';
import { parse } from '../validate';
import { RECORD_TYPE_NAMES, retentionPeriods, type RecordType } from './policy';
import { TOOL_RECORD_TABLES, expiredTools, purgeTool, removeOrphanPhotoFiles, type ToolRecordTable } from './tools';

/**
 * The daily purge: deletes what has outlived its retention period. Each retired tool past its period
 * goes whole in a transaction of its own, with its own audit event (core/retention/tools.ts); then the
 * sessions, the readings and the oldest prefix of the audit chain (under a signed anchor,
 * core/audit/purge.ts) go in one transaction with one audit event that counts what went per record
 * type (the trail says what was removed, never the removed rows). Never purged: shot readings held
 * for review (an engineer has not decided yet), anything of a tool under a legal hold, open sessions.
 */
const recordTypes = z.enum(RECORD_TYPE_NAMES as [RecordType, ...RecordType[]]);
const toolTables = z.enum(TOOL_RECORD_TABLES as unknown as [ToolRecordTable, ...ToolRecordTable[]]);

/** What a purge deleted per record type, and the cut-off time of each. */
export const purgeResultRecord = z
  .object({
    /** tool_records: tools purged; audit_events: events purged under the anchor. */
    removed: z.record(recordTypes, z.number().int()),
    before: z.record(recordTypes, z.string()),
    /** The purged tools' rows per table. */
    toolRecords: z.record(toolTables, z.number().int()),
    /** Photo files deleted: the purged tools' and orphans an earlier run left. */
    photoFiles: z.number().int(),
    /** Tools whose purge failed (rolled back whole; tried again the next night). */
    failedTools: z.array(z.object({ toolId: z.number().int(), error: z.string() }).strict()),
    /** The signed anchor written before the audit prefix went (null when none went). */
    anchor: z.object({ id: z.number().int(), seq: z.number().int(), hash: z.string() }).strict().nullable(),
  })
  .strict()
  .meta({ id: 'PurgeResult' });
export type PurgeResult = z.infer<typeof purgeResultRecord>;

const DAY = 86_400_000;

export const purgeInput = z.object({ now: z.date().optional() }).strict();

/** Where photo files are and the audit key; both from the environment unless a caller (a test) says. */
export interface PurgeOptions {
  store?: PhotoStore;
  /** Read only when audit events are due to go (the key file is made then, on first use). */
  auditKey?: () => AuditKey;
}

export async function purgeExpired(db: Knex, actor: Actor, input: unknown = {}, options: PurgeOptions = {}): Promise<PurgeResult> {
  authorize(actor, 'retention.manage');
  const now = parse(purgeInput, input).now ?? new Date();
  const store = options.store ?? photoStoreFromEnv();
  const auditKey = options.auditKey ?? (() => ensureAuditKey(auditKeyFile()));
  const periods = Object.fromEntries((await retentionPeriods(db)).map((p) => [p.recordType, p.keepDays])) as Record<RecordType, number>;
  const cutoff = (t: RecordType) => new Date(now.getTime() - periods[t] * DAY);

  // Files an earlier run committed away but did not get to delete (never this run's: those go right after each commit).
  let photoFiles = await removeOrphanPhotoFiles(db, store, now);
  const toolRecords = Object.fromEntries(TOOL_RECORD_TABLES.map((t) => [t, 0])) as Record<ToolRecordTable, number>;
  const failedTools: PurgeResult['failedTools'] = [];
  let tools = 0;
  for (const toolId of await expiredTools(db, cutoff('tool_records'))) {
    try {
      const r = await purgeTool(db, actor, toolId, cutoff('tool_records'), store);
      if (!r) continue;
      tools++;
      photoFiles += r.files;
      for (const t of TOOL_RECORD_TABLES) toolRecords[t] += r.removed[t];
    } catch (err) {
      failedTools.push({ toolId, error: (err as Error).message });
    }
  }

  return inTransaction(db, async (trx) => {
    const removed = {} as Record<RecordType, number>;
    removed.sessions = deletedCount(await trx('sessions')
      .whereRaw('COALESCE(revoked_at, expires_at) < ?', [cutoff('sessions')])
      .delete());
    removed.shot_readings = deletedCount(await trx('shot_readings')
      .where('at', '<', cutoff('shot_readings'))
      .whereNot('outcome', 'held')
      .where((q) => q.whereNull('tool_id').orWhereNotIn('tool_id', trx('legal_holds').whereNull('released_at').select('tool_id')))
      .delete());
    const audit = await purgeAuditPrefix(trx, auditKey, cutoff('audit_events'), actor.name);
    removed.tool_records = tools;
    removed.audit_events = audit.purged;
    const before = Object.fromEntries(RECORD_TYPE_NAMES.map((t) => [t, cutoff(t).toISOString()])) as Record<RecordType, string>;
    const result: PurgeResult = { removed, before, toolRecords, photoFiles, failedTools, anchor: audit.anchor };
    await recordAudit(trx, actor, { action: 'retention.purge', entity: 'retention', entityId: now.toISOString().slice(0, 10), after: result });
    return result;
  });
}
