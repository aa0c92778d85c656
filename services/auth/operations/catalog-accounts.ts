/** Operations table, accounts part: users, groups, robots (see catalog.ts). */
import { fail } from '../../../shared/http/errors.js';
import type { Operation } from './catalog.js';
import { listOf, ref } from './schemas.js';

const name = { name: 'user name' };

function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw fail('REQUEST_INVALID', `${field} must be true or false`);
  return value;
}

const ok = (body: unknown) => ({ status: 200, body });
const created = (body: unknown) => ({ status: 201, body });
const noContent = { status: 204 };

const USERS: Operation[] = [
  {
    id: 'listUsers', method: 'get', path: '/users', access: 'admin', tag: 'users', summary: 'List users',
    response: { status: 200, description: 'every user', schema: listOf('users', 'User') },
    handle: async (ops) => ok({ users: await ops.users.list() }),
  },
  {
    id: 'createUser', method: 'post', path: '/users', access: 'admin', tag: 'users', summary: 'Create a user',
    body: { type: 'object', required: ['name', 'password'], properties: { name: { type: 'string' }, password: { type: 'string', description: '8 to 72 bytes' }, admin: { type: 'boolean', default: false } } },
    response: { status: 201, description: 'the new user', schema: ref('User') }, errors: [409],
    handle: async (ops, { actor, body }) => {
      const b = await body();
      return created(await ops.users.create(actor, { name: b.name, password: b.password, admin: b.admin }));
    },
  },
  {
    id: 'getUser', method: 'get', path: '/users/{name}', access: 'admin', tag: 'users', summary: 'Get a user', params: name,
    response: { status: 200, description: 'the user', schema: ref('User') }, errors: [404],
    handle: async (ops, { params }) => ok(await ops.users.get(params.name)),
  },
  {
    id: 'updateUser', method: 'patch', path: '/users/{name}', access: 'admin', tag: 'users', summary: 'Disable, enable, promote or demote a user', params: name,
    description: 'At least one of disabled and admin. The last enabled admin cannot be disabled or demoted.',
    body: { type: 'object', properties: { disabled: { type: 'boolean' }, admin: { type: 'boolean' } } },
    response: { status: 200, description: 'the updated user', schema: ref('User') }, errors: [404, 409],
    handle: async (ops, { actor, params, body }) => {
      const b = await body();
      const disabled = optionalBoolean(b, 'disabled');
      const admin = optionalBoolean(b, 'admin');
      if (disabled === undefined && admin === undefined) throw fail('REQUEST_INVALID', 'expected disabled and/or admin');
      let user = await ops.users.get(params.name);
      if (disabled !== undefined && disabled !== user.disabled) user = await ops.users.setDisabled(actor, params.name, disabled);
      if (admin !== undefined && admin !== user.admin) user = await ops.users.setAdmin(actor, params.name, admin);
      return ok(user);
    },
  },
  {
    id: 'setUserPassword', method: 'put', path: '/users/{name}/password', access: 'admin', tag: 'users', summary: "Set a user's password (revokes the user's refresh tokens)", params: name,
    body: { type: 'object', required: ['password'], properties: { password: { type: 'string', description: '8 to 72 bytes' } } },
    response: { status: 204, description: 'changed' }, errors: [404],
    handle: async (ops, { actor, params, body }) => {
      await ops.users.setPassword(actor, params.name, (await body()).password);
      return noContent;
    },
  },
  {
    id: 'unlockUser', method: 'post', path: '/users/{name}/unlock', access: 'admin', tag: 'users', summary: 'Clear the failed logins counted against a user (every address)', params: name,
    response: { status: 200, description: 'the number of counted attempts cleared', schema: { type: 'object', properties: { attemptsCleared: { type: 'integer' } } } }, errors: [404],
    handle: async (ops, { actor, params }) => ok({ attemptsCleared: await ops.users.unlock(actor, params.name) }),
  },
  {
    id: 'deleteUser', method: 'delete', path: '/users/{name}', access: 'admin', tag: 'users', summary: 'Delete a user with its grants, memberships and refresh tokens', params: name,
    response: { status: 204, description: 'deleted' }, errors: [404, 409],
    handle: async (ops, { actor, params }) => {
      await ops.users.delete(actor, params.name);
      return noContent;
    },
  },
];

