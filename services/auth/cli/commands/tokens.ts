/**
 * `tokens revoke`: a user revokes their OWN refresh tokens (the identity token `docker
 * login` stored) through the auth service's self-service endpoint, with their own
 * password. `docker logout` only forgets the token locally; this makes it worthless.
 */
import { DockyardError } from '../../../../shared/http/errors.js';
import type { Command } from '../command.js';
import { RegistryRequestError } from '../registry-client.js';
import { selfService } from '../../access-tokens/cli.js';

export const tokensCommands: Command[] = [
  {
    name: 'tokens revoke',
    args: [{ name: 'NAME', optional: true }],
    flags: [
      { name: 'auth', value: 'URL', help: 'the auth service (default: DOCKYARD_AUTH, else http://127.0.0.1:5001)' },
      { name: 'username', value: 'NAME', help: 'your user name (default: DOCKYARD_USERNAME)' },
      { name: 'password-stdin', help: 'read your password from stdin (default: DOCKYARD_PASSWORD)' },
    ],
    summary: 'revoke your personal access token NAME, or without NAME every refresh token of your own account (after docker logout, or a lost laptop)',
    details: 'Any enabled user may run it for their own account; admins revoke others\' with `refresh-tokens revoke user:NAME` and `access-tokens revoke USER NAME`.',
    example: "printf '%s\\n' \"$PASSWORD\" | dockyard tokens revoke --auth https://auth.example.com --username alice --password-stdin",
    operation: 'revokeOwnRefreshTokens',
    async run(ctx) {
      const token = ctx.args.positional[2];
      if (token !== undefined) {
        await selfService(ctx, 'DELETE', `access-tokens/${encodeURIComponent(token)}`);
        ctx.print({ token, revoked: true }, () => `revoked personal access token ${token}`);
        return;
      }
      const base = ctx.args.values.get('auth') ?? ctx.env.DOCKYARD_AUTH ?? 'http://127.0.0.1:5001';
      const { username, password } = await ctx.credentials();
      const url = new URL('/api/v1/me/refresh-tokens/revoke', base);
      let res: Response;
      try {
        // The admin API takes changes only as JSON (its cross-site request guard), also with no body.
        res = await fetch(url, { method: 'POST', headers: { Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`, 'Content-Type': 'application/json' } });
      } catch (err) {
        throw new DockyardError('UNAVAILABLE', `cannot reach the auth service at ${base}: ${(err as Error).message} (set --auth URL or DOCKYARD_AUTH)`);
      }
      const body = (await res.json().catch(() => ({}))) as { revoked?: number; errors?: Array<{ message?: string }> };
      if (!res.ok) throw new RegistryRequestError(res.status, `revoking refresh tokens: ${body.errors?.[0]?.message ?? `HTTP ${res.status}`}`);
      ctx.print({ user: username, revoked: body.revoked ?? 0 }, () => `revoked ${body.revoked ?? 0} refresh token(s) of ${username}`);
    },
  },
];
