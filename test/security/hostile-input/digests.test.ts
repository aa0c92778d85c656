// Hostile digests in paths and query parameters: an unknown algorithm, a wrong length,
// upper-case hex, a truncated sha512 or any other malformed value is DIGEST_INVALID on
// every endpoint that takes one, and never names, finds, links or stores content.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { digestOf, expectError, startTestRegistry, uploadBlob, type TestRegistry } from '../../api/registry/harness.js';
import { assertRegistryUp } from '../raw-http.js';

const CONTENT = Buffer.from('the one blob every hostile digest tries to reach\n');
const SHA256_HEX = createHash('sha256').update(CONTENT).digest('hex');
const SHA512_HEX = createHash('sha512').update(CONTENT).digest('hex');

/** The registry's accepted digests, as the OCI image spec registers them. */
function isAcceptedDigest(value: string): boolean {
  return /^sha256:[0-9a-f]{64}$/.test(value) || /^sha512:[0-9a-f]{128}$/.test(value);
}

const handPicked: Array<[string, string]> = [
  ['unknown algorithm md5', `md5:${SHA256_HEX.slice(0, 32)}`],
  ['unregistered algorithm sha384', `sha384:${SHA512_HEX.slice(0, 96)}`],
  ['algorithm with an encoding suffix', `sha256+b64:${Buffer.from(SHA256_HEX, 'hex').toString('base64url')}`],
  ['upper-case algorithm', `SHA256:${SHA256_HEX}`],
  ['upper-case hex', `sha256:${SHA256_HEX.toUpperCase()}`],
  ['one hex digit short', `sha256:${SHA256_HEX.slice(1)}`],
  ['one hex digit long', `sha256:${SHA256_HEX}0`],
  ['sha512 truncated to sha256 length', `sha512:${SHA512_HEX.slice(0, 64)}`],
  ['sha512 one digit short', `sha512:${SHA512_HEX.slice(1)}`],
  ['sha256 label on sha512 hex', `sha256:${SHA512_HEX}`],
  ['non-hex digit', `sha256:${SHA256_HEX.slice(1)}g`],
  ['empty encoding', 'sha256:'],
  ['empty algorithm', `:${SHA256_HEX}`],
  ['two colons', `sha256::${SHA256_HEX}`],
  ['10 000 characters', `sha256:${'a'.repeat(10_000)}`],
  ['SQL after a valid digest', `sha256:${SHA256_HEX}'--`],
];

