/**
 * GET and POST /token, the Docker token protocol (see ARCHITECTURE.md "Token protocol
 * notes"). GET: `service`, repeated `scope` (each may hold several, space separated),
 * `account`, `client_id`, `offline_token=true`; Basic credentials or none (anonymous).
 * POST (form, what docker sends after login, with NO Authorization header):
 * `grant_type=password` (username, password, access_type=offline) or
 * `grant_type=refresh_token` (refresh_token), plus service, client_id, scope.
 */
import type { Router } from '@koa/router';
import type { Context, Next } from 'koa';
import { fail } from '../../../shared/http/errors.js';
import { formatScope, parseScopes } from '../../../shared/grammar/scope.js';
import { ANONYMOUS, type Principal } from '../authorize.js';
import { authorizationHeader, clientAddress, readForm, repeatedQuery, singleQuery } from '../http.js';
import { checkClientId, invalidCredentials, type TokenGrant, type TokenRequestInfo, type TokenService } from '../tokens.js';

function noStore(ctx: Context): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(true|1)$/i.test(value);
}

function tokenFields(grant: TokenGrant): Record<string, unknown> {
  const body: Record<string, unknown> = {
    token: grant.issued.token,
    access_token: grant.issued.token,
    expires_in: grant.issued.expiresIn,
    issued_at: grant.issued.issuedAt,
  };
  if (grant.refreshToken !== undefined) body.refresh_token = grant.refreshToken;
  return body;
}

async function getToken(ctx: Context, tokens: TokenService): Promise<void> {
  const service = tokens.checkService(singleQuery(ctx, 'service'), 'get');
  const account = singleQuery(ctx, 'account');
  const clientId = singleQuery(ctx, 'client_id');
  const info: TokenRequestInfo = {
    via: 'get',
    service,
    clientAddress: clientAddress(ctx),
    clientId: clientId ? checkClientId(clientId) : undefined,
    requested: parseScopes(repeatedQuery(ctx, 'scope')),
  };
  const auth = authorizationHeader(ctx);
  // The metrics' grant_type label: GET with Basic credentials is a password login.
  ctx.state.grantType = auth === null ? 'anonymous' : 'basic';
  let principal: Principal = ANONYMOUS;
  if (auth?.scheme === 'basic') {
    const { username, password } = auth.credentials;
    if (account !== undefined && account !== '' && account !== username) {
      throw fail('REQUEST_INVALID', 'the account parameter does not match the user name in the credentials');
    }
    principal = await tokens.login(username, password, info);
  } else if (auth !== null) {
    throw invalidCredentials(service);
  }
  ctx.state.subject = principal.name;
  const grant = await tokens.grant(principal, info, isTrue(singleQuery(ctx, 'offline_token')));
  ctx.state.tokenOutcome = principal.kind === 'anonymous' ? 'anonymous' : 'issued';
  noStore(ctx);
  ctx.body = tokenFields(grant);
}

function required(form: Map<string, string>, field: string): string {
  const value = form.get(field);
  if (value === undefined || value === '') throw fail('REQUEST_INVALID', `form field ${field} is required`);
  return value;
}

async function postToken(ctx: Context, tokens: TokenService): Promise<void> {
  const form = await readForm(ctx);
  const grantType = required(form, 'grant_type');
  ctx.state.grantType = grantType === 'password' || grantType === 'refresh_token' || grantType === 'authorization_code' ? grantType : 'unsupported';
  const service = tokens.checkService(form.get('service'), grantType === 'refresh_token' || grantType === 'authorization_code' ? grantType : 'password');
  const clientId = checkClientId(required(form, 'client_id'));
  const base = { service, clientAddress: clientAddress(ctx), clientId, requested: parseScopes([form.get('scope') ?? '']) };
  let grant: TokenGrant;
  if (grantType === 'password') {
    const info: TokenRequestInfo = { ...base, via: 'password' };
    const principal = await tokens.login(required(form, 'username'), required(form, 'password'), info);
    ctx.state.subject = principal.name;
    grant = await tokens.grant(principal, info, form.get('access_type') === 'offline');
  } else if (grantType === 'refresh_token') {
    const info = { ...base, via: 'refresh_token' as const };
    const principal = await tokens.redeem(required(form, 'refresh_token'), info);
    ctx.state.subject = principal.name;
    grant = await tokens.grant(principal, info, false);
    ctx.state.tokenOutcome = 'refreshed';
  } else if (grantType === 'authorization_code') {
    // A single sign-on's one-time code (oidc/), redeemed by the web front end: always with a refresh token.
    const info = { ...base, via: 'authorization_code' as const };
    const principal = await tokens.redeemCode(required(form, 'code'), required(form, 'redirect_uri'), info);
    ctx.state.subject = principal.name;
    grant = await tokens.grant(principal, info, true, tokens.signInRefreshExpiresAt());
  } else {
    throw fail('REQUEST_INVALID', 'unsupported grant_type: expected password, refresh_token or authorization_code');
  }
  noStore(ctx);
  ctx.body = { ...tokenFields(grant), scope: grant.access.map(formatScope).join(' ') };
}

/**
 * POST /token/revoke (RFC 7009, form `token`, `client_id`): a client that holds a refresh
 * token ends it, e.g. the web UI at sign-out. Always 200, whether or not the token was live.
 */
async function revokeToken(ctx: Context, tokens: TokenService): Promise<void> {
  const form = await readForm(ctx);
  await tokens.revokeRefreshToken(required(form, 'token'), checkClientId(required(form, 'client_id')), clientAddress(ctx));
  noStore(ctx);
  ctx.body = {};
}

/** Mounts GET and POST /token and POST /token/revoke on `router` (which also answers other methods with 405). */
export function mountTokenRoutes(router: Router, tokens: TokenService): void {
  router.get('/token', (ctx) => getToken(ctx, tokens));
  router.post('/token', (ctx) => postToken(ctx, tokens));
  router.post('/token/revoke', (ctx) => revokeToken(ctx, tokens));
}

/**
 * Serves GET (and HEAD) and POST of exactly `/token` ahead of the routers, so the busiest
 * endpoint skips their route matching; everything else, including other methods on
 * /token, goes on to the routes mounted by mountTokenRoutes.
 */
export function tokenEndpoint(tokens: TokenService) {
  return function serveToken(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== '/token') return next();
    const method = ctx.method;
    if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') return next();
    ctx.state.routeTemplate = '/token';
    return method === 'POST' ? postToken(ctx, tokens) : getToken(ctx, tokens);
  };
}
