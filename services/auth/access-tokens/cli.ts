/**
 * CLI commands for personal access tokens. `tokens create|list` (and `tokens revoke NAME`,
 * cli/commands/tokens.ts) are self-service: they call the auth service over HTTP with the
 * user's own name and password, like `tokens revoke`. An SSO-only user has no password and
 * creates tokens in the web UI (or with an admin API token from a sign-in) instead.
 * `access-tokens list|revoke USER` are the admin's, on the database like other admin commands.
 */
import { DockyardError } from '../../../shared/http/errors.js';
import type { CliContext, Command } from '../cli/command.js';
import { formatTable, formatTime } from '../cli/format.js';
import { RegistryRequestError } from '../cli/registry-client.js';
import type { FlagSpec } from '../cli/args.js';
import type { PublicAccessToken } from './store.js';

/** The flags of the self-service commands. */
export const SELF_FLAGS: readonly FlagSpec[] = [
  { name: 'auth', value: 'URL', help: 'the auth service (default: DOCKYARD_AUTH, else http://127.0.0.1:5001)' },
  { name: 'username', value: 'NAME', help: 'your user name (default: DOCKYARD_USERNAME)' },
  { name: 'password-stdin', help: 'read your password from stdin (default: DOCKYARD_PASSWORD)' },
];

/** A self-service request to `/api/v1/me/...` with the caller's own credentials; the JSON answer. */
export async function selfService(ctx: CliContext, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const base = ctx.args.values.get('auth') ?? ctx.env.DOCKYARD_AUTH ?? 'http://127.0.0.1:5001';
  const { username, password } = await ctx.credentials();
  let res: Response;
  try {
    res = await fetch(new URL(`/api/v1/me/${path}`, base), {
      method,
      headers: { Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`, ...(method === 'GET' ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new DockyardError('UNAVAILABLE', `cannot reach the auth service at ${base}: ${(err as Error).message} (set --auth URL or DOCKYARD_AUTH)`);
  }
  const answer = (await res.json().catch(() => ({}))) as Record<string, unknown> & { errors?: Array<{ message?: string }> };
  if (!res.ok) throw new RegistryRequestError(res.status, answer.errors?.[0]?.message ?? `HTTP ${res.status}`);
  return answer;
}

function state(t: PublicAccessToken): string {
  return t.revoked ? 'revoked' : t.expiresAt <= Date.now() ? 'expired' : 'active';
}

function table(tokens: readonly PublicAccessToken[]): string {
  return formatTable(['NAME', 'STATE', 'EXPIRES', 'LAST USED', 'CREATED'], tokens.map((t) => [t.name, state(t), formatTime(t.expiresAt), formatTime(t.lastUsedAt), formatTime(t.createdAt)]));
}

export const accessTokenCommands: Command[] = [
  {
    name: 'tokens create',
    args: [{ name: 'NAME' }],
    flags: [{ name: 'expires', value: 'DURATION', help: 'lifetime such as 30d or 12h (default 30d; at most auth.accesstokens.maxlifetimeseconds)' }, ...SELF_FLAGS],
    summary: 'create a personal access token of your own (a docker login password); printed once',
    details: 'The token grants what your account is granted, for the registry only (not the admin API). With --json: {"username", "secret", "expiresAt"}.',
    example: "printf '%s\\n' \"$PASSWORD\" | dockyard tokens create laptop --expires 30d --auth https://auth.example.com --username alice --password-stdin",
    operation: 'createOwnAccessToken',
    async run(ctx) {
      const name = ctx.args.need(2, 'NAME');
      const expires = ctx.args.values.get('expires');
      const created = (await selfService(ctx, 'POST', 'access-tokens', expires === undefined ? { name } : { name, expires })) as { username: string; secret: string; token: PublicAccessToken };
      ctx.print(
        { username: created.username, secret: created.secret, expiresAt: created.token.expiresAt },
        () => `created personal access token ${name} of ${created.username} (expires ${formatTime(created.token.expiresAt)})\ntoken (shown once; use it as the docker login password): ${created.secret}`,
      );
    },
  },
  {
    name: 'tokens list',
    flags: SELF_FLAGS,
    summary: 'list your personal access tokens (never their secrets)',
    example: "printf '%s\\n' \"$PASSWORD\" | dockyard tokens list --username alice --password-stdin",
    operation: 'listOwnAccessTokens',
    async run(ctx) {
      const tokens = (await selfService(ctx, 'GET', 'access-tokens')).tokens as PublicAccessToken[];
      ctx.print(tokens, () => table(tokens));
    },
  },
  {
    name: 'access-tokens list',
    args: [{ name: 'USER' }],
    summary: "list a user's personal access tokens (admin)",
    example: 'dockyard access-tokens list alice',
    operation: 'listUserAccessTokens',
    async run(ctx) {
      const tokens = await (await ctx.admin()).accessTokens.list(ctx.args.need(2, 'USER'));
      ctx.print(tokens, () => table(tokens));
    },
  },
  {
    name: 'access-tokens revoke',
    args: [{ name: 'USER' }, { name: 'TOKEN' }],
    summary: "revoke a user's personal access token (admin); it stops working at the next token request",
    example: 'dockyard access-tokens revoke alice laptop',
    operation: 'revokeUserAccessToken',
    async run(ctx) {
      const user = ctx.args.need(2, 'USER');
      const token = ctx.args.need(3, 'TOKEN');
      await (await ctx.admin()).accessTokens.revoke(ctx.actor(), user, token);
      ctx.print({ user, token, revoked: true }, () => `revoked personal access token ${token} of ${user}`);
    },
  },
];
