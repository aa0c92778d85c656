/**
 * The web service's only way to the registry and the auth service: HTTP, with the
 * signed-in user's own tokens (or anonymous ones), so it can show and change exactly what
 * that user could with docker or curl. The token endpoint and service name are learnt from
 * the registry's challenge, as clients do. Each page asks for one token per resource
 * (`repository:NAME:pull,push,delete`, `registry:catalog:*`); what the token grants tells
 * the page which buttons to offer, and the registry still decides every request.
 */
import type { WebConfig } from '../../shared/config/web.js';
import type { CachedToken, Session } from './session.js';

/** What went wrong upstream, in the terms the error pages use. */
export type UpstreamFailure = 'unavailable' | 'unauthorized' | 'denied' | 'not-found' | 'invalid' | 'throttled' | 'session-expired';

export class UpstreamError extends Error {
  constructor(
    readonly failure: UpstreamFailure,
    message: string,
    readonly service: 'registry' | 'auth',
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

/** The registry's token server, or null when the registry takes no tokens (auth none or htpasswd). */
export type TokenEndpoint = { realm: string; service: string } | null;

/** The auth service's admin API audience (services/auth/admin-gate.ts). */
const ADMIN_API_SERVICE = 'dockyard-admin-api';
/** The client_id the web UI's refresh tokens are bound to. */
export const CLIENT_ID = 'dockyard-web';
const TIMEOUT_MS = 10_000;
/** A token is used until this long before it expires. */
const EXPIRY_MARGIN_MS = 20_000;

function challengeParams(header: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const m of header.matchAll(/(\w+)="([^"]*)"/g)) params[m[1]!] = m[2]!;
  return params;
}

/** The `access` claim of a token (read for display only; the registry verifies the token). */
function accessOf(token: string): CachedToken['access'] {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { access?: CachedToken['access'] };
    return Array.isArray(claims.access) ? claims.access : [];
  } catch {
    return [];
  }
}

/** The `sub` claim of a token this web UI was just given by the auth service ('' when unreadable). */
function subjectOf(token: string): string {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: unknown };
    return typeof claims.sub === 'string' ? claims.sub : '';
  } catch {
    return '';
  }
}

function failureFor(status: number): UpstreamFailure {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'denied';
  if (status === 404) return 'not-found';
  if (status === 429) return 'throttled';
  if (status >= 500) return 'unavailable';
  return 'invalid';
}

async function errorMessage(res: Response): Promise<string> {
  const body = (await res.json().catch(() => ({}))) as { errors?: Array<{ message?: string }> };
  return body.errors?.[0]?.message ?? `HTTP ${res.status}`;
}

export class Upstream {
  private endpointCache: Promise<TokenEndpoint> | undefined;
  private readonly anonymousTokens = new Map<string, CachedToken>();
  /** Token requests under way, per token cache (a session's or the anonymous one) and scope. */
  private readonly inFlight = new WeakMap<Map<string, CachedToken>, Map<string, Promise<CachedToken>>>();

