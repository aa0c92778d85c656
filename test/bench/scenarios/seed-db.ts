/**
 * Fast seeding of Dockyard's registry through its MetadataStore (the same store methods a
 * manifest PUT by tag calls), in large transactions, while the registry runs: SQLite in
 * WAL mode lets a second process write. Blob and manifest bytes are not touched: they were
 * pushed once through the API into a source repository, and content is stored by digest,
 * so every seeded repository serves the same verified bytes. Used for the scaling rows,
 * where 100,000 tags through the API would take longer than the measurement itself.
 */
import { KnexMetadataStore } from '../../../services/registry/metadata/knex-store.js';
import type { DatabaseConfig } from '../../../shared/db/index.js';
import type { SeedImage } from './common.js';

const REPOS_PER_TRANSACTION = 250;

/** Links the image's blobs, records its manifest and points every tag at it, in each repository. */
export async function seedRepositoriesInDatabase(database: DatabaseConfig, repos: string[], image: SeedImage, tags: string[]): Promise<void> {
  const store = await KnexMetadataStore.open(database);
  try {
    for (let start = 0; start < repos.length; start += REPOS_PER_TRANSACTION) {
      await store.transaction(async (tx) => {
        for (const repo of repos.slice(start, start + REPOS_PER_TRANSACTION)) {
          await store.linkBlob(repo, image.config.digest, image.config.bytes.length, tx);
          await store.linkBlob(repo, image.layer.digest, image.layer.bytes.length, tx);
          await store.putManifest(
            repo,
            {
              digest: image.manifest.digest,
              mediaType: image.manifest.mediaType,
              size: image.manifest.bytes.length,
              artifactType: null,
              subject: null,
              annotations: null,
              blobs: [image.config.digest, image.layer.digest],
              manifests: [],
            },
            tx,
          );
          for (const tag of tags) await store.putTag(repo, tag, image.manifest.digest, tx);
        }
      });
    }
  } finally {
    await store.close();
  }
}

const TAGS_PER_TRANSACTION = 5_000;

/** Links the image's blobs and records its manifest in one repository, then points every tag at it. */
export async function seedTagsInDatabase(database: DatabaseConfig, repo: string, image: SeedImage, tags: string[]): Promise<void> {
  await seedRepositoriesInDatabase(database, [repo], image, []);
  const store = await KnexMetadataStore.open(database);
  try {
    for (let start = 0; start < tags.length; start += TAGS_PER_TRANSACTION) {
      await store.transaction(async (tx) => {
        for (const tag of tags.slice(start, start + TAGS_PER_TRANSACTION)) await store.putTag(repo, tag, image.manifest.digest, tx);
      });
    }
  } finally {
    await store.close();
  }
}
