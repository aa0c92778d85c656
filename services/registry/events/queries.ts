/**
 * The lineage questions, answered from the index the pushes built: bases of an image,
 * images built on an image (direct, then transitively level by level up to a bounded
 * depth), and the stale images of a base tag. A multi-arch index stands for its child
 * image manifests; a result that is a child of an index names the index and its tags,
 * since that is what a client pulls and CI rebuilds.
 */
import { fail } from '../../../shared/http/errors.js';
import type { MetadataStore } from '../metadata/store.js';
import type { ContainingIndex, ImageRef } from './store.js';

/** Deepest transitive walk the API and CLI accept, and the default. */
export const MAX_DEPTH = 10;
export const DEFAULT_DEPTH = 5;
/** Most images one answer lists; a walk stops once it has this many. */
const RESULT_LIMIT = 1000;

/** An image with the names a client would pull it by. */
export interface DescribedImage extends ImageRef {
  tags: string[];
  /** Index manifests (of its repository) listing it as a platform image, with their tags. */
  indexes: ContainingIndex[];
}

export interface Base extends DescribedImage {
  via: 'layers' | 'annotation';
  /** Layer count of the base (layer matches only). */
  layers?: number;
  /** The nearest base; the others are its ancestors. */
  direct: boolean;
}

export interface PlatformBases {
  /** The image manifest (the image itself, or one child of an index). */
  digest: string;
  bases: Base[];
  /** The base annotations as written in the manifest, whether or not the registry holds that base. */
  annotation: { name: string | null; digest: string | null } | null;
}

export interface Dependent extends DescribedImage {
  via: 'layers' | 'annotation';
  /** 1 for images built directly on the one asked about, 2 for images built on those, … */
  generation: number;
}

export interface ResolvedImage extends ImageRef {
  tag?: string;
}

const key = (image: ImageRef) => `${image.repository}@${image.digest}`;

/** The manifest a tag or digest names in the repository; MANIFEST_UNKNOWN when there is none. */
export async function resolveImage(metadata: MetadataStore, repository: string, reference: { tag: string } | { digest: string }): Promise<ResolvedImage> {
  const digest = 'digest' in reference ? reference.digest : await metadata.resolveTag(repository, reference.tag);
  if (digest === null || !(await metadata.getManifest(repository, digest))) {
    const named = 'tag' in reference ? `${repository}:${reference.tag}` : `${repository}@${reference.digest}`;
    throw fail('MANIFEST_UNKNOWN', `${named} is not in the registry`, { name: repository, ...reference });
  }
  return 'tag' in reference ? { repository, digest, tag: reference.tag } : { repository, digest };
}

/** The image manifests an image stands for: an index's children (in its repository), else itself. */
async function platformImages(metadata: MetadataStore, image: ImageRef): Promise<ImageRef[]> {
  const references = await metadata.getManifestReferences(image.repository, image.digest);
  if (!references || references.manifests.length === 0) return [image];
  return references.manifests.map((digest) => ({ repository: image.repository, digest }));
}

async function describe(metadata: MetadataStore, image: ImageRef): Promise<DescribedImage> {
  return {
    repository: image.repository,
    digest: image.digest,
    tags: await metadata.lineage.tagsOf(image),
    indexes: await metadata.lineage.indexesContaining(image),
  };
}

/** Every base of the image (per platform), nearest first. */
export async function basesOf(metadata: MetadataStore, image: ImageRef): Promise<PlatformBases[]> {
  const platforms: PlatformBases[] = [];
  for (const platform of await platformImages(metadata, image)) {
    const lineage = await metadata.lineage.get(platform.repository, platform.digest);
    const bases: Base[] = [];
    const found = await metadata.lineage.imagesWithChain(lineage?.prefixes.slice(0, -1) ?? []);
    for (const match of found) {
      bases.push({ ...(await describe(metadata, match)), via: 'layers', layers: match.layers, direct: match.layers === found[0]!.layers });
    }
    if (lineage?.baseDigest) {
      for (const match of await metadata.lineage.manifestsWithDigest(lineage.baseDigest)) {
        bases.push({ ...(await describe(metadata, match)), via: 'annotation', direct: true });
      }
    }
    const annotated = lineage !== null && (lineage.baseName !== null || lineage.baseDigest !== null);
    platforms.push({ digest: platform.digest, bases, annotation: annotated ? { name: lineage.baseName, digest: lineage.baseDigest } : null });
  }
  return platforms;
}

