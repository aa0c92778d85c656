/**
 * The memory scenario: a blob far larger than any buffer should be (2 GiB in the full
 * profile) pushed as `docker push` does (POST, one streamed PATCH without a length, PUT)
 * and pulled back, hashed as it streams. The content is generated as views of one shared
 * block (content.ts), so neither side of the bench holds it; the table's peak RSS column
 * is the server's process tree during each, which the issue wants under 200 MB for Dockyard.
 */
import { closedLoop } from '../load.js';
import { BlobFactory, type SyntheticBlob } from '../content.js';
import type { Profile } from '../profile.js';
import { pushScopes, withRegistry } from './common.js';
import type { Scenario, TargetName } from './types.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const REPO = 'bench/huge';

/** `2g`, `64m`: the size part of the ids. */
function sizeLabel(bytes: number): string {
  return bytes % GiB === 0 ? `${bytes / GiB}g` : `${bytes / MiB}m`;
}

/** `2 GiB`, `64 MiB`: sizes in descriptions. */
function sizeText(bytes: number): string {
  return bytes % GiB === 0 ? `${bytes / GiB} GiB` : `${bytes / MiB} MiB`;
}

/** Streamed push and pull of one huge blob per round, with the server's peak RSS. */
export function hugeBlobScenarios(profile: Profile): Scenario[] {
  const { size, seconds } = profile.hugeBlob;
  const label = sizeLabel(size);
  const text = sizeText(size);
  let blobs: BlobFactory | undefined;
  // Creating the factory hashes the shared prefix once (about a second for 2 GiB): done in prepare, untimed.
  const factory = (): BlobFactory => (blobs ??= new BlobFactory(size, 'huge-blob'));
  const blob = (id: string): SyntheticBlob => factory().blob(id);
  // The pull reads a blob the push rows already stored (verified by HEAD), so no extra copy is written.
  const stored = new Map<TargetName, SyntheticBlob>();
  const budget = { seconds, maxOps: 1 };

  return [
    {
      id: `rss-push-streamed-${label}`,
      description: `streamed push (POST, one PATCH without length, PUT) of one ${text} blob per round; peak RSS is the point (target: Dockyard < 200 MB)`,
      unit: 'MiB/s',
      latency: false,
      on: 'registries',
      modes: ['none'],
      budget,
      async prepare() {
        factory();
      },
      round(target, round) {
        return withRegistry(target, 1, pushScopes(REPO), async (registry) => {
          const pushed = blob(`push/${round}`);
          const measured = await target.measure(() => closedLoop(1, budget, () => registry.pushStreamed(REPO, pushed)));
          await registry.headBlob(REPO, pushed);
          // A store the run could fill (s3) loses each round's blob at once; the pull row pushes its own.
          if (target.deleteStoredBlob) await target.deleteStoredBlob(pushed.digest);
          else if (!stored.has(target.name)) stored.set(target.name, pushed);
          return measured;
        });
      },
    },
    {
      id: `rss-pull-blob-${label}`,
      description: `GET of one ${text} blob per round, hashed as it streams; peak RSS is the point (target: Dockyard < 200 MB)`,
      unit: 'MiB/s',
      latency: false,
      on: 'registries',
      modes: ['none'],
      budget,
      async prepare(target) {
        if (stored.has(target.name)) return;
        const pushed = blob('pull');
        await withRegistry(target, 1, pushScopes(REPO), (registry) => registry.pushStreamed(REPO, pushed));
        stored.set(target.name, pushed);
        return `pushed the ${text} blob untimed (${target.deleteStoredBlob ? 'the push rows delete theirs' : 'no push row ran before'})`;
      },
      async round(target, round) {
        const pulled = stored.get(target.name) as SyntheticBlob;
        const measured = await withRegistry(target, 1, pushScopes(REPO), (registry) => target.measure(() => closedLoop(1, budget, () => registry.pullBlob(REPO, pulled))));
        if (target.deleteStoredBlob && round === profile.rounds - 1) {
          await target.deleteStoredBlob(pulled.digest);
          stored.delete(target.name);
        }
        return measured;
      },
    },
  ];
}
