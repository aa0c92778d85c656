/**
 * The OCI distribution API operations the scenarios measure, each checking what the server
 * says against what was sent: pushed blobs and manifests by Docker-Content-Digest, pulled
 * bytes by hashing them as they stream in.
 */
import { createHash } from 'node:crypto';
import { BenchError, type HttpClient, type Reply } from './load.js';
import { sha256Digest, type SmallBlob, type SyntheticBlob } from './content.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const ACCEPT_MANIFESTS = [
  OCI_MANIFEST,
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

/** A manifest as bytes, with the digest the registry must report for it. */
export interface ManifestBlob {
  bytes: Buffer;
  digest: string;
  mediaType: string;
}

function sizeOf(blob: SmallBlob | SyntheticBlob): number {
  return 'bytes' in blob ? blob.bytes.length : blob.size;
}

/** An OCI image manifest over a config and layers; annotations make otherwise equal manifests distinct. */
export function imageManifest(
  config: SmallBlob | SyntheticBlob,
  layers: ReadonlyArray<SmallBlob | SyntheticBlob>,
  annotations?: Record<string, string>,
): ManifestBlob {
  const descriptor = (blob: SmallBlob | SyntheticBlob, mediaType: string) => ({ mediaType, digest: blob.digest, size: sizeOf(blob) });
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: descriptor(config, OCI_CONFIG),
      layers: layers.map((layer) => descriptor(layer, OCI_LAYER)),
      ...(annotations ? { annotations } : {}),
    }),
  );
  return { bytes, digest: sha256Digest(bytes), mediaType: OCI_MANIFEST };
}

function expectDigest(reply: Reply, digest: string, what: string): void {
  const reported = reply.headers['docker-content-digest'];
  if (reported !== digest) throw new BenchError(`${what}: registry reported digest ${String(reported)}, expected ${digest}`);
}

function withQuery(location: string, params: Record<string, string>): string {
  const url = new URL(location, 'http://placeholder');
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return location.startsWith('/') ? url.pathname + url.search : url.href;
}

function locationOf(reply: Reply, what: string): string {
  const location = reply.headers.location;
  if (!location) throw new BenchError(`${what}: answer has no Location header`);
  return location;
}

/** OCI distribution API calls against one registry, optionally with a bearer token. */
export class RegistryClient {
  constructor(readonly http: HttpClient, private readonly authorization?: string) {}

  private headers(extra: Record<string, string | number> = {}): Record<string, string | number | undefined> {
    return { authorization: this.authorization, ...extra };
  }

  /** POST a new upload session; returns its Location. */
  async startUpload(repo: string): Promise<string> {
    const reply = await this.http.request({ method: 'POST', path: `/v2/${repo}/blobs/uploads/`, headers: this.headers(), expect: [202] });
    return locationOf(reply, `start upload in ${repo}`);
  }

  /** Monolithic push: POST, then PUT with the whole body and the digest. Returns bytes sent. */
  async pushMonolithic(repo: string, blob: SmallBlob | SyntheticBlob): Promise<number> {
    const location = await this.startUpload(repo);
    const size = sizeOf(blob);
    const reply = await this.http.request({
      method: 'PUT',
      path: withQuery(location, { digest: blob.digest }),
      headers: this.headers({ 'content-type': 'application/octet-stream', 'content-length': size }),
      body: 'bytes' in blob ? blob.bytes : blob.range(0, size),
      expect: [201],
    });
    expectDigest(reply, blob.digest, `push ${blob.digest} to ${repo}`);
    return size;
  }

  /** Chunked push: POST, one PATCH per chunk with Content-Range, then PUT with the digest. */
  async pushChunked(repo: string, blob: SyntheticBlob, chunkSize: number): Promise<number> {
    let location = await this.startUpload(repo);
    for (let start = 0; start < blob.size; start += chunkSize) {
      const end = Math.min(blob.size, start + chunkSize);
      const reply = await this.http.request({
        method: 'PATCH',
        path: location,
        headers: this.headers({ 'content-type': 'application/octet-stream', 'content-length': end - start, 'content-range': `${start}-${end - 1}` }),
        body: blob.range(start, end),
        expect: [202],
      });
      if (reply.headers.range !== `0-${end - 1}`) throw new BenchError(`chunk ${start}-${end - 1} to ${repo}: Range ${String(reply.headers.range)}`);
      location = locationOf(reply, `chunk to ${repo}`);
    }
    return this.finishUpload(repo, location, blob);
  }

  /** Streamed push: POST, one PATCH streaming the whole blob without a length, then PUT with the digest. */
  async pushStreamed(repo: string, blob: SyntheticBlob): Promise<number> {
    const started = await this.startUpload(repo);
    const reply = await this.http.request({
      method: 'PATCH',
      path: started,
      headers: this.headers({ 'content-type': 'application/octet-stream' }),
      body: blob.range(0, blob.size),
      expect: [202],
    });
    return this.finishUpload(repo, locationOf(reply, `stream to ${repo}`), blob);
  }

  private async finishUpload(repo: string, location: string, blob: SyntheticBlob): Promise<number> {
    const reply = await this.http.request({
      method: 'PUT',
      path: withQuery(location, { digest: blob.digest }),
      headers: this.headers({ 'content-length': 0 }),
      expect: [201],
    });
    expectDigest(reply, blob.digest, `finish ${blob.digest} in ${repo}`);
    return blob.size;
  }

