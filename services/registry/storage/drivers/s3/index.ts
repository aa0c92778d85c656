/**
 * StorageDriver on S3 and the S3-compatible stores (Ceph RGW, MinIO, …), configured as
 * CNCF distribution's s3 driver is (`storage.s3`, see docs/storage.md). Objects live at
 * `<rootdirectory>/<path>`; directories are key prefixes. Writers are multipart uploads
 * that can be suspended between requests (writer.ts); reads are ranged GETs (reader.ts).
 * Every call has a connect and an idle timeout and is retried by the SDK (client.ts); a
 * store that still fails surfaces as StorageUnavailableError (503), a missing object as
 * PathNotFoundError. Tested by the storage contract suite against a real Ceph RGW.
 */
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3StorageConfig } from '../../../../../shared/config/index.js';
import { checkPath, InvalidPathError, PathNotFoundError, StorageUnavailableError, type FileInfo, type FileReader, type FileWriter, type StorageDriver } from '../../driver.js';
import { createS3Client, describeS3Error, isNotFound, mapS3Error, s3Call } from './client.js';
import { KeySpace, WRITER_STATE_NAME } from './keys.js';
import { S3FileReader } from './reader.js';
import { S3DirectReader } from './direct-reader.js';
import { S3FileWriter, type S3Context } from './writer.js';
import { bodyBytes, STATE_SIZE_METADATA } from './writer-state.js';
import { copyObject, S3_COPY_LIMITS, type CopyLimits } from './copy.js';

function checkRange(offset: number, length: number | undefined): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`invalid offset: ${offset}`);
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) throw new RangeError(`invalid length: ${length}`);
}

/** Lifetime of a presigned blob URL. */
const PRESIGNED_URL_SECONDS = 20 * 60;

/**
 * From this size on, openReader reads through direct-reader.ts (a connection per download,
 * no SDK stream); smaller objects keep the SDK's pooled keep-alive connections, for which a
 * new connection (and TLS handshake) would cost more than the bytes.
 */
export const DIRECT_READ_MIN_BYTES = 1024 * 1024;

/** Keys per DeleteObjects request (the S3 maximum). */
const DELETE_BATCH = 1000;

export class S3Driver implements StorageDriver {
  readonly name = 's3';
  readonly client: S3Client;
  private readonly ctx: S3Context;

  /**
   * `copyLimits`: S3's own unless a test makes the multipart copy reachable with small
   * objects; `directReadMinBytes` likewise for the direct read path.
   */
  constructor(
    readonly config: S3StorageConfig,
    private readonly copyLimits: CopyLimits = S3_COPY_LIMITS,
    private readonly directReadMinBytes = DIRECT_READ_MIN_BYTES,
  ) {
    this.client = createS3Client(config);
    this.ctx = { client: this.client, bucket: config.bucket, keys: new KeySpace(config.rootDirectory), partSize: config.chunkSize };
  }

  private get bucket(): string {
    return this.ctx.bucket;
  }

  private key(path: string): string {
    return this.ctx.keys.key(path);
  }

