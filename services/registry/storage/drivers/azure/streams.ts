/** Reading the SDK's response bodies. */
import { Readable } from 'node:stream';

/** The whole body of a small object (manifests, session records, putContent data). */
export async function readAll(body: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  if (!body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const chunk of body as Readable) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
