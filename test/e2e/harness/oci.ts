/**
 * Checks on what clients leave behind and what the registry serves: digests of files
 * (streamed), manifests of an OCI layout a client pulled into, and raw registry requests
 * for the status and error code an anonymous client would see.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** `sha256:<hex>` of a file, read as a stream. */
export async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** What a tag names in an OCI layout: its digest and raw bytes (a manifest or an index). */
export interface LayoutEntry {
  digest: string;
  bytes: Buffer;
  /** Path of any blob in the layout. */
  blobPath(digest: string): string;
}

/** Reads the manifest or index `tag` names in the OCI layout at `dir` (`skopeo copy … oci:DIR:TAG`). */
export async function readLayoutEntry(dir: string, tag: string): Promise<LayoutEntry> {
  const blobPath = (digest: string): string => join(dir, 'blobs', ...digest.split(':'));
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as {
    manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
  };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!entry) throw new Error(`tag ${tag} not in ${dir}/index.json`);
  return { digest: entry.digest, bytes: await readFile(blobPath(entry.digest)), blobPath };
}

/** An image manifest in an OCI layout with its config and layer digests. */
export interface LayoutImage extends LayoutEntry {
  configDigest: string;
  layerDigests: string[];
}

/** Reads the image manifest `tag` names in the OCI layout at `dir`. */
export async function readLayoutImage(dir: string, tag: string): Promise<LayoutImage> {
  const entry = await readLayoutEntry(dir, tag);
  const manifest = JSON.parse(entry.bytes.toString('utf8')) as { config?: { digest: string }; layers?: Array<{ digest: string }> };
  if (!manifest.config || !manifest.layers) throw new Error(`${tag} in ${dir} is not an image manifest`);
  return { ...entry, configDigest: manifest.config.digest, layerDigests: manifest.layers.map((layer) => layer.digest) };
}

/** A registry response reduced to what tests compare. */
export interface RegistryResponse {
  status: number;
  contentType: string | null;
  digest: string | null;
  body: Buffer;
  /** `errors[].code` of a JSON error body, else empty. */
  errorCodes: string[];
}

/** Raw `GET url` (no credentials) with optional Accept; the body is small (manifests, errors). */
export async function registryGet(url: string, accept: readonly string[] = []): Promise<RegistryResponse> {
  const response = await fetch(url, { headers: accept.length ? { accept: accept.join(', ') } : {} });
  const body = Buffer.from(await response.arrayBuffer());
  let errorCodes: string[] = [];
  if (response.status >= 400) {
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: unknown }> };
      errorCodes = (parsed.errors ?? []).map((e) => String(e.code));
    } catch {
      errorCodes = [];
    }
  }
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    digest: response.headers.get('docker-content-digest'),
    body,
    errorCodes,
  };
}
