/** `groups …`: named sets of users that grants can name (`group:NAME`). */
import type { Command } from '../command.js';
import { formatTable } from '../format.js';

export const groupsCommands: Command[] = [
  {
    name: 'groups list',
    summary: 'list groups with their members',
    example: 'dockyard groups list',
    operation: 'listGroups',
    async run(ctx) {
      const groups = await (await ctx.admin()).groups.list();
      ctx.print(groups, () => formatTable(['NAME', 'MEMBERS'], groups.map((g) => [g.name, g.members.join(',')])));
    },
  },
  {
    name: 'groups add',
    args: [{ name: 'GROUP' }],
    summary: 'create a group',
    example: 'dockyard groups add developers',
    operation: 'createGroup',
    async run(ctx) {
      const group = await (await ctx.admin()).groups.create(ctx.actor(), { name: ctx.args.need(2, 'GROUP') });
      ctx.print(group, () => `created group ${group.name}`);
    },
  },
  {
    name: 'groups delete',
    args: [{ name: 'GROUP' }],
    summary: 'delete a group and its grants',
    example: 'dockyard groups delete developers',
    operation: 'deleteGroup',
    async run(ctx) {
      const name = ctx.args.need(2, 'GROUP');
      await (await ctx.admin()).groups.delete(ctx.actor(), name);
      ctx.print({ name, deleted: true }, () => `deleted group ${name}`);
    },
  },
  {
    name: 'groups add-member',
    args: [{ name: 'GROUP' }, { name: 'USER' }],
    summary: 'add a user to a group',
    example: 'dockyard groups add-member developers alice',
    operation: 'addGroupMember',
    async run(ctx) {
      const [group, user] = [ctx.args.need(2, 'GROUP'), ctx.args.need(3, 'USER')];
      await (await ctx.admin()).groups.addMember(ctx.actor(), group, user);
      ctx.print({ group, user, member: true }, () => `added ${user} to group ${group}`);
    },
  },
  {
    name: 'groups remove-member',
    args: [{ name: 'GROUP' }, { name: 'USER' }],
    summary: 'remove a user from a group',
    example: 'dockyard groups remove-member developers alice',
    operation: 'removeGroupMember',
    async run(ctx) {
      const [group, user] = [ctx.args.need(2, 'GROUP'), ctx.args.need(3, 'USER')];
      await (await ctx.admin()).groups.removeMember(ctx.actor(), group, user);
      ctx.print({ group, user, member: false }, () => `removed ${user} from group ${group}`);
    },
  },
];