  async getContent(path: string): Promise<Buffer> {
    const got = await s3Call('GetObject', path, () => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) })));
    return bodyBytes(got.Body);
  }

  async putContent(path: string, data: Buffer): Promise<void> {
    if (checkPath(path) === '/') throw new InvalidPathError(path);
    await this.assertNoObjectAbove(path);
    // One PUT replaces the object atomically and is durable when S3 answers.
    await s3Call('PutObject', path, () =>
      this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(path), Body: data, ContentLength: data.length })),
    );
  }

  async reader(path: string, offset = 0, length?: number): Promise<Readable> {
    checkRange(offset, length);
    const size = (await this.headObject(path)).size;
    const end = length === undefined ? size : Math.min(size, offset + length);
    if (offset >= end) return Readable.from([]);
    const got = await s3Call('GetObject', path, () =>
      this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path), Range: `bytes=${offset}-${end - 1}` })),
    );
    return got.Body as Readable;
  }

  async openReader(path: string): Promise<FileReader> {
    const { size } = await this.headObject(path);
    if (size >= this.directReadMinBytes) return new S3DirectReader(this.ctx, path, size, !this.config.skipVerify);
    return new S3FileReader(this.ctx, path, size);
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    if (checkPath(path) === '/') throw new InvalidPathError(path);
    return S3FileWriter.open(this.ctx, path, append);
  }

  async stat(path: string): Promise<FileInfo> {
    if (checkPath(path) === '/') return { path, size: 0, modTime: new Date(), isDirectory: true };
    try {
      const { size, modTime } = await this.headObject(path);
      return { path, size, modTime, isDirectory: false };
    } catch (err) {
      if (!(err instanceof PathNotFoundError)) throw err;
    }
    // Not an object: a directory (keys below it), a suspended writer (only its state below it), or nothing.
    const prefix = this.ctx.keys.dirPrefix(path);
    const listed = await s3Call('ListObjectsV2', path, () =>
      this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: 2 })),
    );
    const contents = listed.Contents ?? [];
    if (contents.length === 0) throw new PathNotFoundError(path);
    if (contents.length === 1 && contents[0].Key === prefix + WRITER_STATE_NAME) {
      const head = await s3Call('HeadObject', path, () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: prefix + WRITER_STATE_NAME })));
      return { path, size: Number(head.Metadata?.[STATE_SIZE_METADATA] ?? 0), modTime: head.LastModified ?? new Date(), isDirectory: false };
    }
    return { path, size: 0, modTime: contents[0].LastModified ?? new Date(), isDirectory: true };
  }

  async list(path: string): Promise<string[]> {
    const prefix = this.ctx.keys.dirPrefix(path);
    const found = new Set<string>();
    let token: string | undefined;
    let anyKey = false;
    do {
      const page = await s3Call('ListObjectsV2', path, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token })),
      );
      for (const { Key } of page.Contents ?? []) {
        anyKey = true;
        if (Key !== undefined) found.add(this.ctx.keys.pathOf(Key));
      }
      for (const { Prefix } of page.CommonPrefixes ?? []) {
        anyKey = true;
        if (Prefix !== undefined) found.add(this.ctx.keys.pathOf(Prefix));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (!anyKey && path !== '/') throw new PathNotFoundError(path);
    // Names starting with a dot are the driver's own (writer state), never paths.
    return [...found].filter((entry) => !entry.slice(entry.lastIndexOf('/') + 1).startsWith('.')).sort();
  }

  /**
   * A copy inside the store, then DeleteObject: S3 has no rename. On Ceph RGW a CopyObject
   * shares the source's data (256 MiB in about 0.1 s, docs/storage.md).
   */
  async move(sourcePath: string, destPath: string): Promise<void> {
    if (checkPath(sourcePath) === '/' || checkPath(destPath) === '/') throw new InvalidPathError('/');
    const { size } = await this.headObject(sourcePath);
    await copyObject(this.ctx, this.copyLimits, sourcePath, this.key(sourcePath), this.key(destPath), size);
    await s3Call('DeleteObject', sourcePath, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(sourcePath) })));
  }

  /** The object, every key below it, and the multipart uploads of both (abandoned upload data). */
  async delete(path: string): Promise<void> {
    if (checkPath(path) === '/') throw new InvalidPathError(path);
    const key = this.key(path);
    const prefix = this.ctx.keys.dirPrefix(path);
    let exists = true;
    try {
      await this.headObject(path);
    } catch (err) {
      if (!(err instanceof PathNotFoundError)) throw err;
      exists = false;
    }
    const keys = exists ? [key] : [];
    let token: string | undefined;
    do {
      const page = await s3Call('ListObjectsV2', path, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })),
      );
      for (const { Key } of page.Contents ?? []) if (Key !== undefined) keys.push(Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (keys.length === 0) throw new PathNotFoundError(path);
    await this.abortMultipartUploads(path, key, prefix);
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const Objects = keys.slice(i, i + DELETE_BATCH).map((Key) => ({ Key }));
      const result = await s3Call('DeleteObjects', path, () =>
        this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects, Quiet: true } })),
      );
      const failed = result.Errors?.[0];
      if (failed) throw mapS3Error('DeleteObjects', path, Object.assign(new Error(failed.Message ?? 'delete failed'), { name: failed.Code ?? 'DeleteFailed' }));
    }
  }

  private async abortMultipartUploads(path: string, key: string, prefix: string): Promise<void> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await s3Call('ListMultipartUploads', path, () =>
        this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: key, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker })),
      );
      for (const upload of page.Uploads ?? []) {
        if (upload.Key === undefined || upload.UploadId === undefined) continue;
        if (upload.Key !== key && !upload.Key.startsWith(prefix)) continue;
        const { Key, UploadId } = upload;
        try {
          await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId }));
        } catch (err) {
          // Completed or aborted by someone else meanwhile: gone either way.
          if (!isNotFound(err)) throw mapS3Error('AbortMultipartUpload', path, err);
        }
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
  }

  /**
   * A presigned GET of the object when redirects are on (storage.redirect.disable: false),
   * valid as long as distribution's (20 minutes): long enough to start a large layer.
   */
  async urlFor(path: string): Promise<string | null> {
    if (!this.config.redirect) return null;
    const command = new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) });
    return getSignedUrl(this.client, command, { expiresIn: PRESIGNED_URL_SECONDS });
  }

  /** The bucket answers to these credentials. */
  async ping(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      // HeadBucket has no body: a 404 is all S3 says about a missing bucket.
      const problem = isNotFound(err) ? `bucket ${this.bucket} does not exist` : describeS3Error(err);
      throw new StorageUnavailableError(`S3 bucket check failed: ${problem}`, { cause: err });
    }
  }

  /**
   * S3 would happily store `a/b` beside an object `a`; a filesystem cannot, and callers
   * must see one behaviour. The ancestors are checked in parallel (one round trip).
   */
  private async assertNoObjectAbove(path: string): Promise<void> {
    const parts = path.split('/').slice(1, -1);
    const ancestors = parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
    const found = await Promise.all(
      ancestors.map((ancestor) =>
        this.headObject(ancestor).then(
          () => ancestor,
          (err: unknown) => {
            if (err instanceof PathNotFoundError) return null;
            throw err;
          },
        ),
      ),
    );
    const file = found.find((ancestor) => ancestor !== null);
    if (file) throw new InvalidPathError(path);
  }

  private async headObject(path: string): Promise<{ size: number; modTime: Date }> {
    const head = await s3Call('HeadObject', path, () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(path) })));
    return { size: head.ContentLength ?? 0, modTime: head.LastModified ?? new Date() };
  }
}
