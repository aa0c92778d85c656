/**
 * HTML built from tagged templates that escape every interpolated value unless it is
 * already Html: `html\`<p>${name}</p>\`` can never inject markup, and the only ways to
 * insert markup are other `html` templates and trustedHtml (used for sanitized Markdown).
 * Arrays interpolate as their items joined; null, undefined and false as nothing.
 */

/** A piece of markup that is safe to insert as is. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Value = Html | string | number | null | undefined | false | readonly Value[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Text with every character that means something in HTML (text or quoted attribute) escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** The template tag: literal parts as written, every value escaped (see the module comment). */
export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Markup that has already been made safe elsewhere (the Markdown sanitizer); nothing else may use it. */
export function trustedHtml(text: string): Html {
  return new Html(text);
}
