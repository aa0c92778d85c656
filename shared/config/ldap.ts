/**
 * Directory sign-in settings (`auth.ldap.*`, docs/identity.md): the settings table entries
 * and their validation into LdapConfig. Kept apart from settings.ts and build.ts so the
 * feature adds one entry to each instead of a block; the environment names are a contract
 * other tools rely on (issue 16).
 */
import type { Setting } from './settings.js';
import type { ConfigSource } from './source.js';
import { ConfigError } from './types.js';

export const ldapSettings = {
  ldapUrl: {
    yaml: 'auth.ldap.url',
    env: 'AUTH_LDAP_URL',
    description: 'Directory server, `ldap://host:389` or `ldaps://host:636`. Setting it turns directory sign-in on (docs/identity.md).',
  },
  ldapBindDn: {
    yaml: 'auth.ldap.binddn',
    env: 'AUTH_LDAP_BIND_DN',
    description: 'DN of the service account that searches for users and groups; without it searches run anonymously.',
  },
  ldapBindPassword: {
    yaml: 'auth.ldap.bindpassword',
    env: 'AUTH_LDAP_BIND_PASSWORD',
    description: 'Password of the service account; give it in the environment, not the file.',
  },
  ldapBaseDn: {
    yaml: 'auth.ldap.basedn',
    env: 'AUTH_LDAP_BASE_DN',
    description: 'Where users and groups are searched (subtree), e.g. `dc=example,dc=com`; required with a URL.',
  },
  ldapUserFilter: {
    yaml: 'auth.ldap.userfilter',
    env: 'AUTH_LDAP_USER_FILTER',
    default: '(uid=%s)',
    description: 'Filter that finds the user; `%s` is the login name, escaped (RFC 4515). Exclude disabled accounts here or with `disabledfilter`.',
  },
  ldapGroupFilter: {
    yaml: 'auth.ldap.groupfilter',
    env: 'AUTH_LDAP_GROUP_FILTER',
    defaultText: '(memberOf attribute)',
    description: 'Filter for the user’s groups, `%s` being the user’s DN (escaped), e.g. `(member=%s)`; without it the user’s `memberOf` values are read.',
  },
  ldapCaFile: {
    yaml: 'auth.ldap.cafile',
    env: 'AUTH_LDAP_CA_FILE',
    defaultText: '(system CAs)',
    description: 'PEM bundle of the CAs the directory’s certificate must chain to (ldaps:// and StartTLS).',
  },
  ldapStartTls: {
    yaml: 'auth.ldap.starttls',
    env: 'AUTH_LDAP_STARTTLS',
    default: false,
    description: 'Upgrade an ldap:// connection with StartTLS before anything is sent; the certificate is verified.',
  },
  ldapUsernameAttribute: {
    yaml: 'auth.ldap.usernameattribute',
    env: 'AUTH_LDAP_USERNAME_ATTRIBUTE',
    default: 'uid',
    description: 'Attribute whose value becomes the Dockyard user name (its spelling in the directory), e.g. `sAMAccountName`.',
  },
  ldapDisabledFilter: {
    yaml: 'auth.ldap.disabledfilter',
    env: 'AUTH_LDAP_DISABLED_FILTER',
    description: 'Filter matching a found user that is disabled (audited as such), e.g. `(userAccountControl:1.2.840.113556.1.4.803:=2)`.',
  },
  ldapGroupMap: {
    yaml: 'auth.ldap.groupmap',
    env: 'AUTH_LDAP_GROUP_MAP',
    description: 'Directory group (its `cn`) to Dockyard group, `cn=group` items (a YAML list or comma separated); unmapped groups keep their `cn`.',
  },
  ldapAdminGroup: {
    yaml: 'auth.ldap.admingroup',
    env: 'AUTH_LDAP_ADMIN_GROUP',
    description: 'Dockyard group (after mapping) whose directory members are admins.',
  },
  ldapPrecedence: {
    yaml: 'auth.ldap.precedence',
    env: 'AUTH_LDAP_PRECEDENCE',
    default: 'local',
    description: '`local`: a local user’s password decides for its name and the directory is not asked; `directory`: the directory decides for every name it knows.',
  },
  ldapCacheSeconds: {
    yaml: 'auth.ldap.cacheseconds',
    env: 'AUTH_LDAP_CACHE_SECONDS',
    default: 60,
    description: 'How long a refresh-token request may reuse the directory’s answer about a user (0: ask every time). Password logins always ask.',
  },
  ldapTimeoutSeconds: {
    yaml: 'auth.ldap.timeoutseconds',
    env: 'AUTH_LDAP_TIMEOUT_SECONDS',
    default: 5,
    description: 'Limit for connecting and for each directory operation, and for waiting for a free connection (1 to 300).',
  },
  ldapMaxConnections: {
    yaml: 'auth.ldap.maxconnections',
    env: 'AUTH_LDAP_MAX_CONNECTIONS',
    default: 8,
    description: 'Directory connections open at once per process (1 to 256); further directory logins wait, local logins never do.',
  },
} as const satisfies Record<string, Setting>;

