/**
 * Robot accounts: created with a random secret that is returned exactly once (only its
 * SHA-256 is stored); revoking or deleting one also revokes its refresh tokens.
 */
import { fail } from '../../../shared/http/errors.js';
import { parseDuration, robotName } from '../names.js';
import { randomSecret, secretHash } from '../secrets.js';
import { toPublicRobot, type PublicRobot } from '../store/robots.js';
import type { Actor, OperationContext } from './context.js';

/** A new robot and its secret: the only time the secret is ever available. */
export interface CreatedRobot {
  robot: PublicRobot;
  /** The docker login user name (`robot$NAME`). */
  username: string;
  secret: string;
}

/** Admin operations on robot accounts. */
export class RobotOperations {
  constructor(private readonly ctx: OperationContext) {}

  /** Every robot (without secret hashes). */
  async list(): Promise<PublicRobot[]> {
    return (await this.ctx.robots.list()).map(toPublicRobot);
  }

  /** Creates a robot; `expires` is a duration such as `30d`, omitted for no expiry. */
  async create(actor: Actor, input: { name: unknown; expires?: unknown }): Promise<CreatedRobot> {
    const name = robotName(input.name);
    const expiresInSeconds = input.expires === undefined || input.expires === null ? null : parseDuration(input.expires);
    const secret = randomSecret();
    return this.ctx.change(actor, 'robot.create', `robot:${name}`, async (trx) => {
      const now = this.ctx.now();
      const expiresAt = expiresInSeconds === null ? null : now + expiresInSeconds * 1000;
      const robot = await this.ctx.robots.insert({ name, secretHash: secretHash(secret), expiresAt, createdBy: actor.name, now }, trx);
      return { result: { robot: toPublicRobot(robot), username: name, secret }, details: { expiresAt } };
    });
  }

  /** Revokes a robot: its secret and refresh tokens stop working at once. */
  async revoke(actor: Actor, name: unknown): Promise<void> {
    const full = robotName(name);
    await this.ctx.change(actor, 'robot.revoke', `robot:${full}`, async (trx) => {
      if (!(await this.ctx.robots.revoke(full, trx))) throw fail('NOT_FOUND', `no robot named ${full}`);
      const revoked = await this.ctx.refreshTokens.revokeForSubject('robot', full, trx);
      return { result: undefined, details: { refreshTokensRevoked: revoked } };
    });
  }

  /** Deletes a robot with its grants and refresh tokens. */
  async delete(actor: Actor, name: unknown): Promise<void> {
    const full = robotName(name);
    await this.ctx.change(actor, 'robot.delete', `robot:${full}`, async (trx) => {
      if (!(await this.ctx.robots.delete(full, trx))) throw fail('NOT_FOUND', `no robot named ${full}`);
      const grants = await this.ctx.grants.removeForSubject('robot', full, trx);
      const revoked = await this.ctx.refreshTokens.revokeForSubject('robot', full, trx);
      return { result: undefined, details: { grantsRemoved: grants, refreshTokensRevoked: revoked } };
    });
  }
}
