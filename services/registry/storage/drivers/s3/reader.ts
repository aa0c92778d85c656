/**
 * Positional reads of an S3 object: the shared ranged reader (object-store/ranged-reader.ts)
 * over one ranged GetObject from a position to the end.
 */
import type { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { RangedReader } from '../object-store/ranged-reader.js';
import { mapS3Error, s3Call } from './client.js';
import type { S3Context } from './writer.js';

export class S3FileReader extends RangedReader {
  constructor(ctx: S3Context, path: string, size: number) {
    const { client, bucket, keys } = ctx;
    super(
      size,
      async (position, end) => {
        const got = await s3Call('GetObject', path, () =>
          client.send(new GetObjectCommand({ Bucket: bucket, Key: keys.key(path), Range: `bytes=${position}-${end - 1}` })),
        );
        return got.Body as Readable;
      },
      (err) => mapS3Error('GetObject', path, err),
    );
  }
}
