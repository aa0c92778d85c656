// The provider's discovery document must name exactly the configured issuer, and an
// unreachable provider fails the sign-in with 503 instead of hanging it; both audited.
// Without auth.oidc.issuer the /oidc routes do not exist.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../e2e/harness/ports.js';
import { browse, CookieJar, OIDC_CLIENT_ID, oidcProviderSuiteGate, startOidcProvider, type TestOidcProvider } from '../../support/oidc-provider.js';
import { DockyardError } from '../../../shared/http/errors.js';
import { AuditLog } from '../../../services/auth/audit.js';
import { SignInFlow } from '../../../services/auth/oidc/flow.js';
import { AuditStore } from '../../../services/auth/store/audit.js';
import { sqliteAuthDb } from '../../contracts/auth-store.contract.js';
import { startHarness, type AuthHarness } from './harness.js';
import { auditOf, loginUrl, WEB_CALLBACK } from './oidc-harness.js';

async function ssoHarness(issuer: string): Promise<AuthHarness> {
  const port = await freePort();
  return startHarness({
    config: {
      http: { host: '127.0.0.1', port },
      oidc: {
        issuer,
        clientId: OIDC_CLIENT_ID,
        redirectUrl: `http://127.0.0.1:${port}/oidc/callback`,
        scopes: ['openid'],
        groupsClaim: 'groups',
        usernameClaim: 'preferred_username',
        groupMap: {},
        allowedRedirects: [WEB_CALLBACK],
        refreshMaxAgeSeconds: 3600,
      },
    },
  });
}

describe('single sign-on without a usable provider', () => {
  it('has no /oidc routes when single sign-on is not configured', async () => {
    const h = await startHarness();
    try {
      const res = await browse(new CookieJar(), loginUrl(h));
      assert.equal(res.status, 404);
    } finally {
      await h.close();
    }
  });

  it('answers 503 when the provider cannot be reached, and audits why', async () => {
    const h = await ssoHarness(`http://127.0.0.1:${await freePort()}`);
    try {
      const res = await browse(new CookieJar(), loginUrl(h));
      assert.equal(res.status, 503);
      const [entry] = await auditOf(h, 'oidc.login', 1);
      assert.deepEqual([entry.outcome, entry.details.reason], ['refused', 'provider_unreachable']);
    } finally {
      await h.close();
    }
  });
});

if (await oidcProviderSuiteGate('the discovery issuer check')) {
  describe('the discovery document', () => {
    let idp: TestOidcProvider;
    before(async () => {
      idp = await startOidcProvider({ redirectUris: ['http://127.0.0.1:9/oidc/callback'], accounts: {} });
    });
    after(async () => idp?.stop());

    it('limits the sign-ins in progress (each is a row anyone can create)', async () => {
      const fx = await sqliteAuthDb();
      try {
        const config = { issuer: idp.issuer, clientId: OIDC_CLIENT_ID, redirectUrl: 'http://127.0.0.1:9/oidc/callback', scopes: ['openid'], groupsClaim: 'groups', usernameClaim: 'preferred_username', groupMap: {}, allowedRedirects: [WEB_CALLBACK], refreshMaxAgeSeconds: 3600 };
        const flow = new SignInFlow({ db: fx.db, config, bcryptCost: 4, audit: new AuditLog(new AuditStore(fx.db)), maxPendingLogins: 2 });
        const start = () => flow.start({ redirectUri: WEB_CALLBACK, clientState: 's', clientAddress: '127.0.0.1' });
        await start();
        await start();
        await assert.rejects(start(), (err: unknown) => err instanceof DockyardError && err.code === 'TOOMANYREQUESTS');
        await fx.db('oidc_logins').update({ expires_at: Date.now() - 1 });
        await start();
      } finally {
        await fx.dispose();
      }
    });

    it('is refused when it names another issuer than the configured one', async () => {
      // Same server, but the configured issuer differs by a trailing slash: not the same issuer.
      const h = await ssoHarness(`${idp.issuer}/`);
      try {
        const res = await browse(new CookieJar(), loginUrl(h));
        assert.equal(res.status, 503);
        const [entry] = await auditOf(h, 'oidc.login', 1);
        assert.equal(entry.details.reason, 'discovery_issuer');
      } finally {
        await h.close();
      }
    });
  });
}
