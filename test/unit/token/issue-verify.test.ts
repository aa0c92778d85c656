import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { TokenIssuer } from '../../../services/auth/issue.js';
import { KeyStore } from '../../../shared/crypto/keys.js';
import { certificateBundleResolver, jwksResolver } from '../../../shared/crypto/token-keys.js';
import { TokenVerifier } from '../../../shared/crypto/token-verifier.js';
import { createCertificate, createSelfSignedCertificate } from '../../../shared/crypto/x509.js';
import { jsonServer, keyFixture, type KeyFixture } from './helpers.js';

const ISSUER = 'dockyard-auth';
const SERVICE = 'dockyard';
const PULL_A = [{ type: 'repository', name: 'team/a', actions: ['pull'] }];

describe('TokenIssuer', () => {
  let fx: KeyFixture;
  before(async () => (fx = await keyFixture('issue')));
  after(() => fx.cleanup());

  it('signs an ES256 JWT with kid, x5c and the Docker token claims', async () => {
    const issuer = new TokenIssuer({ keys: fx.keys, issuer: ISSUER, ttlSeconds: 300 });
    const issued = await issuer.issue({ subject: 'alice', audience: SERVICE, access: PULL_A });
    const header = decodeProtectedHeader(issued.token);
    const key = fx.keys.current();
    assert.deepEqual(header, { alg: 'ES256', typ: 'JWT', kid: key.kid, x5c: [key.certificateDer.toString('base64')] });

    const claims = decodeJwt(issued.token);
    assert.deepEqual(Object.keys(claims).sort(), ['access', 'aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'sub']);
    assert.equal(claims.iss, ISSUER);
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.aud, SERVICE, 'aud is a plain string (distribution 2.8 rejects arrays)');
    assert.equal(claims.exp! - claims.iat!, 300);
    assert.equal(claims.nbf, claims.iat);
    assert.deepEqual(claims.access, PULL_A);
    assert.equal(issued.expiresIn, 300);
    assert.match(issued.issuedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.equal(Date.parse(issued.issuedAt) / 1000, claims.iat);

    // JOSE ES256 signatures are r||s (64 bytes), not DER, which distribution rejects.
    assert.equal(Buffer.from(issued.token.split('.')[2]!, 'base64url').length, 64);
    const other = await issuer.issue({ subject: 'alice', audience: SERVICE, access: PULL_A });
    assert.notEqual(decodeJwt(other.token).jti, claims.jti);
  });

  it('issues anonymous tokens with sub "" and empty access', async () => {
    const issuer = new TokenIssuer({ keys: fx.keys, issuer: ISSUER, ttlSeconds: 60 });
    const claims = decodeJwt((await issuer.issue({ subject: '', audience: SERVICE, access: [] })).token);
    assert.equal(claims.sub, '');
    assert.deepEqual(claims.access, []);
  });

  it('signs with the new key after another process rotated, without restart', async () => {
    const issuer = new TokenIssuer({ keys: fx.keys, issuer: ISSUER, ttlSeconds: 60 });
    const before = decodeProtectedHeader((await issuer.issue({ subject: 'a', audience: SERVICE, access: [] })).token).kid;
    const cli = await KeyStore.open(join(fx.dir, 'keys'), { publishAheadSeconds: 0 });
    const rotated = await cli.rotate();
    const after = decodeProtectedHeader((await issuer.issue({ subject: 'a', audience: SERVICE, access: [] })).token);
    assert.notEqual(after.kid, before);
    assert.equal(after.kid, rotated.kid);
    assert.deepEqual(after.x5c, [rotated.certificateDer.toString('base64')]);
  });
});

describe('issue → verify round trip', () => {
  let fx: KeyFixture;
  let issuer: TokenIssuer;
  before(async () => {
    fx = await keyFixture('roundtrip');
    issuer = new TokenIssuer({ keys: fx.keys, issuer: ISSUER, ttlSeconds: 300 });
  });
  after(() => fx.cleanup());

  it('verifies through the certificate bundle', async () => {
    const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys: await certificateBundleResolver(fx.bundlePath) });
    const { token } = await issuer.issue({ subject: 'alice', audience: SERVICE, access: PULL_A });
    const claims = await verifier.verify(token);
    assert.equal(claims.sub, 'alice');
    assert.deepEqual(claims.access, PULL_A);
    assert.equal(claims.exp, decodeJwt(token).exp);
  });

  it('verifies through a JWKS URL and refetches it when an unknown kid shows up', async () => {
    const server = await jsonServer(() => fx.keys.jwks());
    try {
      const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys: jwksResolver(server.url, { cooldownSeconds: 0 }) });
      const first = await issuer.issue({ subject: 'bob', audience: SERVICE, access: PULL_A });
      assert.equal((await verifier.verify(first.token)).sub, 'bob');
      assert.equal(server.requests(), 1);
      // Twice: the key the first rotation made sign was already in the fetched set; the
      // second one's was published after the fetch.
      await fx.keys.rotate();
      await fx.keys.rotate();
      const second = await issuer.issue({ subject: 'carol', audience: SERVICE, access: PULL_A });
      assert.equal((await verifier.verify(second.token)).sub, 'carol');
      assert.equal(server.requests(), 2);
    } finally {
      await server.close();
    }
  });

  it('re-reads the bundle file when a token from a rotated key arrives', async () => {
    // No interval between re-reads here: the bound on them is tested in key-refresh-bound.test.ts.
    const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys: await certificateBundleResolver(fx.bundlePath, { refreshIntervalMs: 0 }) });
    // Twice, so that the signer is a key published after the bundle was written.
    fx.writeBundle();
    await fx.keys.rotate();
    await fx.keys.rotate();
    const { token } = await issuer.issue({ subject: 'dave', audience: SERVICE, access: PULL_A });
    await assert.rejects(verifier.verify(token), { code: 'TOKEN_KEY_UNKNOWN' });
    fx.writeBundle();
    assert.equal((await verifier.verify(token)).sub, 'dave');
  });

  it('accepts a kid-only token by libtrust fingerprint or RFC 7638 thumbprint', async () => {
    const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys: await certificateBundleResolver(fx.bundlePath) });
    const key = fx.keys.current();
    for (const kid of [key.kid, await calculateJwkThumbprint(key.publicKey)]) {
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ access: PULL_A })
        .setProtectedHeader({ alg: 'ES256', kid })
        .setIssuer(ISSUER).setAudience([SERVICE, 'other']).setSubject('erin').setExpirationTime(now + 60)
        .sign(key.privateKey);
      assert.equal((await verifier.verify(token)).sub, 'erin', kid);
    }
  });

  it('accepts an x5c leaf signed by a CA certificate of the bundle', async () => {
    const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const caCert = createSelfSignedCertificate({ ...ca, commonName: 'token CA', days: 30, isCA: true });
    const leaf = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const leafCert = createCertificate({ ...leaf, commonName: 'token signer', days: 5, issuer: { certificateDer: caCert.der, privateKey: ca.privateKey } });
    const bundle = join(fx.dir, 'ca-bundle.pem');
    writeFileSync(bundle, caCert.pem);
    const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys: await certificateBundleResolver(bundle) });
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ access: PULL_A })
      .setProtectedHeader({ alg: 'RS256', x5c: [leafCert.der.toString('base64')] })
      .setIssuer(ISSUER).setAudience(SERVICE).setSubject('frank').setExpirationTime(now + 60)
      .sign(leaf.privateKey);
    assert.equal((await verifier.verify(token)).sub, 'frank');
    assert.ok(new X509Certificate(leafCert.der).checkIssued(new X509Certificate(caCert.der)));
  });

  it('tolerates 60 s of clock skew on exp and nbf', async () => {
    const verifier = new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys: await certificateBundleResolver(fx.bundlePath) });
    const key = fx.keys.current();
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ access: PULL_A })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid })
      .setIssuer(ISSUER).setAudience(SERVICE).setSubject('skew').setNotBefore(now + 30).setExpirationTime(now - 30)
      .sign(key.privateKey);
    assert.equal((await verifier.verify(token)).sub, 'skew');
  });

  it('refuses to be configured with symmetric or `none` algorithms', async () => {
    const keys = await certificateBundleResolver(fx.bundlePath);
    for (const algorithms of [['HS256'], ['ES256', 'none'], []]) {
      assert.throws(() => new TokenVerifier({ issuer: ISSUER, audience: SERVICE, keys, algorithms }), /asymmetric|subset/);
    }
  });

  it('fails at startup on a missing or empty certificate bundle', async () => {
    await assert.rejects(certificateBundleResolver(join(fx.dir, 'missing.pem')), /cannot use token certificate bundle .*missing\.pem: ENOENT/);
    const empty = join(fx.dir, 'empty.pem');
    writeFileSync(empty, 'no certificates here\n');
    await assert.rejects(certificateBundleResolver(empty), /holds no certificate/);
  });
});
