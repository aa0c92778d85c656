/**
 * The whole deployment the web UI tests need, in this process: the auth service, a
 * token-mode registry trusting it, and the web UI, each on a free loopback port with its
 * own temp data directory; plus helpers to make users and grants (auth admin API) and to
 * push images built in code (a multi-arch index with config history and labels).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAuthConfig, loadRegistryConfig } from '../../shared/config/index.js';
import { loadWebConfig } from '../../shared/config/web.js';
import { createLogger } from '../../shared/observability/logger.js';
import { startAuthService } from '../../services/auth/main.js';
import { startRegistryService } from '../../services/registry/main.js';
import { startWebService } from '../../services/web/main.js';

export const ADMIN = { name: 'admin', password: 'admin-pw-for-web-tests' };

export interface WebStack {
  authUrl: string;
  registryUrl: string;
  webUrl: string;
  /** The data directory of all three (the web UI's sessions are in its web/ folder). */
  dataDir: string;
  /** Stops the web UI and starts it again over the same data (a new app, a new port: webUrl changes). */
  restartWeb(): Promise<void>;
  /** Closes the three services and removes the data directory. */
  close(): Promise<void>;
}

export async function startWebStack(options: { webEnv?: Record<string, string>; authEnv?: Record<string, string>; registryEnv?: Record<string, string> } = {}): Promise<WebStack> {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-web-'));
  const logger = createLogger({ name: 'web-test', level: 'silent' });
  const authEnv = { DOCKYARD_DATA_DIR: dir, AUTH_HTTP_ADDR: '127.0.0.1:0', DOCKYARD_ADMIN_USER: ADMIN.name, DOCKYARD_ADMIN_PASSWORD: ADMIN.password, ...options.authEnv };
  const auth = await startAuthService(loadAuthConfig({ env: authEnv }), { logger, env: authEnv, announce: () => undefined });
  const closers: Array<() => Promise<void>> = [auth.close];
  try {
    const registry = await startRegistryService(
      loadRegistryConfig({
        env: {
          DOCKYARD_DATA_DIR: dir,
          REGISTRY_HTTP_ADDR: '127.0.0.1:0',
          REGISTRY_AUTH: 'token',
          REGISTRY_AUTH_TOKEN_REALM: `${auth.url}/token`,
          REGISTRY_AUTH_TOKEN_SERVICE: 'dockyard',
          REGISTRY_AUTH_TOKEN_ISSUER: 'dockyard-auth',
          REGISTRY_AUTH_TOKEN_JWKS: `${auth.url}/.well-known/jwks.json`,
          REGISTRY_GC_INTERVAL_SECONDS: '0',
          ...options.registryEnv,
        },
      }),
      { logger },
    );
    closers.unshift(registry.close);
    const webConfig = () => loadWebConfig({ env: { DOCKYARD_DATA_DIR: dir, WEB_HTTP_ADDR: '127.0.0.1:0', ...options.webEnv } }, registry.url);
    let web = await startWebService(webConfig(), { logger });
    closers.unshift(() => web.close());
    const stack: WebStack = {
      authUrl: auth.url,
      registryUrl: registry.url,
      webUrl: web.url,
      dataDir: dir,
      async restartWeb() {
        await web.close();
        web = await startWebService(webConfig(), { logger });
        stack.webUrl = web.url;
      },
      async close() {
        for (const close of closers) await close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return stack;
  } catch (err) {
    for (const close of closers) await close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function adminApi(stack: WebStack, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${stack.authUrl}/api/v1${path}`, { method: 'POST', headers: { Authorization: basic(ADMIN.name, ADMIN.password), 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
}

export const addGroup = (stack: WebStack, name: string) => adminApi(stack, '/groups', { name });
export const addUser = (stack: WebStack, name: string, password: string) => adminApi(stack, '/users', { name, password });
/** grant(stack, 'user:alice', 'team/*', 'pull,push'); subject `anonymous` for everyone. */
export const addGrant = (stack: WebStack, subject: string, pattern: string, actions: string) => adminApi(stack, '/grants', { subject, pattern, actions });

/** A registry token for `scope` (GET /token with Basic credentials, or anonymous). */
export async function registryToken(stack: WebStack, scope: string, user?: { name: string; password: string }): Promise<string> {
  const url = new URL(`${stack.authUrl}/token`);
  url.searchParams.set('service', 'dockyard');
  for (const s of scope.split(' ')) url.searchParams.append('scope', s);
  const res = await fetch(url, user ? { headers: { Authorization: basic(user.name, user.password) } } : {});
  if (!res.ok) throw new Error(`token: ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function pushBlob(stack: WebStack, name: string, token: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const res = await fetch(`${stack.registryUrl}/v2/${name}/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/octet-stream' }, body: bytes });
  if (res.status !== 201) throw new Error(`blob push ${name}: ${res.status} ${await res.text()}`);
  return digest;
}

async function pushManifest(stack: WebStack, name: string, token: string, reference: string, manifest: object): Promise<{ digest: string; size: number }> {
  const bytes = Buffer.from(JSON.stringify(manifest));
  const res = await fetch(`${stack.registryUrl}/v2/${name}/manifests/${reference}`, { method: 'PUT', headers: { Authorization: `Bearer ${token}`, 'Content-Type': (manifest as { mediaType: string }).mediaType }, body: bytes });
  if (res.status !== 201) throw new Error(`manifest push ${name}:${reference}: ${res.status} ${await res.text()}`);
  return { digest: sha256(bytes), size: bytes.length };
}

export interface PushedImage {
  digest: string;
  platforms: Array<{ platform: string; digest: string; layers: Array<{ digest: string; size: number }> }>;
}

/**
 * Pushes a two-platform index (linux/amd64, linux/arm64) under every tag in `tags`; each
 * platform image has two layers (one shared by both platforms), a config with Dockerfile
 * history and the source/revision labels.
 */
export async function pushMultiArch(stack: WebStack, user: { name: string; password: string }, name: string, tags: string[], salt = ''): Promise<PushedImage> {
  const token = await registryToken(stack, `repository:${name}:pull,push`, user);
  const base = randomBytes(3000);
  const platforms: PushedImage['platforms'] = [];
  const entries = [];
  for (const [os, architecture] of [['linux', 'amd64'], ['linux', 'arm64']] as const) {
    const own = Buffer.concat([Buffer.from(`${architecture}${salt}`), randomBytes(1500)]);
    const layers = [];
    for (const layer of [base, own]) layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: await pushBlob(stack, name, token, layer), size: layer.length });
    const config = Buffer.from(
      JSON.stringify({
        architecture,
        os,
        config: { Labels: { 'org.opencontainers.image.source': 'https://git.example.com/team/app', 'org.opencontainers.image.revision': '0123456789abcdef', maintainer: 'team@example.com' } },
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
        history: [
          { created_by: '/bin/sh -c #(nop) ADD file:base in / ' },
          { created_by: `/bin/sh -c apk add --no-cache curl-${architecture}` },
          { created_by: '/bin/sh -c #(nop)  CMD ["/bin/sh"]', empty_layer: true },
        ],
      }),
    );
    const configDigest = await pushBlob(stack, name, token, config);
    const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length }, layers };
    const pushed = await pushManifest(stack, name, token, sha256(Buffer.from(JSON.stringify(manifest))), manifest);
    platforms.push({ platform: `${os}/${architecture}`, digest: pushed.digest, layers });
    entries.push({ mediaType: manifest.mediaType, digest: pushed.digest, size: pushed.size, platform: { os, architecture } });
  }
  const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: entries };
  let digest = '';
  for (const tag of tags) digest = (await pushManifest(stack, name, token, tag, index)).digest;
  return { digest, platforms };
}

/** Sets a README through the browse API with the user's own token. */
export async function putReadme(stack: WebStack, user: { name: string; password: string }, name: string, content: string): Promise<Response> {
  const token = await registryToken(stack, `repository:${name}:pull,push`, user);
  return fetch(`${stack.registryUrl}/v2/${name}/_dockyard/readme`, { method: 'PUT', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/markdown' }, body: content });
}

/** The live refresh tokens of a subject (`user:NAME`), from the admin API. */
export async function liveRefreshTokens(stack: WebStack, subject: string): Promise<Array<{ clientId: string }>> {
  const res = await fetch(`${stack.authUrl}/api/v1/refresh-tokens?subject=${encodeURIComponent(subject)}`, { headers: { Authorization: basic(ADMIN.name, ADMIN.password) } });
  if (!res.ok) throw new Error(`refresh-tokens: ${res.status}`);
  return ((await res.json()) as { refreshTokens: Array<{ clientId: string }> }).refreshTokens;
}

/** A tiny browser for HTTP-level page tests: one cookie jar, no redirects followed. */
export class PageClient {
  cookie = '';
  constructor(private readonly base: string) {}

  async request(path: string, init: RequestInit = {}): Promise<{ status: number; text: string; headers: Headers }> {
    const headers = new Headers(init.headers);
    if (this.cookie) headers.set('Cookie', this.cookie);
    const res = await fetch(`${this.base}${path}`, { ...init, headers, redirect: 'manual' });
    const set = res.headers.get('set-cookie');
    if (set) {
      const [pair] = set.split(';');
      this.cookie = pair!.endsWith('=') ? '' : pair!;
    }
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  /** The CSRF token in the page at `path`. */
  async csrf(path: string): Promise<string> {
    const page = await this.request(path);
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
    if (!token) throw new Error(`no CSRF field on ${path} (${page.status})`);
    return token;
  }

  post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers }> {
    return this.request(path, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
  }

  async signIn(user: { name: string; password: string }): Promise<void> {
    const csrf = await this.csrf('/login');
    const res = await this.post('/login', { _csrf: csrf, username: user.name, password: user.password, next: '/' });
    if (res.status !== 303) throw new Error(`sign-in of ${user.name}: ${res.status}`);
  }
}

/** Pushes a single-platform image with exactly these layers under `tag`; returns its digest. */
export async function pushImage(stack: WebStack, user: { name: string; password: string }, name: string, tag: string, layers: Buffer[]): Promise<string> {
  const token = await registryToken(stack, `repository:${name}:pull,push`, user);
  const descriptors = [];
  for (const layer of layers) descriptors.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: await pushBlob(stack, name, token, layer), size: layer.length });
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: descriptors.map((d) => d.digest) } }));
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: await pushBlob(stack, name, token, config), size: config.length },
    layers: descriptors,
  };
  return (await pushManifest(stack, name, token, tag, manifest)).digest;
}
