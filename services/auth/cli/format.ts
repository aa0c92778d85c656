/**
 * Plain-text output for the admin CLI: aligned tables, JSON and readable times. Everything
 * printed from the database passes through escapeControls: the audit trail holds what
 * clients sent, and a newline or terminal escape sequence in it must not forge a row or
 * take over the operator's terminal.
 */

/**
 * C0 and C1 controls, DEL, line and paragraph separators and the bidirectional overrides
 * and isolates (which reorder what a terminal shows).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every control character written as a `\uXXXX` escape. */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Formats rows under headers as left-aligned columns separated by two spaces; cells are escaped. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const safe = rows.map((r) => r.map(escapeControls));
  const widths = headers.map((h, i) => Math.max(h.length, ...safe.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [line(headers), ...safe.map(line)].join('\n');
}

/**
 * Pretty JSON that is safe on a terminal and still the same JSON: JSON.stringify escapes
 * C0 controls inside strings but not DEL, C1 or the bidirectional controls; their `\uXXXX`
 * escapes are valid JSON. The only raw newlines left are the indentation's.
 */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2).split('\n').map(escapeControls).join('\n');
}

/** An epoch-milliseconds time as RFC 3339 (seconds precision), or `-` for none. */
export function formatTime(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
