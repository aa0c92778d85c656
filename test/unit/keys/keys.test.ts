import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createPublicKey, sign, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { KeyStore, libtrustKeyId } from '../../../shared/crypto/keys.js';
import { certificatesFromPem } from '../../../shared/crypto/x509.js';

const root = mkdtempSync(join(tmpdir(), 'dockyard-keys-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = (): string => join(root, `keys-${dirCount++}`, 'nested');

const KID = /^(?:[A-Z2-7]{4}:){11}[A-Z2-7]{4}$/;
/** Rotations that need not wait for the next key's publication (tests of other things). */
const NO_WAIT = { publishAheadSeconds: 0 };

/** The kid the manifest names as the next key. */
function nextKid(dir: string): string {
  return JSON.parse(readFileSync(join(dir, 'keys.json'), 'utf8')).next;
}

/** The libtrust kid computed by other tools: openssl for SPKI + SHA-256, coreutils base32. */
function kidByOpenssl(certPem: string): string {
  const spki = execFileSync('openssl', ['x509', '-pubkey', '-noout'], { input: certPem });
  const spkiDer = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: spki });
  const digest = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: spkiDer });
  const base32 = execFileSync('base32', ['-w', '0'], { input: digest.subarray(0, 30), encoding: 'utf8' }).replace(/=+$/, '');
  return base32.match(/.{4}/g)!.join(':');
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('KeyStore', () => {
  it('creates a 0700 directory with 0600 files, an ES256 key, the next key and their certificates on first start', async () => {
    const dir = freshDir();
    const store = await KeyStore.open(dir);
    assert.equal(mode(dir), 0o700);
    const files = readdirSync(dir).sort();
    assert.equal(files.length, 5, files.join(' '));
    for (const file of files) assert.equal(mode(join(dir, file)), 0o600, file);
    assert.ok(files.includes('keys.json'));

    const key = store.current();
    assert.equal(key.alg, 'ES256');
    assert.equal(key.privateKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const cert = new X509Certificate(key.certificateDer);
    assert.ok(cert.verify(key.publicKey), 'certificate is self-signed by the key');
    assert.ok(cert.publicKey.equals(createPublicKey(key.privateKey)));
    assert.equal(Date.parse(cert.validTo) - Date.parse(cert.validFrom), 3650 * 86_400_000);
  });

  it('names keys by their libtrust fingerprint', async () => {
    const store = await KeyStore.open(freshDir());
    const key = store.current();
    assert.match(key.kid, KID);
    assert.equal(key.kid, libtrustKeyId(key.publicKey));
    assert.equal(key.kid, kidByOpenssl(store.certificatesPem()));
  });

  it('keeps its key across restarts', async () => {
    const dir = freshDir();
    const first = (await KeyStore.open(dir)).current();
    const again = (await KeyStore.open(dir)).current();
    assert.equal(again.kid, first.kid);
    assert.ok(again.certificateDer.equals(first.certificateDer));
  });

  it('creates exactly one key when two processes start at once', async () => {
    const dir = freshDir();
    const [a, b] = await Promise.all([KeyStore.open(dir), KeyStore.open(dir)]);
    assert.equal(a.current().kid, b.current().kid);
    assert.deepEqual(a.jwks(), b.jwks());
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.key')).length, 2, 'the current and the next key');
  });

  it('publishes public keys only: JWKS with kid, alg, use and x5c, and a PEM bundle', async () => {
    const dir = freshDir();
    const store = await KeyStore.open(dir);
    const key = store.current();
    const { keys } = store.jwks();
    assert.deepEqual(keys.map((k) => k.kid), [key.kid, nextKid(dir)], 'the current key, then the next one');
    const jwk = keys[0]!;
    assert.deepEqual(Object.keys(jwk).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'x5c', 'y']);
    assert.equal(jwk.kid, key.kid);
    assert.equal(jwk.alg, 'ES256');
    assert.equal(jwk.use, 'sig');
    assert.equal(jwk.crv, 'P-256');
    assert.deepEqual(jwk.x5c, [key.certificateDer.toString('base64')]);
    const published = createPublicKey({ key: jwk as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
    const data = Buffer.from('signed by the current key');
    assert.ok(verify('sha256', data, published, sign('sha256', data, key.privateKey)));

    assert.deepEqual(certificatesFromPem(store.certificatesPem())[0], key.certificateDer);
    assert.equal(certificatesFromPem(store.certificatesPem()).length, 2);
  });

  it('rotates: the published next key signs, a fresh next key is published, the old one stays published during retention, files stay 0600', async () => {
    const dir = freshDir();
    const store = await KeyStore.open(dir, { retainSeconds: 3600, ...NO_WAIT });
    const old = store.current();
    const published = nextKid(dir);
    const fresh = await store.rotate();
    assert.equal(fresh.kid, published, 'the key published ahead is the one that signs now');
    assert.equal(store.current().kid, fresh.kid);
    const upcoming = nextKid(dir);
    assert.ok(![fresh.kid, old.kid].includes(upcoming));
    assert.deepEqual(store.jwks().keys.map((k) => k.kid), [fresh.kid, upcoming, old.kid]);
    assert.deepEqual(certificatesFromPem(store.certificatesPem())[0], fresh.certificateDer);
    assert.deepEqual(certificatesFromPem(store.certificatesPem())[2], old.certificateDer);
    for (const file of readdirSync(dir)) assert.equal(mode(join(dir, file)), 0o600, file);
    assert.equal(JSON.parse(readFileSync(join(dir, 'keys.json'), 'utf8')).generation, 2);
  });

  it('makes the next key sign only after it was published for the publish-ahead time', async () => {
    const dir = freshDir();
    const store = await KeyStore.open(dir, { publishAheadSeconds: 1 });
    const manifest = JSON.parse(readFileSync(join(dir, 'keys.json'), 'utf8'));
    const publishedAt = Date.parse(manifest.keys.find((k: { kid: string }) => k.kid === manifest.next).createdAt);
    const fresh = await store.rotate();
    assert.equal(fresh.kid, manifest.next);
    assert.ok(Date.now() >= publishedAt + 1000, 'the rotation waited until the next key had been published for 1 s');
    // The key it published now is too young: a second rotation waits its full second too.
    const second = nextKid(dir);
    const secondAt = Date.parse(JSON.parse(readFileSync(join(dir, 'keys.json'), 'utf8')).keys.find((k: { kid: string }) => k.kid === second).createdAt);
    assert.equal((await store.rotate()).kid, second);
    assert.ok(Date.now() >= secondAt + 1000);
  });

  it('adds a next key to a directory of an earlier version, keeping its current key', async () => {
    const dir = freshDir();
    const first = await KeyStore.open(dir);
    const current = first.current().kid;
    const manifestPath = join(dir, 'keys.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const nextFile = manifest.keys.find((k: { kid: string }) => k.kid === manifest.next).file;
    rmSync(join(dir, `${nextFile}.key`));
    rmSync(join(dir, `${nextFile}.crt`));
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, next: undefined, keys: manifest.keys.filter((k: { kid: string }) => k.kid !== manifest.next) }));
    const upgraded = await KeyStore.open(dir);
    assert.equal(upgraded.current().kid, current);
    const added = nextKid(dir);
    assert.ok(added !== undefined && added !== manifest.next && added !== current);
    assert.deepEqual(upgraded.jwks().keys.map((k) => k.kid), [current, added]);
  });

  it('stops publishing a retired key when its retention ends and deletes it at the next rotation', async () => {
    const dir = freshDir();
    let now = Date.parse('2030-01-01T00:00:00Z');
    const store = await KeyStore.open(dir, { retainSeconds: 600, now: () => now, ...NO_WAIT });
    const first = store.current();
    const second = await store.rotate();
    const upcoming = nextKid(dir);
    now += 599_000;
    assert.deepEqual(store.jwks().keys.map((k) => k.kid), [second.kid, upcoming, first.kid]);
    now += 2_000;
    assert.deepEqual(store.jwks().keys.map((k) => k.kid), [second.kid, upcoming]);
    assert.equal(certificatesFromPem(store.certificatesPem()).length, 2);

    const third = await store.rotate();
    assert.equal(third.kid, upcoming);
    const stems = readdirSync(dir).filter((f) => f.endsWith('.key')).map((f) => f.slice(0, -4)).sort();
    assert.deepEqual(stems, [second.kid, third.kid, nextKid(dir)].map((kid) => kid.replace(/:/g, '')).sort());
    assert.deepEqual(store.jwks().keys.map((k) => k.kid), [third.kid, nextKid(dir), second.kid]);
  });

  it('publishes nothing but the current and the next key when retention is zero', async () => {
    const dir = freshDir();
    const store = await KeyStore.open(dir, { retainSeconds: 0, ...NO_WAIT });
    const fresh = await store.rotate();
    assert.deepEqual(store.jwks().keys.map((k) => k.kid), [fresh.kid, nextKid(dir)]);
  });

  it('picks up a rotation made by another KeyStore on the same directory via refresh()', async () => {
    const dir = freshDir();
    const service = await KeyStore.open(dir);
    const cli = await KeyStore.open(dir, NO_WAIT);
    assert.equal(await service.refresh(), false);
    const rotated = await cli.rotate();
    assert.equal(await service.refresh(), true);
    assert.equal(service.current().kid, rotated.kid);
    assert.equal(await service.refresh(), false);
  });

  it('picks up a rotation made by another OS process (reload)', async () => {
    const dir = freshDir();
    const service = await KeyStore.open(dir);
    const before = service.current().kid;
    const keysModule = fileURLToPath(new URL('../../../shared/crypto/keys.ts', import.meta.url));
    const script = `const { KeyStore } = await import(${JSON.stringify(keysModule)});
      const store = await KeyStore.open(${JSON.stringify(dir)}, { publishAheadSeconds: 0 });
      process.stdout.write((await store.rotate()).kid);`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, KID);
    await service.reload();
    assert.equal(service.current().kid, child.stdout);
    assert.deepEqual(service.jwks().keys.map((k) => k.kid), [child.stdout, nextKid(dir), before]);
  });

  it('breaks a lock left behind by a crashed process', async () => {
    const dir = freshDir();
    const store = await KeyStore.open(dir, NO_WAIT);
    const lock = join(dir, 'keys.lock');
    writeFileSync(lock, '99999');
    const longAgo = new Date(Date.now() - 120_000);
    utimesSync(lock, longAgo, longAgo);
    const before = store.current().kid;
    assert.notEqual((await store.rotate()).kid, before);
    assert.ok(!readdirSync(dir).includes('keys.lock'));
  });

  it('refuses a corrupt manifest or a key that does not match its certificate, naming the file', async () => {
    const dir = freshDir();
    await KeyStore.open(dir);
    const manifestPath = join(dir, 'keys.json');
    const manifest = readFileSync(manifestPath, 'utf8');
    writeFileSync(manifestPath, '{"version":1');
    await assert.rejects(KeyStore.open(dir), /keys\.json is not valid JSON/);

    writeFileSync(manifestPath, manifest);
    const other = await KeyStore.open(freshDir());
    const stem = readdirSync(dir).find((f) => f.endsWith('.crt'))!;
    writeFileSync(join(dir, stem), other.certificatesPem());
    await assert.rejects(KeyStore.open(dir), /does not match key/);
  });
});
