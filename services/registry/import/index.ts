/**
 * Import of an existing registry:2 (CNCF distribution) filesystem store into Dockyard:
 * every repository, tag, manifest (schema 2 and OCI images, manifest lists and indexes)
 * and blob, through the same seams the registry serves from (StorageDriver for bytes,
 * MetadataStore for the index), so it works for any driver and database. Each blob is
 * verified while it streams (blob-transfer.ts) and hard-linked when the driver keeps local
 * files on the same file system; a corrupt or missing blob is reported and left out, with
 * every manifest that needs it and every tag on such a manifest. Every step is idempotent
 * and a repository is recorded as done only after its last commit (progress.ts), so a run
 * killed at any moment is finished by running the same command again. The command line is
 * cli.ts (`npm run import -- registry2 PATH`); `importRegistry2` is for other front ends.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Digest } from '../../../shared/grammar/reference.js';
import { isDockyardError } from '../../../shared/http/errors.js';
import { parseManifest, type ParsedManifest } from '../manifests.js';
import { referencedDigests, verifyReferences } from '../manifests/references.js';
import type { MetadataStore } from '../metadata/store.js';
import { BlobStore, digestOf } from '../storage/blobs.js';
import { PathNotFoundError, type StorageDriver } from '../storage/driver.js';
import { importScratchDirectory } from '../storage/paths.js';
import { transferBlob, type BlobOutcome } from './blob-transfer.js';
import { ProgressRecord, emptySummary, type ImportSummary, type ProgressView } from './progress.js';
import { blobFile, findV2Directory, listRepositories, readRepository, type Registry2Repository } from './registry2-store.js';

export { formatSummary, progressView, type ImportSummary, type ProgressView } from './progress.js';

/** What an import works with. */
export interface ImportOptions {
  /** The registry:2 storage root (holding docker/registry/v2) or the v2 directory itself. */
  source: string;
  storage: StorageDriver;
  metadata: MetadataStore;
  /** Largest manifest accepted (the registry's registry.limits.manifestmaxbytes). */
  manifestMaxBytes: number;
  view: ProgressView;
}

/** The source path is not a registry:2 store. */
export class NotARegistry2Store extends Error {
  constructor(readonly path: string) {
    super(`${path} is not a registry:2 store: no docker/registry/v2/repositories and blobs under it`);
    this.name = 'NotARegistry2Store';
  }
}

interface Run {
  v2: string;
  options: ImportOptions;
  blobs: BlobStore;
  scratch: string;
  summary: ImportSummary;
  /** Blob outcomes of this run: a blob shared by repositories is handled once. */
  outcomes: Map<string, BlobOutcome>;
}

