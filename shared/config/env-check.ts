/**
 * Every `REGISTRY_*` variable in the environment is understood or refused, so a typo such
 * as REGISTRY_HTTP_ADRR stops the start instead of leaving the default in place. A name is
 * understood when it is a Dockyard setting, when it is distribution's name for a key of
 * its config.yml (`REGISTRY_` + the key path in capitals joined by `_`, e.g.
 * REGISTRY_STORAGE_DELETE_ENABLED), which then goes through the same rules as that key in
 * a file, or when it belongs to another program (podman's REGISTRY_AUTH_FILE, the service
 * links Kubernetes injects for a service called `registry`).
 */
import { KNOWN_KEYS, ruleFor, UNKNOWN_KEY } from './distribution/index.js';
import { ALL_SETTINGS, settingAt, type Setting } from './settings.js';
import { didYouMean } from './suggest.js';
import { ConfigError, type Env } from './types.js';

const PREFIX = 'REGISTRY_';

/** Variables of other programs that share the prefix; they are no registry settings. */
const FOREIGN: readonly RegExp[] = [
  /^REGISTRY_AUTH_FILE$/, // containers-auth.json of podman, skopeo and buildah
  /^REGISTRY_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?)$/, // Kubernetes service links
];

/** The environment after the check: distribution names rewritten to Dockyard's, and what to warn about. */
export interface CheckedEnv {
  env: Env;
  warnings: string[];
}

const DOCKYARD_NAMES: ReadonlySet<string> = new Set(ALL_SETTINGS.map((s) => s.env));

/** Every name a misspelled variable is compared with. */
function knownNames(): string[] {
  const distribution = KNOWN_KEYS.map((k) => PREFIX + k.toUpperCase().replaceAll('.', '_'));
  return [...new Set([...[...DOCKYARD_NAMES].filter((n) => n.startsWith(PREFIX)), ...distribution])];
}

/** The Dockyard setting a mapped distribution key lands on, and the value its variable takes. */
function target(to: string, value: unknown): { setting: Setting; value: string } | undefined {
  const setting = settingAt(to);
  if (setting) return { setting, value: String(value) };
  // `registry.storage.memory` and the like: the choice of a selector.
  const parent = settingAt(to.slice(0, to.lastIndexOf('.')));
  const choice = to.slice(to.lastIndexOf('.') + 1);
  return parent?.choices?.includes(choice) ? { setting: parent, value: choice } : undefined;
}

/** Checks every REGISTRY_* variable; throws ConfigError naming the first one refused. */
export function checkRegistryEnv(env: Env): CheckedEnv {
  const checked: CheckedEnv = { env: { ...env }, warnings: [] };
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (!name.startsWith(PREFIX) || value === undefined || value === '') continue;
    if (DOCKYARD_NAMES.has(name) || FOREIGN.some((pattern) => pattern.test(name))) continue;
    const path = name.slice(PREFIX.length).toLowerCase().split('_');
    const outcome = ruleFor(path)?.apply(value, path) ?? { error: UNKNOWN_KEY };
    if ('error' in outcome) {
      const problem = outcome.error === UNKNOWN_KEY ? `unknown variable${didYouMean(name, knownNames())}` : outcome.error;
      throw new ConfigError(name, 'a known setting', undefined, problem);
    }
    if ('warn' in outcome) checked.warnings.push(`${name}: ${outcome.warn}`);
    if ('to' in outcome) {
      const mapped = target(outcome.to, outcome.value);
      if (!mapped) throw new ConfigError(name, 'a known setting', undefined, `not supported by Dockyard`);
      const existing = env[mapped.setting.env];
      if (existing !== undefined && existing !== '' && existing !== mapped.value) {
        throw new ConfigError(name, 'one value', undefined, `contradicts ${mapped.setting.env}=${existing}; set only one of them`);
      }
      checked.env[mapped.setting.env] = mapped.value;
    }
  }
  return checked;
}
