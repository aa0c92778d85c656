/**
 * Walks what a registry left on disk, with the registry stopped (typically right after a
 * SIGKILL), and checks that the metadata and the blob store agree: every tag names a
 * stored manifest, every manifest's bytes and every linked or referenced blob is present,
 * complete and hashes to its digest, and every upload session's metadata is whole.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import Database from 'better-sqlite3';

/** What the walk found; `problems` must be empty for a consistent store. */
export interface StoreAudit {
  problems: string[];
  tags: number;
  manifests: number;
  links: number;
  blobFiles: number;
  uploadSessions: number;
  /** Upload directories without session metadata (a crash between mkdir and write); purge removes them. */
  orphanUploads: number;
  /** Hidden temp files a crash left behind mid-write (invisible to every reader). */
  tempFiles: number;
  /** Blob directories without data: a crash between mkdir and rename; invisible, refilled by the next push. */
  emptyBlobDirs: number;
}

/** Where a registry keeps things under DOCKYARD_DATA_DIR (shared/config/build.ts defaults). */
export function registryPaths(dataDir: string, storageRoot?: string): { database: string; storageRoot: string } {
  return { database: join(dataDir, 'registry', 'registry.sqlite'), storageRoot: storageRoot ?? join(dataDir, 'registry', 'blobs') };
}

function blobFile(storageRoot: string, digest: string): string {
  const [algorithm, encoded] = digest.split(':') as [string, string];
  return join(storageRoot, 'blobs', algorithm, encoded.slice(0, 2), encoded, 'data');
}

async function hashFile(path: string, algorithm: string): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function listDir(path: string): string[] {
  return existsSync(path) ? readdirSync(path) : [];
}

function countTempFiles(dir: string): number {
  let count = 0;
  for (const entry of listDir(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) count += countTempFiles(path);
    // Temp files live in <root>/.tmp (older versions left hidden ones beside their objects).
    else if (entry.endsWith('.tmp') && (entry.startsWith('.') || dir.endsWith(`${sep}.tmp`))) count += 1;
  }
  return count;
}

interface Row {
  repository: string;
  digest: string;
  size?: number;
}

/**
 * Checks the database and blob store of a stopped registry. `verified` remembers blob files
 * already hashed right (by digest, size and mtime), so auditing after every crash of a run
 * hashes each file once.
 */
export async function auditRegistryStore(paths: { database: string; storageRoot: string }, verified = new Set<string>()): Promise<StoreAudit> {
  const problems: string[] = [];
  const db = new Database(paths.database, { fileMustExist: true });
  let tags: Row[];
  let manifests: Row[];
  let links: Row[];
  let references: Array<Row & { kind: string; manifest: string }>;
  try {
    tags = db
      .prepare(`select r.name as repository, t.name as tag, t.digest as digest from tags t join repositories r on r.id = t.repository_id`)
      .all() as Row[];
    manifests = db.prepare(`select r.name as repository, m.digest as digest, m.size as size from manifests m join repositories r on r.id = m.repository_id`).all() as Row[];
    links = db.prepare(`select r.name as repository, l.digest as digest, l.size as size from blob_links l join repositories r on r.id = l.repository_id`).all() as Row[];
    references = db
      .prepare(
        `select r.name as repository, m.digest as manifest, mr.kind as kind, mr.digest as digest
         from manifest_references mr join manifests m on m.id = mr.manifest_id join repositories r on r.id = m.repository_id`,
      )
      .all() as Array<Row & { kind: string; manifest: string }>;
  } finally {
    db.close();
  }

  const manifestKeys = new Set(manifests.map((m) => `${m.repository}@${m.digest}`));
  const linkKeys = new Set(links.map((l) => `${l.repository}@${l.digest}`));
  for (const tag of tags as Array<Row & { tag: string }>) {
    if (!manifestKeys.has(`${tag.repository}@${tag.digest}`)) problems.push(`tag ${tag.repository}:${tag.tag} → ${tag.digest}: no such manifest`);
  }
  const sizeOnDisk = (digest: string): number | null => {
    const path = blobFile(paths.storageRoot, digest);
    return existsSync(path) ? statSync(path).size : null;
  };
  for (const manifest of manifests) {
    const size = sizeOnDisk(manifest.digest);
    if (size === null) problems.push(`manifest ${manifest.repository}@${manifest.digest}: bytes missing from the blob store`);
    else if (size !== Number(manifest.size)) problems.push(`manifest ${manifest.repository}@${manifest.digest}: ${size} bytes stored, ${manifest.size} recorded`);
  }
  for (const link of links) {
    const size = sizeOnDisk(link.digest);
    if (size === null) problems.push(`blob link ${link.repository}@${link.digest}: content missing from the blob store`);
    else if (size !== Number(link.size)) problems.push(`blob link ${link.repository}@${link.digest}: ${size} bytes stored, ${link.size} recorded`);
  }
  for (const ref of references) {
    const key = `${ref.repository}@${ref.digest}`;
    if (ref.kind === 'blob' && !linkKeys.has(key)) problems.push(`manifest ${ref.repository}@${ref.manifest} references blob ${ref.digest}, not linked`);
    if (ref.kind === 'manifest' && !manifestKeys.has(key)) problems.push(`index ${ref.repository}@${ref.manifest} references manifest ${ref.digest}, not stored`);
  }

  // Every stored blob, linked or not, must be complete: a partial file under /blobs is
  // exactly what content addressing promises never to show.
  let blobFiles = 0;
  let emptyBlobDirs = 0;
  const blobsRoot = join(paths.storageRoot, 'blobs');
  for (const algorithm of listDir(blobsRoot)) {
    for (const fanout of listDir(join(blobsRoot, algorithm))) {
      if (fanout.startsWith('.')) continue;
      for (const encoded of listDir(join(blobsRoot, algorithm, fanout))) {
        if (encoded.startsWith('.')) continue;
        const data = join(blobsRoot, algorithm, fanout, encoded, 'data');
        if (!existsSync(data)) {
          emptyBlobDirs += 1;
          continue;
        }
        blobFiles += 1;
        const info = statSync(data);
        const key = `${algorithm}:${encoded}:${info.size}:${info.mtimeMs}`;
        if (verified.has(key)) continue;
        const actual = await hashFile(data, algorithm);
        if (actual === encoded) verified.add(key);
        else problems.push(`blob ${algorithm}:${encoded} holds bytes hashing to ${actual} (${info.size} bytes): partial or corrupt`);
      }
    }
  }

  let uploadSessions = 0;
  let orphanUploads = 0;
  const uploadsRoot = join(paths.storageRoot, 'uploads');
  for (const id of listDir(uploadsRoot)) {
    if (id.startsWith('.')) continue;
    const info = join(uploadsRoot, id, 'info.json');
    if (!existsSync(info)) {
      orphanUploads += 1;
      continue;
    }
    uploadSessions += 1;
    try {
      const parsed = JSON.parse(readFileSync(info, 'utf8')) as Record<string, unknown>;
      if (typeof parsed.repository !== 'string' || typeof parsed.startedAt !== 'string') problems.push(`upload ${id}: info.json lacks fields`);
    } catch {
      problems.push(`upload ${id}: info.json is not whole JSON`);
    }
  }

  return {
    problems,
    tags: tags.length,
    manifests: manifests.length,
    links: links.length,
    blobFiles,
    uploadSessions,
    orphanUploads,
    tempFiles: countTempFiles(paths.storageRoot),
    emptyBlobDirs,
  };
}