const group = { name: 'group name' };

const GROUPS: Operation[] = [
  {
    id: 'listGroups', method: 'get', path: '/groups', access: 'admin', tag: 'groups', summary: 'List groups with their members',
    response: { status: 200, description: 'every group', schema: listOf('groups', 'Group') },
    handle: async (ops) => ok({ groups: await ops.groups.list() }),
  },
  {
    id: 'createGroup', method: 'post', path: '/groups', access: 'admin', tag: 'groups', summary: 'Create a group',
    body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
    response: { status: 201, description: 'the new group', schema: ref('Group') }, errors: [409],
    handle: async (ops, { actor, body }) => created(await ops.groups.create(actor, { name: (await body()).name })),
  },
  {
    id: 'getGroup', method: 'get', path: '/groups/{name}', access: 'admin', tag: 'groups', summary: 'Get a group', params: group,
    response: { status: 200, description: 'the group', schema: ref('Group') }, errors: [404],
    handle: async (ops, { params }) => ok(await ops.groups.get(params.name)),
  },
  {
    id: 'deleteGroup', method: 'delete', path: '/groups/{name}', access: 'admin', tag: 'groups', summary: 'Delete a group and its grants', params: group,
    response: { status: 204, description: 'deleted' }, errors: [404],
    handle: async (ops, { actor, params }) => {
      await ops.groups.delete(actor, params.name);
      return noContent;
    },
  },
  {
    id: 'addGroupMember', method: 'put', path: '/groups/{name}/members/{user}', access: 'admin', tag: 'groups', summary: 'Add a user to a group', params: { ...group, user: 'user name' },
    response: { status: 204, description: 'added (or already a member)' }, errors: [404],
    handle: async (ops, { actor, params }) => {
      await ops.groups.addMember(actor, params.name, params.user);
      return noContent;
    },
  },
  {
    id: 'removeGroupMember', method: 'delete', path: '/groups/{name}/members/{user}', access: 'admin', tag: 'groups', summary: 'Remove a user from a group', params: { ...group, user: 'user name' },
    response: { status: 204, description: 'removed' }, errors: [404],
    handle: async (ops, { actor, params }) => {
      await ops.groups.removeMember(actor, params.name, params.user);
      return noContent;
    },
  },
];

const robot = { name: 'robot name, with or without the robot$ prefix' };

const ROBOTS: Operation[] = [
  {
    id: 'listRobots', method: 'get', path: '/robots', access: 'admin', tag: 'robots', summary: 'List robots (never their secrets)',
    response: { status: 200, description: 'every robot', schema: listOf('robots', 'Robot') },
    handle: async (ops) => ok({ robots: await ops.robots.list() }),
  },
  {
    id: 'createRobot', method: 'post', path: '/robots', access: 'admin', tag: 'robots', summary: 'Create a robot; the secret is in this response only',
    body: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, expires: { type: 'string', description: 'lifetime such as 30d or 12h; absent: never expires' } } },
    response: { status: 201, description: 'the robot and its secret', schema: ref('CreatedRobot') }, errors: [409],
    handle: async (ops, { actor, body }) => {
      const b = await body();
      return { ...created(await ops.robots.create(actor, { name: b.name, expires: b.expires })), headers: { 'Cache-Control': 'no-store' } };
    },
  },
  {
    id: 'revokeRobot', method: 'post', path: '/robots/{name}/revoke', access: 'admin', tag: 'robots', summary: "Revoke a robot (its secret stops working; the record stays)", params: robot,
    response: { status: 204, description: 'revoked' }, errors: [404],
    handle: async (ops, { actor, params }) => {
      await ops.robots.revoke(actor, params.name);
      return noContent;
    },
  },
  {
    id: 'deleteRobot', method: 'delete', path: '/robots/{name}', access: 'admin', tag: 'robots', summary: 'Delete a robot with its grants', params: robot,
    response: { status: 204, description: 'deleted' }, errors: [404],
    handle: async (ops, { actor, params }) => {
      await ops.robots.delete(actor, params.name);
      return noContent;
    },
  },
];

export const ACCOUNT_OPERATIONS: readonly Operation[] = [...USERS, ...GROUPS, ...ROBOTS];
