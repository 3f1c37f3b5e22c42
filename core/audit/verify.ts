import type { Knex } from 'knex';
import { z } from 'zod';
import { parse } from '../validate';
import { validationError } from '../errors';
import type { AuditAnchorTable, AuditEventTable } from '../db/tables';
import { anchorSignatureValid, keyFingerprint, normalizePublicKey } from './anchor';
import { contentHash, linkHash } from './chain';

export const auditChainProblemRecord = z.object({
  /** The place in the chain (for a deleted event: the number it had). */
  seq: z.number().int().nullable(),
  /** The event at fault (null when it is gone). */
  id: z.number().int().nullable(),
  /** 'forged': a purge anchor signed with a key other than the audit key. */
  problem: z.enum(['edited', 'deleted', 'reordered', 'inserted', 'forged']),
  detail: z.string(),
  /** The purge anchor at fault, when it is one. */
  anchorId: z.number().int().optional(),
}).meta({ id: 'AuditChainProblem' });
export type AuditChainProblem = z.infer<typeof auditChainProblemRecord>;
export type AuditChainProblemKind = AuditChainProblem['problem'];

export const auditChainReportRecord = z.object({
  ok: z.boolean(),
  /** Events found intact, in chain order, before the first problem (all of them when ok). */
  checked: z.number().int().min(0),
  /**
   * The chain head (newest number and hash). Someone who can rewrite the database can delete the newest
   * events and the head alike; keeping this hash elsewhere and passing it back as `anchor` shows that.
   */
  head: z.object({ seq: z.number().int().min(0), hash: z.string().nullable() }).nullable(),
  /**
   * The newest purge anchor, where the check starts (the events up to its seq were purged, core/audit/anchor.ts);
   * absent when nothing was ever purged. `keyTrusted`: its key is the audit key given (input publicKey or the
   * key file); false when none was given to compare with (then every anchor must share the first one's key).
   */
  purgeAnchor: z
    .object({ id: z.number().int(), seq: z.number().int(), hash: z.string(), eventAt: z.string(), keyFingerprint: z.string(), keyTrusted: z.boolean() })
    .strict()
    .optional(),
  firstBad: auditChainProblemRecord.optional(),
}).meta({ id: 'AuditChainReport' });
export type AuditChainReport = z.infer<typeof auditChainReportRecord>;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 in lower-case hex');

export const verifyAuditInput = z
  .object({
    /** First number to check; the event before it is taken as it is. */
    from: z.number().int().positive().optional(),
    /** Events read per query: memory stays bounded whatever the length of the trail. */
    batch: z.number().int().min(1).max(50_000).optional(),
    /**
     * A head recorded earlier: the event with that number must still have that hash. One the purge has
     * since removed can be checked only if it is the newest purge anchor's link; older ones are vouched
     * for by the signed anchor.
     */
    anchor: z.object({ seq: z.number().int().positive(), hash: hex64 }).strict().optional(),
    /** The audit key's public half (base64 SPKI or PEM) from a copy kept elsewhere: purge anchors must be signed with it. */
    publicKey: z.string().min(40).max(2000).optional(),
  })
  .strict();

export interface VerifyOptions {
  /** The audit key's public half the purge anchors must be signed with (the key file's: core/audit/anchor.ts trustedAuditKey). */
  trustedKey?: string | null;
}

/** Every column of an event: what its hashes cover and the hashes. */
type ChainRow = AuditEventTable;

const COLUMNS = ['id', 'seq', 'at', 'actor_id', 'actor_name', 'actor_role', 'via', 'action', 'entity', 'entity_id', 'before', 'after', 'prev_hash', 'hash', 'content_hash'];

/** Neither content nor link changed since the event was chained (whatever its number and neighbours now). */
function intact(r: ChainRow): boolean {
  const content = contentHash(r);
  return r.content_hash === content && r.hash === linkHash(r.prev_hash, content);
}

/** The intact, numbered event that follows `prev` (other than `exceptId`), wherever it now stands. */
async function successorOf(trx: Knex.Transaction, prev: string | null, exceptId: number): Promise<ChainRow | undefined> {
  const q = trx('audit_events').select(COLUMNS).whereNot('id', exceptId).whereNotNull('seq').limit(20);
  if (prev === null) q.whereNull('prev_hash');
  else q.where('prev_hash', prev);
  return ((await q) as ChainRow[]).find(intact);
}

/**
 * Walk the audit chain in order and report the first event that was edited, deleted, reordered or
 * inserted. Reads one snapshot (a repeatable-read transaction), so events committed meanwhile neither
 * disturb nor join the check; on PGlite that holds its one connection for the walk.
 */
