/**
 * The CLI's client for a RUNNING registry (Dockyard's or any OCI registry): plain HTTP to
 * the Distribution API with whatever the registry's 401 challenge asks for. A Bearer
 * challenge is answered the Docker-token way (GET realm?service&scope with Basic
 * credentials, as `docker login` does), a Basic challenge with the credentials directly,
 * and a registry without auth needs none. The CLI never opens the registry's database or
 * storage, so it works on another machine and never races the registry's own writes.
 */
import { DockyardError } from '../../../shared/http/errors.js';
import { UsageError } from './args.js';

/** Username and password for the registry (or its token server). */
export interface Credentials {
  username: string;
  password: string;
}

/** A failed registry request: the registry's error code and message when it sent them. */
export class RegistryRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'RegistryRequestError';
  }
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="…",service="…"` (quoted values may hold commas). */
function parseChallenge(header: string): Challenge {
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  for (const m of header.slice(space + 1).matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)) params[m[1]] = m[2].replace(/\\(.)/g, '$1');
  return { scheme, params };
}

async function errorMessage(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    const first = body.errors?.[0];
    if (first) return `${first.code ?? res.status}: ${first.message ?? ''}`.trim();
  } catch {
    // not the error envelope
  }
  return `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
}

export class RegistryClient {
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly base: string,
    private readonly credentials: Credentials | undefined,
  ) {}

  /**
   * Sends `method path` (a /v2/… path), authenticating for `scope` when challenged.
   * Non-2xx answers become RegistryRequestError (404 included; callers decide).
   */
  async request(method: string, path: string, scope: string, headers: Record<string, string> = {}): Promise<Response> {
    const url = new URL(path, this.base);
    const cached = this.tokens.get(scope);
    let res = await this.send(method, url, headers, cached);
    if (res.status === 401) {
      await res.arrayBuffer().catch(() => undefined);
      const authorization = await this.answer(res.headers.get('www-authenticate') ?? '', scope);
      res = await this.send(method, url, headers, authorization);
    }
    if (!res.ok) throw new RegistryRequestError(res.status, `${method} ${url.pathname}: ${await errorMessage(res)}`);
    return res;
  }

  /** GET a JSON document. */
  async json<T>(path: string, scope: string, accept = 'application/json'): Promise<{ body: T; res: Response }> {
    const res = await this.request('GET', path, scope, { Accept: accept });
    return { body: (await res.json()) as T, res };
  }

  private async send(method: string, url: URL, headers: Record<string, string>, authorization: string | undefined): Promise<Response> {
    try {
      return await fetch(url, { method, headers: authorization ? { ...headers, Authorization: authorization } : headers, redirect: 'follow' });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new DockyardError('UNAVAILABLE', `cannot reach the registry at ${this.base}: ${cause?.code ?? cause?.message ?? (err as Error).message} (set --registry URL or DOCKYARD_REGISTRY)`);
    }
  }

  /** The Authorization header that answers `challenge` for `scope`. */
  private async answer(header: string, scope: string): Promise<string> {
    const challenge = parseChallenge(header);
    const basic = this.credentials ? `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}` : undefined;
    if (challenge.scheme === 'basic') {
      if (!basic) throw new UsageError('the registry wants a username and password: set DOCKYARD_USERNAME and DOCKYARD_PASSWORD, or --username and --password-stdin');
      return basic;
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) throw new RegistryRequestError(401, `unsupported challenge from the registry: ${header || '(none)'}`);
    const realm = new URL(challenge.params.realm);
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    realm.searchParams.set('scope', scope);
    if (this.credentials) realm.searchParams.set('account', this.credentials.username);
    let res: Response;
    try {
      res = await fetch(realm, { headers: basic ? { Authorization: basic } : {} });
    } catch (err) {
      throw new DockyardError('UNAVAILABLE', `cannot reach the token server at ${realm.origin}: ${(err as Error).message}`);
    }
    if (!res.ok) throw new RegistryRequestError(res.status, `token request to ${realm.origin}${realm.pathname}: ${await errorMessage(res)}`);
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryRequestError(502, 'the token server answered without a token');
    const authorization = `Bearer ${token}`;
    this.tokens.set(scope, authorization);
    return authorization;
  }
}