/** Which source decides for a name both know. */
export type LdapPrecedence = 'local' | 'directory';

/** `auth.ldap.*` validated. */
export interface LdapConfig {
  url: string;
  bindDn?: string;
  bindPassword?: string;
  baseDn: string;
  userFilter: string;
  groupFilter?: string;
  caFile?: string;
  startTls: boolean;
  usernameAttribute: string;
  disabledFilter?: string;
  /** Directory group cn → Dockyard group name. */
  groupMap: Record<string, string>;
  adminGroup?: string;
  precedence: LdapPrecedence;
  cacheSeconds: number;
  timeoutSeconds: number;
  maxConnections: number;
}

function filterOf(src: ConfigSource, setting: Setting, placeholder: boolean): string | undefined {
  const value = src.string(setting);
  if (value === undefined) return undefined;
  if (!/^\(.*\)$/s.test(value.trim()) || (placeholder && !value.includes('%s'))) {
    throw new ConfigError(src.name(setting), `an LDAP filter in parentheses${placeholder ? ' containing %s' : ''}`, value);
  }
  return value.trim();
}

function groupMapOf(src: ConfigSource): Record<string, string> {
  const map: Record<string, string> = {};
  for (const item of src.list(ldapSettings.ldapGroupMap)) {
    // Split at the last `=`: a cn may hold one, a Dockyard group name never does.
    const at = item.lastIndexOf('=');
    const from = item.slice(0, at).trim();
    const to = item.slice(at + 1).trim();
    if (at <= 0 || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(to) || from === '') {
      throw new ConfigError(src.name(ldapSettings.ldapGroupMap), 'items `directory cn=dockyard group`', item);
    }
    map[from.toLowerCase()] = to;
  }
  return map;
}

/** The directory settings, or undefined when no URL is set (directory sign-in off). */
export function buildLdapConfig(src: ConfigSource): LdapConfig | undefined {
  const s = ldapSettings;
  const url = src.string(s.ldapUrl);
  if (url === undefined) return undefined;
  if (!/^ldaps?:\/\/[^/?#\s]+\/?$/i.test(url)) throw new ConfigError(src.name(s.ldapUrl), 'ldap://host[:port] or ldaps://host[:port]', url);
  const startTls = src.bool(s.ldapStartTls);
  if (startTls && /^ldaps:/i.test(url)) {
    throw new ConfigError(src.name(s.ldapStartTls), 'false with an ldaps:// URL', 'true', 'StartTLS upgrades ldap:// connections; ldaps:// is TLS already');
  }
  const bindDn = src.string(s.ldapBindDn);
  const bindPassword = src.string(s.ldapBindPassword);
  if (bindDn !== undefined && bindPassword === undefined) {
    throw new ConfigError(src.name(s.ldapBindPassword), 'a password', undefined, 'missing: required with a bind DN');
  }
  const attribute = src.string(s.ldapUsernameAttribute)!;
  if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(attribute)) throw new ConfigError(src.name(s.ldapUsernameAttribute), 'an attribute name', attribute);
  return {
    url: url.replace(/\/$/, ''),
    ...(bindDn !== undefined ? { bindDn, bindPassword } : {}),
    baseDn: src.requiredString(s.ldapBaseDn, 'with auth.ldap.url'),
    userFilter: filterOf(src, s.ldapUserFilter, true)!,
    groupFilter: filterOf(src, s.ldapGroupFilter, true),
    caFile: src.path(s.ldapCaFile),
    startTls,
    usernameAttribute: attribute,
    disabledFilter: filterOf(src, s.ldapDisabledFilter, false),
    groupMap: groupMapOf(src),
    adminGroup: src.string(s.ldapAdminGroup),
    precedence: src.oneOf(s.ldapPrecedence, ['local', 'directory'] as const),
    cacheSeconds: src.int(s.ldapCacheSeconds, 0, 86_400),
    timeoutSeconds: src.int(s.ldapTimeoutSeconds, 1, 300),
    maxConnections: src.int(s.ldapMaxConnections, 1, 256),
  };
}
