/**
 * `registry.notifications.endpoints` (REGISTRY_NOTIFICATIONS_ENDPOINTS): webhook endpoints
 * written as CNCF distribution writes them in `notifications.endpoints`, so a registry:2
 * config.yml keeps working, plus Dockyard's `secret` (signs each request), `repositories`
 * (a repository pattern) and `format`. The same validation serves the admin API and CLI
 * (services/registry/notifications), which add endpoints at run time.
 */
import { parse } from 'yaml';
import { isRepositoryPattern } from '../grammar/repository-pattern.js';
import { isMapping } from './mapping.js';
import { SETTINGS } from './settings.js';
import type { ConfigSource } from './source.js';
import { ConfigError } from './types.js';

export const NOTIFICATION_ACTIONS = ['push', 'pull', 'delete', 'mount', 'stale'] as const;
export const NOTIFICATION_FORMATS = ['distribution', 'cloudevents'] as const;
export type NotificationFormat = (typeof NOTIFICATION_FORMATS)[number];

/** One endpoint, validated. */
export interface NotificationEndpointConfig {
  name: string;
  url: string;
  /** Shared secret for Dockyard-Signature; null: requests are not signed. */
  secret: string | null;
  headers: Record<string, string[]>;
  timeoutMs: number;
  /** Failures in a row retried at once (1 s apart) before the backoff starts. */
  threshold: number;
  backoffMs: number;
  ignoredMediaTypes: string[];
  ignoredActions: string[];
  /** Only events of repositories matching this pattern (shared/grammar/repository-pattern.ts); null: all. */
  repositoryPattern: string | null;
  format: NotificationFormat;
  disabled: boolean;
}

