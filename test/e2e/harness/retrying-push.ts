/**
 * A registry client that retries like a real one behind a load balancer: a push is blob
 * uploads (POST, two PATCHes, PUT) then the manifest PUT, and any step that fails (a 5xx from
 * the proxy, a connection that died with its replica) starts that step over from a new
 * upload session. Only a manifest PUT answered 201 counts as acknowledged.
 */
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

const ATTEMPTS = 40;

export interface PushedImage {
  repository: string;
  tag: string;
  manifestDigest: string;
  /** Digest → content of the config and the layers. */
  blobs: Map<string, Buffer>;
}

export function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function retried<T>(what: string, step: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    try {
      return await step();
    } catch (err) {
      last = err;
      await sleep(50);
    }
  }
  const cause = (last as { cause?: unknown } | undefined)?.cause;
  throw new Error(`${what}: still failing after ${ATTEMPTS} attempts: ${String(last)}${cause ? ` (${String(cause)})` : ''}`);
}

async function expect(response: Response, status: number, what: string): Promise<Response> {
  if (response.status !== status) throw new Error(`${what}: ${response.status} ${await response.text()}`);
  return response;
}

/** Uploads `content` in two PATCHes, then pushes a manifest naming it and a config. */
export async function pushWithRetries(base: string, token: () => Promise<string>, repository: string, tag: string, layers: Buffer[]): Promise<PushedImage> {
  const headers = async (): Promise<Record<string, string>> => ({ authorization: `Bearer ${await token()}` });
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(8).toString('hex') }));
  const blobs = new Map<string, Buffer>([[sha256(config), config], ...layers.map((l): [string, Buffer] => [sha256(l), l])]);
  for (const [digest, content] of blobs) {
    await retried(`upload ${digest}`, async () => {
      const post = await expect(await fetch(`${base}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers: await headers() }), 202, 'POST');
      let location = post.headers.get('location')!;
      const half = Math.ceil(content.length / 2);
      for (const [start, chunk] of [[0, content.subarray(0, half)], [half, content.subarray(half)]] as const) {
        if (chunk.length === 0) continue;
        const patch = await fetch(new URL(location, base), {
          method: 'PATCH',
          body: chunk,
          headers: { ...(await headers()), 'content-type': 'application/octet-stream', 'content-range': `${start}-${start + chunk.length - 1}` },
        });
        location = (await expect(patch, 202, 'PATCH')).headers.get('location')!;
      }
      const put = new URL(location, base);
      put.searchParams.set('digest', digest);
      await expect(await fetch(put, { method: 'PUT', headers: await headers() }), 201, 'PUT blob');
    });
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(l), size: l.length })),
    }),
  );
  await retried(`manifest ${repository}:${tag}`, async () => {
    await expect(
      await fetch(`${base}/v2/${repository}/manifests/${tag}`, {
        method: 'PUT',
        body: manifest,
        headers: { ...(await headers()), 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      }),
      201,
      'PUT manifest',
    );
  });
  return { repository, tag, manifestDigest: sha256(manifest), blobs };
}

/** GET through `base`, retried on 5xx and connection failures (the proxy may pick a dead replica). */
export async function getWithRetries(base: string, path: string, authorization: string, accept?: string): Promise<Buffer> {
  return retried(`GET ${path}`, async () => {
    const response = await fetch(`${base}${path}`, { headers: { authorization, ...(accept ? { accept } : {}) } });
    await expect(response, 200, `GET ${path}`);
    return Buffer.from(await response.arrayBuffer());
  });
}
