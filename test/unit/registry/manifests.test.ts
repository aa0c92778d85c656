// parseManifest: what it extracts from each manifest type and what it refuses; the JSON
// nesting guard; which layers may be absent.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { DockyardError } from '../../../shared/http/errors.js';
import { MEDIA_TYPES, mayBeAbsent, parseManifest } from '../../../services/registry/manifests.js';
import { jsonDepth, MAX_JSON_DEPTH } from '../../../services/registry/manifests/json.js';

const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const desc = (mediaType: string, seed: string, size = 10) => ({ mediaType, digest: sha(seed), size });
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));
const CONFIG = desc('application/vnd.oci.image.config.v1+json', 'config');
const LAYER = desc('application/vnd.oci.image.layer.v1.tar+gzip', 'layer');

function refused(body: Buffer, contentType: string | undefined, message: RegExp): void {
  assert.throws(
    () => parseManifest(body, contentType),
    (err: unknown) => err instanceof DockyardError && err.code === 'MANIFEST_INVALID' && message.test(err.message),
  );
}

describe('parseManifest', () => {
  it('extracts config, layers, subject, artifactType and annotations of an OCI manifest', () => {
    const parsed = parseManifest(
      bytes({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        artifactType: 'application/vnd.example+type',
        config: CONFIG,
        layers: [LAYER],
        subject: desc(MEDIA_TYPES.ociManifest, 'subject', 99),
        annotations: { a: 'b' },
      }),
      MEDIA_TYPES.ociManifest,
    );
    assert.equal(parsed.kind, 'image');
    assert.equal(parsed.mediaType, MEDIA_TYPES.ociManifest);
    assert.equal(parsed.config?.digest.value, CONFIG.digest);
    assert.deepEqual(parsed.layers.map((l) => l.digest.value), [LAYER.digest]);
    assert.equal(parsed.subject?.digest.value, sha('subject'));
    assert.equal(parsed.artifactType, 'application/vnd.example+type');
    assert.deepEqual(parsed.annotations, { a: 'b' });
  });

  it('reports an image manifest without artifactType by its config media type', () => {
    const parsed = parseManifest(bytes({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: CONFIG, layers: [] }));
    assert.equal(parsed.artifactType, CONFIG.mediaType);
    assert.equal(parsed.subject, null);
    assert.equal(parsed.annotations, null);
  });

  it('parses indexes and manifest lists into their children', () => {
    for (const mediaType of [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList]) {
      const parsed = parseManifest(bytes({ schemaVersion: 2, mediaType, manifests: [{ ...desc(MEDIA_TYPES.ociManifest, 'child'), platform: { os: 'linux', architecture: 'arm64' } }] }));
      assert.equal(parsed.kind, 'index');
      assert.equal(parsed.config, null);
      assert.deepEqual(parsed.manifests.map((m) => m.digest.value), [sha('child')]);
      assert.equal(parsed.artifactType, null);
    }
  });

  it('chooses the media type: field, else a vnd Content-Type, else the structure', () => {
    const image = { schemaVersion: 2, config: CONFIG, layers: [] };
    assert.equal(parseManifest(bytes(image), MEDIA_TYPES.dockerManifest).mediaType, MEDIA_TYPES.dockerManifest);
    assert.equal(parseManifest(bytes(image), `${MEDIA_TYPES.ociManifest}; charset=utf-8`).mediaType, MEDIA_TYPES.ociManifest);
    assert.equal(parseManifest(bytes(image), 'application/json').mediaType, MEDIA_TYPES.ociManifest);
    assert.equal(parseManifest(bytes(image)).mediaType, MEDIA_TYPES.ociManifest);
    assert.equal(parseManifest(bytes({ schemaVersion: 2, manifests: [] })).mediaType, MEDIA_TYPES.ociIndex);
    assert.equal(
      parseManifest(bytes({ ...image, mediaType: MEDIA_TYPES.dockerManifest }), 'application/x-www-form-urlencoded').mediaType,
      MEDIA_TYPES.dockerManifest,
    );
  });

  const REFUSALS: Array<[string, Buffer, string | undefined, RegExp]> = [
    ['schema 1 body', bytes({ schemaVersion: 1, fsLayers: [] }), undefined, /schema 1/],
    ['schema 1 signed type', bytes({ schemaVersion: 2 }), 'application/vnd.docker.distribution.manifest.v1+prettyjws', /schema 1/],
    ['schema 1 mediaType field', bytes({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v1+json' }), undefined, /schema 1/],
    ['mismatched Content-Type', bytes({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] }), MEDIA_TYPES.ociManifest, /does not match/],
    ['non-string mediaType', bytes({ schemaVersion: 2, mediaType: 7, config: CONFIG, layers: [] }), undefined, /mediaType must be a string/],
    ['unknown vnd Content-Type', bytes({ schemaVersion: 2, config: CONFIG, layers: [] }), 'application/vnd.oci.artifact.manifest.v1+json', /unsupported/],
    ['schemaVersion "2"', bytes({ schemaVersion: '2', config: CONFIG, layers: [] }), undefined, /schemaVersion/],
    ['layers not an array', bytes({ schemaVersion: 2, config: CONFIG, layers: {} }), undefined, /layers/],
    ['null layer', bytes({ schemaVersion: 2, config: CONFIG, layers: [null] }), undefined, /layers\[0\]/],
    ['descriptor without size', bytes({ schemaVersion: 2, config: { mediaType: CONFIG.mediaType, digest: CONFIG.digest }, layers: [] }), undefined, /config\.size/],
    ['huge size', bytes({ schemaVersion: 2, config: { ...CONFIG, size: 2 ** 60 }, layers: [] }), undefined, /config\.size/],
    ['sha384 digest', bytes({ schemaVersion: 2, config: { ...CONFIG, digest: `sha384:${'a'.repeat(96)}` }, layers: [] }), undefined, /config\.digest/],
    ['urls not strings', bytes({ schemaVersion: 2, config: CONFIG, layers: [{ ...LAYER, urls: [1] }] }), undefined, /urls/],
    ['bad subject', bytes({ schemaVersion: 2, config: CONFIG, layers: [], subject: 'sha256:x' }), undefined, /subject/],
    ['bad artifactType', bytes({ schemaVersion: 2, config: CONFIG, layers: [], artifactType: 'no slash' }), undefined, /artifactType/],
    ['annotations array', bytes({ schemaVersion: 2, config: CONFIG, layers: [], annotations: ['a'] }), undefined, /annotations/],
    ['platform not an object', bytes({ schemaVersion: 2, manifests: [{ ...LAYER, platform: 'linux' }] }), undefined, /platform/],
    ['a string', bytes('manifest'), undefined, /object/],
    ['null', Buffer.from('null'), undefined, /object/],
    ['empty body', Buffer.alloc(0), undefined, /JSON/],
    ['BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes({ schemaVersion: 2 })]), undefined, /JSON/],
    ['deep nesting', Buffer.from(`{"a":${'{"a":'.repeat(MAX_JSON_DEPTH)}1${'}'.repeat(MAX_JSON_DEPTH)}}`), undefined, /nests deeper/],
  ];
  for (const [what, body, contentType, message] of REFUSALS) {
    it(`refuses ${what}`, () => refused(body, contentType, message));
  }
});

describe('jsonDepth', () => {
  it('counts nesting outside strings only', () => {
    assert.equal(jsonDepth(Buffer.from('1'), 10), 0);
    assert.equal(jsonDepth(Buffer.from('{"a":[1,{"b":[]}]}'), 10), 4);
    assert.equal(jsonDepth(Buffer.from('{"a":"[[[[{{{{"}'), 10), 1);
    assert.equal(jsonDepth(Buffer.from('{"a":"\\"[[[["}'), 10), 1);
  });

  it('stops early past the limit on a huge body', () => {
    const deep = Buffer.from('['.repeat(1_000_000));
    assert.equal(jsonDepth(deep, 64), 65);
  });
});

describe('mayBeAbsent', () => {
  const layer = (mediaType: string, urls?: string[]) => ({ mediaType, digest: { algorithm: 'sha256' as const, encoded: 'a'.repeat(64), value: `sha256:${'a'.repeat(64)}` }, size: 1, ...(urls ? { urls } : {}) });
  it('is true for foreign and non-distributable layers and layers with urls only', () => {
    assert.equal(mayBeAbsent(layer('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip')), true);
    assert.equal(mayBeAbsent(layer('application/vnd.oci.image.layer.nondistributable.v1.tar+zstd')), true);
    assert.equal(mayBeAbsent(layer('application/vnd.oci.image.layer.v1.tar+gzip', ['https://example.com/x'])), true);
    assert.equal(mayBeAbsent(layer('application/vnd.oci.image.layer.v1.tar+gzip', [])), false);
    assert.equal(mayBeAbsent(layer('application/vnd.oci.image.layer.v1.tar+gzip')), false);
  });
});
