/**
 * Reading the YAML configuration file. Unknown keys are errors so a typo never silently
 * falls back to a default; the allowed keys are derived from the settings table.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { isDistributionConfig, translateDistributionConfig } from './distribution/index.js';
import { isMapping } from './mapping.js';
import { ALL_SETTINGS } from './settings.js';
import { ConfigError } from './types.js';

/** A parsed configuration file: its plain values and the directory relative paths resolve against. */
export interface ConfigFile {
  path: string;
  dir: string;
  values: Record<string, unknown>;
  /** Keys of a distribution config.yml that have no effect in Dockyard (logged at startup). */
  warnings?: string[];
  /** For a distribution config.yml: Dockyard YAML path → the key it was written as. */
  origins?: ReadonlyMap<string, string>;
}

/** A YAML mapping node of the allowed-key tree; leaves are settings holding a plain value. */
interface KeyNode {
  children: Map<string, KeyNode>;
  /** True where a setting's value lives (a scalar, or a selector mapping). */
  leaf: boolean;
}

function emptyNode(): KeyNode {
  return { children: new Map(), leaf: false };
}

function buildKeyTree(): KeyNode {
  const root = emptyNode();
  for (const setting of ALL_SETTINGS) {
    let node = root;
    for (const part of setting.yaml.split('.')) {
      let child = node.children.get(part);
      if (!child) node.children.set(part, (child = emptyNode()));
      node = child;
    }
    node.leaf = true;
    for (const choice of setting.choices ?? []) if (!node.children.has(choice)) node.children.set(choice, emptyNode());
  }
  return root;
}

const KEY_TREE = buildKeyTree();

export { isMapping };

function checkKeys(value: unknown, node: KeyNode, path: string): void {
  if (value === null || value === undefined) return;
  if (node.children.size === 0) {
    if (node.leaf) return;
    // A choice without settings of its own (`none:`, `memory:`) takes no value.
    if (isMapping(value) && Object.keys(value).length === 0) return;
    throw new ConfigError(path, 'no value (write the key alone, e.g. `none: {}`)', JSON.stringify(value));
  }
  if (!isMapping(value)) {
    if (node.leaf) return; // a selector written as a plain string, e.g. `auth: none`
    throw new ConfigError(path, `a mapping with the keys ${[...node.children.keys()].join(', ')}`, JSON.stringify(value));
  }
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    const known = node.children.get(key);
    if (!known) {
      const allowed = [...node.children.keys()].join(', ');
      throw new ConfigError(childPath, allowed, undefined, `unknown key (allowed ${path ? `under ${path}` : 'at the top level'}: ${allowed})`);
    }
    checkKeys(child, known, childPath);
  }
}

/** Throws ConfigError naming the first key that is not a known setting. */
export function checkConfigKeys(values: Record<string, unknown>): void {
  checkKeys(values, KEY_TREE, '');
}

/** Reads, parses and key-checks a YAML configuration file. */
export function readConfigFile(file: string): ConfigFile {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : code ?? 'unreadable';
    throw new ConfigError(`file ${path}`, 'a readable YAML file', undefined, `cannot read it (${reason})`);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(`file ${path}`, 'valid YAML', undefined, `not valid YAML: ${doc.errors[0].message}`);
  }
  const values: unknown = doc.toJS({ maxAliasCount: 50 });
  if (values !== null && values !== undefined && !isMapping(values)) {
    throw new ConfigError(`file ${path}`, 'a YAML mapping with the sections registry, auth, datadir, log');
  }
  const mapping = values ?? {};
  if (isDistributionConfig(mapping)) {
    const { values: translated, warnings, origins } = translateDistributionConfig(mapping);
    checkConfigKeys(translated);
    return { path, dir: dirname(path), values: translated, warnings, origins };
  }
  checkConfigKeys(mapping);
  return { path, dir: dirname(path), values: mapping };
}
