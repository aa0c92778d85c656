/**
 * Blob upload throughput in the three shapes clients use: monolithic (POST, then PUT with
 * the body), chunked (PATCH with Content-Range per chunk) and streamed (one PATCH without
 * a length). Every round pushes fresh blobs and then HEADs each one to check it landed.
 */
import { closedLoop, type Budget } from '../load.js';
import { BlobFactory, type SyntheticBlob } from '../content.js';
import type { RegistryClient } from '../oci.js';
import type { Profile } from '../profile.js';
import { pushScopes, withRegistry } from './common.js';
import type { Measured, Scenario, Target } from './types.js';

const MiB = 1024 * 1024;

/** `1m`, `256m`: the size part of scenario ids. */
function sizeLabel(bytes: number): string {
  return `${bytes / MiB}m`;
}

/** `1 MiB`, `256 MiB`: sizes in descriptions. */
function sizeText(bytes: number): string {
  return `${bytes / MiB} MiB`;
}

/** Blob factories are costly to create for large sizes (one hash over the prefix), so share them. */
const factories = new Map<number, BlobFactory>();
function factory(size: number): BlobFactory {
  let made = factories.get(size);
  if (!made) {
    made = new BlobFactory(size, 'blob-push');
    factories.set(size, made);
  }
  return made;
}

type PushShape = (registry: RegistryClient, repo: string, blob: SyntheticBlob) => Promise<number>;

function pushScenario(id: string, description: string, size: number, budget: Budget, push: PushShape): Scenario {
  const repo = `bench/${id}`;
  return {
    id,
    description,
    unit: 'MiB/s',
    latency: size <= MiB,
    on: 'registries',
    modes: ['none'],
    budget,
    async prepare() {
      factory(size);
    },
    round(target: Target, round: number): Promise<Measured> {
      return withRegistry(target, 1, pushScopes(repo), async (registry) => {
        const blobFor = (i: number) => factory(size).blob(`${id}/${round}/${i}`);
        const measured = await target.measure(() => closedLoop(1, budget, (i) => push(registry, repo, blobFor(i))));
        for (let i = 0; i < measured.ops; i++) await registry.headBlob(repo, blobFor(i));
        return measured;
      });
    },
  };
}

/** Monolithic, chunked and streamed blob pushes. */
export function blobPushScenarios(profile: Profile): Scenario[] {
  const { smallBlob, largeBlob, chunked } = profile;
  return [
    pushScenario(
      `push-mono-${sizeLabel(smallBlob.size)}`,
      `monolithic push (POST + PUT with body) of distinct ${sizeText(smallBlob.size)} blobs, one connection`,
      smallBlob.size,
      { seconds: profile.rateSeconds * 2, maxOps: smallBlob.count },
      (registry, repo, blob) => registry.pushMonolithic(repo, blob),
    ),
    pushScenario(
      `push-mono-${sizeLabel(largeBlob.size)}`,
      `monolithic push of ${largeBlob.count} distinct ${sizeText(largeBlob.size)} blobs, one connection`,
      largeBlob.size,
      { seconds: largeBlob.seconds, maxOps: largeBlob.count },
      (registry, repo, blob) => registry.pushMonolithic(repo, blob),
    ),
    pushScenario(
      `push-chunked-${sizeLabel(chunked.chunk)}`,
      `chunked push of ${sizeText(chunked.size)} blobs: POST, PATCH ${sizeText(chunked.chunk)} chunks with Content-Range, PUT`,
      chunked.size,
      { seconds: largeBlob.seconds, maxOps: chunked.count },
      (registry, repo, blob) => registry.pushChunked(repo, blob, chunked.chunk),
    ),
    pushScenario(
      'push-streamed',
      `streamed push of ${sizeText(largeBlob.size)} blobs: POST, one PATCH without length, PUT`,
      largeBlob.size,
      { seconds: largeBlob.seconds, maxOps: largeBlob.count },
      (registry, repo, blob) => registry.pushStreamed(repo, blob),
    ),
  ];
}
