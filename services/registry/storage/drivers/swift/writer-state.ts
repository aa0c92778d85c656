/**
 * What a suspended Swift writer leaves at `<key>/.writer`, in one object written by one PUT:
 * a 4-byte header length, a JSON header (segment set, segments so far) and the tail bytes
 * below one segment. Its total size rides along as object metadata, so stat() needs no body.
 */
import type { SegmentRef } from './segments.js';

/** Object metadata on the state object: the writer's total size. */
export const STATE_SIZE_HEADER = 'x-object-meta-dockyard-size';

export function encodeState(set: string, segments: readonly SegmentRef[], tail: Buffer): Buffer {
  const header = Buffer.from(JSON.stringify({ version: 1, set, segments: segments.map((s) => [s.etag, s.size]) }));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(header.length);
  return Buffer.concat([length, header, tail]);
}

export function decodeState(body: Buffer, key: string): { set: string; segments: SegmentRef[]; tail: Buffer } {
  const headerLength = body.length >= 4 ? body.readUInt32BE(0) : -1;
  if (headerLength < 0 || 4 + headerLength > body.length) throw new Error(`corrupt writer state at ${key}`);
  const parsed = JSON.parse(body.subarray(4, 4 + headerLength).toString('utf8')) as { set: string; segments: Array<[string, number]> };
  return { set: parsed.set, segments: parsed.segments.map(([etag, size]) => ({ etag, size })), tail: body.subarray(4 + headerLength) };
}
