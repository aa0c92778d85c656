/**
 * Hostile tokens, shared by the TokenVerifier and TokenAccessController suites. The trust
 * set is what a real registry would have: the auth service's KeyStore certificates plus a
 * CA certificate in the bundle. The attacker has their own EC and RSA keys, a self-signed
 * certificate, and everything that is public (certificates, public keys, valid tokens).
 */
import { createHmac, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { TokenIssuer } from '../../../services/auth/issue.js';
import { KeyStore, libtrustKeyId } from '../../../shared/crypto/keys.js';
import type { AccessRecord } from '../../../shared/grammar/scope.js';
import type { TokenErrorCode } from '../../../shared/crypto/token-verifier.js';
import { createCertificate, createSelfSignedCertificate } from '../../../shared/crypto/x509.js';

export const ISSUER = 'dockyard-auth';
export const SERVICE = 'dockyard';
export const PULL_A: AccessRecord[] = [{ type: 'repository', name: 'team/a', actions: ['pull'] }];

/** A token the verifier must refuse with `code`. */
export interface InvalidTokenCase {
  name: string;
  token: string;
  code: TokenErrorCode;
}

/** A valid token that must not grant `required`. */
export interface ScopeCase {
  name: string;
  token: string;
  required: AccessRecord[];
}

export interface AttackWorld {
  bundlePath: string;
  /** A genuine token granting PULL_A, to show the setup accepts what it should. */
  validToken: string;
  invalid: InvalidTokenCase[];
  scope: ScopeCase[];
  cleanup(): void;
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function hs256(header: object, claims: object, secret: Buffer | string): string {
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** ES256 without jose, for headers jose refuses to produce (unknown `crit`). */
function es256Raw(header: object, claims: object, key: KeyObject): string {
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `${input}.${cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

function sign(header: JWTHeaderParameters, claims: JWTPayload, key: KeyObject): Promise<string> {
  return new SignJWT(claims).setProtectedHeader(header).sign(key);
}

/** Builds the trust set, the attacker's material and every hostile token. */
export async function buildAttacks(): Promise<AttackWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-attacks-'));
  const keys = await KeyStore.open(join(dir, 'keys'));
  const ours = keys.current();
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const caCert = createSelfSignedCertificate({ ...ca, commonName: 'Dockyard token CA', days: 30, isCA: true });
  const bundlePath = join(dir, 'bundle.pem');
  writeFileSync(bundlePath, keys.certificatesPem() + caCert.pem);

  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const attackerRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const attackerCert = createSelfSignedCertificate({ ...attacker, commonName: 'Dockyard token CA', days: 30, isCA: true });
  // Claims the trusted CA as its issuer (same name, same authority key id) but is signed by the attacker.
  const forgedLeaf = createCertificate({ ...attacker, commonName: 'token signer', days: 30, issuer: { certificateDer: caCert.der, privateKey: attacker.privateKey } });
  const expiredLeafKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const expiredLeaf = createCertificate({
    ...expiredLeafKey,
    commonName: 'old token signer',
    days: 1,
    notBefore: new Date(Date.now() - 10 * 86_400_000),
    issuer: { certificateDer: caCert.der, privateKey: ca.privateKey },
  });

  const now = Math.floor(Date.now() / 1000);
  const claims = (extra: JWTPayload = {}): JWTPayload => ({
    iss: ISSUER, sub: 'mallory', aud: SERVICE, iat: now - 10, nbf: now - 10, exp: now + 300, jti: 'x', access: PULL_A, ...extra,
  });
  const ourHeader: JWTHeaderParameters = { alg: 'ES256', typ: 'JWT', kid: ours.kid };
  const x5c = (...ders: Buffer[]): string[] => ders.map((d) => d.toString('base64'));

  const issuer = new TokenIssuer({ keys, issuer: ISSUER, ttlSeconds: 300 });
  const validToken = (await issuer.issue({ subject: 'mallory', audience: SERVICE, access: PULL_A })).token;
  const [validHead, , validSignature] = validToken.split('.') as [string, string, string];
  const widened = { ...JSON.parse(Buffer.from(validToken.split('.')[1]!, 'base64url').toString()), access: [{ type: 'repository', name: 'team/a', actions: ['pull', 'push', 'delete'] }] };
  const publicPem = ours.publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const publicDer = ours.publicKey.export({ type: 'spki', format: 'der' });

  const invalid: InvalidTokenCase[] = [
    { name: 'alg none', code: 'TOKEN_ALGORITHM', token: `${b64url({ alg: 'none', typ: 'JWT', kid: ours.kid })}.${b64url(claims())}.` },
    { name: 'HS256 keyed with the public key PEM', code: 'TOKEN_ALGORITHM', token: hs256({ alg: 'HS256', typ: 'JWT', kid: ours.kid }, claims(), publicPem) },
    { name: 'HS256 keyed with the public key DER', code: 'TOKEN_ALGORITHM', token: hs256({ alg: 'HS256', typ: 'JWT', kid: ours.kid }, claims(), publicDer) },
    { name: 'HS256 keyed with the certificate bundle text', code: 'TOKEN_ALGORITHM', token: hs256({ alg: 'HS256', typ: 'JWT', kid: ours.kid }, claims(), keys.certificatesPem()) },
    { name: 'expired beyond the leeway', code: 'TOKEN_EXPIRED', token: await sign(ourHeader, claims({ exp: now - 120, nbf: now - 600, iat: now - 600 }), ours.privateKey) },
    { name: 'not yet valid', code: 'TOKEN_NOT_YET_VALID', token: await sign(ourHeader, claims({ nbf: now + 300, exp: now + 900 }), ours.privateKey) },
    { name: 'wrong issuer', code: 'TOKEN_ISSUER', token: await sign(ourHeader, claims({ iss: 'evil-auth' }), ours.privateKey) },
    { name: 'wrong audience', code: 'TOKEN_AUDIENCE', token: await sign(ourHeader, claims({ aud: 'other-registry' }), ours.privateKey) },
    { name: 'array audience without ours', code: 'TOKEN_AUDIENCE', token: await sign(ourHeader, claims({ aud: ['other-registry', `${SERVICE}x`] }), ours.privateKey) },
    { name: 'access widened after signing (same signature)', code: 'TOKEN_SIGNATURE', token: `${validHead}.${b64url(widened)}.${validSignature}` },
    { name: 'unknown kid (attacker key)', code: 'TOKEN_KEY_UNKNOWN', token: await sign({ alg: 'ES256', kid: libtrustKeyId(attacker.publicKey) }, claims(), attacker.privateKey) },
    {
      name: 'jwk header carrying the attacker key',
      code: 'TOKEN_KEY_UNKNOWN',
      token: await sign({ alg: 'ES256', jwk: attacker.publicKey.export({ format: 'jwk' }) as JWTHeaderParameters['jwk'] }, claims(), attacker.privateKey),
    },
    {
      name: 'jwk header carrying the attacker key next to our kid',
      code: 'TOKEN_SIGNATURE',
      token: await sign({ ...ourHeader, jwk: attacker.publicKey.export({ format: 'jwk' }) as JWTHeaderParameters['jwk'] }, claims(), attacker.privateKey),
    },
    { name: 'x5c carrying the attacker self-signed certificate', code: 'TOKEN_KEY_UNKNOWN', token: await sign({ ...ourHeader, x5c: x5c(attackerCert.der) }, claims(), attacker.privateKey) },
    { name: 'x5c leaf forging the trusted CA as issuer', code: 'TOKEN_KEY_UNKNOWN', token: await sign({ alg: 'ES256', x5c: x5c(forgedLeaf.der) }, claims(), attacker.privateKey) },
    { name: 'x5c chain of attacker leaf plus the trusted CA', code: 'TOKEN_KEY_UNKNOWN', token: await sign({ alg: 'ES256', x5c: x5c(forgedLeaf.der, caCert.der) }, claims(), attacker.privateKey) },
    { name: 'x5c leaf of the trusted CA that has expired', code: 'TOKEN_KEY_UNKNOWN', token: await sign({ alg: 'ES256', x5c: x5c(expiredLeaf.der) }, claims(), expiredLeafKey.privateKey) },
    { name: 'x5c with our certificate, signed by the attacker', code: 'TOKEN_SIGNATURE', token: await sign({ ...ourHeader, x5c: x5c(ours.certificateDer) }, claims(), attacker.privateKey) },
    { name: 'RS256 with our kid (algorithm confusion)', code: 'TOKEN_SIGNATURE', token: await sign({ alg: 'RS256', kid: ours.kid }, claims(), attackerRsa.privateKey) },
    { name: 'unknown critical header', code: 'TOKEN_MALFORMED', token: es256Raw({ ...ourHeader, crit: ['exp-evil'], 'exp-evil': 1 }, claims(), ours.privateKey) },
    { name: 'no exp claim', code: 'TOKEN_CLAIMS', token: await sign(ourHeader, claims({ exp: undefined }), ours.privateKey) },
    { name: 'access claim that is not a list', code: 'TOKEN_CLAIMS', token: await sign(ourHeader, claims({ access: 'repository:team/a:*' }), ours.privateKey) },
    { name: 'garbage', code: 'TOKEN_MALFORMED', token: 'eyJ.garbage.!!' },
    { name: 'oversized token', code: 'TOKEN_MALFORMED', token: `${validHead}.${'A'.repeat(40_000)}.${validSignature}` },
  ];

  const scope: ScopeCase[] = [
    { name: 'token for repository A used on B', token: validToken, required: [{ type: 'repository', name: 'team/b', actions: ['pull'] }] },
    { name: 'token for A used on a name that merely starts with A', token: validToken, required: [{ type: 'repository', name: 'team/a/b', actions: ['pull'] }] },
    { name: 'pull token used to push', token: validToken, required: [{ type: 'repository', name: 'team/a', actions: ['pull', 'push'] }] },
    { name: 'pull token used to delete', token: validToken, required: [{ type: 'repository', name: 'team/a', actions: ['delete'] }] },
    { name: 'repository token used on the catalog', token: validToken, required: [{ type: 'registry', name: 'catalog', actions: ['*'] }] },
  ];

  return { bundlePath, validToken, invalid, scope, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
