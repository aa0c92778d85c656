/**
 * What the tag/digest page shows, fetched through `/v2` with the user's token: the
 * manifest (an index's platforms, each with its manifest), each image's config (history,
 * labels), the referrers, and the lineage API's bases and dependents. Only small JSON
 * documents are read (manifests, configs up to CONFIG_MAX_BYTES), never a layer.
 */
import { repositoryScope, UpstreamError, type Upstream } from '../upstream.js';
import type { Session } from '../session.js';

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');
const CONFIG_MAX_BYTES = 1024 * 1024;
const IMAGE_CONFIG_TYPES = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);
/** At most this many platforms of an index are opened (their configs read) on one page. */
const PLATFORMS_OPENED = 12;

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string; variant?: string };
}

interface ManifestJson {
  mediaType?: string;
  artifactType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
  annotations?: Record<string, string>;
}

interface ConfigJson {
  created?: string;
  config?: { Labels?: Record<string, string> | null; Entrypoint?: string[] | null; Cmd?: string[] | null };
  history?: Array<{ created?: string; created_by?: string; empty_layer?: boolean; comment?: string }>;
}

export interface ImageDetails {
  digest: string;
  platform: string | null;
  mediaType: string;
  artifactType: string | null;
  config: Descriptor | null;
  layers: Descriptor[];
  /** The parsed image config, when it is one (null for other artifacts or one too large). */
  imageConfig: ConfigJson | null;
  annotations: Record<string, string>;
}

export interface ImageView {
  name: string;
  reference: { tag: string } | { digest: string };
  digest: string;
  mediaType: string;
  /** An index: its platform entries (all), and the opened images (the first PLATFORMS_OPENED). */
  platforms: Descriptor[] | null;
  images: ImageDetails[];
  annotations: Record<string, string>;
  referrers: Descriptor[];
  bases: Array<{ repository: string; digest: string; tags: string[] }>;
  dependents: Array<{ repository: string; digest: string; tags: string[] }>;
  actions: Set<string>;
}

export function platformText(p: Descriptor['platform']): string | null {
  return p?.os && p.architecture ? [p.os, p.architecture, p.variant].filter(Boolean).join('/') : null;
}

async function manifest(upstream: Upstream, session: Session | undefined, name: string, reference: string): Promise<{ digest: string; json: ManifestJson; mediaType: string }> {
  const res = await upstream.registry(session, repositoryScope(name), `/v2/${name}/manifests/${reference}`, { headers: { Accept: MANIFEST_ACCEPT } });
  const json = (await res.json()) as ManifestJson;
  const mediaType = json.mediaType ?? res.headers.get('content-type') ?? '';
  return { digest: res.headers.get('docker-content-digest') ?? reference, json, mediaType };
}

async function imageConfig(upstream: Upstream, session: Session | undefined, name: string, config: Descriptor | undefined): Promise<ConfigJson | null> {
  if (!config || !IMAGE_CONFIG_TYPES.has(config.mediaType ?? '') || config.size > CONFIG_MAX_BYTES) return null;
  const res = await upstream.registry(session, repositoryScope(name), `/v2/${name}/blobs/${config.digest}`);
  const text = await res.text();
  try {
    return JSON.parse(text) as ConfigJson;
  } catch {
    return null;
  }
}

async function details(upstream: Upstream, session: Session | undefined, name: string, digest: string, platform: string | null, json?: ManifestJson, mediaType?: string): Promise<ImageDetails> {
  const m = json ? { json, mediaType: mediaType ?? '' } : await manifest(upstream, session, name, digest);
  return {
    digest,
    platform,
    mediaType: m.mediaType,
    artifactType: m.json.artifactType ?? null,
    config: m.json.config ?? null,
    layers: m.json.layers ?? [],
    imageConfig: await imageConfig(upstream, session, name, m.json.config),
    annotations: m.json.annotations ?? {},
  };
}

/** Lineage answers are a bonus: a registry without the lineage API still shows the page. */
async function lineage<T>(run: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof UpstreamError && err.failure !== 'unavailable' && err.failure !== 'session-expired') return fallback;
    throw err;
  }
}

export async function loadImage(upstream: Upstream, session: Session | undefined, name: string, reference: ImageView['reference']): Promise<ImageView> {
  const scope = repositoryScope(name);
  const top = await manifest(upstream, session, name, 'tag' in reference ? reference.tag : reference.digest);
  const isIndex = Array.isArray(top.json.manifests);
  const platforms = isIndex ? top.json.manifests! : null;
  const images = isIndex
    ? await Promise.all(platforms!.slice(0, PLATFORMS_OPENED).map((p) => details(upstream, session, name, p.digest, platformText(p.platform))))
    : [await details(upstream, session, name, top.digest, null, top.json, top.mediaType)];
  const image = encodeURIComponent(`${name}@${top.digest}`);
  const [referrers, bases, dependents, actions] = await Promise.all([
    upstream.registryJson<{ manifests?: Descriptor[] }>(session, scope, `/v2/${name}/referrers/${top.digest}`).then((r) => r.body.manifests ?? [], () => []),
    lineage(async () => {
      const { body } = await upstream.registryJson<{ platforms: Array<{ bases: Array<{ repository: string; digest: string; tags: string[] }> }> }>(session, `${scope} registry:catalog:*`, `/api/v1/images/bases?image=${image}`);
      const seen = new Map<string, { repository: string; digest: string; tags: string[] }>();
      for (const p of body.platforms) for (const b of p.bases) seen.set(`${b.repository}@${b.digest}`, b);
      return [...seen.values()];
    }, []),
    lineage(async () => (await upstream.registryJson<{ dependents: Array<{ repository: string; digest: string; tags: string[] }> }>(session, `${scope} registry:catalog:*`, `/api/v1/images/dependents?image=${image}`)).body.dependents, []),
    upstream.repositoryActions(session, name),
  ]);
  return { name, reference, digest: top.digest, mediaType: top.mediaType, platforms, images, annotations: top.json.annotations ?? {}, referrers, bases, dependents, actions };
}