function reason(err: unknown): string {
  if (isDockyardError(err)) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

async function blob(run: Run, digest: Digest): Promise<BlobOutcome> {
  const known = run.outcomes.get(digest.value);
  if (known) return known;
  const outcome = await transferBlob(run.options.storage, blobFile(run.v2, digest), digest, run.scratch);
  run.outcomes.set(digest.value, outcome);
  if ('reason' in outcome) {
    run.summary.skipped.push(`blob ${digest.value}: ${outcome.state} (${outcome.reason})`);
    run.options.view.event(`skipped blob ${digest.value}: ${outcome.state}`);
  } else {
    run.summary.blobs[outcome.state] += 1;
    if (outcome.state !== 'present') run.summary.bytes += outcome.size;
    run.options.view.event(`blob ${digest.value} ${outcome.state} (${outcome.size} bytes)`);
  }
  run.options.view.tick(run.summary);
  return outcome;
}

/** A manifest read from the store, verified against its digest and parsed, or why not. */
async function readManifest(run: Run, digest: Digest): Promise<{ bytes: Buffer; parsed: ParsedManifest } | string> {
  const file = blobFile(run.v2, digest);
  try {
    const { size } = await stat(file);
    if (size > run.options.manifestMaxBytes) return `larger than registry.limits.manifestmaxbytes (${size} bytes)`;
    const bytes = await readFile(file);
    const actual = digestOf(bytes, digest.algorithm);
    if (actual.value !== digest.value) return `corrupt: content hashes to ${actual.value}`;
    return { bytes, parsed: parseManifest(bytes) };
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing from the blob store' : reason(err);
  }
}

interface PendingManifest {
  digest: Digest;
  bytes: Buffer;
  parsed: ParsedManifest;
  problem?: string;
}

/** Stores one manifest once what it references is in the repository; the problem otherwise. */
async function storeManifest(run: Run, repository: string, entry: PendingManifest): Promise<string | undefined> {
  const { metadata } = run.options;
  try {
    await verifyReferences(metadata, repository, entry.parsed);
  } catch (err) {
    return reason(err);
  }
  await run.blobs.putBytes(entry.bytes, entry.digest.algorithm);
  await metadata.putManifest(repository, {
    digest: entry.digest.value,
    mediaType: entry.parsed.mediaType,
    size: entry.bytes.length,
    artifactType: entry.parsed.artifactType,
    subject: entry.parsed.subject?.digest.value ?? null,
    annotations: entry.parsed.annotations,
    ...referencedDigests(entry.parsed),
  });
  return undefined;
}

/**
 * Stores the repository's manifests. An index needs its children stored first, so what
 * fails is tried again while each round stores something (indexes of indexes included).
 */
async function importManifests(run: Run, repository: Registry2Repository): Promise<Set<string>> {
  const stored = new Set<string>();
  let pending: PendingManifest[] = [];
  for (const digest of repository.manifests) {
    const manifest = await readManifest(run, digest);
    if (typeof manifest === 'string') run.summary.skipped.push(`manifest ${repository.name}@${digest.value}: ${manifest}`);
    else pending.push({ digest, ...manifest });
  }
  while (pending.length > 0) {
    const failed: PendingManifest[] = [];
    for (const entry of pending) {
      const problem = await storeManifest(run, repository.name, entry);
      if (problem === undefined) stored.add(entry.digest.value);
      else failed.push({ ...entry, problem });
    }
    if (failed.length === pending.length) {
      run.summary.skipped.push(...failed.map((f) => `manifest ${repository.name}@${f.digest.value}: ${f.problem}`));
      break;
    }
    pending = failed;
  }
  run.summary.manifests += stored.size;
  return stored;
}

/** Imports one repository; returns the line that reports it. */
async function importRepository(run: Run, repository: Registry2Repository): Promise<string> {
  const { metadata } = run.options;
  run.summary.skipped.push(...repository.problems.map((p) => `${repository.name}: ${p}`));
  for (const digest of repository.layers) {
    const outcome = await blob(run, digest);
    if (!('reason' in outcome)) await metadata.linkBlob(repository.name, digest.value, outcome.size);
  }
  const stored = await importManifests(run, repository);
  let tags = 0;
  for (const [tag, digest] of repository.tags) {
    if (!stored.has(digest.value)) {
      run.summary.skipped.push(`tag ${repository.name}:${tag}: its manifest ${digest.value} was not imported`);
      continue;
    }
    await metadata.putTag(repository.name, tag, digest.value);
    tags += 1;
  }
  run.summary.tags += tags;
  return `repository ${repository.name}: ${stored.size} manifests, ${tags} tags`;
}

/** Runs (or resumes) the import of the store at `options.source`; resolves with the summary. */
export async function importRegistry2(options: ImportOptions): Promise<ImportSummary> {
  const v2 = findV2Directory(options.source);
  if (!v2) throw new NotARegistry2Store(options.source);
  const record = await ProgressRecord.load(options.storage, v2);
  const scratch = importScratchDirectory(record.sourceKey);
  try {
    // Blobs in flight when an earlier run was killed: never moved into place, so garbage.
    await options.storage.delete(scratch);
  } catch (err) {
    if (!(err instanceof PathNotFoundError)) throw err;
  }
  const run: Run = { v2, options, blobs: new BlobStore(options.storage), scratch, summary: emptySummary(), outcomes: new Map() };
  const names = await listRepositories(v2);
  const repositories: Registry2Repository[] = [];
  for (const name of names) repositories.push(await readRepository(v2, name));
  const todo: Registry2Repository[] = [];
  for (const repository of repositories) {
    // A record without the data (the database was replaced) does not count.
    if (record.isDone(repository.name) && (await options.metadata.repositoryExists(repository.name))) run.summary.resumed += 1;
    else todo.push(repository);
  }
  const blobCount = new Set(todo.flatMap((r) => r.layers.map((d) => d.value))).size;
  options.view.start({ repositories: repositories.length, blobs: blobCount });
  run.summary.repositories = run.summary.resumed;
  for (const repository of todo) {
    const skippedBefore = run.summary.skipped.length;
    const report = await importRepository(run, repository);
    // A repository with something left out is looked at again by the next run.
    if (run.summary.skipped.length === skippedBefore) await record.markDone(repository.name);
    run.summary.repositories += 1;
    options.view.event(report);
  }
  options.view.finish();
  return run.summary;
}
