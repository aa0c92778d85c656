/**
 * Reads an Apache htpasswd file for `users import-htpasswd`. Only bcrypt entries
 * (`htpasswd -B`: `name:$2y$…`) can be imported, because that is the only scheme we
 * verify; every other line is reported with the reason it was skipped.
 */
import { USER_NAME_PATTERN } from '../names.js';

/** A line that can be imported. */
export interface HtpasswdEntry {
  line: number;
  name: string;
  hash: string;
}

/** A line that was skipped, and why. */
export interface HtpasswdSkipped {
  line: number;
  name: string;
  reason: string;
}

const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

function schemeOf(hash: string): string {
  if (hash.startsWith('$apr1$')) return 'MD5 (apr1)';
  if (hash.startsWith('{SHA}')) return 'SHA-1';
  if (hash.startsWith('$5$') || hash.startsWith('$6$')) return 'SHA-crypt';
  return 'crypt or plain text';
}

/** Splits htpasswd text into importable bcrypt entries and skipped lines. */
export function parseHtpasswd(text: string): { entries: HtpasswdEntry[]; skipped: HtpasswdSkipped[] } {
  const entries: HtpasswdEntry[] = [];
  const skipped: HtpasswdSkipped[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) return;
    const colon = text.indexOf(':');
    const name = colon > 0 ? text.slice(0, colon) : '';
    const hash = colon > 0 ? text.slice(colon + 1) : '';
    if (name === '' || hash === '') skipped.push({ line, name, reason: 'not a name:hash line' });
    else if (!USER_NAME_PATTERN.test(name)) skipped.push({ line, name, reason: 'invalid user name' });
    else if (!BCRYPT_HASH.test(hash)) skipped.push({ line, name, reason: `not a bcrypt hash (${schemeOf(hash)}); re-create it with htpasswd -B` });
    else if (seen.has(name)) skipped.push({ line, name, reason: 'duplicate name in file' });
    else {
      seen.add(name);
      entries.push({ line, name, hash });
    }
  });
  return { entries, skipped };
}
