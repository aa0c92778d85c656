/**
 * Typed reads of one setting with the precedence defaults < YAML < environment. Every
 * error names the key the bad value came from: the environment name when the
 * environment set it, else the YAML path.
 */
import { isAbsolute, resolve } from 'node:path';
import type { DatabaseConfig } from '../db/index.js';
import { isMapping, type ConfigFile } from './file.js';
import type { Setting } from './settings.js';
import { ConfigError, type Env } from './types.js';

interface Found {
  value: unknown;
  /** The key to name in errors. */
  key: string;
  fromEnv: boolean;
}

/** Hides the password of a database URL before it appears in an error message. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

function describe(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Reads settings from an optional YAML file and the environment. */
export class ConfigSource {
  constructor(
    private readonly file: ConfigFile | undefined,
    private readonly env: Env,
  ) {}

  /** How to name a setting that is missing: both names when a file is in play. */
  name(setting: Setting): string {
    return this.file ? `${this.fileKey(setting)} (${setting.env})` : setting.env;
  }

  /** The key as the file spells it: a distribution config.yml names its own keys. */
  private fileKey(setting: Setting): string {
    return this.file?.origins?.get(setting.yaml) ?? setting.yaml;
  }

  private yamlValue(path: string): unknown {
    let node: unknown = this.file?.values;
    for (const part of path.split('.')) {
      if (!isMapping(node)) return undefined;
      node = node[part];
    }
    return node ?? undefined;
  }

