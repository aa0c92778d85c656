/**
 * Getting a token and the storage URL from Swift's identity endpoint, the two ways CNCF
 * distribution's swift driver does: auth v1 (`X-Auth-User`/`X-Auth-Key` against
 * `/auth/1.0`, Ceph RGW and Swift's tempauth) and Keystone v3 password auth (a scoped token
 * from `/v3/auth/tokens`, the object-store endpoint from its catalog).
 */
import type { Dispatcher } from 'undici';
import { request } from 'undici';
import type { SwiftStorageConfig } from '../../../../../shared/config/index.js';

export interface SwiftSession {
  token: string;
  /** Account URL; containers are below it. */
  storageUrl: string;
}

/** The identity endpoint refused the credentials (or the scope): retrying will not help. */
export class SwiftAuthError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'SwiftAuthError';
  }
}

/** Authenticates once; network failures propagate as they are (the caller retries). */
export async function authenticate(config: SwiftStorageConfig, dispatcher: Dispatcher, timeoutMs: number): Promise<SwiftSession> {
  return config.authVersion === 3 ? authV3(config, dispatcher, timeoutMs) : authV1(config, dispatcher, timeoutMs);
}

async function authV1(config: SwiftStorageConfig, dispatcher: Dispatcher, timeoutMs: number): Promise<SwiftSession> {
  const response = await request(config.authUrl, {
    method: 'GET',
    dispatcher,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    headers: { 'x-auth-user': config.username, 'x-auth-key': config.password },
  });
  await response.body.dump();
  if (response.statusCode >= 300) throw failure('auth v1', response.statusCode);
  const token = header(response.headers, 'x-auth-token') ?? header(response.headers, 'x-storage-token');
  const storageUrl = header(response.headers, 'x-storage-url');
  if (!token || !storageUrl) throw new SwiftAuthError('auth v1 answered without X-Auth-Token or X-Storage-Url');
  return { token, storageUrl };
}

interface CatalogEntry {
  type?: string;
  endpoints?: Array<{ interface?: string; region?: string; region_id?: string; url?: string }>;
}

async function authV3(config: SwiftStorageConfig, dispatcher: Dispatcher, timeoutMs: number): Promise<SwiftSession> {
  const domain = config.domainId !== undefined ? { id: config.domainId } : config.domain !== undefined ? { name: config.domain } : undefined;
  const project =
    config.tenantId !== undefined ? { id: config.tenantId } : config.tenant !== undefined ? { name: config.tenant, ...(domain ? { domain } : {}) } : undefined;
  const body = {
    auth: {
      identity: { methods: ['password'], password: { user: { name: config.username, password: config.password, ...(domain ? { domain } : {}) } } },
      ...(project ? { scope: { project } } : {}),
    },
  };
  const url = `${config.authUrl.replace(/\/+$/, '')}/auth/tokens`;
  const response = await request(url, {
    method: 'POST',
    dispatcher,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.statusCode >= 300) {
    await response.body.dump();
    throw failure('Keystone v3', response.statusCode);
  }
  const token = header(response.headers, 'x-subject-token');
  const answer = (await response.body.json()) as { token?: { catalog?: CatalogEntry[] } };
  if (!token) throw new SwiftAuthError('Keystone answered without X-Subject-Token');
  const storageUrl = objectStoreUrl(answer.token?.catalog ?? [], config);
  return { token, storageUrl };
}

/** The object-store endpoint of the configured interface (and region, when set). */
function objectStoreUrl(catalog: CatalogEntry[], config: SwiftStorageConfig): string {
  for (const entry of catalog) {
    if (entry.type !== 'object-store') continue;
    for (const endpoint of entry.endpoints ?? []) {
      if (endpoint.interface !== config.endpointType || !endpoint.url) continue;
      if (config.region !== undefined && endpoint.region !== config.region && endpoint.region_id !== config.region) continue;
      return endpoint.url;
    }
  }
  const where = config.region !== undefined ? ` in region ${config.region}` : '';
  throw new SwiftAuthError(`the Keystone catalog has no ${config.endpointType} object-store endpoint${where} (is the token scoped to a project? set tenant or tenantid)`);
}

function failure(what: string, status: number): SwiftAuthError {
  const why = status === 401 || status === 403 ? 'credentials refused' : 'unexpected answer';
  return new SwiftAuthError(`${what}: ${why} (HTTP ${status})`, status);
}

export function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
