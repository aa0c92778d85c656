/**
 * Access records and the Docker token-spec scope grammar
 * (`repository:team/app:pull,push`, `registry:catalog:*`). Shared by the auth service
 * (parsing requested scopes) and the registry (rendering challenges, checking grants).
 */

/** One entry of a token's `access` claim: a resource and the actions allowed on it. */
export interface AccessRecord {
  type: string;
  name: string;
  actions: string[];
}

const TYPE_PATTERN = /^[a-z0-9]+(?:\([a-z0-9]+\))?$/;
const ACTION_PATTERN = /^(?:\*|[a-z][a-z0-9-]*)$/;

/**
 * Parses one scope (`type:name:actions`). The name may itself contain `:` (a registry
 * host with a port), so the type ends at the first `:` and the actions start after the
 * last. Returns null for anything malformed; the token endpoint drops those.
 */
export function parseScope(scope: string): AccessRecord | null {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return null;
  let type = scope.slice(0, first);
  const name = scope.slice(first + 1, last);
  const actions = scope.slice(last + 1).split(',').filter((a) => a !== '');
  if (!TYPE_PATTERN.test(type) || name === '' || name.length > 512) return null;
  if (actions.length === 0 || !actions.every((a) => ACTION_PATTERN.test(a))) return null;
  // `repository(plugin):name` is a resource class; the class does not change access.
  const paren = type.indexOf('(');
  if (paren > 0) type = type.slice(0, paren);
  return { type, name, actions: [...new Set(actions)] };
}

/** Parses every scope in a list of values, each of which may hold several separated by spaces. */
export function parseScopes(values: readonly string[]): AccessRecord[] {
  const records: AccessRecord[] = [];
  for (const value of values) {
    for (const part of value.split(' ')) {
      if (part === '') continue;
      const record = parseScope(part);
      if (record) records.push(record);
    }
  }
  return mergeAccess(records);
}

/** Renders an access record as a scope string. */
export function formatScope(record: AccessRecord): string {
  return `${record.type}:${record.name}:${record.actions.join(',')}`;
}

/** Merges records for the same resource, so each resource appears once with the union of its actions. */
export function mergeAccess(records: readonly AccessRecord[]): AccessRecord[] {
  const byKey = new Map<string, AccessRecord>();
  for (const r of records) {
    const key = `${r.type}\u0000${r.name}`;
    const existing = byKey.get(key);
    if (existing) {
      for (const a of r.actions) if (!existing.actions.includes(a)) existing.actions.push(a);
    } else {
      byKey.set(key, { type: r.type, name: r.name, actions: [...r.actions] });
    }
  }
  return [...byKey.values()];
}

/** True when `granted` covers every action of every `required` record (`*` covers all). */
export function accessCovers(granted: readonly AccessRecord[], required: readonly AccessRecord[]): boolean {
  return required.every((need) => {
    const have = granted.filter((g) => g.type === need.type && g.name === need.name).flatMap((g) => g.actions);
    if (have.includes('*')) return true;
    return need.actions.every((a) => have.includes(a));
  });
}
