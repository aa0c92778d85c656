/** What the directory token tests share: login and refresh calls, audit reads. */
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { basic, getToken, postToken, SERVICE, type AuthHarness, type Reply } from '../harness.js';

/** GET /token as docker login does it (offline_token, client_id) with `scope`s. */
export function login(h: AuthHarness, user: string, password: string, scopes: string[] = []): Promise<Reply> {
  return getToken(h, [['service', SERVICE], ['client_id', 'docker'], ['offline_token', 'true'], ...scopes.map((s): [string, string] => ['scope', s])], basic(user, password));
}

/** POST /token with a refresh token, as docker does for every push and pull after login. */
export function refresh(h: AuthHarness, refreshToken: string, scope: string): Promise<Reply> {
  return postToken(h, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'docker', service: SERVICE, scope });
}

/** The access claim of a token response. */
export function accessIn(reply: Reply): unknown {
  assert.equal(reply.status, 200, reply.text);
  return decodeJwt(String(reply.body.token)).access;
}

/** The newest token.issue audit entry for `actor` (details parsed). */
export async function lastAudit(h: AuthHarness, actor: string): Promise<{ outcome: string; details: Record<string, unknown> }> {
  const row = await h.db('audit').where({ action: 'token.issue', actor }).orderBy('id', 'desc').first();
  assert.ok(row, `no audit entry for ${actor}`);
  return { outcome: row.outcome, details: JSON.parse(row.details) as Record<string, unknown> };
}
