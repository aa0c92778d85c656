/**
 * Reading a small request body (a manifest) into memory with a hard bound: a declared
 * Content-Length over the limit is refused before reading, and an undeclared body is
 * read to at most limit+1 bytes. Either way the connection is closed after the answer,
 * so the rest of an oversized body is never read.
 */
import type { IncomingMessage } from 'node:http';
import { DockyardError } from '../../../shared/http/errors.js';

function tooLarge(limit: number): DockyardError {
  return new DockyardError('MANIFEST_INVALID', `manifest exceeds the limit of ${limit} bytes`, {
    status: 413,
    detail: { limit },
    headers: { Connection: 'close' },
  });
}

/** The whole body, or MANIFEST_INVALID with status 413 when it is longer than `limit` bytes. */
export function readBoundedBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) {
        cleanup();
        // Stop reading without destroying the socket, so the 413 can still be written.
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, received));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onAborted = () => {
      cleanup();
      reject(Object.assign(new Error('request aborted'), { code: 'ECONNABORTED' }));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}
