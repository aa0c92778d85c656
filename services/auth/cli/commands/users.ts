/** `users …`: local user accounts (the auth service's users table). */
import { readFile } from 'node:fs/promises';
import type { Actor, AdminOperations } from '../../operations/index.js';
import type { PublicUser } from '../../store/users.js';
import type { Command } from '../command.js';
import { formatTable, formatTime } from '../format.js';

const PASSWORD_STDIN = { name: 'password-stdin', help: 'read the password from stdin (never from arguments, which end up in shell history)' };

/** The PATCH /users/{name} changes, one command each. */
const USER_SWITCHES: Array<{ verb: string; summary: string; apply: (ops: AdminOperations, actor: Actor, name: string) => Promise<PublicUser> }> = [
  { verb: 'disable', summary: 'disable a user (no new tokens; kept with its grants)', apply: (ops, actor, name) => ops.users.setDisabled(actor, name, true) },
  { verb: 'enable', summary: 'enable a disabled user', apply: (ops, actor, name) => ops.users.setDisabled(actor, name, false) },
  { verb: 'promote', summary: 'make a user an administrator', apply: (ops, actor, name) => ops.users.setAdmin(actor, name, true) },
  { verb: 'demote', summary: 'take administrator rights away (never from the last enabled admin)', apply: (ops, actor, name) => ops.users.setAdmin(actor, name, false) },
];

export const usersCommands: Command[] = [
  {
    name: 'users list',
    summary: 'list users',
    example: 'dockyard users list --json',
    operation: 'listUsers',
    async run(ctx) {
      const users = await (await ctx.admin()).users.list();
      ctx.print(users, () => formatTable(['NAME', 'ADMIN', 'DISABLED', 'CREATED'], users.map((u) => [u.name, String(u.admin), String(u.disabled), formatTime(u.createdAt)])));
    },
  },
  {
    name: 'users add',
    args: [{ name: 'NAME' }],
    flags: [PASSWORD_STDIN, { name: 'admin', help: 'make the user an administrator' }],
    summary: 'create a user',
    details: 'The password (8 to 72 bytes) is read from stdin; a trailing newline is not part of it.',
    example: "printf '%s\\n' \"$PASSWORD\" | dockyard users add alice --password-stdin",
    operation: 'createUser',
    async run(ctx) {
      const name = ctx.args.need(2, 'NAME');
      const created = await (await ctx.admin()).users.create(ctx.actor(), { name, password: await ctx.password(), admin: ctx.args.flags.has('admin') });
      ctx.print(created, () => `created user ${created.name}${created.admin ? ' (admin)' : ''}`);
    },
  },
  {
    name: 'users passwd',
    args: [{ name: 'NAME' }],
    flags: [PASSWORD_STDIN],
    summary: "change a user's password (revokes the user's refresh tokens)",
    example: "printf '%s\\n' \"$PASSWORD\" | dockyard users passwd alice --password-stdin",
    operation: 'setUserPassword',
    async run(ctx) {
      const name = ctx.args.need(2, 'NAME');
      await (await ctx.admin()).users.setPassword(ctx.actor(), name, await ctx.password());
      ctx.print({ name, passwordChanged: true }, () => `password of ${name} changed; its refresh tokens were revoked`);
    },
  },
  {
    name: 'users unlock',
    args: [{ name: 'NAME' }],
    summary: 'clear the failed logins counted against a user, from every address',
    example: 'dockyard users unlock alice',
    operation: 'unlockUser',
    async run(ctx) {
      const name = ctx.args.need(2, 'NAME');
      const attemptsCleared = await (await ctx.admin()).users.unlock(ctx.actor(), name);
      ctx.print({ name, attemptsCleared }, () => `unlocked user ${name}: ${attemptsCleared} counted login attempt(s) cleared`);
    },
  },
  ...USER_SWITCHES.map(
    ({ verb, summary, apply }): Command => ({
      name: `users ${verb}`,
      args: [{ name: 'NAME' }],
      summary,
      example: `dockyard users ${verb} alice`,
      operation: 'updateUser',
      async run(ctx) {
        const name = ctx.args.need(2, 'NAME');
        const user = await apply(await ctx.admin(), ctx.actor(), name);
        ctx.print(user, () => `user ${name} ${verb}d`);
      },
    }),
  ),
  {
    name: 'users delete',
    args: [{ name: 'NAME' }],
    summary: 'delete a user with its grants, group memberships and refresh tokens',
    example: 'dockyard users delete alice',
    operation: 'deleteUser',
    async run(ctx) {
      const name = ctx.args.need(2, 'NAME');
      await (await ctx.admin()).users.delete(ctx.actor(), name);
      ctx.print({ name, deleted: true }, () => `deleted user ${name}`);
    },
  },
  {
    name: 'users import-htpasswd',
    args: [{ name: 'FILE' }],
    summary: 'create users from an htpasswd file (bcrypt entries; others are reported and skipped)',
    example: 'dockyard users import-htpasswd /etc/docker/registry/htpasswd',
    async run(ctx) {
      const file = ctx.args.need(2, 'FILE');
      const text = await readFile(file, 'utf8');
      const { imported, skipped } = await (await ctx.admin()).users.importHtpasswd(ctx.actor(), text);
      if (!ctx.json) for (const s of skipped) ctx.io.err(`skipped ${file}:${s.line}${s.name ? ` (${s.name})` : ''}: ${s.reason}`);
      ctx.print({ imported, skipped }, () => `imported ${imported.length} user(s)${imported.length ? `: ${imported.join(', ')}` : ''}; skipped ${skipped.length}`);
    },
  },
];
