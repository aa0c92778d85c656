/**
 * Removes what the bench's registries wrote into their S3 buckets, so a run on a shared or
 * small RGW never accumulates: one blob's objects after a round that wrote gigabytes, and
 * every bucket (objects, unfinished multipart uploads, the bucket itself) when the run ends.
 * Both registries keep a blob under a key holding its hex digest (Dockyard
 * `blobs/sha256/ab/<hex>/data`, distribution `docker/registry/v2/blobs/sha256/ab/<hex>/data`
 * plus a repository link `…/_layers/sha256/<hex>/link`).
 */
import {
  AbortMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { S3StorageConfig } from '../../shared/config/index.js';
import { createS3Client } from '../../services/registry/storage/drivers/s3/client.js';

/** A client of the bench's own, configured as Dockyard's driver configures one (Pacific's RGW wants Content-MD5 on DeleteObjects, which it adds). */
export function cleanupClient(config: S3StorageConfig): S3Client {
  return createS3Client(config);
}

async function keys(client: S3Client, bucket: string): Promise<string[]> {
  const found: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const object of page.Contents ?? []) if (object.Key) found.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found;
}

async function deleteKeys(client: S3Client, bucket: string, names: string[]): Promise<void> {
  for (let i = 0; i < names.length; i += 1000) {
    const batch = names.slice(i, i + 1000).map((Key) => ({ Key }));
    const answer = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } }));
    if (answer.Errors?.length) throw new Error(`deleting from ${bucket}: ${answer.Errors.map((e) => `${e.Key}: ${e.Code}`).join(', ')}`);
  }
}

/** Deletes every object whose key holds the digest's hex; returns how many there were. */
export async function deleteBlobObjects(client: S3Client, bucket: string, digest: string): Promise<number> {
  const hex = digest.slice(digest.indexOf(':') + 1);
  const matching = (await keys(client, bucket)).filter((key) => key.includes(hex));
  await deleteKeys(client, bucket, matching);
  return matching.length;
}

/** Aborts unfinished multipart uploads, deletes every object and then the bucket. */
export async function removeBucket(client: S3Client, bucket: string): Promise<void> {
  let uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  while ((uploads.Uploads ?? []).length > 0) {
    for (const upload of uploads.Uploads ?? []) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }));
    }
    if (!uploads.IsTruncated) break;
    uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  }
  await deleteKeys(client, bucket, await keys(client, bucket));
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}
