/**
 * A CNCF distribution (`registry:2`) config.yml, recognised by its top-level `version`,
 * read as it is: every key is mapped onto Dockyard's settings, accepted, warned about or
 * refused by the rules in rules.ts. The result is an ordinary Dockyard configuration
 * (`registry.…` keys) plus the warnings to log and, for error messages, which
 * distribution key each Dockyard setting came from.
 */
import { isMapping } from '../mapping.js';
import { didYouMean } from '../suggest.js';
import { ConfigError } from '../types.js';
import { KNOWN_KEYS, ruleFor, UNKNOWN_KEY } from './rules.js';

export { goDurationSeconds, RULES, ruleFor, KNOWN_KEYS, UNKNOWN_KEY, type Outcome, type Rule } from './rules.js';

/** A distribution file turned into Dockyard's shape. */
export interface Translation {
  values: Record<string, unknown>;
  warnings: string[];
  /** Dockyard YAML path → the distribution key it came from. */
  origins: Map<string, string>;
}

/** True for a distribution config.yml (Dockyard's own files have no `version`). */
export function isDistributionConfig(values: Record<string, unknown>): boolean {
  return Object.hasOwn(values, 'version');
}

/** Every leaf of a YAML tree with its key path; a non-empty mapping is descended into. */
function leaves(value: unknown, path: string[], out: Array<[string[], unknown]>): void {
  if (isMapping(value) && Object.keys(value).length > 0) {
    for (const [key, child] of Object.entries(value)) leaves(child, [...path, key], out);
  } else {
    out.push([path, value]);
  }
}

function setAt(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (!isMapping(node[part])) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

/** The message for a key no rule knows, with the nearest known key. */
export function unknownKeyProblem(key: string): string {
  return `unknown key in a distribution config.yml${didYouMean(key, KNOWN_KEYS)}`;
}

/** Maps a parsed distribution config.yml; throws ConfigError naming the first refused key. */
export function translateDistributionConfig(values: Record<string, unknown>): Translation {
  const found: Array<[string[], unknown]> = [];
  leaves(values, [], found);
  const translation: Translation = { values: {}, warnings: [], origins: new Map() };
  /** Warnings per covering key, so a section with several ignored keys warns once. */
  const warned = new Map<string, { keys: string[]; why: string }>();
  for (const [path, value] of found) {
    const key = path.join('.');
    const rule = ruleFor(path);
    const outcome = rule?.apply(value, path) ?? { error: UNKNOWN_KEY };
    if ('error' in outcome) {
      throw new ConfigError(key, 'a supported setting', undefined, outcome.error === UNKNOWN_KEY ? unknownKeyProblem(key) : outcome.error);
    }
    if ('warn' in outcome) {
      const covering = path.slice(0, rule!.key.split('.').length).join('.');
      const entry = warned.get(covering) ?? { keys: [], why: outcome.warn };
      entry.keys.push(key);
      warned.set(covering, entry);
    }
    if ('to' in outcome) {
      setAt(translation.values, outcome.to, outcome.value);
      translation.origins.set(outcome.to, key);
    }
  }
  const root = translation.origins.get('registry.storage.filesystem.rootdirectory');
  if (root !== undefined && !Object.hasOwn(translation.values, 'datadir')) {
    setAt(translation.values, 'datadir', (translation.values.registry as { storage: { filesystem: { rootdirectory: unknown } } }).storage.filesystem.rootdirectory);
    translation.origins.set('datadir', root);
  }
  for (const [covering, { keys, why }] of warned) {
    const detail = keys.length === 1 && keys[0] === covering ? covering : `${covering} (${keys.map((k) => k.slice(covering.length + 1) || k).join(', ')})`;
    translation.warnings.push(`${detail}: ${why}`);
  }
  return translation;
}
