/**
 * Positional reads of a blob: the shared ranged reader (object-store/ranged-reader.ts) over
 * one ranged download from a position to the end. The SDK resumes a download that breaks
 * midway from where it stopped (maxRetryRequests).
 */
import type { Readable } from 'node:stream';
import type { BlockBlobClient } from '@azure/storage-blob';
import { RangedReader } from '../object-store/ranged-reader.js';
import { azureCall, mapAzureError } from './client.js';

/** Times a broken download stream is resumed from where it stopped. */
export const DOWNLOAD_RESUMES = 3;

export class AzureFileReader extends RangedReader {
  constructor(blob: BlockBlobClient, path: string, size: number) {
    super(
      size,
      async (position, end) => {
        const got = await azureCall('Download', path, () =>
          blob.download(position, end - position, { maxRetryRequests: DOWNLOAD_RESUMES }),
        );
        return got.readableStreamBody as Readable;
      },
      (err) => mapAzureError('Download', path, err),
    );
  }
}
