/**
 * The Azure FileWriter: a block blob grown by staged blocks. Appended bytes are staged as
 * blocks of `blockSize` (one stages while the next fills, so memory stays at two blocks
 * per writer); commit, close and suspend all end with one Put Block List naming the blocks
 * the blob already had followed by the new ones. Azure assembles the blob from blocks it
 * already holds, so no byte is sent or copied twice, and Azure has no minimum block size,
 * so nothing is left over between requests.
 *
 * - suspend() is therefore a commit: the blob at the path is complete and readable after
 *   every PATCH, the next append-open (on any replica) reads its committed block list and
 *   continues. No side object is needed, and stat/reader/move see ordinary blobs.
 * - Blocks staged but never committed (a request that died) are invisible; the next Put
 *   Block List discards them, and Azure deletes uncommitted blocks after a week.
 * - truncate() works at block boundaries (where a failed request started, the only cut
 *   uploads make) or inside the unsent buffer; cutting inside a staged block is refused.
 * - A blob written by putContent (one Put Blob, no block list) is appended to by reading it
 *   into the buffer when it is below one block, else by reading and staging it again block
 *   by block (uploads never take that path; Put Block From URL would copy inside the store,
 *   but Azurite, which the tests run on, does not implement it).
 */
import { randomBytes } from 'node:crypto';
import type { BlockBlobClient, ContainerClient } from '@azure/storage-blob';
import type { FileWriter } from '../../driver.js';
import { PartWriter } from '../object-store/part-writer.js';
import { azureCall, isBlobNotFound, mapAzureError } from './client.js';
import type { BlobNames } from './names.js';
import { readAll } from './streams.js';

/** What every Azure operation of the driver needs. */
export interface AzureContext {
  container: ContainerClient;
  names: BlobNames;
  /** Bytes per staged block. */
  blockSize: number;
}

interface Block {
  id: string;
  size: number;
}

/** Block ids must have one length within a blob: 18 random bytes are always 24 base64 characters. */
function newBlockId(): string {
  return randomBytes(18).toString('base64');
}

export class AzureFileWriter extends PartWriter<{ error: unknown; block: Block }> implements FileWriter {
  /** The blob's blocks in order: those committed before, then those this writer staged. */
  private blocks: Block[] = [];
  /** The name had a block list at open (committed, or only staged blocks of a request that died). */
  private existed = false;
  /** Blocks were staged on this name: a cancel must discard them even if nothing was committed. */
  private staged = false;
  private readonly blob: BlockBlobClient;

  private constructor(
    private readonly ctx: AzureContext,
    private readonly path: string,
  ) {
    super();
    this.blob = ctx.container.getBlockBlobClient(ctx.names.name(path));
  }

  protected get partSize(): number {
    return this.ctx.blockSize;
  }

  static async open(ctx: AzureContext, path: string, append: boolean): Promise<AzureFileWriter> {
    const writer = new AzureFileWriter(ctx, path);
    if (append) await writer.load();
    return writer;
  }

  private async load(): Promise<void> {
    let list;
    try {
      list = await this.blob.getBlockList('committed');
    } catch (err) {
      if (isBlobNotFound(err)) return;
      throw mapAzureError('GetBlockList', this.path, err);
    }
    this.existed = true;
    const committed = (list.committedBlocks ?? []).map(({ name, size }) => ({ id: name, size }));
    const length = list.blobContentLength ?? 0;
    if (committed.reduce((sum, block) => sum + block.size, 0) === length) {
      this.blocks = committed;
      return;
    }
    // Written whole by Put Blob: there are no blocks to name.
    if (length <= this.ctx.blockSize) {
      const got = await azureCall('Download', this.path, () => this.blob.download(0));
      this.fill(await readAll(got.readableStreamBody));
      return;
    }
    for (let offset = 0; offset < length; offset += this.ctx.blockSize) {
      const count = Math.min(this.ctx.blockSize, length - offset);
      const got = await azureCall('Download', this.path, () => this.blob.download(offset, count));
      const data = await readAll(got.readableStreamBody);
      const block = { id: newBlockId(), size: data.length };
      await azureCall('StageBlock', this.path, () => this.blob.stageBlock(block.id, data, data.length));
      this.staged = true;
      this.blocks.push(block);
    }
  }

  get size(): number {
    return this.stagedSize() + this.filled;
  }

  async truncate(size: number): Promise<void> {
    this.assertOpen();
    // Not settle(): a failed stage is exactly what a truncation back to the start drops.
    while (this.inflight) await this.inflight;
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size) {
      throw new RangeError(`cannot truncate to ${size} bytes (size ${this.size})`);
    }
    this.dirty = true;
    const staged = this.stagedSize();
    if (size >= staged && !this.failure) {
      this.filled = size - staged;
      return;
    }
    let kept = 0;
    let count = 0;
    while (count < this.blocks.length && kept + this.blocks[count].size <= size) kept += this.blocks[count++].size;
    const failedKept = this.failure !== null && this.blocks.indexOf(this.failure.block) < count;
    if (kept !== size || failedKept) {
      if (this.failure) throw this.failure.error;
      throw new Error(`cannot truncate ${this.path} to ${size} bytes: that is inside a block already sent`);
    }
    this.failure = null;
    this.blocks = this.blocks.slice(0, count);
    this.filled = 0;
  }

  async commit(): Promise<void> {
    await this.finish();
  }

  async close(): Promise<void> {
    await this.finish();
  }

  async suspend(): Promise<void> {
    if (!this.dirty) {
      this.assertOpen();
      this.closed = true;
      return;
    }
    await this.finish();
  }

  async cancel(): Promise<void> {
    this.closed = true;
    while (this.inflight) await this.inflight;
    // Committing no block discards every staged one, also those of a name never committed,
    // which a delete alone may not reach; the delete then removes the (now empty) blob.
    if (this.staged || this.existed) await azureCall('PutBlockList', this.path, () => this.blob.commitBlockList([]));
    await azureCall('DeleteBlob', this.path, () => this.blob.deleteIfExists());
  }

  /** Stages what is buffered and commits every block in order: the blob is whole, atomically. */
  private async finish(): Promise<void> {
    this.assertOpen();
    this.closed = true;
    await this.settle();
    // Always committed, even with nothing new: a name holding only staged blocks (its first
    // request died) answers Get Block List like an empty blob, and only a commit makes it one.
    if (this.filled > 0) {
      await this.sendBuffer();
      await this.settle();
    }
    const ids = this.blocks.map((block) => block.id);
    await azureCall('PutBlockList', this.path, () => this.blob.commitBlockList(ids));
  }

  /** Stages the buffer as the next block, in the background; waits for the previous one first. */
  protected async sendBuffer(): Promise<void> {
    await this.settle();
    const data = this.pending();
    const block = { id: newBlockId(), size: data.length };
    this.blocks.push(block);
    this.buffer = null;
    this.filled = 0;
    this.staged = true;
    this.background(
      azureCall('StageBlock', this.path, () => this.blob.stageBlock(block.id, data, data.length)),
      () => {},
      (error) => ({ error, block }),
    );
  }

  private stagedSize(): number {
    let total = 0;
    for (const block of this.blocks) total += block.size;
    return total;
  }
}
