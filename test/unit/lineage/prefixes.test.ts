// Prefix hashes (what a push records) and REPO:TAG / REPO@DIGEST parsing for the lineage API and CLI.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { isDockyardError } from '../../../shared/http/errors.js';
import { lineageOf, prefixHashes } from '../../../services/registry/events/record.js';
import { parseImageReference } from '../../../services/registry/events/reference.js';
import { parseManifest } from '../../../services/registry/manifests.js';

const digest = (label: string) => `sha256:${createHash('sha256').update(label).digest('hex')}`;
const [a, b, c] = [digest('a'), digest('b'), digest('c')];

describe('prefixHashes', () => {
  it('gives one hash per prefix, shared exactly by images with the same first layers', () => {
    const base = prefixHashes([a, b]);
    const derived = prefixHashes([a, b, c]);
    assert.equal(derived.length, 3);
    assert.deepEqual(derived.slice(0, 2), base);
    assert.notEqual(prefixHashes([b, a])[1], base[1], 'order matters');
    assert.notEqual(prefixHashes([b])[0], base[1], 'a one-layer image is not a two-layer prefix');
    for (const hash of derived) assert.match(hash, /^[0-9a-f]{64}$/);
    assert.deepEqual(prefixHashes([]), []);
  });

  it('lineageOf reads the layers in order and the base annotations of a manifest', () => {
    const manifest = parseManifest(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: c, size: 1 },
          layers: [a, b].map((d) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d, size: 1 })),
          annotations: { 'org.opencontainers.image.base.name': 'docker.io/library/debian:12', 'org.opencontainers.image.base.digest': 'not-a-digest' },
        }),
      ),
    );
    assert.deepEqual(lineageOf(manifest), { prefixes: prefixHashes([a, b]), baseName: 'docker.io/library/debian:12', baseDigest: null });
  });
});

describe('parseImageReference', () => {
  it('reads REPO:TAG, REPO@DIGEST and a bare REPO as :latest', () => {
    assert.deepEqual(parseImageReference('base/debian:12'), { repository: 'base/debian', tag: '12' });
    assert.deepEqual(parseImageReference(`base/debian@${a}`), { repository: 'base/debian', digest: a });
    assert.deepEqual(parseImageReference('base/debian'), { repository: 'base/debian', tag: 'latest' });
  });

  it('refuses malformed references with the registry error codes', () => {
    const code = (text: string) => {
      try {
        parseImageReference(text);
        return 'accepted';
      } catch (err) {
        return isDockyardError(err) ? err.code : String(err);
      }
    };
    assert.equal(code(''), 'NAME_INVALID');
    assert.equal(code('Base/Debian:12'), 'NAME_INVALID');
    assert.equal(code('base/debian:'), 'TAG_INVALID');
    assert.equal(code('base/debian@sha256:abc'), 'DIGEST_INVALID');
    assert.equal(code('host:5000/base/debian'), 'NAME_INVALID');
  });
});