describe('hostile digests', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry();
    // The real content sits in a repository, so a digest that were misread could find it.
    await uploadBlob(registry.url, 'library/target', CONTENT);
    await uploadBlob(registry.url, 'library/target', CONTENT, 'sha512');
  });
  after(() => registry.close());

  const url = (path: string) => `${registry.url}${path}`;
  // The colon stays literal: `sha256%3A…` in a manifest path is a (bad) tag, not a digest.
  const enc = (value: string) => encodeURIComponent(value).replace(/%3A/g, ':');

  for (const [label, digest] of handPicked) {
    it(`${label}: DIGEST_INVALID in paths and query parameters, nothing found or created`, async () => {
      assert.ok(!isAcceptedDigest(digest));
      await expectError(await fetch(url(`/v2/library/target/blobs/${enc(digest)}`)), 400, 'DIGEST_INVALID');
      await expectError(await fetch(url(`/v2/library/target/manifests/${enc(digest)}`)), 400, 'DIGEST_INVALID');
      await expectError(await fetch(url(`/v2/library/target/referrers/${enc(digest)}`)), 400, 'DIGEST_INVALID');
      await expectError(await fetch(url(`/v2/library/target/blobs/${enc(digest)}`), { method: 'DELETE' }), 400, 'DIGEST_INVALID');
      await expectError(await fetch(url(`/v2/library/other/blobs/uploads/?digest=${enc(digest)}`), { method: 'POST', body: CONTENT }), 400, 'DIGEST_INVALID');
      const start = await fetch(url('/v2/library/other/blobs/uploads/'), { method: 'POST' });
      assert.equal(start.status, 202);
      await expectError(await fetch(url(`${start.headers.get('location')}?digest=${enc(digest)}`), { method: 'PUT', body: CONTENT }), 400, 'DIGEST_INVALID');
      // A malformed mount is no mount: the request falls back to an ordinary upload session.
      const mount = await fetch(url(`/v2/library/other/blobs/uploads/?mount=${enc(digest)}&from=library/target`), { method: 'POST' });
      assert.equal(mount.status, 202, await mount.text());
      // The blob never became visible in the other repository.
      await expectError(await fetch(url(`/v2/library/other/blobs/sha256:${SHA256_HEX}`)), 404, 'BLOB_UNKNOWN');
    });
  }

  it('a digest that is upper-case but otherwise right for the uploaded bytes does not complete the upload', async () => {
    const start = await fetch(url('/v2/library/upper/blobs/uploads/'), { method: 'POST' });
    const location = start.headers.get('location')!;
    await expectError(await fetch(url(`${location}?digest=sha256:${SHA256_HEX.toUpperCase()}`), { method: 'PUT', body: CONTENT }), 400, 'DIGEST_INVALID');
    await expectError(await fetch(url(`/v2/library/upper/blobs/sha256:${SHA256_HEX}`)), 404, 'BLOB_UNKNOWN');
  });

  it('a sha512 digest truncated to 64 digits is not read as the sha256 of anything', async () => {
    const start = await fetch(url('/v2/library/truncated/blobs/uploads/'), { method: 'POST' });
    const location = start.headers.get('location')!;
    await expectError(await fetch(url(`${location}?digest=sha512:${SHA512_HEX.slice(0, 64)}`), { method: 'PUT', body: CONTENT }), 400, 'DIGEST_INVALID');
    await expectError(await fetch(url(`/v2/library/truncated/blobs/sha512:${SHA512_HEX}`)), 404, 'BLOB_UNKNOWN');
  });

  it('property: any digest-shaped string is DIGEST_INVALID unless the spec accepts it, then merely unknown', async () => {
    const algorithm = fc.constantFrom('sha256', 'sha512', 'sha384', 'md5', 'sha1', 'SHA256', 'sha256+b64', 'blake3', 'sha-256', '');
    const hexish = fc.string({ unit: fc.constantFrom('0', '7', 'a', 'f', 'A', 'F', 'g', 'z', '=', '_', '-', '+', '/', '%'), maxLength: 140 });
    const exactHex = fc.constantFrom(64, 128).chain((length) => fc.string({ unit: fc.constantFrom('0', '1', '9', 'a', 'e', 'f'), minLength: length, maxLength: length }));
    const digests = fc.tuple(algorithm, fc.oneof(hexish, exactHex)).map(([alg, hex]) => `${alg}:${hex}`);
    await fc.assert(
      fc.asyncProperty(digests, async (digest) => {
        const blob = await fetch(url(`/v2/library/target/blobs/${enc(digest)}`));
        const manifest = await fetch(url(`/v2/library/target/manifests/${enc(digest)}`));
        if (isAcceptedDigest(digest)) {
          await expectError(blob, 404, 'BLOB_UNKNOWN');
          await expectError(manifest, 404, 'MANIFEST_UNKNOWN');
        } else {
          await expectError(blob, 400, 'DIGEST_INVALID');
          await expectError(manifest, 400, 'DIGEST_INVALID');
        }
      }),
      { numRuns: 200, seed: 0x5ec0002 },
    );
  });

  it('the real digests still work, and the registry answers', async () => {
    assert.equal((await fetch(url(`/v2/library/target/blobs/${digestOf(CONTENT)}`))).status, 200);
    assert.equal((await fetch(url(`/v2/library/target/blobs/${digestOf(CONTENT, 'sha512')}`))).status, 200);
    await assertRegistryUp(registry.url);
  });
});
