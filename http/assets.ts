/**
 * The HTTP pages' static parts (http/assets/: CSS, scripts, page bodies), read once. They are files,
 * not strings in code, so an editor and a linter see them; scripts/copy-assets.sh puts them beside
 * dist/http. A page inlines them and allows exactly those bytes by hash in its CSP.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const DIR = path.join(__dirname, 'assets');
const cache = new Map<string, string>();

export function asset(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = fs.readFileSync(path.join(DIR, name), 'utf8');
    cache.set(name, text);
  }
  return text;
}

/** A CSP source allowing exactly this inline text ('sha256-…'). */
export function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
}
