// A provider that keeps profile and group claims out of the ID token (OpenID Connect's
// default for the code flow): the username and groups come from its userinfo endpoint,
// fetched with the access token of the sign-in, so the group mapping still reaches the grants.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { oidcProviderSuiteGate } from '../../support/oidc-provider.js';
import { auditOf, redeem, ssoSignIn, startSsoStack, type SsoStack } from './oidc-harness.js';

if (await oidcProviderSuiteGate('single sign-on with claims from userinfo')) {
  describe('single sign-on with claims from userinfo', () => {
    let stack: SsoStack;
    before(async () => {
      stack = await startSsoStack({ userinfoOnly: true });
    });
    after(async () => stack?.close());

    it('reads the username and groups from userinfo when the ID token lacks them', async () => {
      const back = await ssoSignIn(stack.h, 'sub-alice');
      const code = back.searchParams.get('code');
      assert.ok(code, `refused: ${back}`);
      const r = await redeem(stack.h, code, { scope: 'repository:team/app:pull repository:ops/tool:pull' });
      assert.equal(r.status, 200, r.text);
      const claims = decodeJwt(r.body.token as string);
      assert.equal(claims.sub, 'alice');
      assert.deepEqual(claims.access, [
        { type: 'repository', name: 'team/app', actions: ['pull'] },
        { type: 'repository', name: 'ops/tool', actions: ['pull'] },
      ]);
    });

    it('ignores a userinfo answer about another subject', async () => {
      await stack.idp.tamperNext('userinfo_sub');
      const back = await ssoSignIn(stack.h, 'sub-dave');
      assert.equal(back.searchParams.get('error'), 'access_denied');
      const [refused] = await auditOf(stack.h, 'oidc.login', 1);
      assert.equal(refused.details.reason, 'username_missing');
    });
  });
}
