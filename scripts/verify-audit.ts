/**
 * `node dist/scripts/verify-audit.js [--from N] [--batch N] [--anchor SEQ:HASH] [--public-key FILE] [--json]`:
 * walk the audit chain of the database named by DATABASE_URL (or the PGlite files under TOOLROOM_DATA_DIR,
 * with the app stopped: PGlite has one user) and report the first event edited, deleted, reordered or inserted.
 * A purged chain starts at its newest signed purge anchor: every anchor must be signed with the audit key,
 * the public half of TOOLROOM_AUDIT_KEY_FILE, or the one given with --public-key (a file holding it, PEM or
 * base64, e.g. from the key copy kept off the Pi).
 * Prints the chain head: kept somewhere else and passed back as --anchor, it also shows newest events
 * deleted together with the head. Exit code 0 intact, 1 broken, 2 could not check.
 */
import fs from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { trustedAuditKey } from '../core/audit/anchor';
import { verifyAuditChain, type AuditChainReport } from '../core/audit/verify';
import { runAsScript, withScriptDatabase } from './lib/database';

export function argsFrom(argv: string[]): { input: Record<string, unknown>; json: boolean } {
  const input: Record<string, unknown> = {};
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`verify-audit: ${arg} needs a value`);
      return v;
    };
    if (arg === '--json') json = true;
    else if (arg === '--from' || arg === '--batch') input[arg.slice(2)] = Number(value());
    else if (arg === '--public-key') input.publicKey = publicKeyText(value());
    else if (arg === '--anchor') {
      const [seq, hash] = value().split(':');
      input.anchor = { seq: Number(seq), hash };
    } else throw new Error(`verify-audit: unknown argument ${arg} (known: --from N, --batch N, --anchor SEQ:HASH, --public-key FILE, --json)`);
  }
  return { input, json };
}

/** A public key file's text, or of a private key file (its public half): what --public-key names. */
function publicKeyText(file: string): string {
  const text = fs.readFileSync(file, 'utf8');
  return text.includes('PRIVATE KEY') ? createPublicKey(text).export({ format: 'pem', type: 'spki' }).toString() : text.trim();
}

export function describe(report: AuditChainReport): string {
  let head = report.head ? `chain head: seq ${report.head.seq}, hash ${report.head.hash ?? '(none)'}` : 'chain head: (none)';
  const a = report.purgeAnchor;
  if (a) head += `\npurged up to seq ${a.seq} (anchor ${a.id}, event of ${a.eventAt}, hash ${a.hash}), signed by key ${a.keyFingerprint}${a.keyTrusted ? ' (the audit key)' : ' (NOT compared with the audit key: no key file, no --public-key)'}`;
  if (report.ok) return `audit chain intact: ${report.checked} events checked\n${head}`;
  const bad = report.firstBad!;
  const where = [bad.seq !== null ? `seq ${bad.seq}` : null, bad.id !== null ? `event id ${bad.id}` : null].filter(Boolean).join(', ');
  return `audit chain BROKEN: ${bad.problem} at ${where || 'the head'}: ${bad.detail}\n${report.checked} events intact before it\n${head}`;
}

async function main(): Promise<number> {
  let args;
  try {
    args = argsFrom(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  return withScriptDatabase(
    'verify-audit',
    process.env,
    async (db) => {
      const report = await verifyAuditChain(db, args.input, { trustedKey: trustedAuditKey() });
      console.log(args.json ? JSON.stringify(report, null, 2) : describe(report));
      return report.ok ? 0 : 1;
    },
    (err) => {
      const e = err as { code?: string; message?: string };
      return e.code === '42P01' ? 'the database has no audit chain yet (start the app once: it migrates)' : (e.message ?? String(err));
    },
  );
}

runAsScript(module, main);