export async function verifyAuditChain(db: Knex, input: unknown = {}, options: VerifyOptions = {}): Promise<AuditChainReport> {
  const v = parse(verifyAuditInput, input);
  const batch = v.batch ?? 5000;
  let trusted: string | null = options.trustedKey ?? null;
  if (v.publicKey) {
    try {
      trusted = normalizePublicKey(v.publicKey);
    } catch (err) {
      throw validationError([{ field: 'publicKey', rule: 'ed25519_public_key', message: `is not an Ed25519 public key (base64 SPKI or PEM): ${(err as Error).message}` }]);
    }
  }
  return db.transaction(async (trx) => {
    await trx.raw('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const headRow = (await trx('audit_chain_head').where('id', 1).first('seq', 'hash')) as { seq: number | string; hash: string | null } | undefined;
    const head = headRow ? { seq: Number(headRow.seq), hash: headRow.hash } : null;
    let checked = 0;
    let purgeAnchor: AuditChainReport['purgeAnchor'];
    const anchorPart = () => (purgeAnchor ? { purgeAnchor } : {});
    const bad = (firstBad: AuditChainProblem): AuditChainReport => ({ ok: false, checked, head, ...anchorPart(), firstBad });

    // The purge anchors, oldest first: each signed, with the audit key, naming the one before.
    const anchors = (await trx('audit_anchors').orderBy('id').select('*')) as AuditAnchorTable[];
    let newest: AuditAnchorTable | undefined;
    for (const a of anchors) {
      const at = { seq: Number(a.seq), id: null, anchorId: Number(a.id) };
      const name = `purge anchor ${a.id} (events up to seq ${a.seq})`;
      if (!anchorSignatureValid(a)) return bad({ ...at, problem: 'edited', detail: `${name}: its signature does not match its fields (number, hash, time or count were changed)` });
      const key = trusted ?? anchors[0].public_key;
      if (a.public_key !== key) {
        const whose = trusted ? 'the audit key' : `the key of the first anchor ${anchors[0].id}`;
        return bad({ ...at, problem: 'forged', detail: `${name} is signed with key ${keyFingerprint(a.public_key)}, not ${whose} (${keyFingerprint(key)})` });
      }
      if ((a.previous_id ?? null) !== (newest ? Number(newest.id) : null) || (a.previous_signature ?? null) !== (newest?.signature ?? null)) {
        return bad({ ...at, problem: 'deleted', detail: `${name} names anchor ${a.previous_id ?? '(none)'} before it, but follows anchor ${newest?.id ?? '(none)'}: an anchor was removed or replaced` });
      }
      if (Number(a.first_seq) !== (newest ? Number(newest.seq) : 0) + 1) {
        return bad({ ...at, problem: 'deleted', detail: `${name} starts at seq ${a.first_seq}, not right after the anchor before it (seq ${newest ? newest.seq : 0})` });
      }
      newest = a;
    }
    if (newest) {
      purgeAnchor = { id: Number(newest.id), seq: Number(newest.seq), hash: newest.hash, eventAt: new Date(newest.event_at).toISOString(), keyFingerprint: keyFingerprint(newest.public_key), keyTrusted: trusted !== null };
      const stale = (await trx('audit_events').where('seq', '<=', purgeAnchor.seq).orderBy('seq').first('id', 'seq')) as { id: number | string; seq: number | string } | undefined;
      if (stale) {
        return bad({ seq: Number(stale.seq), id: Number(stale.id), problem: 'inserted', detail: `event ${stale.id} (seq ${stale.seq}) is at or before purge anchor ${newest.id}, which says events up to seq ${newest.seq} were purged` });
      }
      if (v.anchor && v.anchor.seq === purgeAnchor.seq && v.anchor.hash !== purgeAnchor.hash) {
        return bad({ seq: v.anchor.seq, id: null, anchorId: purgeAnchor.id, problem: 'edited', detail: `the chain up to seq ${v.anchor.seq} was rewritten: purge anchor ${newest.id} holds hash ${purgeAnchor.hash}, the anchor given says ${v.anchor.hash}` });
      }
    }

    // The chain so far: the next number, the hash it must link to, the one before that, the last good event.
    // With a purge anchor the chain starts after it: the first event left must link to its hash.
    const anchored = purgeAnchor ? purgeAnchor.seq + 1 : 1;
    let expect = Math.max(v.from ?? 1, anchored);
    let prev: string | null = purgeAnchor?.hash ?? null;
    let prevPrev: string | null | undefined;
    let lastId: number | null = newest ? Number(newest.event_id) : null;
    if (expect > anchored) {
      const start = (await trx('audit_events').where('seq', expect - 1).first('id', 'hash')) as { id: number | string; hash: string } | undefined;
      if (!start) return bad({ seq: expect - 1, id: null, problem: 'deleted', detail: `event seq ${expect - 1}, where the check starts, is missing` });
      prev = start.hash;
      lastId = Number(start.id);
    }

    // Pages by (seq, id), so a second event with one number (possible only with the unique index dropped) is seen too.
    for (let cursor: { seq: number; id: number } | null = null; ; ) {
      const page = trx('audit_events').select(COLUMNS).orderBy([{ column: 'seq' }, { column: 'id' }]).limit(batch);
      if (cursor) page.where('seq', '>=', cursor.seq).whereRaw('(seq, id) > (?, ?)', [cursor.seq, cursor.id]);
      else page.where('seq', '>=', expect);
      const rows = (await page) as ChainRow[];
      if (!rows.length) break;
      for (const r of rows) {
        const seq = Number(r.seq);
        const id = Number(r.id);
        if (seq > expect) {
          const moved = await successorOf(trx, prev, id);
          if (moved) {
            return bad({ seq: expect, id: Number(moved.id), problem: 'reordered', detail: `event ${moved.id} follows seq ${expect - 1} but is numbered ${moved.seq}` });
          }
          if (r.prev_hash === prev && intact(r)) {
            return bad({ seq: expect, id, problem: 'edited', detail: `event ${id} follows seq ${expect - 1} but is numbered ${seq}: its number was changed` });
          }
          const missing = seq === expect + 1 ? `event seq ${expect} is` : `events seq ${expect}–${seq - 1} are`;
          const after = purgeAnchor && expect === anchored ? `, right after purge anchor ${purgeAnchor.id}` : '';
          return bad({ seq: expect, id: null, problem: 'deleted', detail: `${missing} missing${after} (the chain goes on with event ${id}, seq ${seq})` });
        }
        if (seq < expect) return bad({ seq, id, problem: 'inserted', detail: `event ${id} is a second event numbered ${seq}` });
        if (!intact(r)) {
          // The event that belongs here, pushed one place on, means this one was slipped in.
          const genuine = await successorOf(trx, prev, id);
          if (genuine && Number(genuine.seq) === seq + 1) {
            return bad({ seq, id, problem: 'inserted', detail: `event ${id} is not in the chain: event ${genuine.id}, now seq ${genuine.seq}, follows seq ${seq - 1}` });
          }
          const what = r.content_hash === contentHash(r) ? 'its hash columns were changed' : 'its content (time, actor, action, record, before or after) was changed';
          return bad({ seq, id, problem: 'edited', detail: `event ${id}: ${what}` });
        }
        if (r.prev_hash !== prev) {
          if (prevPrev !== undefined && r.prev_hash === prevPrev) {
            return bad({ seq: seq - 1, id: lastId, problem: 'inserted', detail: `event ${lastId} (seq ${seq - 1}) is not in the chain: event ${id} follows the one before it` });
          }
          const moved = await successorOf(trx, prev, id);
          if (moved) {
            return bad({ seq, id, problem: 'reordered', detail: `event ${id} is numbered ${seq}, but the event that follows seq ${seq - 1} is ${moved.id}, numbered ${moved.seq}` });
          }
          if (purgeAnchor && seq === anchored) {
            return bad({ seq, id, anchorId: purgeAnchor.id, problem: 'deleted', detail: `event ${id} (seq ${seq}), the first after purge anchor ${purgeAnchor.id}, does not link to the anchor's hash: the event after the anchor is missing or the chain was rewritten` });
          }
          return bad({ seq, id: null, problem: 'deleted', detail: `the event after seq ${seq - 1} is missing: event ${id}, now numbered ${seq}, followed another` });
        }
        if (v.anchor && seq === v.anchor.seq && r.hash !== v.anchor.hash) {
          return bad({ seq, id, problem: 'edited', detail: `the chain up to seq ${seq} was rewritten: its hash is ${r.hash}, the anchor says ${v.anchor.hash}` });
        }
        checked++;
        prevPrev = prev;
        prev = r.hash;
        lastId = id;
        expect = seq + 1;
      }
      const last = rows[rows.length - 1];
      cursor = { seq: Number(last.seq), id: Number(last.id) };
    }

    const last = expect - 1;
    const unchained = (await trx('audit_events').whereNull('seq').first('id')) as { id: number | string } | undefined;
    if (unchained) {
      return bad({ seq: null, id: Number(unchained.id), problem: 'inserted', detail: `event ${unchained.id} has no place in the chain (written past the chain trigger)` });
    }
    if (v.anchor && v.anchor.seq > last) {
      return bad({ seq: last + 1, id: null, problem: 'deleted', detail: `the anchored event seq ${v.anchor.seq} is gone: the chain ends at seq ${last}` });
    }
    if (!head) {
      if (last > 0) return bad({ seq: last + 1, id: null, problem: 'deleted', detail: 'the chain head is missing: newer events may have been deleted with it' });
      return { ok: true, checked, head, ...anchorPart() };
    }
    if (head.seq > last) {
      const missing = head.seq === last + 1 ? `event seq ${last + 1} is` : `events seq ${last + 1}–${head.seq} are`;
      return bad({ seq: last + 1, id: null, problem: 'deleted', detail: `${missing} missing from the end (the chain head is at seq ${head.seq})` });
    }
    if (head.seq < last) {
      const extra = (await trx('audit_events').where('seq', head.seq + 1).first('id')) as { id: number | string };
      return bad({ seq: head.seq + 1, id: Number(extra.id), problem: 'inserted', detail: `events past the chain head (seq ${head.seq}) up to seq ${last}` });
    }
    if (head.hash !== prev) {
      return bad({ seq: last, id: lastId, problem: 'edited', detail: `the newest event's hash is not the one the chain head holds (${head.hash})` });
    }
    return { ok: true, checked, head, ...anchorPart() };
  });
}
