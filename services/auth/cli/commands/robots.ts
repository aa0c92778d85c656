/** `robots …`: machine accounts (`robot$NAME`) with a generated secret, for CI. */
import type { Command } from '../command.js';
import { formatTable, formatTime } from '../format.js';

export const robotsCommands: Command[] = [
  {
    name: 'robots list',
    summary: 'list robots with their state, expiry and last use',
    example: 'dockyard robots list',
    operation: 'listRobots',
    async run(ctx) {
      const robots = await (await ctx.admin()).robots.list();
      const state = (r: (typeof robots)[number]) => (r.revoked ? 'revoked' : r.expiresAt !== null && r.expiresAt <= Date.now() ? 'expired' : 'active');
      ctx.print(robots, () => formatTable(['NAME', 'STATE', 'EXPIRES', 'LAST USED'], robots.map((r) => [r.name, state(r), formatTime(r.expiresAt), formatTime(r.lastUsedAt)])));
    },
  },
  {
    name: 'robots add',
    args: [{ name: 'NAME' }],
    flags: [{ name: 'expires', value: 'DURATION', help: 'lifetime such as 30d, 12h (default: never expires)' }],
    summary: 'create a robot; its secret is printed once',
    details: 'With --json: {"username": "robot$NAME", "secret": "…"}, ready for `docker login -u`.',
    example: 'dockyard robots add ci --expires 90d --json',
    operation: 'createRobot',
    async run(ctx) {
      const created = await (await ctx.admin()).robots.create(ctx.actor(), { name: ctx.args.need(2, 'NAME'), expires: ctx.args.values.get('expires') });
      ctx.print(
        { username: created.username, secret: created.secret, expiresAt: created.robot.expiresAt },
        () => `created robot ${created.username}${created.robot.expiresAt ? ` (expires ${formatTime(created.robot.expiresAt)})` : ''}\nsecret (shown once): ${created.secret}`,
      );
    },
  },
  {
    name: 'robots revoke',
    args: [{ name: 'NAME' }],
    summary: 'revoke a robot (its secret stops working; the record stays for the audit)',
    example: 'dockyard robots revoke ci',
    operation: 'revokeRobot',
    async run(ctx) {
      const name = ctx.args.need(2, 'NAME');
      await (await ctx.admin()).robots.revoke(ctx.actor(), name);
      ctx.print({ name, revoked: true }, () => `revoked robot ${name}`);
    },
  },
  {
    name: 'robots delete',
    args: [{ name: 'NAME' }],
    summary: 'delete a robot with its grants and refresh tokens',
    example: 'dockyard robots delete ci',
    operation: 'deleteRobot',
    async run(ctx) {
      const name = ctx.args.need(2, 'NAME');
      await (await ctx.admin()).robots.delete(ctx.actor(), name);
      ctx.print({ name, deleted: true }, () => `deleted robot ${name}`);
    },
  },
];
