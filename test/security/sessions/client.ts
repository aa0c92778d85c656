/**
 * A client of the token deployment, as docker or skopeo behaves: ask the auth service for a
 * token for some scopes, then call the registry with it. Plus the assertions the session
 * suites share: a 401 challenge with a given error and scope, an access claim.
 */
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { basic, getToken, SERVICE, type AuthHarness } from '../../api/auth/harness.js';
import { digestOf, type TestImage } from '../../api/registry/harness.js';
import type { AccessRecord } from '../../../shared/grammar/scope.js';

/** A token for `user` (Basic credentials) carrying what the auth service grants of `scopes`. */
export async function tokenFor(auth: AuthHarness, user: string, password: string, scopes: string[]): Promise<string> {
  const reply = await getToken(auth, [['service', SERVICE], ['account', user], ...scopes.map((s): [string, string] => ['scope', s])], basic(user, password));
  assert.equal(reply.status, 200, `token for ${user}: ${reply.text}`);
  return reply.body.token as string;
}

/** The access claim of a token. */
export function accessOf(token: string): AccessRecord[] {
  return (decodeJwt(token).access ?? []) as AccessRecord[];
}

/** A registry request with `Authorization: Bearer <token>`. */
export function withToken(url: string, token: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), Authorization: `Bearer ${token}` } });
}

/** Asserts a 401 UNAUTHORIZED whose Bearer challenge names `scope` (and `error` when given). */
export async function expectChallenge(response: Response, scope: string, error?: 'insufficient_scope' | 'invalid_token'): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, 401, `expected 401, got ${response.status}: ${text}`);
  assert.equal((JSON.parse(text) as { errors: Array<{ code: string }> }).errors[0]?.code, 'UNAUTHORIZED');
  const challenge = response.headers.get('www-authenticate') ?? '';
  assert.match(challenge, /^Bearer realm="[^"]+",service="[^"]+"/);
  assert.ok(challenge.includes(`scope="${scope}"`), `challenge ${challenge} should name scope ${scope}`);
  if (error) assert.ok(challenge.endsWith(`error="${error}"`), `challenge ${challenge} should end with error="${error}"`);
}

/** Uploads `bytes` to `name` with POST + PUT ?digest= under `token`; returns the digest. */
export async function uploadWith(url: string, token: string, name: string, bytes: Buffer): Promise<string> {
  const digest = digestOf(bytes);
  const start = await withToken(`${url}/v2/${name}/blobs/uploads/`, token, { method: 'POST' });
  assert.equal(start.status, 202, await start.text());
  const put = await withToken(`${url}${start.headers.get('location')}?digest=${digest}`, token, { method: 'PUT', body: bytes });
  assert.equal(put.status, 201, await put.text());
  return digest;
}

/** Pushes an image's blobs and manifest at `tag` under `token`; returns the manifest digest. */
export async function pushWith(url: string, token: string, name: string, tag: string, image: TestImage): Promise<string> {
  for (const blob of [image.config, ...image.layers]) await uploadWith(url, token, name, blob);
  const put = await withToken(`${url}/v2/${name}/manifests/${tag}`, token, { method: 'PUT', body: image.manifest, headers: { 'Content-Type': image.mediaType } });
  assert.equal(put.status, 201, await put.text());
  return put.headers.get('docker-content-digest')!;
}
