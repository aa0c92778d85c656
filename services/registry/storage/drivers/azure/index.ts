/**
 * StorageDriver on Azure Blob Storage, configured as CNCF distribution's azure driver is
 * (`storage.azure`, see docs/storage.md). Blobs live at `<rootdirectory>/<path>` in one
 * container; directories are name prefixes. Writers stage blocks and commit the block list
 * (writer.ts), so an upload's PATCH leaves a complete blob that any replica can continue;
 * reads are ranged downloads (reader.ts). Azure has no rename: move() is a Copy Blob inside
 * the account, then a delete (docs/storage.md says why that is the one copy an upload
 * makes, and what it costs). Every call is bounded and retried by the SDK (client.ts); a
 * store that still fails surfaces as StorageUnavailableError (503), a missing blob as
 * PathNotFoundError. Tested by the storage contract suite against Azurite.
 */
import { Readable } from 'node:stream';
import { BlobSASPermissions, generateBlobSASQueryParameters, type BlockBlobClient, type ContainerClient, type StorageSharedKeyCredential } from '@azure/storage-blob';
import type { AzureStorageConfig } from '../../../../../shared/config/index.js';
import { checkPath, InvalidPathError, PathNotFoundError, StorageUnavailableError, type FileInfo, type FileReader, type FileWriter, type StorageDriver } from '../../driver.js';
import { azureCall, createAzureClients, describeAzureError, failureOf, mapAzureError } from './client.js';
import { BlobNames } from './names.js';
import { AzureFileReader, DOWNLOAD_RESUMES } from './reader.js';
import { readAll } from './streams.js';
import { AzureFileWriter, type AzureContext } from './writer.js';

/** Bytes per staged block, as distribution's azure driver: two per writer in memory; 50,000 blocks (Azure's limit) make 195 GiB. */
export const AZURE_BLOCK_BYTES = 4 * 1024 * 1024;
/** Lifetime of a SAS blob URL for redirects (as distribution's). */
const SAS_URL_SECONDS = 20 * 60;
/** A Copy Blob that Azure finishes asynchronously is polled this often, for at most this long. */
const COPY_POLL_MS = 500;
const COPY_MAX_MS = 30 * 60_000;
/** The readiness probe answers within this, whatever the retries would allow. */
const PING_TIMEOUT_MS = 5_000;
/** Deletes in flight at once when removing a tree. */
const DELETE_CONCURRENCY = 16;

function checkRange(offset: number, length: number | undefined): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`invalid offset: ${offset}`);
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) throw new RangeError(`invalid length: ${length}`);
}

export class AzureDriver implements StorageDriver {
  readonly name = 'azure';
  readonly container: ContainerClient;
  private readonly credential: StorageSharedKeyCredential;
  private readonly ctx: AzureContext;

  constructor(
    readonly config: AzureStorageConfig,
    blockSize = AZURE_BLOCK_BYTES,
  ) {
    const { container, credential } = createAzureClients(config);
    this.container = container;
    this.credential = credential;
    this.ctx = { container, names: new BlobNames(config.rootDirectory), blockSize };
  }

  private blob(path: string): BlockBlobClient {
    return this.container.getBlockBlobClient(this.ctx.names.name(path));
  }

  async getContent(path: string): Promise<Buffer> {
    const got = await azureCall('Download', path, () => this.blob(path).download(0, undefined, { maxRetryRequests: DOWNLOAD_RESUMES }));
    return readAll(got.readableStreamBody);
  }

  async putContent(path: string, data: Buffer): Promise<void> {
    if (checkPath(path) === '/') throw new InvalidPathError(path);
    await this.assertNoBlobAbove(path);
    // One Put Blob replaces the blob atomically and is durable when Azure answers.
    await azureCall('PutBlob', path, () => this.blob(path).upload(data, data.length));
  }

  async reader(path: string, offset = 0, length?: number): Promise<Readable> {
    checkRange(offset, length);
    const { size } = await this.properties(path);
    const end = length === undefined ? size : Math.min(size, offset + length);
    if (offset >= end) return Readable.from([]);
    const got = await azureCall('Download', path, () => this.blob(path).download(offset, end - offset, { maxRetryRequests: DOWNLOAD_RESUMES }));
    return got.readableStreamBody as Readable;
  }

  async openReader(path: string): Promise<FileReader> {
    const { size } = await this.properties(path);
    return new AzureFileReader(this.blob(path), path, size);
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    if (checkPath(path) === '/') throw new InvalidPathError(path);
    return AzureFileWriter.open(this.ctx, path, append);
  }

  async stat(path: string): Promise<FileInfo> {
    if (checkPath(path) === '/') return { path, size: 0, modTime: new Date(), isDirectory: true };
    try {
      const { size, modTime } = await this.properties(path);
      return { path, size, modTime, isDirectory: false };
    } catch (err) {
      if (!(err instanceof PathNotFoundError)) throw err;
    }
    const prefix = this.ctx.names.dirPrefix(path);
    const first = await azureCall('ListBlobs', path, async () => {
      const page = await this.container.listBlobsFlat({ prefix }).byPage({ maxPageSize: 1 }).next();
      return page.done ? undefined : page.value.segment.blobItems[0];
    });
    if (!first) throw new PathNotFoundError(path);
    return { path, size: 0, modTime: first.properties.lastModified ?? new Date(), isDirectory: true };
  }

