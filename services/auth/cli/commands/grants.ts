/** `grants …`: who may pull, push or delete which repositories. */
import type { Command } from '../command.js';
import { formatTable } from '../format.js';

const GRAMMAR = `SUBJECT: user:NAME | group:NAME | robot:NAME | anonymous | authenticated
PATTERN: team/app | team/* | team/** | \${user}/*
ACTIONS: pull,push,delete or *`;

export const grantsCommands: Command[] = [
  {
    name: 'grants list',
    args: [{ name: 'SUBJECT', optional: true }],
    summary: 'list grants, all or those of one subject',
    details: GRAMMAR,
    example: 'dockyard grants list group:developers',
    operation: 'listGrants',
    async run(ctx) {
      const grants = await (await ctx.admin()).grants.list(ctx.args.positional[2]);
      ctx.print(grants, () => formatTable(['ID', 'SUBJECT', 'PATTERN', 'ACTIONS'], grants.map((g) => [String(g.id), g.subject, g.pattern, g.actions.join(',')])));
    },
  },
  {
    name: 'grants add',
    args: [{ name: 'SUBJECT' }, { name: 'PATTERN' }, { name: 'ACTIONS' }],
    summary: 'allow a subject some actions on the repositories a pattern matches',
    details: GRAMMAR,
    example: "dockyard grants add group:developers 'team/**' pull,push",
    operation: 'addGrant',
    async run(ctx) {
      const [subject, pattern, actions] = [ctx.args.need(2, 'SUBJECT'), ctx.args.need(3, 'PATTERN'), ctx.args.need(4, 'ACTIONS')];
      const grant = await (await ctx.admin()).grants.add(ctx.actor(), { subject, pattern, actions });
      ctx.print(grant, () => `grant ${grant.id}: ${grant.subject} may ${grant.actions.join(',')} on ${grant.pattern}`);
    },
  },
  {
    name: 'grants remove',
    args: [{ name: 'ID' }],
    summary: 'remove a grant by its id (see grants list)',
    example: 'dockyard grants remove 7',
    operation: 'removeGrant',
    async run(ctx) {
      const id = ctx.args.need(2, 'ID');
      await (await ctx.admin()).grants.remove(ctx.actor(), id);
      ctx.print({ id: Number(id), removed: true }, () => `removed grant ${id}`);
    },
  },
];
