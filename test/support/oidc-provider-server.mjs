// A real OpenID provider for the tests: the `oidc-provider` package (v9) in its own process,
// with one static confidential client, accounts given by the test (their claims, including
// `groups`), and the package's development interactions (a login form POST, then a consent
// form POST). It listens on 127.0.0.1 on a free port and prints one JSON line
// {"issuer": URL} when ready.
//
// Test knob: POST /__test/tamper {"mode": "aud"|"iss"|"nonce"|"exp"|"signature"} makes the
// NEXT token response carry an ID token with that claim falsified, re-signed with the
// provider's own key (or, for "signature", with a broken signature): what a relying party
// must refuse even though the provider's key signed it. "userinfo_sub" makes the next
// userinfo answer describe another subject.
//
// Environment: OIDC_TEST_REDIRECT_URIS (comma separated), OIDC_TEST_ACCOUNTS (JSON: id → claims),
// OIDC_TEST_CLIENT_ID, OIDC_TEST_CLIENT_SECRET, OIDC_TEST_CONFORM=1 (claims of scopes only from
// userinfo, not in the ID token, as strict providers do).
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, decodeJwt, decodeProtectedHeader, importJWK } from 'jose';
import Provider from 'oidc-provider';

const redirectUris = (process.env.OIDC_TEST_REDIRECT_URIS ?? '').split(',').filter(Boolean);
const accounts = JSON.parse(process.env.OIDC_TEST_ACCOUNTS ?? '{}');
const clientId = process.env.OIDC_TEST_CLIENT_ID ?? 'dockyard';
const clientSecret = process.env.OIDC_TEST_CLIENT_SECRET ?? 'dockyard-test-secret';

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
const signingKey = await importJWK(jwk, 'RS256');

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [jwk] },
  cookies: { keys: ['dockyard-oidc-test-cookie-key'] },
  claims: { openid: ['sub'], profile: ['preferred_username', 'name'], email: ['email'], groups: ['groups'] },
  scopes: ['openid', 'profile', 'email', 'groups'],
  // Claims of the requested scopes go into the ID token too (as most company IdPs do for
  // groups), unless OIDC_TEST_CONFORM=1.
  conformIdTokenClaims: process.env.OIDC_TEST_CONFORM === '1',
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, id) {
    if (!Object.hasOwn(accounts, id)) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) };
  },
});

let tamper = null;

async function falsify(idToken, mode) {
  const claims = decodeJwt(idToken);
  const header = decodeProtectedHeader(idToken);
  if (mode === 'signature') {
    const [h, p, s] = idToken.split('.');
    return `${h}.${p}.${s.startsWith('A') ? 'B' : 'A'}${s.slice(1)}`;
  }
  const now = Math.floor(Date.now() / 1000);
  if (mode === 'aud') claims.aud = 'some-other-client';
  if (mode === 'iss') claims.iss = 'http://127.0.0.1:9/not-the-issuer';
  if (mode === 'nonce') claims.nonce = 'a-nonce-of-another-sign-in';
  if (mode === 'exp') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  return new SignJWT(claims).setProtectedHeader(header).sign(signingKey);
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/__test/tamper' && ctx.method === 'POST') {
    let body = '';
    for await (const chunk of ctx.req) body += chunk;
    tamper = JSON.parse(body).mode ?? null;
    ctx.status = 204;
    return;
  }
  await next();
  if (ctx.path === '/me' && tamper === 'userinfo_sub' && ctx.body && typeof ctx.body === 'object') {
    tamper = null;
    ctx.body = { ...ctx.body, sub: 'someone-else' };
  }
  if (ctx.path === '/token' && tamper && tamper !== 'userinfo_sub' && ctx.body && typeof ctx.body.id_token === 'string') {
    const mode = tamper;
    tamper = null;
    ctx.body = { ...ctx.body, id_token: await falsify(ctx.body.id_token, mode) };
  }
});

server.on('request', provider.callback());
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.stdout.write(`${JSON.stringify({ issuer })}\n`);
