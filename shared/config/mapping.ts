/** The one test for "a YAML mapping" that the configuration readers share. */

/** True for a YAML mapping turned into a plain object. */
export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
