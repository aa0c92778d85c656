/**
 * What Dockyard does with every key of a CNCF distribution (`registry:2`) config.yml: map
 * it onto a Dockyard setting, accept it because Dockyard already behaves that way, warn
 * that it has no effect, or refuse it because running without it would change what the
 * registry guarantees (client certificates, notifications, a proxy cache). A rule covers
 * its key and everything below it. docs/configuration.md lists these rules one row each
 * and a test keeps the two in step.
 */
import { ALL_SETTINGS } from '../settings.js';

/** What one distribution key becomes. */
export type Outcome =
  | { to: string; value: unknown }
  | { same: true }
  | { warn: string }
  | { error: string };

export interface Rule {
  /** Distribution key path, e.g. `storage.delete.enabled`; `*` stands for any one key. */
  readonly key: string;
  /** What Dockyard does with it (the docs table). */
  readonly doc: string;
  apply(value: unknown, path: readonly string[]): Outcome;
}

const SAME: Outcome = { same: true };
/** The outcome for a key no rule knows; the translator adds the nearest known key. */
export const UNKNOWN_KEY = 'unknown key';
const UNKNOWN: Outcome = { error: UNKNOWN_KEY };

/** YAML true/false, or the words the environment may carry. */
function truthy(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(1|true|yes|on)$/i.test(value)) return true;
  if (typeof value === 'string' && /^(0|false|no|off)$/i.test(value)) return false;
  return undefined;
}

const UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** A Go duration (`168h`, `1h30m`, `10s`) in whole seconds, or undefined when it is not one. */
export function goDurationSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return value / 1e9; // a bare YAML number is nanoseconds in Go
  if (typeof value !== 'string' || !/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(value)) return undefined;
  let seconds = 0;
  for (const [, amount, , unit] of value.matchAll(/(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) seconds += Number(amount) * UNITS[unit];
  return Math.round(seconds);
}

const map = (to: string): ((value: unknown) => Outcome) => (value) => ({ to, value });
const warn = (why: string): ((value: unknown) => Outcome) => () => ({ warn: why });
const refuse = (why: string): ((value: unknown) => Outcome) => () => ({ error: why });
/** Accepted silently when the value asks for what Dockyard does anyway, else a warning. */
const sameWhen = (test: (value: unknown) => boolean, why: string) => (value: unknown): Outcome => (test(value) ? SAME : { warn: why });

const LOG_LEVELS: Record<string, string> = { panic: 'fatal', fatal: 'fatal', error: 'error', warn: 'warn', warning: 'warn', info: 'info', debug: 'debug', trace: 'trace' };
function logLevel(value: unknown): Outcome {
  const level = typeof value === 'string' ? LOG_LEVELS[value.toLowerCase()] : undefined;
  return level ? { to: 'log.level', value: level } : { error: `expected one of ${Object.keys(LOG_LEVELS).join(', ')}, got ${JSON.stringify(value)}` };
}

/** Storage drivers distribution knows (`inmemory` has a rule of its own). */
const DISTRIBUTION_DRIVERS: ReadonlySet<string> = new Set(['filesystem', 's3', 'azure', 'gcs', 'swift', 'oss']);

/** A storage driver's keys, mapped when Dockyard has the driver and the setting. */
function storageDriver(value: unknown, path: readonly string[]): Outcome {
  const [, driver, key] = path;
  if (!DISTRIBUTION_DRIVERS.has(driver)) return UNKNOWN;
  const storage = ALL_SETTINGS.find((s) => s.yaml === 'registry.storage');
  if (!storage?.choices?.includes(driver)) {
    return { error: `the ${driver} storage driver is not available in Dockyard (drivers: ${storage?.choices?.filter((c) => c !== 'memory').join(', ')}, inmemory)` };
  }
  if (key === undefined) return { to: `registry.storage.${driver}`, value: {} };
  const target = `registry.storage.${driver}.${path.slice(2).join('.')}`;
  if (ALL_SETTINGS.some((s) => s.yaml === target)) return { to: target, value };
  return { error: `not supported by Dockyard's ${driver} driver` };
}

const ONE_HOUR = 'Dockyard looks for abandoned uploads every hour';

/** Every distribution key, in the order of distribution's configuration reference. */
export const RULES: readonly Rule[] = [
  { key: 'version', doc: 'Must be `0.1`.', apply: (v) => (String(v) === '0.1' ? SAME : { error: `only version 0.1 is understood, got ${JSON.stringify(v)}` }) },
  { key: 'log.level', doc: 'Mapped to `log.level` (`warning` → `warn`, `panic` → `fatal`).', apply: logLevel },
  { key: 'loglevel', doc: 'Mapped to `log.level` (the deprecated spelling).', apply: logLevel },
  { key: 'log.formatter', doc: 'Warning unless `json`: Dockyard always writes JSON lines.', apply: sameWhen((v) => v === 'json', 'ignored: Dockyard always writes JSON log lines') },
  { key: 'log.fields', doc: 'Warning: not added to log lines.', apply: warn('ignored: Dockyard does not add fixed fields to its log lines') },
  { key: 'log.accesslog.disabled', doc: 'Warning when `true`: Dockyard always logs one line per request.', apply: sameWhen((v) => truthy(v) === false, 'ignored: Dockyard always logs one line per request') },
  { key: 'log.hooks', doc: 'Warning: log hooks (mail) are not supported.', apply: warn('ignored: log hooks are not supported') },
  { key: 'storage.filesystem.rootdirectory', doc: 'Mapped to `registry.storage.filesystem.rootdirectory`; also the default `datadir` (databases, keys), so everything stays where registry:2 kept it.', apply: map('registry.storage.filesystem.rootdirectory') },
  { key: 'storage.filesystem.maxthreads', doc: 'Warning: Node does its file I/O on its own thread pool.', apply: warn('ignored: Dockyard does its file I/O on Node\'s thread pool') },
  { key: 'storage.inmemory', doc: 'Mapped to `registry.storage: memory`.', apply: () => ({ to: 'registry.storage.memory', value: {} }) },
  { key: 'storage.*', doc: 'Another driver (`s3`, `azure`, `swift`): each key mapped to `registry.storage.DRIVER.KEY` when Dockyard has that driver and setting, else an error naming it (`gcs` and `oss` are not available as drivers; they work through `s3` with their S3-compatible endpoints, docs/storage.md).', apply: storageDriver },
  { key: 'storage.delete.enabled', doc: 'Accepted when `true`. `false` is a warning: Dockyard lets every client with delete access delete (with htpasswd or no auth that is everyone who may push).', apply: sameWhen((v) => truthy(v) === true, 'not supported: deletes cannot be switched off; with token auth grant delete only to whom it is meant for') },
  { key: 'storage.redirect.disable', doc: 'Accepted when `true`; `false` is a warning: Dockyard serves blob bytes itself.', apply: sameWhen((v) => truthy(v) === true, 'ignored: Dockyard serves blob bytes itself, it never redirects to the storage backend') },
  { key: 'storage.cache.blobdescriptor', doc: 'Accepted when `inmemory` (Dockyard caches small blobs in memory and keeps its index in the database); `redis` is a warning.', apply: sameWhen((v) => v === 'inmemory', 'ignored: Dockyard has no Redis cache; its index lives in the database') },
  { key: 'storage.cache', doc: 'Other cache keys: warning.', apply: warn('ignored: Dockyard has no configurable cache') },
  { key: 'storage.maintenance.uploadpurging.enabled', doc: 'Accepted when `true`; `false` is a warning: abandoned uploads are always purged.', apply: sameWhen((v) => truthy(v) === true, 'not supported: abandoned uploads are always purged (after registry.uploads.purgeafterseconds)') },
  {
    key: 'storage.maintenance.uploadpurging.age',
    doc: 'Mapped to `registry.uploads.purgeafterseconds` (a Go duration such as `168h`).',
    apply: (v) => {
      const seconds = goDurationSeconds(v);
      return seconds === undefined ? { error: `expected a duration such as 168h, got ${JSON.stringify(v)}` } : { to: 'registry.uploads.purgeafterseconds', value: seconds };
    },
  },
  { key: 'storage.maintenance.uploadpurging.interval', doc: 'Warning unless `1h`: Dockyard looks every hour.', apply: sameWhen((v) => goDurationSeconds(v) === 3600, `ignored: ${ONE_HOUR}`) },
  { key: 'storage.maintenance.uploadpurging.dryrun', doc: 'Accepted when `false`; `true` is a warning (uploads are really purged).', apply: sameWhen((v) => truthy(v) === false, 'not supported: abandoned uploads are really purged') },
  { key: 'storage.maintenance.readonly.enabled', doc: 'Mapped to `registry.readonly`.', apply: map('registry.readonly') },
  { key: 'storage.tag', doc: 'Warning (tag lookups are database queries).', apply: warn('ignored: tag lookups are database queries') },
  { key: 'auth.htpasswd.realm', doc: 'Mapped to `registry.auth.htpasswd.realm`.', apply: map('registry.auth.htpasswd.realm') },
  { key: 'auth.htpasswd.path', doc: 'Mapped to `registry.auth.htpasswd.path` (bcrypt entries).', apply: map('registry.auth.htpasswd.path') },
  { key: 'auth.token.realm', doc: 'Mapped to `registry.auth.token.realm`.', apply: map('registry.auth.token.realm') },
  { key: 'auth.token.service', doc: 'Mapped to `registry.auth.token.service`.', apply: map('registry.auth.token.service') },
  { key: 'auth.token.issuer', doc: 'Mapped to `registry.auth.token.issuer`.', apply: map('registry.auth.token.issuer') },
  { key: 'auth.token.rootcertbundle', doc: 'Mapped to `registry.auth.token.rootcertbundle`.', apply: map('registry.auth.token.rootcertbundle') },
  { key: 'auth.token.jwks', doc: 'Mapped to `registry.auth.token.jwks` (a URL in Dockyard).', apply: map('registry.auth.token.jwks') },
  { key: 'auth.token.autoredirect', doc: 'Accepted when `false`; `true` is a warning: the realm is used as written.', apply: sameWhen((v) => truthy(v) === false, 'ignored: the realm is sent exactly as configured') },
  { key: 'auth.token.signingalgorithms', doc: 'Warning: Dockyard accepts ES256, ES384, RS256 and similar asymmetric algorithms only.', apply: warn('ignored: Dockyard pins its own list of asymmetric algorithms') },
  { key: 'auth.silly', doc: 'Error: the silly (test) access controller lets anyone in.', apply: refuse('the silly access controller is not supported; use htpasswd or token (or remove auth for none)') },
  { key: 'auth.*', doc: 'Any other access controller: error.', apply: (_v, path) => (path[1] === 'htpasswd' || path[1] === 'token' ? (path.length === 2 ? { to: `registry.auth.${path[1]}`, value: {} } : UNKNOWN) : { error: 'unknown access controller; Dockyard has htpasswd and token' }) },
  { key: 'middleware', doc: 'Error: registry, repository and storage middleware (cloudfront, redirect) are not supported.', apply: refuse('middleware is not supported') },
  { key: 'reporting', doc: 'Warning: bugsnag and newrelic reporting are not supported.', apply: warn('ignored: error reporting services are not supported; use the logs and /metrics') },
  { key: 'http.addr', doc: 'Mapped to `registry.http.addr` (`:5000` means every interface).', apply: map('registry.http.addr') },
  { key: 'http.net', doc: 'Accepted when `tcp`; `unix` is an error.', apply: (v) => (v === 'tcp' ? SAME : { error: 'only tcp listeners are supported' }) },
  { key: 'http.prefix', doc: 'Accepted when `/`; another prefix is an error (serve Dockyard under a prefix with a reverse proxy).', apply: (v) => (v === '/' ? SAME : { error: 'Dockyard serves /v2/ at the root; use a reverse proxy for a prefix' }) },
  { key: 'http.host', doc: 'Warning: not needed, Location headers are relative to the request.', apply: warn('not needed: Location headers are relative to the request') },
  { key: 'http.secret', doc: 'Warning: not needed, upload state is kept by the registry rather than signed into client state.', apply: warn('not needed: upload state is kept by the registry, not signed into client state') },
  { key: 'http.relativeurls', doc: 'Accepted when `true`; `false` is a warning (Location headers are always relative).', apply: sameWhen((v) => truthy(v) === true, 'ignored: Location headers are always relative') },
  { key: 'http.draintimeout', doc: 'Warning: in-flight requests get 10 s on a stop.', apply: warn('ignored: in-flight requests get 10 s on a stop') },
  { key: 'http.tls.certificate', doc: 'Mapped to `registry.http.tls.certificate`.', apply: map('registry.http.tls.certificate') },
  { key: 'http.tls.key', doc: 'Mapped to `registry.http.tls.key`.', apply: map('registry.http.tls.key') },
  { key: 'http.tls.clientcas', doc: 'Error: client certificate authentication is not supported (running without it would let every client in).', apply: refuse('client certificate authentication is not supported') },
  { key: 'http.tls.letsencrypt', doc: 'Error: use a certificate file (or a reverse proxy that fetches one).', apply: refuse('Let\'s Encrypt is not built in; give http.tls.certificate and key') },
  { key: 'http.tls.minimumtls', doc: 'Warning: Node\'s default (TLS 1.2 and newer) applies.', apply: warn('ignored: Node\'s default minimum (TLS 1.2) applies') },
  { key: 'http.tls.ciphersuites', doc: 'Warning: Node\'s default cipher list applies.', apply: warn('ignored: Node\'s default cipher list applies') },
  { key: 'http.debug', doc: 'Warning: no separate debug listener; `/metrics`, `/healthz` and `/readyz` are on the registry\'s own address.', apply: warn('ignored: /metrics, /healthz and /readyz are served on the registry\'s own address') },
  {
    key: 'http.headers',
    doc: 'Accepted for `X-Content-Type-Options: [nosniff]`, which Dockyard always sends; any other header is a warning (add it in a reverse proxy).',
    apply: (v, path) => {
      const name = path[2]?.toLowerCase();
      const values = Array.isArray(v) ? v : [v];
      if (name === 'x-content-type-options' && values.length === 1 && values[0] === 'nosniff') return SAME;
      return { warn: 'ignored: Dockyard sends no configurable response headers (it always sends X-Content-Type-Options: nosniff)' };
    },
  },
  { key: 'http.http2.disabled', doc: 'Accepted when `true`; `false` is a warning (HTTP/1.1 only).', apply: sameWhen((v) => truthy(v) === true, 'ignored: Dockyard speaks HTTP/1.1 only') },
  { key: 'http.h2c', doc: 'Warning (HTTP/1.1 only).', apply: warn('ignored: Dockyard speaks HTTP/1.1 only') },
  {
    key: 'notifications.endpoints',
    doc: 'Mapped to `registry.notifications.endpoints` with the same keys (`name`, `url`, `headers`, `timeout`, `threshold`, `backoff`, `ignoredmediatypes`, `ignore`, `disabled`); docs/notifications.md.',
    apply: map('registry.notifications.endpoints'),
  },
  { key: 'notifications', doc: 'Other notification keys (`events.includereferences`): warning.', apply: warn('ignored: Dockyard events carry no references list') },
  { key: 'redis', doc: 'Warning: not needed, state shared by replicas lives in the database.', apply: warn('not needed: state shared by replicas lives in the database') },
  { key: 'health.storagedriver', doc: 'Warning: `/readyz` checks the storage and the database on every probe.', apply: warn('ignored: /readyz checks the storage and the database on every probe') },
  { key: 'health', doc: 'Other health checks (`file`, `http`, `tcp`): warning, probe them from your monitoring.', apply: warn('ignored: extra health checks are not supported; probe them from your monitoring') },
  { key: 'proxy', doc: 'Error: Dockyard is not a pull-through cache.', apply: refuse('pull-through cache (proxy) is not supported') },
  { key: 'compatibility.schema1.enabled', doc: 'Accepted when `false`; `true` is a warning: schema 1 manifests are refused.', apply: sameWhen((v) => truthy(v) === false, 'ignored: schema 1 manifests are refused') },
  { key: 'compatibility', doc: 'Other keys (`signingkeyfile`): warning.', apply: warn('ignored: schema 1 is not supported') },
  { key: 'validation', doc: 'Warning: manifests are always validated; non-distributable layers may name any URL.', apply: warn('ignored: manifests are always validated, layer URLs are not filtered') },
  { key: 'catalog.maxentries', doc: 'Mapped to `registry.limits.pagemaxentries` (which also bounds tag and referrer pages).', apply: map('registry.limits.pagemaxentries') },
];

function matches(rule: Rule, path: readonly string[]): boolean {
  const parts = rule.key.split('.');
  if (parts.length > path.length) return false;
  return parts.every((part, i) => part === '*' || part === path[i]);
}

/** The most specific rule covering `path` (a literal key beats `*`), if any. */
export function ruleFor(path: readonly string[]): Rule | undefined {
  let best: Rule | undefined;
  let bestScore = -1;
  for (const rule of RULES) {
    if (!matches(rule, path)) continue;
    const parts = rule.key.split('.');
    const score = parts.length * 2 - parts.filter((p) => p === '*').length;
    if (score > bestScore) {
      best = rule;
      bestScore = score;
    }
  }
  return best;
}

/** Every rule key without wildcards: what a misspelled key is compared with. */
export const KNOWN_KEYS: readonly string[] = RULES.map((r) => r.key).filter((k) => !k.includes('*'));
