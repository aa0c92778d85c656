// The registry:2 import through the seams with drivers the e2e test does not use: the
// memory driver (no local files, so every blob is copied through scratch and verified on
// the way) and the filesystem driver across file systems (link impossible: copied). The
// store is written here in distribution's documented layout, which lets each case hold
// exactly the oddity it is about: an index listed before its children, a schema 1
// manifest, a blob missing from the store, a link naming another digest.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { parseDigest } from '../../../shared/grammar/reference.js';
import { importRegistry2, progressView, type ImportSummary, type ProgressView } from '../../../services/registry/import/index.js';
import { KnexMetadataStore } from '../../../services/registry/metadata/knex-store.js';
import type { StorageDriver } from '../../../services/registry/storage/driver.js';
import { FilesystemDriver } from '../../../services/registry/storage/drivers/filesystem.js';
import { MemoryDriver } from '../../../services/registry/storage/drivers/memory.js';
import { blobDataPath } from '../../../services/registry/storage/paths.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const sha256 = (bytes: Buffer | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const quiet: ProgressView = { start: () => undefined, event: () => undefined, tick: () => undefined, finish: () => undefined };

/** Writes a registry:2 store the way distribution lays it out. */
class Registry2Writer {
  constructor(readonly root: string) {}

  private get v2(): string {
    return join(this.root, 'docker', 'registry', 'v2');
  }

  blob(bytes: Buffer | string): string {
    const digest = sha256(bytes);
    const hex = digest.slice(7);
    const dir = join(this.v2, 'blobs', 'sha256', hex.slice(0, 2), hex);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'data'), bytes);
    return digest;
  }

  private link(repository: string, kind: string, digest: string, content = digest): void {
    const dir = join(this.v2, 'repositories', repository, kind, 'sha256', digest.slice(7));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'link'), content);
  }

  layer(repository: string, digest: string, content?: string): void {
    this.link(repository, '_layers', digest, content);
  }

  manifest(repository: string, bytes: Buffer | string, tag?: string): string {
    const digest = this.blob(bytes);
    this.link(repository, join('_manifests', 'revisions'), digest);
    if (tag) {
      const dir = join(this.v2, 'repositories', repository, '_manifests', 'tags', tag, 'current');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'link'), digest);
    }
    return digest;
  }

  /** An image of one layer pushed into `repository`: its manifest digest and its blobs. */
  image(repository: string, layerText: string, tag?: string): { manifest: string; size: number; blobs: string[] } {
    const layer = this.blob(layerText);
    const config = this.blob(JSON.stringify({ os: 'linux', architecture: layerText }));
    this.layer(repository, layer);
    this.layer(repository, config);
    const bytes = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: Buffer.byteLength(JSON.stringify({ os: 'linux', architecture: layerText })) },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer, size: Buffer.byteLength(layerText) }],
    });
    return { manifest: this.manifest(repository, bytes, tag), size: Buffer.byteLength(bytes), blobs: [layer, config] };
  }
}

async function bytesAt(driver: StorageDriver, digest: string): Promise<Buffer> {
  return driver.getContent(blobDataPath(parseDigest(digest)));
}

