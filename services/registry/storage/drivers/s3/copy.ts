/**
 * Copies inside the store, for move(): one CopyObject up to S3's 5 GiB limit for it,
 * a multipart copy (UploadPartCopy in ranges) beyond. Neither sends bytes through the
 * registry.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { s3Call } from './client.js';
import { copySource } from './writer-state.js';
import type { S3Context } from './writer.js';

/** Where one CopyObject stops and a multipart copy starts, and the range of each copied part. */
export interface CopyLimits {
  singleCopyMaxBytes: number;
  partBytes: number;
}

export const S3_COPY_LIMITS: CopyLimits = { singleCopyMaxBytes: 5 * 1024 ** 3, partBytes: 1024 ** 3 };

/** Copies the object at `sourceKey` (of `size` bytes) to `destKey`. */
export async function copyObject(ctx: S3Context, limits: CopyLimits, path: string, sourceKey: string, destKey: string, size: number): Promise<void> {
  const { client, bucket } = ctx;
  const CopySource = copySource(bucket, sourceKey);
  if (size <= limits.singleCopyMaxBytes) {
    await s3Call('CopyObject', path, () => client.send(new CopyObjectCommand({ Bucket: bucket, Key: destKey, CopySource })));
    return;
  }
  const created = await s3Call('CreateMultipartUpload', path, () => client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: destKey })));
  const UploadId = created.UploadId!;
  try {
    const Parts: Array<{ PartNumber: number; ETag?: string }> = [];
    for (let start = 0; start < size; start += limits.partBytes) {
      const PartNumber = Parts.length + 1;
      const CopySourceRange = `bytes=${start}-${Math.min(size, start + limits.partBytes) - 1}`;
      const copied = await s3Call('UploadPartCopy', path, () =>
        client.send(new UploadPartCopyCommand({ Bucket: bucket, Key: destKey, UploadId, PartNumber, CopySource, CopySourceRange })),
      );
      Parts.push({ PartNumber, ETag: copied.CopyPartResult?.ETag });
    }
    await s3Call('CompleteMultipartUpload', path, () =>
      client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: destKey, UploadId, MultipartUpload: { Parts } })),
    );
  } catch (err) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: destKey, UploadId })).catch(() => undefined);
    throw err;
  }
}
