/**
 * What a suspended S3 writer leaves at `<key>/.writer`, in one object written by one PUT:
 * a 4-byte header length, a JSON header (upload id, parts so far) and the tail bytes below
 * one part. Its total size rides along as object metadata, so stat() needs no body.
 */

/** One uploaded part of a multipart upload. */
export interface Part {
  PartNumber: number;
  ETag: string;
  size: number;
}

/** Object metadata on the state object: the writer's total size, so stat() needs no body. */
export const STATE_SIZE_METADATA = 'dockyard-size';

/** CopySource for a key: `bucket/key`, each segment URL-encoded. */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** State object body: 4-byte header length, JSON header, then the tail bytes. */
export function encodeState(uploadId: string | null, parts: readonly Part[], tail: Buffer): Buffer {
  const header = Buffer.from(JSON.stringify({ version: 1, uploadId, parts: parts.map((p) => [p.PartNumber, p.ETag, p.size]) }));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(header.length);
  return Buffer.concat([length, header, tail]);
}

export function decodeState(body: Buffer, key: string): { uploadId: string | null; parts: Part[]; tail: Buffer } {
  const headerLength = body.length >= 4 ? body.readUInt32BE(0) : -1;
  if (headerLength < 0 || 4 + headerLength > body.length) throw new Error(`corrupt writer state at ${key}`);
  const header = JSON.parse(body.subarray(4, 4 + headerLength).toString('utf8')) as { uploadId: string | null; parts: Array<[number, string, number]> };
  return {
    uploadId: header.uploadId,
    parts: header.parts.map(([PartNumber, ETag, size]) => ({ PartNumber, ETag, size })),
    tail: body.subarray(4 + headerLength),
  };
}

export async function bodyBytes(body: { transformToByteArray(): Promise<Uint8Array> } | undefined): Promise<Buffer> {
  if (!body) return Buffer.alloc(0);
  const bytes = await body.transformToByteArray();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