  /**
   * Cross-repository mount of a blob; when the registry declines (202), uploads the
   * bytes into the session it opened instead, as clients do.
   */
  async mountOrPush(repo: string, from: string, blob: SmallBlob): Promise<void> {
    const reply = await this.http.request({
      method: 'POST',
      path: `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from)}`,
      headers: this.headers(),
      expect: [201, 202],
    });
    if (reply.status === 201) return;
    const put = await this.http.request({
      method: 'PUT',
      path: withQuery(locationOf(reply, `mount into ${repo}`), { digest: blob.digest }),
      headers: this.headers({ 'content-type': 'application/octet-stream' }),
      body: blob.bytes,
      expect: [201],
    });
    expectDigest(put, blob.digest, `push ${blob.digest} to ${repo}`);
  }

  /** GET a blob, hashing it as it streams; fails unless size and digest match. Returns bytes read. */
  async pullBlob(repo: string, blob: SyntheticBlob | SmallBlob): Promise<number> {
    const size = sizeOf(blob);
    return this.http.exchange(
      { method: 'GET', path: `/v2/${repo}/blobs/${blob.digest}`, headers: this.headers(), expect: [200] },
      async (reply) => {
        const hash = createHash('sha256');
        let received = 0;
        for await (const chunk of reply.body) {
          hash.update(chunk);
          received += chunk.length;
        }
        const digest = `sha256:${hash.digest('hex')}`;
        if (received !== size || digest !== blob.digest) {
          throw new BenchError(`pull ${blob.digest} from ${repo}: got ${received} bytes with digest ${digest}`);
        }
        return received;
      },
    );
  }

  /** HEAD a blob; fails unless Content-Length and Docker-Content-Digest match. */
  async headBlob(repo: string, blob: SyntheticBlob | SmallBlob): Promise<void> {
    const reply = await this.http.request({ method: 'HEAD', path: `/v2/${repo}/blobs/${blob.digest}`, headers: this.headers(), expect: [200] });
    expectDigest(reply, blob.digest, `HEAD ${blob.digest} in ${repo}`);
    if (Number(reply.headers['content-length']) !== sizeOf(blob)) {
      throw new BenchError(`HEAD ${blob.digest} in ${repo}: Content-Length ${String(reply.headers['content-length'])}`);
    }
  }

  /** HEAD a blob expecting 404 (what clients do before uploading). */
  async blobMissing(repo: string, digest: string): Promise<void> {
    await this.http.request({ method: 'HEAD', path: `/v2/${repo}/blobs/${digest}`, headers: this.headers(), expect: [404] });
  }

  /** PUT a manifest by tag or digest; fails unless the registry reports its digest. */
  async putManifest(repo: string, reference: string, manifest: ManifestBlob): Promise<void> {
    const reply = await this.http.request({
      method: 'PUT',
      path: `/v2/${repo}/manifests/${reference}`,
      headers: this.headers({ 'content-type': manifest.mediaType }),
      body: manifest.bytes,
      expect: [201],
    });
    expectDigest(reply, manifest.digest, `PUT manifest ${repo}:${reference}`);
  }

  /** GET (body hashed) or HEAD (headers checked) a manifest by tag or digest. Returns bytes read. */
  async fetchManifest(method: 'GET' | 'HEAD', repo: string, reference: string, digest: string): Promise<number> {
    const reply = await this.http.request({
      method,
      path: `/v2/${repo}/manifests/${reference}`,
      headers: this.headers({ accept: ACCEPT_MANIFESTS }),
      expect: [200],
    });
    expectDigest(reply, digest, `${method} manifest ${repo}:${reference}`);
    if (method === 'GET' && sha256Digest(reply.body) !== digest) {
      throw new BenchError(`GET manifest ${repo}:${reference}: body digest ${sha256Digest(reply.body)}, expected ${digest}`);
    }
    return reply.body.length;
  }

  /** GET a JSON document (the browse API); fails on any status but 200. */
  async getJson<T>(path: string): Promise<T> {
    const reply = await this.http.request({ method: 'GET', path, headers: this.headers(), expect: [200] });
    return JSON.parse(reply.body.toString('utf8')) as T;
  }

  /** One tag-list page; `next` is the Link rel="next" target, if any. */
  async tagsPage(repo: string, n?: number, last?: string): Promise<{ tags: string[]; next?: string; path: string }> {
    const query = new URLSearchParams();
    if (n !== undefined) query.set('n', String(n));
    if (last !== undefined) query.set('last', last);
    const path = `/v2/${repo}/tags/list${query.size > 0 ? `?${query}` : ''}`;
    return this.tagsPageAt(path);
  }

  private async tagsPageAt(path: string): Promise<{ tags: string[]; next?: string; path: string }> {
    const reply = await this.http.request({ method: 'GET', path, headers: this.headers(), expect: [200] });
    const parsed = JSON.parse(reply.body.toString('utf8')) as { tags?: unknown };
    if (!Array.isArray(parsed.tags) || parsed.tags.some((t) => typeof t !== 'string')) {
      throw new BenchError(`GET ${path}: answer has no tags array`);
    }
    const link = /<([^>]+)>;\s*rel="?next"?/.exec(String(reply.headers.link ?? ''));
    return { tags: parsed.tags as string[], next: link?.[1], path };
  }

  /** Walks every page of a tag list by following Link headers. */
  async allTags(repo: string, n: number): Promise<{ tags: string[]; pages: number }> {
    let page = await this.tagsPage(repo, n);
    const tags = [...page.tags];
    let pages = 1;
    while (page.next) {
      page = await this.tagsPageAt(page.next);
      tags.push(...page.tags);
      pages += 1;
      if (pages > 1_000_000) throw new BenchError(`tag list of ${repo} never ends`);
    }
    return { tags, pages };
  }
}
