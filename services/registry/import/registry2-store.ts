/**
 * Reading a registry:2 (CNCF distribution) filesystem store, read-only:
 *
 *   <v2>/blobs/<alg>/<first 2 hex>/<hex>/data                      blob and manifest bytes
 *   <v2>/repositories/<name…>/_layers/<alg>/<hex>/link              blob linked into the repository
 *   <v2>/repositories/<name…>/_manifests/revisions/<alg>/<hex>/link a manifest of the repository
 *   <v2>/repositories/<name…>/_manifests/tags/<tag>/current/link    what the tag points at
 *
 * where <v2> is `<root>/docker/registry/v2`. A repository is a directory holding
 * `_layers`, `_manifests` or `_uploads`; names nest (`team/app`). Link files hold a digest.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isValidName, isValidTag, tryParseDigest, type Digest } from '../../../shared/grammar/reference.js';

/** One repository of the store and what it holds. */
export interface Registry2Repository {
  name: string;
  /** Blobs linked into the repository. */
  layers: Digest[];
  /** Manifests of the repository. */
  manifests: Digest[];
  /** Tag → digest it points at. */
  tags: Map<string, Digest>;
  /** What could not be read (a bad link file, a name Dockyard refuses). */
  problems: string[];
}

/** The `docker/registry/v2` directory under `root` (or `root` itself when it is one). */
export function findV2Directory(root: string): string | undefined {
  for (const candidate of [join(root, 'docker', 'registry', 'v2'), root]) {
    if (existsSync(join(candidate, 'repositories')) && existsSync(join(candidate, 'blobs'))) return candidate;
  }
  return undefined;
}

async function entries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

const REPOSITORY_MARKERS = ['_layers', '_manifests', '_uploads'];

/** Names of every repository under `<v2>/repositories`, in byte order. */
export async function listRepositories(v2: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string, prefix: string[]): Promise<void> {
    const children = await entries(dir);
    if (prefix.length > 0 && children.some((c) => REPOSITORY_MARKERS.includes(c))) found.push(prefix.join('/'));
    for (const child of children) if (!child.startsWith('_')) await walk(join(dir, child), [...prefix, child]);
  }
  await walk(join(v2, 'repositories'), []);
  return found.sort();
}

/** The digest in a link file, or a problem naming it. */
async function readLink(path: string): Promise<Digest | string> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (err) {
    return `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  return tryParseDigest(text) ?? `${path} holds no digest`;
}

/** Digests of `<dir>/<alg>/<hex>/link`, each checked against its directory name. */
async function linkedDigests(dir: string, problems: string[]): Promise<Digest[]> {
  const digests: Digest[] = [];
  for (const algorithm of await entries(dir)) {
    for (const encoded of await entries(join(dir, algorithm))) {
      const linked = await readLink(join(dir, algorithm, encoded, 'link'));
      if (typeof linked === 'string') problems.push(linked);
      else if (linked.value !== `${algorithm}:${encoded}`) problems.push(`${join(dir, algorithm, encoded)}/link names ${linked.value}`);
      else digests.push(linked);
    }
  }
  return digests;
}

/** Everything the store records for one repository. */
export async function readRepository(v2: string, name: string): Promise<Registry2Repository> {
  const dir = join(v2, 'repositories', ...name.split('/'));
  const repository: Registry2Repository = { name, layers: [], manifests: [], tags: new Map(), problems: [] };
  if (!isValidName(name)) {
    repository.problems.push(`repository name ${name} is not a valid OCI name`);
    return repository;
  }
  repository.layers = await linkedDigests(join(dir, '_layers'), repository.problems);
  repository.manifests = await linkedDigests(join(dir, '_manifests', 'revisions'), repository.problems);
  for (const tag of await entries(join(dir, '_manifests', 'tags'))) {
    if (!isValidTag(tag)) {
      repository.problems.push(`tag ${name}:${tag} is not a valid tag`);
      continue;
    }
    const current = await readLink(join(dir, '_manifests', 'tags', tag, 'current', 'link'));
    if (typeof current === 'string') repository.problems.push(current);
    else repository.tags.set(tag, current);
  }
  return repository;
}

/** Path of a blob's bytes in the store. */
export function blobFile(v2: string, digest: Digest): string {
  return join(v2, 'blobs', digest.algorithm, digest.encoded.slice(0, 2), digest.encoded, 'data');
}
