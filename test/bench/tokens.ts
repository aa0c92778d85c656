/**
 * Docker-token-spec client calls against Dockyard's auth service, each checking the token
 * it got: a JWT for the configured service whose subject is who logged in and whose access
 * covers what was asked (when the account may have it).
 */
import { BenchError, type HttpClient, type Reply } from './load.js';

/** The claims the bench checks. */
interface TokenClaims {
  sub?: unknown;
  aud?: unknown;
  access?: Array<{ type?: unknown; name?: unknown; actions?: unknown }>;
}

/** The answer of /token, after checks. */
export interface TokenAnswer {
  token: string;
  refreshToken?: string;
  claims: TokenClaims;
}

/** What a token must say to pass. */
export interface TokenExpectation {
  service: string;
  subject: string;
  /** Scopes `repository:NAME:ACTIONS` that must each be fully granted. */
  granted: string[];
}

function decodeClaims(jwt: string): TokenClaims {
  const parts = jwt.split('.');
  if (parts.length !== 3) throw new BenchError('token is not a compact JWT');
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as TokenClaims;
}

function covers(claims: TokenClaims, scope: string): boolean {
  const [type, ...rest] = scope.split(':');
  const actions = rest.pop()?.split(',') ?? [];
  const name = rest.join(':');
  return actions.every((action) =>
    (claims.access ?? []).some(
      (entry) => entry.type === type && entry.name === name && Array.isArray(entry.actions) && (entry.actions.includes(action) || entry.actions.includes('*')),
    ),
  );
}

function checkedAnswer(reply: Reply, expectation: TokenExpectation): TokenAnswer {
  const body = JSON.parse(reply.body.toString('utf8')) as { token?: unknown; access_token?: unknown; refresh_token?: unknown };
  const token = typeof body.token === 'string' ? body.token : typeof body.access_token === 'string' ? body.access_token : undefined;
  if (!token) throw new BenchError('token endpoint answered without a token');
  const claims = decodeClaims(token);
  if (claims.aud !== expectation.service) throw new BenchError(`token aud ${JSON.stringify(claims.aud)}, expected ${expectation.service}`);
  if (claims.sub !== expectation.subject) throw new BenchError(`token sub ${JSON.stringify(claims.sub)}, expected ${expectation.subject}`);
  const missing = expectation.granted.filter((scope) => !covers(claims, scope));
  if (missing.length > 0) throw new BenchError(`token for ${expectation.subject} lacks ${missing.join(' ')}`);
  return { token, refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : undefined, claims };
}

/** Options of a Basic-auth GET /token login. */
export interface BasicLogin {
  username: string;
  password: string;
  scopes: string[];
  /** Ask for a refresh token too (offline_token=true with a client_id). */
  offline?: boolean;
}

/** GET /token with Basic credentials, as docker/podman/skopeo do. */
export async function basicLogin(http: HttpClient, service: string, login: BasicLogin, expectation: TokenExpectation): Promise<TokenAnswer> {
  const query = new URLSearchParams({ service, account: login.username });
  for (const scope of login.scopes) query.append('scope', scope);
  if (login.offline) {
    query.set('offline_token', 'true');
    query.set('client_id', 'dockyard-bench');
  }
  const reply = await http.request({
    method: 'GET',
    path: `/token?${query}`,
    headers: { authorization: `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}` },
    expect: [200],
  });
  const answer = checkedAnswer(reply, expectation);
  if (login.offline && !answer.refreshToken) throw new BenchError('offline_token=true login returned no refresh_token');
  return answer;
}

/** POST /token with grant_type=refresh_token and no Authorization header, as docker does after login. */
export async function refreshLogin(http: HttpClient, service: string, refreshToken: string, scopes: string[], expectation: TokenExpectation): Promise<TokenAnswer> {
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'dockyard-bench', service, scope: scopes.join(' ') });
  const reply = await http.request({
    method: 'POST',
    path: '/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    expect: [200],
  });
  return checkedAnswer(reply, expectation);
}
