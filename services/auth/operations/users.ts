/**
 * User administration. Password changes, disabling and deletion revoke the user's refresh
 * tokens in the same transaction (and move the credential version on, which also ends a
 * token a concurrent login inserts afterwards); the last enabled admin can be neither
 * disabled, demoted nor deleted, so the service can never lock its administrators out.
 */
import bcrypt from 'bcryptjs';
import type { Knex } from 'knex';
import { fail } from '../../../shared/http/errors.js';
import { assertNewPassword, assertUserName } from '../names.js';
import { parseHtpasswd, type HtpasswdSkipped } from '../store/htpasswd-import.js';
import { toPublicUser, type PublicUser, type UserRecord } from '../store/users.js';
import type { Actor, OperationContext } from './context.js';

/** Admin operations on users. */
export class UserOperations {
  constructor(private readonly ctx: OperationContext) {}

  /** Every user (without hashes). */
  async list(): Promise<PublicUser[]> {
    return (await this.ctx.users.list()).map(toPublicUser);
  }

  /** One user; NOT_FOUND when unknown. */
  async get(name: string): Promise<PublicUser> {
    return toPublicUser(await this.require(name));
  }

  /** Creates a user with a bcrypt hash of `password`. */
  async create(actor: Actor, input: { name: unknown; password: unknown; admin?: unknown }): Promise<PublicUser> {
    const name = assertUserName(input.name);
    const password = assertNewPassword(input.password);
    if (input.admin !== undefined && typeof input.admin !== 'boolean') throw fail('REQUEST_INVALID', 'admin must be true or false');
    const admin = input.admin === true;
    // Hash before the transaction: bcrypt is slow and SQLite has one connection.
    const passwordHash = await bcrypt.hash(password, this.ctx.bcryptCost);
    return this.ctx.change(actor, 'user.create', `user:${name}`, async (trx) => {
      const user = await this.ctx.users.insert({ name, passwordHash, admin, now: this.ctx.now() }, trx);
      return { result: toPublicUser(user), details: { admin } };
    });
  }

  /** Enables or disables a user; disabling revokes the user's refresh tokens. */
  async setDisabled(actor: Actor, name: string, disabled: boolean): Promise<PublicUser> {
    return this.ctx.change(actor, disabled ? 'user.disable' : 'user.enable', `user:${name}`, async (trx) => {
      if (disabled) await this.keepAnAdmin(name, trx);
      const user = await this.require(name, trx);
      await this.ctx.users.update(name, { disabled }, trx);
      const revoked = disabled ? await this.ctx.refreshTokens.revokeForSubject('user', name, trx) : 0;
      return { result: toPublicUser({ ...user, disabled }), details: { refreshTokensRevoked: revoked } };
    });
  }

  /** Grants or removes the admin flag. */
  async setAdmin(actor: Actor, name: string, admin: boolean): Promise<PublicUser> {
    return this.ctx.change(actor, admin ? 'user.promote' : 'user.demote', `user:${name}`, async (trx) => {
      if (!admin) await this.keepAnAdmin(name, trx);
      const user = await this.require(name, trx);
      await this.ctx.users.update(name, { admin }, trx);
      return { result: toPublicUser({ ...user, admin }) };
    });
  }

  /** Sets a new password and revokes every refresh token issued under the old one. */
  async setPassword(actor: Actor, name: string, password: unknown): Promise<void> {
    const hash = await bcrypt.hash(assertNewPassword(password), this.ctx.bcryptCost);
    await this.ctx.change(actor, 'user.password', `user:${name}`, async (trx) => {
      await this.require(name, trx);
      await this.ctx.users.update(name, { passwordHash: hash, passwordChangedAt: this.ctx.now() }, trx);
      const revoked = await this.ctx.refreshTokens.revokeForSubject('user', name, trx);
      return { result: undefined, details: { refreshTokensRevoked: revoked } };
    });
  }

  /** Deletes a user with its grants, memberships and refresh tokens. */
  async delete(actor: Actor, name: string): Promise<void> {
    await this.ctx.change(actor, 'user.delete', `user:${name}`, async (trx) => {
      await this.keepAnAdmin(name, trx);
      await this.require(name, trx);
      const grants = await this.ctx.grants.removeForSubject('user', name, trx);
      const revoked = await this.ctx.refreshTokens.revokeForSubject('user', name, trx);
      await this.ctx.users.delete(name, trx);
      return { result: undefined, details: { grantsRemoved: grants, refreshTokensRevoked: revoked } };
    });
  }

  /**
   * Forgets the failed logins counted against a user from every address, so the owner can
   * log in again at once (see throttle.ts); returns how many were cleared.
   */
  async unlock(actor: Actor, name: string): Promise<number> {
    return this.ctx.change(actor, 'user.unlock', `user:${name}`, async (trx) => {
      await this.require(name, trx);
      const cleared = await this.ctx.loginAttempts.clearAccount(name, trx);
      return { result: cleared, details: { attemptsCleared: cleared } };
    });
  }

  /**
   * Imports the bcrypt entries of an htpasswd file as non-admin users, keeping their
   * hashes. Existing users are left alone and reported as skipped.
   */
  async importHtpasswd(actor: Actor, text: string): Promise<{ imported: string[]; skipped: HtpasswdSkipped[] }> {
    const { entries, skipped } = parseHtpasswd(text);
    const imported: string[] = [];
    for (const entry of entries) {
      if (await this.ctx.users.find(entry.name)) {
        skipped.push({ line: entry.line, name: entry.name, reason: 'user already exists' });
        continue;
      }
      await this.ctx.change(actor, 'user.import', `user:${entry.name}`, async (trx) => {
        await this.ctx.users.insert({ name: entry.name, passwordHash: entry.hash, admin: false, now: this.ctx.now() }, trx);
        return { result: undefined, details: { source: 'htpasswd', line: entry.line } };
      });
      imported.push(entry.name);
    }
    skipped.sort((a, b) => a.line - b.line);
    return { imported, skipped };
  }

  /** Creates `name` as the first admin unless some user exists (bootstrap); false when skipped. */
  async createFirstAdmin(name: string, password: string): Promise<boolean> {
    if ((await this.ctx.users.count()) > 0) return false;
    try {
      await this.create({ name: 'bootstrap', address: '' }, { name, password, admin: true });
      return true;
    } catch (err) {
      // Another replica created it at the same moment.
      if ((err as { code?: string }).code === 'CONFLICT') return false;
      throw err;
    }
  }

  private async require(name: string, trx?: Knex.Transaction): Promise<UserRecord> {
    const user = await this.ctx.users.find(name, trx);
    if (!user) throw fail('NOT_FOUND', `no user named ${name}`);
    return user;
  }

  /** CONFLICT when `name` is the only enabled admin; the admins stay locked until the change commits. */
  private async keepAnAdmin(name: string, trx: Knex.Transaction): Promise<void> {
    const admins = await this.ctx.users.lockActiveAdmins(trx);
    if (admins.length === 1 && admins[0] === name) {
      throw fail('CONFLICT', `${name} is the last enabled admin; make another user admin first`);
    }
  }
}