describe('registry:2 import through the memory driver (every blob copied and verified)', () => {
  let dir: string;
  let store: Registry2Writer;
  let driver: MemoryDriver;
  let metadata: KnexMetadataStore;
  let first: ImportSummary;
  let second: ImportSummary;
  let amd64: { manifest: string; size: number; blobs: string[] };
  let arm64: { manifest: string; size: number; blobs: string[] };
  let indexDigest: string;
  let missingLayer: string;
  let corruptLayer: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dockyard-import-'));
    store = new Registry2Writer(dir);
    amd64 = store.image('team/multi', 'amd64');
    arm64 = store.image('team/multi', 'arm64');
    // Whatever order the revision directories come in, the index goes after its children.
    indexDigest = store.manifest(
      'team/multi',
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: amd64.manifest, size: amd64.size }, { mediaType: OCI_MANIFEST, digest: arm64.manifest, size: arm64.size }] }),
      'v1',
    );
    store.manifest('old/schema1', JSON.stringify({ schemaVersion: 1, name: 'old/schema1', tag: 'v1', fsLayers: [] }), 'v1');
    const gone = store.image('team/gone', 'gone-layer', 'v1');
    missingLayer = gone.blobs[0];
    rmSync(join(dir, 'docker/registry/v2/blobs/sha256', missingLayer.slice(7, 9)), { recursive: true, force: true });
    store.layer('team/odd', sha256('x'), sha256('y'));
    const bad = store.image('team/bad', 'bad-layer', 'v1');
    corruptLayer = bad.blobs[0];
    writeFileSync(join(dir, 'docker/registry/v2/blobs/sha256', corruptLayer.slice(7, 9), corruptLayer.slice(7), 'data'), 'other bytes');
    driver = new MemoryDriver();
    metadata = await KnexMetadataStore.open({ client: 'sqlite', filename: ':memory:' });
    first = await importRegistry2({ source: dir, storage: driver, metadata, manifestMaxBytes: 4 * 1024 * 1024, view: quiet });
    second = await importRegistry2({ source: dir, storage: driver, metadata, manifestMaxBytes: 4 * 1024 * 1024, view: quiet });
  });
  after(async () => {
    await metadata.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies every good blob, verified, and records an index after its children', async () => {
    assert.equal(first.blobs.linked, 0);
    assert.equal(first.blobs.copied, 6); // 2 × (layer, config) + the configs of team/gone and team/bad
    for (const digest of [...amd64.blobs, ...arm64.blobs]) assert.equal(sha256(await bytesAt(driver, digest)), digest);
    assert.equal(await metadata.resolveTag('team/multi', 'v1'), indexDigest);
    assert.deepEqual((await metadata.getManifestReferences('team/multi', indexDigest))?.manifests, [amd64.manifest, arm64.manifest].sort());
    assert.equal(sha256(await bytesAt(driver, indexDigest)), indexDigest);
  });

  it('never stores a blob whose bytes do not match its digest', async () => {
    await assert.rejects(bytesAt(driver, corruptLayer), /path not found/);
  });

  it('reports what it left out: a schema 1 manifest, a missing blob and what needs it, a bad link', () => {
    const skipped = first.skipped.join('\n');
    assert.match(skipped, /manifest old\/schema1@sha256:[0-9a-f]{64}: MANIFEST_INVALID: schema 1 manifests are not supported/);
    assert.match(skipped, new RegExp(`blob ${missingLayer}: missing`));
    assert.match(skipped, new RegExp(`blob ${corruptLayer}: corrupt \\(content hashes to ${sha256('other bytes')}, not ${corruptLayer}\\)`));
    assert.match(skipped, /tag team\/bad:v1: its manifest/);
    assert.match(skipped, /manifest team\/gone@sha256:[0-9a-f]{64}: MANIFEST_BLOB_UNKNOWN/);
    assert.match(skipped, /tag team\/gone:v1: its manifest sha256:[0-9a-f]{64} was not imported/);
    assert.match(skipped, new RegExp(`team/odd: .*_layers/sha256/${sha256('x').slice(7)}/link names ${sha256('y')}`));
  });

  it('skips finished repositories on a second run and looks again at the ones with problems', async () => {
    assert.equal(second.resumed, 1); // team/multi
    assert.deepEqual(second.blobs, { linked: 0, copied: 0, present: 2 }); // the configs of team/gone and team/bad, looked at again
    assert.equal(await metadata.resolveTag('team/multi', 'v1'), indexDigest);
  });
});

describe('registry:2 import across file systems (filesystem driver, no link possible)', { skip: process.getuid?.() !== 0 && 'needs root to mount' }, () => {
  let dir: string;
  let source: string;
  let mounted = false;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dockyard-import-xdev-'));
    source = join(dir, 'other-fs');
    mkdirSync(source);
    mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', source]).status === 0;
  });
  after(() => {
    if (mounted) spawnSync('umount', [source]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies (and verifies) what it cannot hard-link', async (t) => {
    if (!mounted) return t.skip('tmpfs cannot be mounted here');
    const image = new Registry2Writer(source).image('team/app', 'layer', 'v1');
    const driver = new FilesystemDriver(join(dir, 'dockyard'));
    const metadata = await KnexMetadataStore.open({ client: 'sqlite', filename: ':memory:' });
    try {
      const summary = await importRegistry2({ source, storage: driver, metadata, manifestMaxBytes: 1 << 20, view: quiet });
      assert.deepEqual(summary.blobs, { linked: 0, copied: 2, present: 0 });
      assert.equal(statSync(join(dir, 'dockyard', 'blobs', 'sha256', image.blobs[0].slice(7, 9), image.blobs[0].slice(7), 'data')).nlink, 1);
      assert.equal(await metadata.resolveTag('team/app', 'v1'), image.manifest);
    } finally {
      await metadata.close();
    }
  });
});

describe('import progress', () => {
  const summary: ImportSummary = { repositories: 1, tags: 0, manifests: 0, blobs: { linked: 1, copied: 0, present: 0 }, bytes: 2 * 1024 * 1024, resumed: 0, skipped: [] };

  function drive(isTTY: boolean): string {
    const stream = Object.assign(new PassThrough(), { isTTY });
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const view = progressView(stream);
    view.start({ repositories: 2, blobs: 4 });
    view.event('blob sha256:aa linked (5 bytes)');
    view.tick(summary);
    view.event('skipped blob sha256:bb: corrupt');
    view.finish();
    return text;
  }

  it('draws a bar in place on a terminal', () => {
    const text = drive(true);
    assert.match(text, /\r\[#{8} {22}\] 1\/4 blobs, 1\/2 repositories, 2\.0 MB/);
    assert.match(text, /skipped blob sha256:bb: corrupt\n/);
    assert.doesNotMatch(text, /linked \(5 bytes\)/);
  });

  it('writes plain lines otherwise', () => {
    assert.equal(drive(false), 'importing 2 repositories, 4 blobs\nblob sha256:aa linked (5 bytes)\nskipped blob sha256:bb: corrupt\n');
  });
});