/** Images built directly on `image`: by layers (their nearest base is this chain) or by annotation. */
async function directDependents(metadata: MetadataStore, image: ImageRef): Promise<Array<ImageRef & { via: Dependent['via'] }>> {
  const found: Array<ImageRef & { via: Dependent['via'] }> = [];
  const lineage = await metadata.lineage.get(image.repository, image.digest);
  const chain = lineage?.prefixes.at(-1);
  if (chain !== undefined) {
    for (const match of await metadata.lineage.imagesExtending(chain, RESULT_LIMIT)) {
      if (match.nearestBase === lineage!.prefixes.length) found.push({ repository: match.repository, digest: match.digest, via: 'layers' });
    }
  }
  for (const match of await metadata.lineage.imagesAnnotatingBase(image.digest, RESULT_LIMIT)) found.push({ ...match, via: 'annotation' });
  return found;
}

/** Images built on the image, generation by generation up to `depth` (1 = direct only). */
export async function dependentsOf(metadata: MetadataStore, image: ImageRef, depth = DEFAULT_DEPTH): Promise<Dependent[]> {
  // An index itself stays in the first frontier: an annotation may name it rather than a platform image.
  let frontier = [image, ...(await platformImages(metadata, image)).filter((platform) => platform.digest !== image.digest)];
  const seen = new Set(frontier.map(key));
  const dependents: Dependent[] = [];
  for (let generation = 1; generation <= depth && frontier.length > 0; generation++) {
    const next: ImageRef[] = [];
    for (const node of frontier) {
      for (const found of await directDependents(metadata, node)) {
        if (seen.has(key(found)) || dependents.length >= RESULT_LIMIT) continue;
        seen.add(key(found));
        next.push(found);
        dependents.push({ ...(await describe(metadata, found)), via: found.via, generation });
      }
    }
    frontier = next;
  }
  return dependents;
}

export interface StaleReport {
  repository: string;
  tag: string;
  /** What the tag points at now (null when it was removed). */
  current: string | null;
  /** What it pointed at before its last move (null when it never moved). */
  previous: string | null;
  movedAt: Date | null;
  movedBy: string | null;
  stale: Dependent[];
}

const isTagged = (image: DescribedImage) => image.tags.length > 0 || image.indexes.some((index) => index.tags.length > 0);

/**
 * The images built on what REPO:TAG pointed at before its last move that are still tagged
 * (directly or through an index) and are not also built on the current digest: what CI
 * should rebuild. An image whose tags all moved to a rebuild is no longer listed.
 */
export async function staleFor(metadata: MetadataStore, repository: string, tag: string, depth = DEFAULT_DEPTH): Promise<StaleReport> {
  const current = await metadata.resolveTag(repository, tag);
  const [last] = await metadata.lineage.tagHistory(repository, tag, 1);
  const report: StaleReport = { repository, tag, current, previous: null, movedAt: null, movedBy: null, stale: [] };
  if (!last || last.oldDigest === null) return report;
  Object.assign(report, { previous: last.oldDigest, movedAt: last.movedAt, movedBy: last.actor });
  report.stale = await staleDependents(metadata, repository, last.oldDigest, current, depth);
  return report;
}

/** The still-tagged images built on `previous` that are not built on `current` (one move of a tag; notifications use it per move). */
export async function staleDependents(metadata: MetadataStore, repository: string, previous: string, current: string | null, depth = DEFAULT_DEPTH): Promise<Dependent[]> {
  // The current base itself is often built on the previous one (`FROM old` + upgrades): it and what is built on it are not stale.
  const currentImage = current === null ? null : { repository, digest: current };
  const rebuilt = new Set(
    currentImage === null
      ? []
      : [currentImage, ...(await platformImages(metadata, currentImage)), ...(await dependentsOf(metadata, currentImage, depth))].map(key),
  );
  const built = await dependentsOf(metadata, { repository, digest: previous }, depth);
  return built.filter((image) => !rebuilt.has(key(image)) && isTagged(image));
}

/** Most moved tags one namespace answer looks at. */
const NAMESPACE_TAG_LIMIT = 500;

/**
 * The stale images of every tag in the namespace that moved (one report per tag with stale
 * images, in repository then tag order): what CI should rebuild after the namespace's base
 * images moved. `visible` keeps only the images (and tags) the caller may see.
 */
export async function staleInNamespace(
  metadata: MetadataStore,
  namespace: string,
  depth = DEFAULT_DEPTH,
  mayPull: (repository: string) => Promise<boolean> = async () => true,
): Promise<StaleReport[]> {
  const reports: StaleReport[] = [];
  for (const { repository, tag } of await metadata.lineage.movedTags(namespace, NAMESPACE_TAG_LIMIT)) {
    if (!(await mayPull(repository))) continue;
    const report = await staleFor(metadata, repository, tag, depth);
    const stale: Dependent[] = [];
    for (const image of report.stale) if (await mayPull(image.repository)) stale.push(image);
    if (stale.length > 0) reports.push({ ...report, stale });
  }
  return reports;
}
