/**
 * What a push records for lineage: the chain hash of every prefix of an image's layer list,
 * and its base annotations. An index has no layers of its own: each child image manifest
 * was pushed (and recorded) on its own, which is what makes lineage per platform.
 */
import { createHash } from 'node:crypto';
import { tryParseDigest } from '../../../shared/grammar/reference.js';
import type { ParsedManifest } from '../manifests.js';
import type { MetadataStore, Tx } from '../metadata/store.js';
import type { ImageLineage } from './store.js';

const BASE_NAME_ANNOTATION = 'org.opencontainers.image.base.name';
const BASE_DIGEST_ANNOTATION = 'org.opencontainers.image.base.digest';

/**
 * hash_1 = sha256(layer_1), hash_i = sha256(hash_{i-1} + ' ' + layer_i): one hash per prefix,
 * computed in one pass; equal hashes mean equal layer lists from the first layer on.
 */
export function prefixHashes(layerDigests: readonly string[]): string[] {
  const hashes: string[] = [];
  let previous = '';
  for (const layer of layerDigests) {
    previous = createHash('sha256').update(previous === '' ? layer : `${previous} ${layer}`).digest('hex');
    hashes.push(previous);
  }
  return hashes;
}

/**
 * The lineage a manifest contributes. An index contributes no layers, but it is recorded
 * too, so an annotation naming a multi-arch base digest finds it.
 */
export function lineageOf(manifest: ParsedManifest): ImageLineage {
  const annotations = manifest.annotations ?? {};
  const baseName = annotations[BASE_NAME_ANNOTATION] ?? null;
  // A malformed base digest is the image author's mistake, not a reason to refuse the push: it is ignored.
  const baseDigest = tryParseDigest(annotations[BASE_DIGEST_ANNOTATION] ?? '')?.value ?? null;
  return { prefixes: prefixHashes(manifest.layers.map((layer) => layer.digest.value)), baseName, baseDigest };
}

/** Records the manifest's lineage; call it in the transaction that puts the manifest. */
export async function recordLineage(metadata: MetadataStore, repository: string, digest: string, manifest: ParsedManifest, tx: Tx): Promise<void> {
  await metadata.lineage.record(repository, digest, lineageOf(manifest), tx);
}
