// Single sign-on against a real OpenID provider (oidc-provider in its own process), driven
// over HTTP like a browser: the full authorization code + PKCE flow, groups from the claim
// mapped to Dockyard groups and so to grants in the issued token, the one-time code
// redeemed once only and only for its redirect_uri, and every way a sign-in must be refused
// (redirect_uri not allowed, state or browser swapped, an ID token with the wrong
// audience, issuer, nonce, expiry or signature, a name that belongs to a local user),
// each refusal audited with its reason.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { oidcProviderSuiteGate } from '../../support/oidc-provider.js';
import { adminApi, postToken, SERVICE } from './harness.js';
import { auditOf, browse, CookieJar, loginUrl, redeem, ssoSignIn, startSsoStack, WEB_CALLBACK, WEB_CLIENT_ID, type SsoStack } from './oidc-harness.js';

const SCOPES = 'repository:team/app:pull,push repository:ops/tool:pull,push repository:secret/x:pull repository:other/x:pull';

if (await oidcProviderSuiteGate('single sign-on')) {
  describe('single sign-on (OpenID Connect)', () => {
    let stack: SsoStack;
    before(async () => {
      stack = await startSsoStack();
    });
    after(async () => stack?.close());

    it('signs a provider user in with code + PKCE, maps the groups claim to grants and redeems the code once', async () => {
      const { h } = stack;
      const back = await ssoSignIn(h, 'sub-alice');
      assert.equal(back.origin + back.pathname, WEB_CALLBACK);
      assert.equal(back.searchParams.get('state'), 'web-state');
      const code = back.searchParams.get('code');
      assert.ok(code, `no code in ${back}`);

      const r = await redeem(h, code, { scope: SCOPES });
      assert.equal(r.status, 200, r.text);
      const refreshToken = r.body.refresh_token as string;
      assert.ok(refreshToken, 'a refresh token for the front end');
      const claims = decodeJwt(r.body.token as string);
      assert.equal(claims.sub, 'alice');
      assert.deepEqual(claims.access, [
        { type: 'repository', name: 'team/app', actions: ['pull', 'push'] },
        { type: 'repository', name: 'ops/tool', actions: ['pull'] },
      ]);

      const user = await adminApi(h, 'GET', '/users/alice');
      assert.equal(user.status, 200);
      const groups = await adminApi(h, 'GET', '/groups');
      const members = Object.fromEntries((groups.body.groups as Array<{ name: string; members: string[] }>).map((g) => [g.name, g.members]));
      assert.deepEqual(members, { devs: ['alice'], ignored: [], ops: ['alice'] });
      const [ok] = await auditOf(h, 'oidc.login', 1);
      assert.equal(ok.outcome, 'ok');
      assert.equal(ok.actor, 'alice');
      assert.deepEqual(ok.details.unknownGroups, ['not-in-dockyard']);

      const refreshed = await postToken(h, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: WEB_CLIENT_ID, service: SERVICE, scope: 'repository:team/app:pull' });
      assert.equal(refreshed.status, 200, refreshed.text);

      const again = await redeem(h, code);
      assert.equal(again.status, 401, 'a used code is refused');
      const [refused] = await auditOf(h, 'token.issue', 1);
      assert.equal(refused.details.reason, 'authorization_code:reused');
      assert.equal(refused.details.via, 'authorization_code');
    });

    it('finds the user by subject on the next sign-in and accepts a single group name as the claim', async () => {
      const { h } = stack;
      const first = await redeem(h, (await ssoSignIn(h, 'sub-alice')).searchParams.get('code')!);
      assert.equal(first.status, 200);
      const dave = await redeem(h, (await ssoSignIn(h, 'sub-dave')).searchParams.get('code')!, { scope: SCOPES });
      assert.equal(dave.status, 200, dave.text);
      assert.deepEqual(decodeJwt(dave.body.token as string).access, [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]);
    });

    it('refuses a redirect_uri that is not allowed, at the start and at the code redemption', async () => {
      const { h } = stack;
      const res = await browse(new CookieJar(), loginUrl(h, 'https://evil.example/callback'));
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null, 'no redirect anywhere');
      const [refused] = await auditOf(h, 'oidc.login', 1);
      assert.deepEqual([refused.outcome, refused.details.reason], ['refused', 'redirect_uri']);

      const code = (await ssoSignIn(h, 'sub-alice')).searchParams.get('code')!;
      const other = await redeem(h, code, { redirect_uri: 'https://evil.example/callback' });
      assert.equal(other.status, 401);
      assert.equal((await auditOf(h, 'token.issue', 1))[0].details.reason, 'authorization_code:redirect_uri');
      assert.equal((await redeem(h, code)).status, 401, 'the code is used up by the wrong attempt');
    });

    it('refuses a callback whose state was changed, or that arrives in another browser', async () => {
      const { h } = stack;
      const tampered = new CookieJar();
      await assert.rejects(
        ssoSignIn(h, 'sub-alice', {
          jar: tampered,
          onRedirect: (location) => {
            const url = new URL(location);
            if (url.pathname === '/oidc/callback') url.searchParams.set('state', 'forged-state');
            return url.toString();
          },
        }),
        /unexpected 400/,
      );
      assert.equal((await auditOf(h, 'oidc.login', 1))[0].details.reason, 'state');

      // The victim's browser finishes a sign-in an attacker started: no cookie of that sign-in.
      let callback = '';
      await assert.rejects(
        ssoSignIn(h, 'sub-alice', {
          onRedirect: (location) => {
            if (new URL(location).pathname === '/oidc/callback') callback = location;
            return new URL(location).pathname === '/oidc/callback' ? 'http://127.0.0.1:9/stop' : location;
          },
        }),
      );
      assert.ok(callback);
      const victim = await browse(new CookieJar(), callback);
      assert.equal(victim.status, 302);
      assert.equal(new URL(victim.headers.get('location')!).searchParams.get('error'), 'access_denied');
      assert.equal((await auditOf(h, 'oidc.login', 1))[0].details.reason, 'browser');
    });

    for (const [mode, reason] of [
      ['aud', 'id_token_aud'],
      ['iss', 'id_token_iss'],
      ['nonce', 'id_token_nonce'],
      ['exp', 'id_token_exp'],
      ['signature', 'id_token:ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
    ] as const) {
      it(`refuses an ID token with a wrong ${mode} (signed by the provider's key)`, async () => {
        const { h, idp } = stack;
        await idp.tamperNext(mode);
        const back = await ssoSignIn(h, 'sub-alice');
        assert.equal(back.searchParams.get('error'), 'access_denied');
        assert.equal(back.searchParams.get('code'), null);
        const [refused] = await auditOf(h, 'oidc.login', 1);
        assert.deepEqual([refused.outcome, refused.details.reason], ['refused', reason]);
      });
    }

    it('never hands a local account to a provider user of the same name, nor creates an invalid name', async () => {
      const { h } = stack;
      const back = await ssoSignIn(h, 'sub-impostor');
      assert.equal(back.searchParams.get('error'), 'access_denied');
      const [refused] = await auditOf(h, 'oidc.login', 1);
      assert.deepEqual([refused.actor, refused.details.reason], ['admin', 'username_taken']);
      assert.equal((await ssoSignIn(h, 'sub-badname')).searchParams.get('error'), 'access_denied');
      assert.equal((await auditOf(h, 'oidc.login', 1))[0].details.reason, 'username_invalid');
    });

    it('refuses a disabled user at sign-in and at refresh, and ends refresh tokens at their maximum age', async () => {
      const { h } = stack;
      const code = (await ssoSignIn(h, 'sub-dave')).searchParams.get('code')!;
      const refreshToken = (await redeem(h, code)).body.refresh_token as string;
      const refresh = () => postToken(h, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: WEB_CLIENT_ID, service: SERVICE });
      assert.equal((await refresh()).status, 200);
      await h.db('refresh_tokens').update({ expires_at: Date.now() - 1000 });
      assert.equal((await refresh()).status, 401);
      assert.equal((await auditOf(h, 'token.issue', 1))[0].details.reason, 'refresh_token:max_age');

      assert.equal((await adminApi(h, 'PATCH', '/users/dave', { disabled: true })).status, 200);
      const back = await ssoSignIn(h, 'sub-dave');
      assert.equal(back.searchParams.get('error'), 'access_denied');
      assert.equal((await auditOf(h, 'oidc.login', 1))[0].details.reason, 'disabled');
    });

    it('lets an SSO-only user, who has no password, create a personal access token for docker login', async () => {
      const { h } = stack;
      const code = (await ssoSignIn(h, 'sub-alice')).searchParams.get('code')!;
      const session = await redeem(h, code, { service: 'dockyard-admin-api' });
      assert.equal(session.status, 200, session.text);
      const bearer = `Bearer ${session.body.token as string}`;
      const created = await adminApi(h, 'POST', '/me/access-tokens', { name: 'docker', expires: '7d' }, bearer);
      assert.equal(created.status, 201, created.text);
      const secret = created.body.secret as string;
      const params = new URLSearchParams([['service', SERVICE], ['scope', 'repository:ops/tool:pull']]);
      const viaToken = await fetch(`${h.url}/token?${params}`, { headers: { authorization: `Basic ${Buffer.from(`alice:${secret}`).toString('base64')}` } });
      assert.equal(viaToken.status, 200);
      assert.deepEqual(decodeJwt(((await viaToken.json()) as { token: string }).token).access, [{ type: 'repository', name: 'ops/tool', actions: ['pull'] }]);
      const password = await postToken(h, { grant_type: 'password', username: 'alice', password: 'anything-at-all', client_id: 'docker', service: SERVICE });
      assert.equal(password.status, 401, 'an SSO user has no password');
    });

    it('refuses an unknown code at the code grant', async () => {
      const { h } = stack;
      const r = await redeem(h, 'not-a-code');
      assert.equal(r.status, 401);
      assert.equal((await auditOf(h, 'token.issue', 1))[0].details.reason, 'authorization_code:unknown');
    });
  });
}
