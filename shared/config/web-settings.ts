/** The web UI's settings table (services/web); loaded by web.ts, listed with the others in settings.ts. */
import type { Setting } from './settings.js';

export const WEB_SETTINGS = {
  addr: {
    yaml: 'web.http.addr',
    env: 'WEB_HTTP_ADDR',
    default: '127.0.0.1:5002',
    description: 'host:port the web UI listens on.',
  },
  tlsCertificate: {
    yaml: 'web.http.tls.certificate',
    env: 'WEB_HTTP_TLS_CERTIFICATE',
    description: 'PEM certificate (chain) for HTTPS; set together with the key (session cookies are then `Secure`).',
  },
  tlsKey: {
    yaml: 'web.http.tls.key',
    env: 'WEB_HTTP_TLS_KEY',
    description: 'PEM private key matching the certificate.',
  },
  registryUrl: {
    yaml: 'web.registry.url',
    env: 'WEB_REGISTRY_URL',
    defaultText: 'the one npm start runs, else http://127.0.0.1:5000',
    description: 'Base URL the web UI calls the registry at (its `/v2` API and browse API).',
  },
  authUrl: {
    yaml: 'web.auth.url',
    env: 'WEB_AUTH_URL',
    defaultText: "the origin of the registry's token realm",
    description: 'Base URL the web UI calls the auth service at (`/token`, `/token/revoke`).',
  },
  pullHost: {
    yaml: 'web.pullhost',
    env: 'WEB_PULL_HOST',
    defaultText: 'host:port of the registry URL',
    description: 'Registry host shown in pull commands (what `docker pull` users type, e.g. `registry.example.com`).',
  },
  secureCookies: {
    yaml: 'web.http.securecookies',
    env: 'WEB_HTTP_SECURE_COOKIES',
    default: false,
    description: 'Mark the session cookie `Secure` also without TLS here (the UI is served over HTTPS by a reverse proxy). Always on with TLS.',
  },
  ssoCallbackUrl: {
    yaml: 'web.sso.callbackurl',
    env: 'WEB_SSO_CALLBACK_URL',
    description:
      'Turns on "Sign in with single sign-on": this web UI\'s own `/login/sso/callback` URL as browsers reach it, which must also be listed in the auth service\'s `AUTH_OIDC_ALLOWED_REDIRECTS` (docs/ui.md).',
  },
  databaseUrl: {
    yaml: 'web.database.url',
    env: 'WEB_DATABASE_URL',
    defaultText: 'sqlite:<datadir>/web/web.sqlite',
    description: 'Where the web UI keeps its sessions: `postgres://user:password@host:port/db` (shared by several web replicas) or `sqlite:PATH`.',
  },
  sessionKeyFile: {
    yaml: 'web.session.keyfile',
    env: 'WEB_SESSION_KEY_FILE',
    defaultText: '<datadir>/web/session.key',
    description:
      'Key file sealing the refresh tokens stored with web sessions (AES-256-GCM); created (0600, 32 random bytes) on first start when absent. Web replicas sharing a database need the same file.',
  },
} as const satisfies Record<string, Setting>;