  async list(path: string): Promise<string[]> {
    const prefix = this.ctx.names.dirPrefix(path);
    const found = new Set<string>();
    await azureCall('ListBlobs', path, async () => {
      for await (const item of this.container.listBlobsByHierarchy('/', { prefix })) found.add(this.ctx.names.pathOf(item.name));
    });
    if (found.size === 0 && path !== '/') throw new PathNotFoundError(path);
    return [...found].sort();
  }

  /**
   * A Copy Blob inside the account, then a delete of the source: Azure has no rename.
   * Within one account Azure copies without the bytes leaving the store; a copy it reports
   * as pending is polled until it ends.
   */
  async move(sourcePath: string, destPath: string): Promise<void> {
    if (checkPath(sourcePath) === '/' || checkPath(destPath) === '/') throw new InvalidPathError('/');
    await this.properties(sourcePath);
    const source = this.blob(sourcePath);
    const copied = await azureCall('CopyBlob', sourcePath, async () => {
      const poller = await this.blob(destPath).beginCopyFromURL(source.url, { intervalInMs: COPY_POLL_MS, abortSignal: AbortSignal.timeout(COPY_MAX_MS) });
      return poller.pollUntilDone();
    });
    if (copied.copyStatus !== 'success') {
      throw new StorageUnavailableError(`Azure CopyBlob of ${sourcePath} ended ${copied.copyStatus ?? 'without a status'}`);
    }
    await azureCall('DeleteBlob', sourcePath, () => source.delete());
  }

  /** The blob and every blob below it. */
  async delete(path: string): Promise<void> {
    if (checkPath(path) === '/') throw new InvalidPathError(path);
    const names: string[] = [];
    try {
      await this.properties(path);
      names.push(this.ctx.names.name(path));
    } catch (err) {
      if (!(err instanceof PathNotFoundError)) throw err;
    }
    const prefix = this.ctx.names.dirPrefix(path);
    await azureCall('ListBlobs', path, async () => {
      for await (const item of this.container.listBlobsFlat({ prefix })) names.push(item.name);
    });
    if (names.length === 0) throw new PathNotFoundError(path);
    for (let i = 0; i < names.length; i += DELETE_CONCURRENCY) {
      await Promise.all(
        names.slice(i, i + DELETE_CONCURRENCY).map((name) => azureCall('DeleteBlob', path, () => this.container.getBlockBlobClient(name).deleteIfExists())),
      );
    }
  }

  /** A read-only SAS URL of the blob when redirects are on (storage.redirect.disable: false). */
  async urlFor(path: string): Promise<string | null> {
    if (!this.config.redirect) return null;
    const blob = this.blob(path);
    const now = Date.now();
    const sas = generateBlobSASQueryParameters(
      {
        containerName: this.container.containerName,
        blobName: blob.name,
        permissions: BlobSASPermissions.parse('r'),
        // A few minutes back: the store's clock may be behind ours.
        startsOn: new Date(now - 5 * 60_000),
        expiresOn: new Date(now + SAS_URL_SECONDS * 1000),
      },
      this.credential,
    );
    return `${blob.url}?${sas.toString()}`;
  }

  /** The container answers to this key. */
  async ping(): Promise<void> {
    try {
      await this.container.getProperties({ abortSignal: AbortSignal.timeout(PING_TIMEOUT_MS) });
    } catch (err) {
      const failure = failureOf(err);
      // A HEAD has no body: a 404 is all Azure says about a missing container.
      const problem = failure.statusCode === 404 ? `container ${this.config.container} does not exist` : describeAzureError(failure);
      throw new StorageUnavailableError(`Azure container check failed: ${problem}`, { cause: failure });
    }
  }

  /**
   * Azure would store `a/b` beside a blob `a`; a filesystem cannot, and callers must see one
   * behaviour. The ancestors are checked in parallel (one round trip).
   */
  private async assertNoBlobAbove(path: string): Promise<void> {
    const parts = path.split('/').slice(1, -1);
    const ancestors = parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
    const found = await Promise.all(
      ancestors.map((ancestor) =>
        this.properties(ancestor).then(
          () => true,
          (err: unknown) => {
            if (err instanceof PathNotFoundError) return false;
            throw err;
          },
        ),
      ),
    );
    if (found.includes(true)) throw new InvalidPathError(path);
  }

  private async properties(path: string): Promise<{ size: number; modTime: Date }> {
    try {
      const props = await this.blob(path).getProperties();
      return { size: props.contentLength ?? 0, modTime: props.lastModified ?? new Date() };
    } catch (err) {
      throw mapAzureError('GetBlobProperties', path, err);
    }
  }
}
