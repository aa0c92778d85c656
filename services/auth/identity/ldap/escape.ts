/**
 * The two LDAP string grammars a login name or DN may be put into or read from: filter
 * values (RFC 4515) and DN attribute values (RFC 4514). A login name is the client's own
 * bytes; escaped here, `*`, `(`, `)`, `\` and NUL in it match themselves and nothing else,
 * so no name can widen or end the configured filter.
 */

/** `value` escaped for use inside an LDAP filter (RFC 4515 section 3: `*()\` and NUL as `\XX`). */
export function escapeFilterValue(value: string): string {
  return value.replace(/[*()\\\u0000]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** `template` with every `%s` replaced by `value`, escaped (the configured user and group filters). */
export function fillFilter(template: string, value: string): string {
  const escaped = escapeFilterValue(value);
  return template.replaceAll('%s', () => escaped);
}

/**
 * `value` escaped as a DN attribute value (RFC 4514 section 2.4): `"+,;<>\` and NUL
 * everywhere, `#` and space at the start, space at the end.
 */
export function escapeDnValue(value: string): string {
  let out = value.replace(/["+,;<>\\\u0000]/g, (c) => (c === '\u0000' ? '\\00' : `\\${c}`));
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ') && !out.endsWith('\\ ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/**
 * The value of attribute `type` (case-insensitive) in the first RDN of `dn`, unescaped
 * (`\XX` hex pairs as UTF-8, `\c` as c), or null. Used to name a group by the `cn` of a
 * `memberOf` DN without another directory round trip.
 */
export function firstRdnValue(dn: string, type: string): string | null {
  const bytes: number[] = [];
  let i = 0;
  let current = '';
  const avas: Array<[string, number[]]> = [];
  let inValue = false;
  const flush = () => {
    avas.push([current.trim().toLowerCase(), [...bytes]]);
    bytes.length = 0;
    current = '';
    inValue = false;
  };
  while (i < dn.length) {
    const c = dn[i]!;
    if (!inValue) {
      if (c === '=') inValue = true;
      else current += c;
      i += 1;
      continue;
    }
    if (c === '\\') {
      const hex = dn.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 3;
      } else {
        if (i + 1 >= dn.length) return null;
        bytes.push(...Buffer.from(dn[i + 1]!, 'utf8'));
        i += 2;
      }
      continue;
    }
    if (c === ',' || c === ';') break;
    if (c === '+') {
      flush();
      i += 1;
      continue;
    }
    // Code points beyond one UTF-16 unit are taken whole.
    const cp = dn.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    bytes.push(...Buffer.from(ch, 'utf8'));
    i += ch.length;
  }
  if (inValue) flush();
  const wanted = type.toLowerCase();
  const found = avas.find(([t]) => t === wanted);
  return found ? Buffer.from(found[1]).toString('utf8').trim() : null;
}
