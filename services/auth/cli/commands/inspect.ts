/**
 * `inspect REPO:TAG`: what an image is made of, read from the registry like a client pulls
 * it: the manifest (an index or list is followed into each platform's manifest), each
 * image's config blob (small JSON: platform, labels, creation time) and the layer sizes
 * the manifests declare. Layer bytes are never downloaded.
 */
import type { RegistryClient } from '../registry-client.js';
import { formatBytes } from '../../../../shared/observability/progress.js';
import { formatTable } from '../format.js';

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

interface ManifestDocument {
  mediaType?: string;
  manifests?: Descriptor[];
  config?: Descriptor;
  layers?: Descriptor[];
}

interface ConfigDocument {
  os?: string;
  architecture?: string;
  variant?: string;
  created?: string;
  config?: { Labels?: Record<string, string> | null };
}

/** One platform's image. */
export interface InspectedImage {
  digest: string;
  mediaType: string;
  platform: string;
  created: string | null;
  labels: Record<string, string>;
  layers: Array<{ digest: string; mediaType: string; size: number }>;
  /** Config plus layers, as stored (compressed). */
  size: number;
}

/** What `inspect` reports. */
export interface Inspection {
  repository: string;
  reference: string;
  digest: string;
  mediaType: string;
  images: InspectedImage[];
}

function platformOf(p: { os?: string; architecture?: string; variant?: string } | undefined): string {
  if (!p?.os && !p?.architecture) return 'unknown';
  return [p.os ?? '?', p.architecture ?? '?', p.variant].filter(Boolean).join('/');
}

async function getManifest(client: RegistryClient, repository: string, reference: string): Promise<{ doc: ManifestDocument; digest: string; mediaType: string }> {
  const res = await client.request('GET', `/v2/${repository}/manifests/${reference}`, `repository:${repository}:pull`, { Accept: MANIFEST_TYPES });
  const doc = (await res.json()) as ManifestDocument;
  return { doc, digest: res.headers.get('docker-content-digest') ?? reference, mediaType: doc.mediaType ?? res.headers.get('content-type') ?? '' };
}

async function inspectManifest(client: RegistryClient, repository: string, digest: string, mediaType: string, doc: ManifestDocument, platform?: Descriptor['platform']): Promise<InspectedImage> {
  let config: ConfigDocument = {};
  if (doc.config) {
    const res = await client.request('GET', `/v2/${repository}/blobs/${doc.config.digest}`, `repository:${repository}:pull`);
    // Configs of images are JSON; an artifact's config may be anything (or empty): no labels then.
    config = ((await res.json().catch(() => ({}))) ?? {}) as ConfigDocument;
  }
  const layers = (doc.layers ?? []).map((l) => ({ digest: l.digest, mediaType: l.mediaType ?? '', size: l.size }));
  return {
    digest,
    mediaType,
    platform: platformOf(platform ?? config),
    created: config.created ?? null,
    labels: config.config?.Labels ?? {},
    layers,
    size: (doc.config?.size ?? 0) + layers.reduce((sum, l) => sum + l.size, 0),
  };
}

/** Reads REPO:REFERENCE from the registry and describes every platform it holds. */
export async function inspectImage(client: RegistryClient, repository: string, reference: string): Promise<Inspection> {
  const top = await getManifest(client, repository, reference);
  const images: InspectedImage[] = [];
  if (top.doc.manifests) {
    for (const entry of top.doc.manifests) {
      const child = await getManifest(client, repository, entry.digest);
      images.push(await inspectManifest(client, repository, entry.digest, child.mediaType, child.doc, entry.platform));
    }
  } else {
    images.push(await inspectManifest(client, repository, top.digest, top.mediaType, top.doc));
  }
  return { repository, reference, digest: top.digest, mediaType: top.mediaType, images };
}

/** The human-readable form of an inspection. */
export function renderInspection(i: Inspection): string {
  const lines = [`${i.repository}:${i.reference}`, `digest     ${i.digest}`, `mediaType  ${i.mediaType}`];
  for (const image of i.images) {
    lines.push('', `platform   ${image.platform}`, `manifest   ${image.digest}`, `created    ${image.created ?? '-'}`, `size       ${formatBytes(image.size)} in ${image.layers.length} layer(s)`);
    const labels = Object.entries(image.labels);
    if (labels.length) lines.push('labels', ...labels.map(([k, v]) => `  ${k}=${v}`));
    lines.push(formatTable(['LAYER', 'SIZE', 'MEDIA TYPE'], image.layers.map((l) => [l.digest, formatBytes(l.size), l.mediaType])).replace(/^/gm, '  '));
  }
  return lines.join('\n');
}
