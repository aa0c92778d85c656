// Single sign-on settings: off without an issuer; with one, the client id, redirect URL and
// allowed redirects are required and each bad value names its key; the group map and
// scopes are parsed (openid always included); YAML and environment both work.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { authConfigFromEnv, ConfigError, loadAuthConfig } from '../../../shared/config/index.js';

const BASE = {
  AUTH_OIDC_ISSUER: 'https://idp.example.com/realms/co',
  AUTH_OIDC_CLIENT_ID: 'dockyard',
  AUTH_OIDC_REDIRECT_URL: 'https://auth.example.com/oidc/callback',
  AUTH_OIDC_ALLOWED_REDIRECTS: 'https://ui.example.com/cb, https://ui2.example.com/cb',
};

function refusedAt(env: Record<string, string>, key: string): void {
  assert.throws(() => authConfigFromEnv(env), (err: unknown) => err instanceof ConfigError && err.key === key && err.message.includes(key));
}

describe('auth.oidc.* settings', () => {
  it('is off without an issuer', () => {
    assert.equal(authConfigFromEnv({}).oidc, undefined);
    assert.deepEqual(authConfigFromEnv({}).accessTokens, { maxLifetimeSeconds: 31536000 });
  });

  it('reads a complete configuration from the environment', () => {
    const oidc = authConfigFromEnv({ ...BASE, AUTH_OIDC_SCOPES: 'profile groups', AUTH_OIDC_GROUP_MAP: 'registry-admins=ops, noise=-', AUTH_OIDC_CLIENT_SECRET: 's3cret' }).oidc;
    assert.deepEqual(oidc, {
      issuer: BASE.AUTH_OIDC_ISSUER,
      clientId: 'dockyard',
      clientSecret: 's3cret',
      redirectUrl: BASE.AUTH_OIDC_REDIRECT_URL,
      scopes: ['openid', 'profile', 'groups'],
      groupsClaim: 'groups',
      usernameClaim: 'preferred_username',
      groupMap: { 'registry-admins': 'ops', noise: null },
      allowedRedirects: ['https://ui.example.com/cb', 'https://ui2.example.com/cb'],
      refreshMaxAgeSeconds: 43200,
    });
  });

  it('names the missing or bad key', () => {
    const { AUTH_OIDC_CLIENT_ID: _c, ...noClient } = BASE;
    refusedAt(noClient, 'AUTH_OIDC_CLIENT_ID');
    const { AUTH_OIDC_REDIRECT_URL: _r, ...noRedirect } = BASE;
    refusedAt(noRedirect, 'AUTH_OIDC_REDIRECT_URL');
    const { AUTH_OIDC_ALLOWED_REDIRECTS: _a, ...noAllowed } = BASE;
    refusedAt(noAllowed, 'AUTH_OIDC_ALLOWED_REDIRECTS');
    refusedAt({ ...BASE, AUTH_OIDC_ALLOWED_REDIRECTS: 'javascript:alert(1)' }, 'AUTH_OIDC_ALLOWED_REDIRECTS');
    refusedAt({ ...BASE, AUTH_OIDC_ISSUER: 'idp.example.com' }, 'AUTH_OIDC_ISSUER');
    refusedAt({ ...BASE, AUTH_OIDC_GROUP_MAP: 'no-equals-sign' }, 'AUTH_OIDC_GROUP_MAP');
    refusedAt({ ...BASE, AUTH_OIDC_REFRESH_MAX_AGE_SECONDS: '10' }, 'AUTH_OIDC_REFRESH_MAX_AGE_SECONDS');
    refusedAt({ AUTH_ACCESS_TOKEN_MAX_LIFETIME_SECONDS: '60' }, 'AUTH_ACCESS_TOKEN_MAX_LIFETIME_SECONDS');
  });

  it('reads the YAML form with lists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dockyard-oidc-config-'));
    try {
      const file = join(dir, 'config.yml');
      writeFileSync(
        file,
        'auth:\n  oidc:\n    issuer: https://idp.example.com\n    clientid: dockyard\n    redirecturl: https://auth.example.com/oidc/callback\n    allowedredirects: [https://ui.example.com/cb]\n    groupmap: [a=b]\n',
      );
      const oidc = loadAuthConfig({ file, env: {} }).oidc;
      assert.deepEqual([oidc?.allowedRedirects, oidc?.groupMap], [['https://ui.example.com/cb'], { a: 'b' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