  constructor(
    private readonly config: WebConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /** Host (and port) shown in pull commands. */
  get pullHost(): string {
    return this.config.pullHost ?? new URL(this.config.registryUrl).host;
  }

  private async send(service: 'registry' | 'auth', url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, redirect: 'follow', signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (err) {
      throw new UpstreamError('unavailable', `cannot reach the ${service === 'registry' ? 'registry' : 'auth service'}: ${(err as Error).message}`, service);
    }
  }

  /** The registry's token endpoint, from its challenge to an anonymous `GET /v2/` (retried after a failure). */
  endpoint(): Promise<TokenEndpoint> {
    this.endpointCache ??= this.discover().catch((err: unknown) => {
      this.endpointCache = undefined;
      throw err;
    });
    return this.endpointCache;
  }

  private async discover(): Promise<TokenEndpoint> {
    const res = await this.send('registry', `${this.config.registryUrl}/v2/`, {});
    await res.arrayBuffer();
    if (res.status === 200) return null;
    const challenge = res.headers.get('www-authenticate') ?? '';
    if (res.status !== 401) throw new UpstreamError('unavailable', `the registry answered GET /v2/ with HTTP ${res.status}`, 'registry');
    if (!/^bearer /i.test(challenge)) return null;
    const { realm, service } = challengeParams(challenge);
    if (!realm || !service) throw new UpstreamError('unavailable', 'the registry challenge names no realm or service', 'registry');
    return { realm, service };
  }

  private async authUrl(): Promise<string> {
    if (this.config.authUrl) return this.config.authUrl;
    const endpoint = await this.endpoint();
    if (!endpoint) throw new UpstreamError('invalid', 'this registry does not use token sign-in', 'auth');
    return new URL(endpoint.realm).origin;
  }

  /** Password sign-in (POST /token, grant_type=password, offline): the refresh token. */
  async login(username: string, password: string): Promise<string> {
    const endpoint = await this.endpoint();
    if (!endpoint) throw new UpstreamError('invalid', 'this registry does not use token sign-in', 'auth');
    const form = new URLSearchParams({ grant_type: 'password', username, password, service: endpoint.service, client_id: CLIENT_ID, access_type: 'offline' });
    const res = await this.send('auth', endpoint.realm, { method: 'POST', body: form });
    if (!res.ok) throw new UpstreamError(failureFor(res.status), await errorMessage(res), 'auth');
    const body = (await res.json()) as { refresh_token?: string };
    if (!body.refresh_token) throw new UpstreamError('unavailable', 'the auth service returned no refresh token', 'auth');
    return body.refresh_token;
  }

  /**
   * A refresh token for the auth service's admin API (audience `dockyard-admin-api`, a
   * second password grant): every user's, for the self-service API (personal access
   * tokens); `admin` says whether the admin API takes it for administration too (it
   * re-checks the user on every request). Null when the auth service issues none.
   */
  async adminLogin(username: string, password: string): Promise<{ refreshToken: string; admin: boolean } | null> {
    const endpoint = await this.endpoint();
    if (!endpoint) return null;
    const form = new URLSearchParams({ grant_type: 'password', username, password, service: ADMIN_API_SERVICE, client_id: CLIENT_ID, access_type: 'offline' });
    const res = await this.send('auth', endpoint.realm, { method: 'POST', body: form });
    if (!res.ok) return null;
    const body = (await res.json()) as { token?: string; refresh_token?: string };
    if (!body.token || !body.refresh_token) return null;
    return { refreshToken: body.refresh_token, admin: await this.isAdmin(body.token) };
  }

  /** Whether the admin API serves this admin API token's user as an administrator. */
  async isAdmin(adminToken: string): Promise<boolean> {
    const probe = await this.send('auth', `${await this.authUrl()}/api/v1/users`, { headers: { Authorization: `Bearer ${adminToken}` } });
    await probe.arrayBuffer();
    return probe.ok;
  }

  /** Where the browser starts a single sign-on at the auth service (next to the token realm, which browsers reach like docker). */
  async ssoStartUrl(redirectUri: string, state: string): Promise<string> {
    const endpoint = await this.endpoint();
    if (!endpoint) throw new UpstreamError('invalid', 'this registry does not use token sign-in', 'auth');
    const url = new URL(endpoint.realm.replace(/\/token$/, '/oidc/login'));
    url.searchParams.set('redirect_uri', redirectUri);
    url.searchParams.set('state', state);
    return url.toString();
  }

  /**
   * Redeems a single sign-on's one-time code (POST /token grant_type=authorization_code)
   * for the registry's or the admin API's audience: the refresh token, the access token
   * and the user it names. UNAUTHORIZED for a used, expired or unknown code.
   */
  async redeemCode(code: string, redirectUri: string, audience: 'registry' | 'admin'): Promise<{ name: string; token: string; refreshToken: string }> {
    const endpoint = await this.endpoint();
    if (!endpoint) throw new UpstreamError('invalid', 'this registry does not use token sign-in', 'auth');
    const service = audience === 'admin' ? ADMIN_API_SERVICE : endpoint.service;
    const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: CLIENT_ID, service });
    const res = await this.send('auth', endpoint.realm, { method: 'POST', body: form });
    if (!res.ok) throw new UpstreamError(failureFor(res.status), await errorMessage(res), 'auth');
    const body = (await res.json()) as { token?: string; refresh_token?: string };
    const name = body.token ? subjectOf(body.token) : '';
    if (!body.token || !body.refresh_token || !name) throw new UpstreamError('unavailable', 'the auth service returned no refresh token', 'auth');
    return { name, token: body.token, refreshToken: body.refresh_token };
  }

  /** An admin API call with the session's admin token; non-2xx answers become UpstreamErrors with the API's message. */
  async adminApi<T>(session: Session, method: string, path: string, body?: unknown): Promise<T> {
    const refreshToken = session.user?.adminRefreshToken;
    if (!refreshToken) throw new UpstreamError('denied', 'administrators only', 'auth');
    let cached = session.tokens.get(ADMIN_API_SERVICE);
    if (!cached || cached.expiresAt <= this.now()) {
      const endpoint = (await this.endpoint())!;
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CLIENT_ID, service: ADMIN_API_SERVICE });
      const res = await this.send('auth', endpoint.realm, { method: 'POST', body: form });
      if (res.status === 401) throw new UpstreamError('session-expired', 'your session has ended; sign in again', 'auth');
      if (!res.ok) throw new UpstreamError(failureFor(res.status), await errorMessage(res), 'auth');
      const answer = (await res.json()) as { token: string; expires_in?: number };
      cached = { token: answer.token, expiresAt: this.now() + Math.max((answer.expires_in ?? 60) * 1000 - EXPIRY_MARGIN_MS, 1000), access: [] };
      session.tokens.set(ADMIN_API_SERVICE, cached);
    }
    const res = await this.send('auth', `${await this.authUrl()}/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${cached.token}`, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new UpstreamError(failureFor(res.status), await errorMessage(res), 'auth');
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  /** Ends the refresh token at the auth service (POST /token/revoke). */
  async revoke(refreshToken: string): Promise<void> {
    const res = await this.send('auth', `${await this.authUrl()}/token/revoke`, { method: 'POST', body: new URLSearchParams({ token: refreshToken, client_id: CLIENT_ID }) });
    await res.arrayBuffer();
    if (!res.ok) throw new UpstreamError(failureFor(res.status), `revoking the refresh token: HTTP ${res.status}`, 'auth');
  }

  /**
   * A registry token for `scope` (space separated records) for the session's user, or
   * anonymous; null without token auth. Callers asking for the same scope of the same
   * session at once (a page loads its README, tags and actions in parallel) share one
   * request to the auth service.
   */
  async token(session: Session | undefined, scope: string): Promise<CachedToken | null> {
    const endpoint = await this.endpoint();
    if (!endpoint) return null;
    const cache = session?.user ? session.tokens : this.anonymousTokens;
    const cached = cache.get(scope);
    if (cached && cached.expiresAt > this.now()) return cached;
    let pending = this.inFlight.get(cache);
    if (!pending) this.inFlight.set(cache, (pending = new Map()));
    let fetching = pending.get(scope);
    if (!fetching) {
      const requests = pending;
      fetching = this.fetchToken(session, endpoint, scope, cache).finally(() => requests.delete(scope));
      pending.set(scope, fetching);
    }
    return fetching;
  }

  private async fetchToken(session: Session | undefined, endpoint: NonNullable<TokenEndpoint>, scope: string, cache: Map<string, CachedToken>): Promise<CachedToken> {
    let res: Response;
    if (session?.user) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: session.user.refreshToken, client_id: CLIENT_ID, service: endpoint.service, scope });
      res = await this.send('auth', endpoint.realm, { method: 'POST', body: form });
      if (res.status === 401) throw new UpstreamError('session-expired', 'your session has ended; sign in again', 'auth');
    } else {
      const url = new URL(endpoint.realm);
      url.searchParams.set('service', endpoint.service);
      for (const record of scope.split(' ')) url.searchParams.append('scope', record);
      res = await this.send('auth', url.toString(), {});
    }
    if (!res.ok) throw new UpstreamError(failureFor(res.status), await errorMessage(res), 'auth');
    const body = (await res.json()) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) throw new UpstreamError('unavailable', 'the auth service returned no token', 'auth');
    const fresh: CachedToken = { token, expiresAt: this.now() + Math.max((body.expires_in ?? 60) * 1000 - EXPIRY_MARGIN_MS, 1000), access: accessOf(token) };
    if (cache.size > 200) cache.clear();
    cache.set(scope, fresh);
    return fresh;
  }

  /**
   * A registry request with a token for `scope`. 2xx responses are returned; anything
   * else becomes an UpstreamError with the registry's message.
   */
  async registry(session: Session | undefined, scope: string, path: string, init: RequestInit = {}): Promise<Response> {
    const token = await this.token(session, scope);
    const headers = new Headers(init.headers);
    if (token) headers.set('Authorization', `Bearer ${token.token}`);
    const res = await this.send('registry', `${this.config.registryUrl}${path}`, { ...init, headers });
    if (!res.ok) throw new UpstreamError(failureFor(res.status), await errorMessage(res), 'registry');
    return res;
  }

  /** A registry JSON answer. */
  async registryJson<T>(session: Session | undefined, scope: string, path: string, init: RequestInit = {}): Promise<{ body: T; headers: Headers }> {
    const res = await this.registry(session, scope, path, init);
    return { body: (await res.json()) as T, headers: res.headers };
  }

  /** The actions the session's token grants on a repository (what the page may offer). */
  async repositoryActions(session: Session | undefined, name: string): Promise<Set<string>> {
    const token = await this.token(session, repositoryScope(name));
    if (!token) return new Set(['pull', 'push', 'delete']);
    const record = token.access.find((a) => a.type === 'repository' && a.name === name);
    const actions = new Set(record?.actions ?? []);
    return actions.has('*') ? new Set(['pull', 'push', 'delete']) : actions;
  }
}

/** The one scope every repository page asks for: whatever of pull, push and delete is granted comes back. */
export function repositoryScope(name: string): string {
  return `repository:${name}:pull,push,delete`;
}

/** The catalog scope (a non-admin gets the `list` form with its pull patterns). */
export const CATALOG_SCOPE = 'registry:catalog:*';
