/** Group administration: groups and their members. */
import { fail } from '../../../shared/http/errors.js';
import { assertGroupName, assertUserName } from '../names.js';
import type { GroupRecord } from '../store/groups.js';
import type { Actor, OperationContext } from './context.js';

/** Admin operations on groups. */
export class GroupOperations {
  constructor(private readonly ctx: OperationContext) {}

  /** Every group with its members. */
  list(): Promise<GroupRecord[]> {
    return this.ctx.groups.list();
  }

  /** One group with its members; NOT_FOUND when unknown. */
  async get(name: string): Promise<GroupRecord> {
    const group = await this.ctx.groups.find(name);
    if (!group) throw fail('NOT_FOUND', `no group named ${name}`);
    return group;
  }

  /** Creates an empty group. */
  async create(actor: Actor, input: { name: unknown }): Promise<GroupRecord> {
    const name = assertGroupName(input.name);
    return this.ctx.change(actor, 'group.create', `group:${name}`, async (trx) => {
      const now = this.ctx.now();
      await this.ctx.groups.insert(name, now, trx);
      return { result: { name, members: [], createdAt: now } };
    });
  }

  /** Deletes a group, its memberships and the grants naming it. */
  async delete(actor: Actor, name: string): Promise<void> {
    await this.ctx.change(actor, 'group.delete', `group:${name}`, async (trx) => {
      if (!(await this.ctx.groups.delete(name, trx))) throw fail('NOT_FOUND', `no group named ${name}`);
      const grants = await this.ctx.grants.removeForSubject('group', name, trx);
      return { result: undefined, details: { grantsRemoved: grants } };
    });
  }

  /** Adds a user to a group. */
  async addMember(actor: Actor, group: string, user: unknown): Promise<void> {
    const member = assertUserName(user);
    await this.ctx.change(actor, 'group.add-member', `group:${group}`, async (trx) => {
      await this.ctx.groups.addMember(group, member, trx);
      return { result: undefined, details: { user: member } };
    });
  }

  /** Removes a user from a group. */
  async removeMember(actor: Actor, group: string, user: unknown): Promise<void> {
    const member = assertUserName(user);
    await this.ctx.change(actor, 'group.remove-member', `group:${group}`, async (trx) => {
      await this.ctx.groups.removeMember(group, member, trx);
      return { result: undefined, details: { user: member } };
    });
  }
}
