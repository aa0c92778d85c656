/**
 * A manifest may only be stored when what it references is there: its config and layers
 * linked into the same repository (so a push cannot borrow another repository's blobs
 * without a mount), and an index's children stored as manifests in the repository.
 * The subject is the exception the spec makes: it may arrive later, or never.
 */
import { fail } from '../../../shared/http/errors.js';
import type { MetadataStore, Tx } from '../metadata/store.js';
import { mayBeAbsent, type Descriptor, type ParsedManifest } from '../manifests.js';

function blobUnknown(descriptor: Descriptor, where: string) {
  return fail('MANIFEST_BLOB_UNKNOWN', `${where} ${descriptor.digest.value} is not known in this repository`, {
    digest: descriptor.digest.value,
  });
}

function sizeMismatch(descriptor: Descriptor, where: string, actual: number) {
  return fail('MANIFEST_INVALID', `${where} declares size ${descriptor.size} but ${descriptor.digest.value} has ${actual} bytes`, {
    digest: descriptor.digest.value,
    size: actual,
  });
}

async function verifyBlob(metadata: MetadataStore, repository: string, descriptor: Descriptor, where: string, tx?: Tx): Promise<void> {
  const link = await metadata.getBlobLink(repository, descriptor.digest.value, tx);
  if (!link) throw blobUnknown(descriptor, where);
  if (link.size !== descriptor.size) throw sizeMismatch(descriptor, where, link.size);
}

async function verifyChild(metadata: MetadataStore, repository: string, descriptor: Descriptor, where: string, tx?: Tx): Promise<void> {
  const child = await metadata.getManifest(repository, descriptor.digest.value, tx);
  if (!child) throw blobUnknown(descriptor, where);
  if (child.size !== descriptor.size) throw sizeMismatch(descriptor, where, child.size);
}

/**
 * Throws MANIFEST_BLOB_UNKNOWN (detail: the digest) for the first reference missing from
 * the repository, or MANIFEST_INVALID when a descriptor's size contradicts what is stored.
 * With `tx` the reads run in that transaction (a caller holding locks must not wait for a
 * second connection).
 */
export async function verifyReferences(metadata: MetadataStore, repository: string, manifest: ParsedManifest, tx?: Tx): Promise<void> {
  if (manifest.config) await verifyBlob(metadata, repository, manifest.config, 'config', tx);
  for (const [i, layer] of manifest.layers.entries()) {
    if (!mayBeAbsent(layer)) await verifyBlob(metadata, repository, layer, `layers[${i}]`, tx);
  }
  for (const [i, child] of manifest.manifests.entries()) {
    await verifyChild(metadata, repository, child, `manifests[${i}]`, tx);
  }
}

/** The digests a manifest references, as the metadata store records them. */
export function referencedDigests(manifest: ParsedManifest): { blobs: string[]; manifests: string[] } {
  const blobs = [...(manifest.config ? [manifest.config] : []), ...manifest.layers].map((d) => d.digest.value);
  return { blobs: [...new Set(blobs)], manifests: [...new Set(manifest.manifests.map((d) => d.digest.value))] };
}
