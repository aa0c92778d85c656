/**
 * Sizes and limits of a bench run in one place: `full` is the real measurement, `quick`
 * a smoke run of every scenario in about a minute.
 */
const MiB = 1024 * 1024;

/** Every size, count and duration the scenarios use. */
export interface Profile {
  name: 'quick' | 'full';
  /** Measured rounds per target per scenario (targets alternate between rounds). */
  rounds: number;
  /** Seconds one round of a request-rate scenario may run. */
  rateSeconds: number;
  smallBlob: { size: number; count: number };
  largeBlob: { size: number; count: number; seconds: number };
  chunked: { size: number; chunk: number; count: number };
  pull: { size: number; count: number };
  /** Tags in the tag-listing repository. */
  tagListTags: number;
  imagePush: { clients: number; imagesPerClient: number };
  scaling: { smallRepos: number; largeRepos: number; tagsPerRepo: number; seedSeconds: number };
  /** The memory scenario: one blob this large pushed (streamed PATCH) and pulled per round. */
  hugeBlob: { size: number; seconds: number };
  /** Dockyard-only scaling: repositories (with tagsPerRepo tags each) and tags in one repository, small vs large. */
  dockyardScaling: { smallRepos: number; largeRepos: number; tagsPerRepo: number; smallTags: number; largeTags: number };
  /** Web UI page rows: repositories (one tag each) and tags in one repository, small vs large deployment. */
  webScaling: { smallRepos: number; largeRepos: number; smallTags: number; largeTags: number };
  /** GC rows: unreferenced blobs (of blobSize bytes) per GC run, pushing clients, seconds of a round without GC. */
  gc: { blobs: number; blobSize: number; clients: number; idleSeconds: number };
  /** Connections used to seed (tags, repositories). */
  seedConnections: number;
}

/** The profile for `--quick` (true) or a full run (false). */
export function profileFor(quick: boolean): Profile {
  if (quick) {
    return {
      name: 'quick',
      rounds: 1,
      rateSeconds: 0.25,
      smallBlob: { size: MiB, count: 20 },
      largeBlob: { size: 16 * MiB, count: 2, seconds: 10 },
      chunked: { size: 16 * MiB, chunk: 8 * MiB, count: 2 },
      pull: { size: 16 * MiB, count: 3 },
      tagListTags: 300,
      imagePush: { clients: 8, imagesPerClient: 2 },
      scaling: { smallRepos: 5, largeRepos: 50, tagsPerRepo: 10, seedSeconds: 30 },
      hugeBlob: { size: 64 * MiB, seconds: 60 },
      dockyardScaling: { smallRepos: 10, largeRepos: 1_000, tagsPerRepo: 2, smallTags: 300, largeTags: 3_000 },
      webScaling: { smallRepos: 10, largeRepos: 1_000, smallTags: 100, largeTags: 3_000 },
      gc: { blobs: 2_000, blobSize: 4096, clients: 4, idleSeconds: 2 },
      seedConnections: 16,
    };
  }
  return {
    name: 'full',
    rounds: 2,
    rateSeconds: 5,
    smallBlob: { size: MiB, count: 500 },
    largeBlob: { size: 256 * MiB, count: 3, seconds: 60 },
    chunked: { size: 256 * MiB, chunk: 8 * MiB, count: 2 },
    pull: { size: 256 * MiB, count: 4 },
    tagListTags: 10_000,
    imagePush: { clients: 8, imagesPerClient: 20 },
    scaling: { smallRepos: 100, largeRepos: 10_000, tagsPerRepo: 10, seedSeconds: 900 },
    hugeBlob: { size: 2048 * MiB, seconds: 600 },
    dockyardScaling: { smallRepos: 100, largeRepos: 100_000, tagsPerRepo: 2, smallTags: 1_000, largeTags: 100_000 },
    webScaling: { smallRepos: 100, largeRepos: 100_000, smallTags: 100, largeTags: 100_000 },
    gc: { blobs: 100_000, blobSize: 4096, clients: 4, idleSeconds: 20 },
    seedConnections: 32,
  };
}
