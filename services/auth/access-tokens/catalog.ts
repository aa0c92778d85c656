/** The admin API operations of personal access tokens (see operations/catalog.ts and operations.ts here). */
import { assertUserName } from '../names.js';
import type { Operation } from '../operations/catalog.js';
import type { JsonSchema } from '../operations/schemas.js';
import { callerUser } from './operations.js';

const time = (description: string): JsonSchema => ({ type: 'integer', description: `${description} (epoch milliseconds)` });

const TOKEN: JsonSchema = {
  type: 'object',
  required: ['name', 'user', 'createdAt', 'expiresAt', 'lastUsedAt', 'revoked'],
  properties: {
    name: { type: 'string' },
    user: { type: 'string' },
    createdAt: time('creation'),
    expiresAt: time('expiry'),
    lastUsedAt: { type: ['integer', 'null'], description: 'last token request with it (epoch milliseconds, null: never)' },
    revoked: { type: 'boolean' },
  },
};
const LIST: JsonSchema = { type: 'object', required: ['tokens'], properties: { tokens: { type: 'array', items: TOKEN } } };
const CREATED: JsonSchema = {
  type: 'object',
  required: ['token', 'username', 'secret'],
  properties: {
    token: TOKEN,
    username: { type: 'string', description: 'for docker login -u' },
    secret: { type: 'string', description: 'the docker login password; shown once, only its SHA-256 is stored' },
  },
};
const CREATE_BODY: JsonSchema = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', description: '1-64 characters of A-Z a-z 0-9 . _ -' }, expires: { type: 'string', description: 'lifetime such as 30d or 12h (default 30d, at most auth.accesstokens.maxlifetimeseconds)' } },
};

export const ACCESS_TOKEN_OPERATIONS: readonly Operation[] = [
  {
    id: 'listOwnAccessTokens', method: 'get', path: '/me/access-tokens', access: 'self', tag: 'self-service', summary: 'List your personal access tokens (never their secrets)',
    response: { status: 200, description: 'your tokens', schema: LIST },
    handle: async (ops, { caller }) => ({ status: 200, body: { tokens: await ops.accessTokens.list(callerUser(caller)) } }),
  },
  {
    id: 'createOwnAccessToken', method: 'post', path: '/me/access-tokens', access: 'self', tag: 'self-service', summary: 'Create a personal access token (a docker login password); the secret is in this response only',
    description: 'For any enabled user, also one who signs in through single sign-on only (with an admin API token from that sign-in). A personal access token cannot call this API.',
    body: CREATE_BODY,
    response: { status: 201, description: 'the token and its secret', schema: CREATED }, errors: [409],
    handle: async (ops, { actor, caller, body }) => {
      const b = await body();
      return { status: 201, body: await ops.accessTokens.create(actor, callerUser(caller), { name: b.name, expires: b.expires }), headers: { 'Cache-Control': 'no-store' } };
    },
  },
  {
    id: 'revokeOwnAccessToken', method: 'delete', path: '/me/access-tokens/{token}', access: 'self', tag: 'self-service', summary: 'Revoke one of your personal access tokens', params: { token: 'token name' },
    response: { status: 204, description: 'revoked' }, errors: [404],
    handle: async (ops, { actor, caller, params }) => {
      await ops.accessTokens.revoke(actor, callerUser(caller), params.token);
      return { status: 204 };
    },
  },
  {
    id: 'listUserAccessTokens', method: 'get', path: '/users/{name}/access-tokens', access: 'admin', tag: 'users', summary: "List a user's personal access tokens", params: { name: 'user name' },
    response: { status: 200, description: 'the tokens', schema: LIST }, errors: [404],
    handle: async (ops, { params }) => ({ status: 200, body: { tokens: await ops.accessTokens.list(assertUserName(params.name)) } }),
  },
  {
    id: 'revokeUserAccessToken', method: 'delete', path: '/users/{name}/access-tokens/{token}', access: 'admin', tag: 'users', summary: "Revoke a user's personal access token", params: { name: 'user name', token: 'token name' },
    response: { status: 204, description: 'revoked' }, errors: [404],
    handle: async (ops, { actor, params }) => {
      await ops.accessTokens.revoke(actor, assertUserName(params.name), params.token);
      return { status: 204 };
    },
  },
];
