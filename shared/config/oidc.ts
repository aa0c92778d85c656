/**
 * Settings of single sign-on (`auth.oidc.*`, the auth service as an OpenID Connect relying
 * party) and of personal access tokens (`auth.accesstokens.*`), kept beside the main
 * settings table so that identity sources can grow without crowding it. They are part of
 * SETTINGS (settings.ts) and buildAuthConfig (build.ts) like every other setting.
 */
import type { Setting } from './settings.js';
import type { ConfigSource } from './source.js';
import { ConfigError } from './types.js';

export const oidcSettings = {
  oidcIssuer: {
    yaml: 'auth.oidc.issuer',
    env: 'AUTH_OIDC_ISSUER',
    description:
      'Issuer URL of the OpenID provider (its discovery document is `<issuer>/.well-known/openid-configuration`). Setting it turns single sign-on on; the client id, redirect URL and allowed redirects are then required.',
  },
  oidcClientId: {
    yaml: 'auth.oidc.clientid',
    env: 'AUTH_OIDC_CLIENT_ID',
    description: 'Client id of Dockyard at the provider; ID tokens must name it as their audience.',
  },
  oidcClientSecret: {
    yaml: 'auth.oidc.clientsecret',
    env: 'AUTH_OIDC_CLIENT_SECRET',
    description: 'Client secret (sent with HTTP Basic to the token endpoint); leave it out for a public client (PKCE only). Give it in the environment, not the file.',
  },
  oidcRedirectUrl: {
    yaml: 'auth.oidc.redirecturl',
    env: 'AUTH_OIDC_REDIRECT_URL',
    description: 'The auth service’s callback URL as the browser reaches it, registered at the provider: `https://auth.example.com/oidc/callback`.',
  },
  oidcScopes: {
    yaml: 'auth.oidc.scopes',
    env: 'AUTH_OIDC_SCOPES',
    default: 'openid profile email',
    description: 'Scopes asked for, space separated; `openid` is always added. Add the scope your provider needs for the groups claim (often `groups`).',
  },
  oidcGroupsClaim: {
    yaml: 'auth.oidc.groupsclaim',
    env: 'AUTH_OIDC_GROUPS_CLAIM',
    default: 'groups',
    description: 'Claim (ID token, else userinfo) holding the user’s groups: an array of names, or one name.',
  },
  oidcUsernameClaim: {
    yaml: 'auth.oidc.usernameclaim',
    env: 'AUTH_OIDC_USERNAME_CLAIM',
    default: 'preferred_username',
    description: 'Claim whose value names a new Dockyard user (it must be a valid user name); later sign-ins find the user by issuer and subject.',
  },
  oidcGroupMap: {
    yaml: 'auth.oidc.groupmap',
    env: 'AUTH_OIDC_GROUP_MAP',
    description:
      'Provider group → Dockyard group, as `idp-name=dockyard-name` items (a YAML list or comma separated). Groups not listed map to the Dockyard group of the same name; map one to `-` to ignore it.',
  },
  oidcAllowedRedirects: {
    yaml: 'auth.oidc.allowedredirects',
    env: 'AUTH_OIDC_ALLOWED_REDIRECTS',
    description: 'The exact URLs a sign-in may return to with its one-time code (the web UI’s callback), a YAML list or comma separated. Any other redirect_uri is refused.',
  },
  oidcRefreshMaxAgeSeconds: {
    yaml: 'auth.oidc.refreshmaxageseconds',
    env: 'AUTH_OIDC_REFRESH_MAX_AGE_SECONDS',
    default: 43200,
    description:
      'A refresh token obtained through single sign-on stops working this long after the sign-in, used or not (minimum 60): the bound on how long someone removed at the provider keeps a web session.',
  },
  accessTokenMaxLifetimeSeconds: {
    yaml: 'auth.accesstokens.maxlifetimeseconds',
    env: 'AUTH_ACCESS_TOKEN_MAX_LIFETIME_SECONDS',
    default: 31536000,
    description: 'Longest lifetime a personal access token may be created with (minimum 3600).',
  },
} as const satisfies Record<string, Setting>;

/** Single sign-on, when configured. */
export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  redirectUrl: string;
  scopes: string[];
  groupsClaim: string;
  usernameClaim: string;
  /** Provider group name → Dockyard group name, or null to ignore it. */
  groupMap: Record<string, string | null>;
  allowedRedirects: string[];
  refreshMaxAgeSeconds: number;
}

function groupMapOf(src: ConfigSource): Record<string, string | null> {
  const map: Record<string, string | null> = {};
  for (const item of src.list(oidcSettings.oidcGroupMap)) {
    const eq = item.lastIndexOf('=');
    const from = item.slice(0, eq).trim();
    const to = item.slice(eq + 1).trim();
    if (eq <= 0 || from === '' || to === '') {
      throw new ConfigError(src.name(oidcSettings.oidcGroupMap), 'items of the form idp-group=dockyard-group', item);
    }
    map[from] = to === '-' ? null : to;
  }
  return map;
}

function allowedRedirectsOf(src: ConfigSource): string[] {
  const list = src.list(oidcSettings.oidcAllowedRedirects);
  if (list.length === 0) {
    throw new ConfigError(src.name(oidcSettings.oidcAllowedRedirects), 'at least one URL', undefined, 'missing: required for single sign-on');
  }
  for (const url of list) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.hash !== '') {
      throw new ConfigError(src.name(oidcSettings.oidcAllowedRedirects), 'http(s) URLs without a fragment', url);
    }
  }
  return list;
}

/** The single sign-on settings, or undefined when no issuer is set. */
export function buildOidcConfig(src: ConfigSource): OidcConfig | undefined {
  const s = oidcSettings;
  const issuer = src.url(s.oidcIssuer);
  if (issuer === undefined) return undefined;
  const scopes = src.string(s.oidcScopes)!.split(/\s+/).filter((scope) => scope !== '');
  return {
    issuer,
    clientId: src.requiredString(s.oidcClientId, 'for single sign-on'),
    clientSecret: src.string(s.oidcClientSecret),
    redirectUrl: src.url(s.oidcRedirectUrl) ?? src.requiredString(s.oidcRedirectUrl, 'for single sign-on'),
    scopes: scopes.includes('openid') ? scopes : ['openid', ...scopes],
    groupsClaim: src.string(s.oidcGroupsClaim)!,
    usernameClaim: src.string(s.oidcUsernameClaim)!,
    groupMap: groupMapOf(src),
    allowedRedirects: allowedRedirectsOf(src),
    refreshMaxAgeSeconds: src.int(s.oidcRefreshMaxAgeSeconds, 60),
  };
}

/** The personal access token limits. */
export function buildAccessTokenConfig(src: ConfigSource): { maxLifetimeSeconds: number } {
  return { maxLifetimeSeconds: src.int(oidcSettings.accessTokenMaxLifetimeSeconds, 3600) };
}