export const ENDPOINT_DEFAULTS = { timeoutMs: 5_000, threshold: 5, backoffMs: 10_000 } as const;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
const KEYS = new Set(['name', 'url', 'headers', 'timeout', 'threshold', 'backoff', 'ignoredmediatypes', 'ignore', 'disabled', 'secret', 'repositories', 'format']);
/** A bad value as ConfigError shows it (which quotes it once). */
const shown = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value) ?? String(value));
const UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration (`500ms`, `1s`, `1m30s`) or a number of nanoseconds (Go's YAML), in milliseconds. */
function durationMs(value: unknown, key: string): number {
  if (typeof value === 'number' && value >= 0) return Math.round(value / 1e6);
  if (typeof value === 'string' && /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(value)) {
    let ms = 0;
    for (const [, amount, , unit] of value.matchAll(/(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(amount) * UNITS_MS[unit]!;
    return Math.round(ms);
  }
  throw new ConfigError(key, 'a duration such as 500ms, 5s or 1m', shown(value));
}

function stringList(value: unknown, key: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0 && v.length <= 255)) throw new ConfigError(key, 'a list of strings', shown(value));
  return value as string[];
}

function headersOf(value: unknown, key: string): Record<string, string[]> {
  if (value === undefined || value === null) return {};
  if (!isMapping(value)) throw new ConfigError(key, 'a mapping of header names to a value or a list of values', shown(value));
  const headers: Record<string, string[]> = {};
  for (const [name, raw] of Object.entries(value)) {
    const values = Array.isArray(raw) ? raw : [raw];
    if (!HEADER_NAME.test(name) || !values.every((v) => typeof v === 'string' && !/[\r\n\0]/.test(v))) throw new ConfigError(`${key}.${name}`, 'a header name with string values', shown(raw));
    headers[name] = values as string[];
  }
  return headers;
}

function whole(value: unknown, key: string, fallback: number, min: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw new ConfigError(key, `an integer from ${min} to ${max}`, shown(value));
  return n;
}

/** An http(s) URL without credentials in it (those would show up in listings and logs). */
export function checkEndpointUrl(value: unknown, key: string): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' && value.length <= 2048 ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new ConfigError(key, 'an http:// or https:// URL', shown(value));
  if (url.username !== '' || url.password !== '') throw new ConfigError(key, 'a URL without credentials', undefined, 'credentials in the URL are not allowed: put them in headers');
  return value as string;
}

/** One endpoint object; `key` names it in errors (e.g. `registry.notifications.endpoints[0]`). */
export function parseNotificationEndpoint(value: unknown, key: string): NotificationEndpointConfig {
  if (!isMapping(value)) throw new ConfigError(key, 'a mapping with name and url', shown(value));
  for (const field of Object.keys(value)) if (!KEYS.has(field)) throw new ConfigError(`${key}.${field}`, [...KEYS].join(', '), undefined, `unknown key (allowed: ${[...KEYS].join(', ')})`);
  const name = value.name;
  if (typeof name !== 'string' || !NAME.test(name)) throw new ConfigError(`${key}.name`, 'a name of letters, digits, `.`, `_`, `-` (at most 64)', shown(name));
  const ignore = value.ignore ?? {};
  if (!isMapping(ignore) || Object.keys(ignore).some((k) => k !== 'mediatypes' && k !== 'actions')) throw new ConfigError(`${key}.ignore`, 'a mapping with mediatypes and actions', shown(ignore));
  const actions = stringList(ignore.actions, `${key}.ignore.actions`);
  const unknownAction = actions.find((a) => !(NOTIFICATION_ACTIONS as readonly string[]).includes(a));
  if (unknownAction !== undefined) throw new ConfigError(`${key}.ignore.actions`, NOTIFICATION_ACTIONS.join(', '), unknownAction);
  const pattern = value.repositories ?? null;
  if (pattern !== null && (typeof pattern !== 'string' || !isRepositoryPattern(pattern))) {
    throw new ConfigError(`${key}.repositories`, 'a repository pattern such as team/** or base/*', shown(pattern));
  }
  const secret = value.secret ?? null;
  if (secret !== null && (typeof secret !== 'string' || secret.length < 16 || secret.length > 256)) throw new ConfigError(`${key}.secret`, 'a string of 16 to 256 characters', undefined, 'invalid: expected a string of 16 to 256 characters');
  const format = value.format ?? 'distribution';
  if (!(NOTIFICATION_FORMATS as readonly unknown[]).includes(format)) throw new ConfigError(`${key}.format`, NOTIFICATION_FORMATS.join(' or '), shown(format));
  const disabled = value.disabled ?? false;
  if (typeof disabled !== 'boolean') throw new ConfigError(`${key}.disabled`, 'true or false', shown(disabled));
  return {
    name,
    url: checkEndpointUrl(value.url, `${key}.url`),
    secret: secret as string | null,
    headers: headersOf(value.headers, `${key}.headers`),
    timeoutMs: value.timeout === undefined ? ENDPOINT_DEFAULTS.timeoutMs : Math.max(1, durationMs(value.timeout, `${key}.timeout`)),
    threshold: whole(value.threshold, `${key}.threshold`, ENDPOINT_DEFAULTS.threshold, 0, 1000),
    backoffMs: value.backoff === undefined ? ENDPOINT_DEFAULTS.backoffMs : Math.max(1, durationMs(value.backoff, `${key}.backoff`)),
    ignoredMediaTypes: [...new Set([...stringList(value.ignoredmediatypes, `${key}.ignoredmediatypes`), ...stringList(ignore.mediatypes, `${key}.ignore.mediatypes`)])],
    ignoredActions: actions,
    repositoryPattern: pattern as string | null,
    format: format as NotificationFormat,
    disabled,
  };
}

/** The configured endpoints (none when the setting is absent); names must be unique. */
export function notificationEndpointsOf(src: ConfigSource): NotificationEndpointConfig[] {
  const found = src.raw(SETTINGS.registry.notificationEndpoints);
  if (!found) return [];
  let value = found.value;
  if (typeof value === 'string') {
    try {
      value = parse(value);
    } catch (err) {
      throw new ConfigError(found.key, 'a YAML or JSON list of endpoints', undefined, `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw new ConfigError(found.key, 'a list of endpoints', JSON.stringify(value).slice(0, 100));
  const endpoints = value.map((entry, i) => parseNotificationEndpoint(entry, `${found.key}[${i}]`));
  const names = new Set<string>();
  for (const [i, endpoint] of endpoints.entries()) {
    if (names.has(endpoint.name)) throw new ConfigError(`${found.key}[${i}].name`, 'a unique name', endpoint.name);
    names.add(endpoint.name);
  }
  return endpoints;
}