  private find(setting: Setting): Found | undefined {
    const fromEnv = this.env[setting.env];
    if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, key: setting.env, fromEnv: true };
    const fromYaml = this.yamlValue(setting.yaml);
    if (fromYaml !== undefined) return { value: fromYaml, key: this.fileKey(setting), fromEnv: false };
    return undefined;
  }

  /** The value as written (a YAML tree, or the environment's text) and the key to name in errors; for structured settings. */
  raw(setting: Setting): { value: unknown; key: string; fromEnv: boolean } | undefined {
    return this.find(setting);
  }

  /** True when YAML or environment sets the value. */
  isSet(setting: Setting): boolean {
    return this.find(setting) !== undefined;
  }

  /** Where the value comes from: `env`, `yaml`, or undefined when neither sets it. */
  origin(setting: Setting): 'env' | 'yaml' | undefined {
    const found = this.find(setting);
    return found === undefined ? undefined : found.fromEnv ? 'env' : 'yaml';
  }

  /** A string value, or the default, or undefined. */
  string(setting: Setting): string | undefined {
    const found = this.find(setting);
    if (!found) return setting.default === undefined ? undefined : String(setting.default);
    if (typeof found.value !== 'string' || found.value === '') throw new ConfigError(found.key, 'a non-empty string', describe(found.value));
    return found.value;
  }

  /** A string value that must be present. `when` says under which condition it is required. */
  requiredString(setting: Setting, when: string): string {
    const value = this.string(setting);
    if (value === undefined) throw new ConfigError(this.name(setting), `a value ${when}`, undefined, `missing: required ${when}`);
    return value;
  }

  /** A list: a YAML sequence of strings, or one string of comma-separated items (the environment's form). */
  list(setting: Setting): string[] {
    const found = this.find(setting);
    if (!found) return [];
    const items = Array.isArray(found.value) ? found.value : typeof found.value === 'string' ? found.value.split(',') : null;
    if (items === null || !items.every((item): item is string => typeof item === 'string')) {
      throw new ConfigError(found.key, 'a list of strings', describe(found.value));
    }
    return items.map((item) => item.trim()).filter((item) => item !== '');
  }

  /** A file system path, resolved against the YAML file's directory or the working directory. */
  path(setting: Setting): string | undefined {
    const found = this.find(setting);
    const value = this.string(setting);
    if (value === undefined) return undefined;
    if (value.includes('\0')) throw new ConfigError(found?.key ?? setting.yaml, 'a file system path', value);
    const base = found && !found.fromEnv && this.file ? this.file.dir : process.cwd();
    return isAbsolute(value) ? value : resolve(base, value);
  }

  /** An http(s) URL. */
  url(setting: Setting): string | undefined {
    const value = this.string(setting);
    if (value === undefined) return undefined;
    let parsed: URL | undefined;
    try {
      parsed = new URL(value);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      throw new ConfigError(this.find(setting)!.key, 'an http:// or https:// URL', value);
    }
    return value;
  }

  /** An integer within [min, max]. */
  int(setting: Setting, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const found = this.find(setting);
    if (!found) return Number(setting.default);
    const raw = found.value;
    const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
    const value = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
      throw new ConfigError(found.key, range, describe(raw));
    }
    return value;
  }

  /** An integer within [min, max], or the single word `word` (e.g. `auto`) as written. */
  intOrWord<W extends string>(setting: Setting, word: W, min: number, max: number): number | W {
    const found = this.find(setting);
    if (found && typeof found.value === 'string' && found.value.trim().toLowerCase() === word) return word;
    try {
      return this.int(setting, min, max);
    } catch (err) {
      if (!(err instanceof ConfigError) || !found) throw err;
      throw new ConfigError(found.key, `an integer from ${min} to ${max} or ${word}`, describe(found.value));
    }
  }

  /** A boolean: YAML true/false, or true/false/yes/no/on/off/1/0 as text. */
  bool(setting: Setting): boolean {
    const found = this.find(setting);
    if (!found) return Boolean(setting.default);
    if (typeof found.value === 'boolean') return found.value;
    if (typeof found.value === 'string') {
      if (/^(1|true|yes|on)$/i.test(found.value)) return true;
      if (/^(0|false|no|off)$/i.test(found.value)) return false;
    }
    throw new ConfigError(found.key, 'true or false', describe(found.value));
  }

  /** One of a fixed set of words, e.g. a log level. */
  oneOf<T extends string>(setting: Setting, values: readonly T[]): T {
    const value = this.string(setting);
    const match = values.find((v) => v === value?.toLowerCase());
    if (match === undefined) throw new ConfigError(this.find(setting)?.key ?? setting.yaml, values.join(', '), value);
    return match;
  }

  /**
   * A selector: in YAML the single sub-key present (`auth: {token: {...}}`) or a plain
   * word (`auth: none`); in the environment the word itself (REGISTRY_AUTH=token).
   */
  choice<T extends string>(setting: Setting & { choices: readonly T[] }): T {
    const found = this.find(setting);
    const choices: readonly T[] = setting.choices;
    let word: unknown = found ? found.value : setting.default;
    if (found && isMapping(found.value)) {
      // Sub-keys that are not choices are settings of their own (`storage: {s3: …, redirect: …}`),
      // checked against the settings table like every other key.
      const keys = Object.keys(found.value);
      const chosen = keys.filter((key) => choices.some((c) => c === key.toLowerCase()));
      if (chosen.length !== 1) throw new ConfigError(found.key, `exactly one of ${choices.join(', ')}`, keys.join(', ') || 'none');
      word = chosen[0];
    }
    const match = choices.find((c) => typeof word === 'string' && c === word.toLowerCase());
    if (match === undefined) throw new ConfigError(found?.key ?? setting.yaml, choices.join(', '), describe(word));
    return match;
  }

  /** host:port. */
  addr(setting: Setting): { host: string; port: number } {
    return parseAddr(this.find(setting)?.key ?? setting.env, this.string(setting) ?? '');
  }

  /** A database URL, or the SQLite file given as the default. */
  database(setting: Setting, defaultSqliteFile: string): DatabaseConfig {
    const found = this.find(setting);
    const url = this.string(setting);
    if (url === undefined) return { client: 'sqlite', filename: defaultSqliteFile };
    if (/^postgres(ql)?:\/\/[^/]/.test(url)) return { client: 'pg', connection: url };
    if (url.startsWith('sqlite:') && url.length > 'sqlite:'.length) {
      const file = url.slice('sqlite:'.length);
      if (file === ':memory:') return { client: 'sqlite', filename: file };
      const base = found && !found.fromEnv && this.file ? this.file.dir : process.cwd();
      return { client: 'sqlite', filename: resolve(base, file) };
    }
    throw new ConfigError(found!.key, 'postgres://user:password@host:port/database or sqlite:PATH', redactUrl(url));
  }
}

/** Parses `host:port`, `:port` (every interface) or `[ipv6]:port`; `key` names the setting in errors. */
export function parseAddr(key: string, value: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new ConfigError(key, 'host:port (e.g. 127.0.0.1:5000 or :5000)', value);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}
