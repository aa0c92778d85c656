// The sign-in's browser-binding cookie goes to the callback's directory as the browser sees
// it (also behind a reverse proxy's path prefix), and is Secure when the callback is https.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cookieOptionsFor } from '../../../services/auth/oidc/routes.js';
import { pkceChallenge } from '../../../services/auth/oidc/provider.js';

test('cookie path and Secure flag follow auth.oidc.redirecturl', () => {
  assert.deepEqual(cookieOptionsFor('http://127.0.0.1:5001/oidc/callback'), { secure: false, path: '/oidc' });
  assert.deepEqual(cookieOptionsFor('https://example.com/auth/oidc/callback'), { secure: true, path: '/auth/oidc' });
  assert.deepEqual(cookieOptionsFor('https://example.com/callback'), { secure: true, path: '/' });
});

test('the PKCE S256 challenge of RFC 7636 appendix B', () => {
  assert.equal(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
});
