/**
 * The small Swift client the driver needs, on undici (the HTTP client inside Node's fetch,
 * used directly for its Node-stream bodies and its Agent): one token shared by every
 * request and fetched again when Swift answers 401, a connect and an idle timeout on every
 * request, and bounded retries with backoff for network errors, 5xx and 429. Every failure
 * leaves here as the driver's typed errors: 404 → PathNotFoundError, anything else after
 * the retries → StorageUnavailableError (503).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';
import type { SwiftStorageConfig } from '../../../../../shared/config/index.js';
import { PathNotFoundError, StorageUnavailableError } from '../../driver.js';
import { authenticate, header, SwiftAuthError, type SwiftSession } from './auth.js';

/** Connecting must succeed within this; a stalled endpoint fails fast instead of hanging a request. */
const CONNECT_TIMEOUT_MS = 5_000;
/** No byte either way for this long fails the attempt, which is then retried. */
const IDLE_TIMEOUT_MS = 60_000;
/** Attempts per request (network errors, 5xx, 429), with exponential backoff from BACKOFF_MS. */
const MAX_ATTEMPTS = 4;
const BACKOFF_MS = 200;
/** Connections per origin: segment uploads and blob reads of concurrent requests share them. */
const MAX_CONNECTIONS = 64;
/** How long a confirmed container counts as existing when an object is not found. */
const CONTAINER_CHECK_MS = 30_000;

export type SwiftMethod = 'GET' | 'HEAD' | 'PUT' | 'DELETE' | 'COPY';

export interface SwiftRequest {
  method: SwiftMethod;
  /** Object name in the container; absent for the container itself. */
  object?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export type SwiftResponse = Dispatcher.ResponseData;

export class SwiftClient {
  readonly agent: Agent;
  private session: Promise<SwiftSession> | null = null;
  /** When the container last answered a HEAD (0: never). */
  private containerSeenAt = 0;

  constructor(readonly config: SwiftStorageConfig) {
    this.agent = new Agent({
      connect: { timeout: CONNECT_TIMEOUT_MS, rejectUnauthorized: !config.insecureSkipVerify },
      connections: MAX_CONNECTIONS,
      headersTimeout: IDLE_TIMEOUT_MS,
      bodyTimeout: IDLE_TIMEOUT_MS,
    });
  }

  /** `/<container>/<object>` as Swift wants it in X-Copy-From and SLO manifests. */
  objectPath(object: string): string {
    return `/${this.config.container}/${object}`;
  }

  /**
   * Sends one request (retried as the module comment says) and returns Swift's answer,
   * whatever its status; the caller reads or dumps the body.
   */
  async send(operation: string, path: string, req: SwiftRequest): Promise<SwiftResponse> {
    let reauthenticated = false;
    for (let attempt = 1; ; attempt += 1) {
      let response: SwiftResponse;
      try {
        const session = await this.currentSession();
        response = await request(this.url(session, req), {
          method: req.method,
          dispatcher: this.agent,
          headers: { ...req.headers, 'x-auth-token': session.token },
          body: req.body,
        });
      } catch (err) {
        if (err instanceof SwiftAuthError || attempt >= MAX_ATTEMPTS) throw unavailable(operation, path, err);
        this.session = null; // the identity endpoint may have failed; ask again next time
        await sleep(BACKOFF_MS * 2 ** (attempt - 1));
        continue;
      }
      if (response.statusCode === 401 && !reauthenticated) {
        // The token expired or was revoked: one new token, then the same request again.
        await response.body.dump();
        this.session = null;
        reauthenticated = true;
        attempt -= 1;
        continue;
      }
      if ((response.statusCode >= 500 || response.statusCode === 429) && attempt < MAX_ATTEMPTS) {
        await response.body.dump();
        await sleep(BACKOFF_MS * 2 ** (attempt - 1));
        continue;
      }
      return response;
    }
  }

  /** send(), then 404 → PathNotFoundError(path) and any other non-2xx → StorageUnavailableError. */
  async ok(operation: string, path: string, req: SwiftRequest): Promise<SwiftResponse> {
    const response = await this.send(operation, path, req);
    if (response.statusCode < 300) return response;
    const detail = (await response.body.text().catch(() => '')).slice(0, 200);
    if (response.statusCode === 404) {
      // Swift answers 404 for an object of a missing container too: that is the store's fault.
      if (req.object === undefined) throw new StorageUnavailableError(`Swift ${operation} of ${path} failed: container ${this.config.container} does not exist`);
      await this.assertContainer(operation, path);
      throw new PathNotFoundError(path);
    }
    throw new StorageUnavailableError(`Swift ${operation} of ${path} failed: HTTP ${response.statusCode}${detail ? ` ${detail}` : ''}`);
  }

  /** Like ok() for requests whose answer has no body worth reading. */
  async done(operation: string, path: string, req: SwiftRequest): Promise<Record<string, string | string[] | undefined>> {
    const response = await this.ok(operation, path, req);
    await response.body.dump();
    return response.headers;
  }

  /** StorageUnavailableError unless the container exists (checked at most every CONTAINER_CHECK_MS). */
  async assertContainer(operation: string, path: string): Promise<void> {
    if (Date.now() - this.containerSeenAt < CONTAINER_CHECK_MS) return;
    const response = await this.send('HEAD', path, { method: 'HEAD' });
    await response.body.dump();
    if (response.statusCode === 404) {
      throw new StorageUnavailableError(`Swift ${operation} of ${path} failed: container ${this.config.container} does not exist`);
    }
    if (response.statusCode >= 300) throw new StorageUnavailableError(`Swift ${operation} of ${path} failed: container check answered HTTP ${response.statusCode}`);
    this.containerSeenAt = Date.now();
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private currentSession(): Promise<SwiftSession> {
    if (this.session === null) {
      const pending = authenticate(this.config, this.agent, IDLE_TIMEOUT_MS);
      // A failed authentication is not kept: the next request asks again.
      pending.catch(() => {
        if (this.session === pending) this.session = null;
      });
      this.session = pending;
    }
    return this.session;
  }

  private url(session: SwiftSession, req: SwiftRequest): string {
    let url = `${session.storageUrl.replace(/\/+$/, '')}/${encodeURIComponent(this.config.container)}`;
    if (req.object !== undefined) url += `/${req.object.split('/').map(encodeURIComponent).join('/')}`;
    if (req.query) url += `?${new URLSearchParams(req.query).toString()}`;
    return url;
  }
}

export function unavailable(operation: string, path: string, err: unknown): StorageUnavailableError {
  const message = err instanceof Error ? err.message : String(err);
  return new StorageUnavailableError(`Swift ${operation} of ${path} failed: ${message}`, { cause: err });
}

export { header };
