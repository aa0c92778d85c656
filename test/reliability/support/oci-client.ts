/**
 * The registry protocol steps the reliability suites drive (OCI distribution spec:
 * POST/PATCH/PUT uploads, monolithic POST ?digest=, manifests, pulls), each returning what
 * the server said rather than asserting, so a suite can decide what an answer means after
 * a crash or a fault. Upload locations are kept as paths: a restarted registry listens on
 * another port, and a session must be resumable there.
 */
import type { Agent } from 'node:http';
import { download, send, type DownloadResult, type HttpResponse } from './http.js';
import type { SyntheticContent } from './content.js';

/** OCI media types the suites push. */
export const MEDIA = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

/** The upload progress a registry reports: Range `0-<last>` → offset last+1 (`0-0` is ambiguous, see offsetOf). */
export function rangeEnd(range: string | string[] | undefined): number | undefined {
  const value = Array.isArray(range) ? range[0] : range;
  const match = value === undefined ? null : /^(?:bytes=)?0-(\d+)$/.exec(value);
  return match ? Number(match[1]) : undefined;
}

function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Talks to one registry at a base URL that may change between calls (restarts). */
export class OciClient {
  constructor(
    public base: string,
    private readonly agent?: Agent,
  ) {}

  private url(path: string): string {
    return new URL(path, this.base).toString();
  }

  /** POST /v2/<repo>/blobs/uploads/: the answer (202 with Location on success). */
  startUpload(repo: string): Promise<HttpResponse> {
    return send(this.url(`/v2/${repo}/blobs/uploads/`), { method: 'POST', agent: this.agent, headers: { 'Content-Length': 0 } });
  }

  /** PATCH bytes [start, end) of `content` onto the session at `location` with Content-Range. */
  patch(location: string, content: SyntheticContent, start: number, end: number): Promise<HttpResponse> {
    return send(this.url(location), {
      method: 'PATCH',
      agent: this.agent,
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Range': `${start}-${end - 1}`,
        'Content-Length': end - start,
      },
      body: content.stream(start, end),
    });
  }

  /** PATCH the whole of `content` as one streamed body with no length (chunked transfer), as docker pushes a layer. */
  patchStream(location: string, content: SyntheticContent): Promise<HttpResponse> {
    return send(this.url(location), {
      method: 'PATCH',
      agent: this.agent,
      headers: { 'Content-Type': 'application/octet-stream' },
      body: content.stream(),
    });
  }

  /** PUT ?digest= on the session, with bytes [start, size) of `content` as the final chunk when start < size. */
  complete(location: string, content: SyntheticContent, start: number): Promise<HttpResponse> {
    const url = new URL(this.url(location));
    url.searchParams.set('digest', content.digest());
    const length = content.size - start;
    return send(url.toString(), {
      method: 'PUT',
      agent: this.agent,
      headers: length > 0 ? { 'Content-Type': 'application/octet-stream', 'Content-Length': length } : { 'Content-Length': 0 },
      body: length > 0 ? content.stream(start, content.size) : undefined,
    });
  }

  /** GET on the session: 204 with Range, or an error. */
  status(location: string): Promise<HttpResponse> {
    return send(this.url(location), { agent: this.agent });
  }

  /** POST ?digest= with the whole blob as the body (one request). */
  monolithic(repo: string, content: SyntheticContent): Promise<HttpResponse> {
    return send(this.url(`/v2/${repo}/blobs/uploads/?digest=${encodeURIComponent(content.digest())}`), {
      method: 'POST',
      agent: this.agent,
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': content.size },
      body: content.stream(),
    });
  }

  /** PUT a manifest at a tag or digest. */
  putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string = MEDIA.manifest): Promise<HttpResponse> {
    return send(this.url(`/v2/${repo}/manifests/${reference}`), {
      method: 'PUT',
      agent: this.agent,
      headers: { 'Content-Type': mediaType, 'Content-Length': bytes.length },
      body: bytes,
    });
  }

  /** GET a manifest (small: buffered). */
  getManifest(repo: string, reference: string): Promise<HttpResponse> {
    return send(this.url(`/v2/${repo}/manifests/${reference}`), { agent: this.agent, headers: { Accept: MEDIA.manifest } });
  }

  /** HEAD a blob. */
  headBlob(repo: string, digest: string): Promise<HttpResponse> {
    return send(this.url(`/v2/${repo}/blobs/${digest}`), { method: 'HEAD', agent: this.agent });
  }

  /** GET a blob, hashing it as it streams. */
  pullBlob(repo: string, digest: string): Promise<DownloadResult> {
    return download(this.url(`/v2/${repo}/blobs/${digest}`), { agent: this.agent });
  }

  /**
   * Pushes `content` as POST, PATCH chunks of `chunkSize` with Content-Range, then PUT; returns
   * the final answer (201 on success) or the first failing one. `onLocation` sees every
   * session location, so a caller can resume after the registry died mid-way.
   */
  async pushChunked(repo: string, content: SyntheticContent, chunkSize: number, onLocation?: (location: string, offset: number) => void): Promise<HttpResponse> {
    const started = await this.startUpload(repo);
    if (started.status !== 202) return started;
    return this.continueUpload(header(started, 'location')!, content, 0, chunkSize, onLocation);
  }

  /** POST, one streamed PATCH of the whole blob without a length, PUT: the docker client's way. */
  async pushStreamed(repo: string, content: SyntheticContent): Promise<HttpResponse> {
    const started = await this.startUpload(repo);
    if (started.status !== 202) return started;
    const patched = await this.patchStream(header(started, 'location')!, content);
    if (patched.status !== 202) return patched;
    return this.complete(header(patched, 'location')!, content, content.size);
  }

  /** PATCHes the rest of `content` from `offset` in chunks, then PUTs; see pushChunked. */
  async continueUpload(location: string, content: SyntheticContent, offset: number, chunkSize: number, onLocation?: (location: string, offset: number) => void): Promise<HttpResponse> {
    let at = offset;
    let current = location;
    onLocation?.(current, at);
    while (content.size - at > chunkSize) {
      const answer = await this.patch(current, content, at, at + chunkSize);
      if (answer.status !== 202) return answer;
      at += chunkSize;
      current = header(answer, 'location') ?? current;
      onLocation?.(current, at);
    }
    return this.complete(current, content, at);
  }

  /** An OCI image manifest body for a config and layers. */
  static imageManifest(config: { digest: string; size: number }, layers: Array<{ digest: string; size: number }>, annotations?: Record<string, string>): Buffer {
    return Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA.manifest,
        config: { mediaType: MEDIA.config, digest: config.digest, size: config.size },
        layers: layers.map((layer) => ({ mediaType: MEDIA.layer, digest: layer.digest, size: layer.size })),
        ...(annotations ? { annotations } : {}),
      }),
    );
  }
}

/** The Location header of an answer. */
export function locationOf(response: HttpResponse): string | undefined {
  return header(response, 'location');
}
