/** Refresh tokens, signing keys and the audit log: the auth service's housekeeping commands. */
import type { Command } from '../command.js';
import { UsageError } from '../args.js';
import { formatTable, formatTime } from '../format.js';

export const maintenanceCommands: Command[] = [
  {
    name: 'refresh-tokens list',
    args: [{ name: 'SUBJECT' }],
    summary: 'list the live refresh tokens of a user or robot (never the tokens themselves)',
    example: 'dockyard refresh-tokens list user:alice',
    operation: 'listRefreshTokens',
    async run(ctx) {
      const tokens = await (await ctx.admin()).listRefreshTokens(ctx.args.need(2, 'SUBJECT'));
      ctx.print(tokens, () => formatTable(['ID', 'CLIENT', 'SERVICE', 'CREATED', 'LAST USED'], tokens.map((t) => [String(t.id), t.clientId, t.service, formatTime(t.createdAt), formatTime(t.lastUsedAt)])));
    },
  },
  {
    name: 'refresh-tokens revoke',
    args: [{ name: 'SUBJECT' }],
    summary: 'revoke every refresh token of a user or robot (user:NAME, robot:NAME)',
    example: 'dockyard refresh-tokens revoke user:alice',
    operation: 'revokeRefreshTokens',
    async run(ctx) {
      const revoked = await (await ctx.admin()).revokeRefreshTokens(ctx.actor(), ctx.args.need(2, 'SUBJECT'));
      ctx.print({ revoked }, () => `revoked ${revoked} refresh token(s)`);
    },
  },
  {
    name: 'keys rotate',
    summary: 'make a new signing key current (the old one stays published until its tokens expire)',
    details:
      'The key that becomes current is the next key, published (JWKS, `/certs.pem`) since the previous rotation, so registries trusting the JWKS accept its tokens as soon as the command returns. A rotation less than `auth.keypublishaheadseconds` (default 15 s) after the previous one waits for the rest first ([security.md](security.md#key-rotation-timeline-issue-11-item-4)).',
    example: 'dockyard keys rotate',
    operation: 'rotateKeys',
    async run(ctx) {
      const { kid } = await (await ctx.admin({ keys: true })).rotateKeys(ctx.actor());
      ctx.print({ kid }, () => `rotated signing key; new kid ${kid}`);
    },
  },
  {
    name: 'audit',
    flags: [
      { name: 'limit', value: 'N', help: 'entries to show (1 to 500, default 50)' },
      { name: 'actor', value: 'NAME', help: 'only changes by this actor (an admin user or cli:USER)' },
      { name: 'action', value: 'ACTION', help: 'only this action, e.g. user.create, grant.add' },
    ],
    summary: 'show the audit log, newest first',
    example: 'dockyard audit --limit 20 --action user.create',
    operation: 'queryAudit',
    async run(ctx) {
      const limitText = ctx.args.values.get('limit');
      if (limitText !== undefined && !/^\d{1,4}$/.test(limitText)) throw new UsageError('--limit takes a number');
      const filter = { limit: limitText === undefined ? undefined : Number(limitText), actor: ctx.args.values.get('actor'), action: ctx.args.values.get('action') };
      const { entries } = await (await ctx.admin()).queryAudit(filter);
      const rows = entries.map((e) => [formatTime(e.at), e.actor, e.action, e.target, e.outcome, e.clientAddress, JSON.stringify(e.details)]);
      ctx.print(entries, () => formatTable(['TIME', 'ACTOR', 'ACTION', 'TARGET', 'OUTCOME', 'ADDRESS', 'DETAILS'], rows));
    },
  },
];
