/**
 * What every admin operation shares: the stores, the clock, and `change`, which runs a
 * mutation in one transaction together with its audit entry. A refused change (bad input,
 * conflict, unknown target) is audited too, outside the rolled-back transaction.
 */
import type { Knex } from 'knex';
import { isDockyardError } from '../../../shared/http/errors.js';
import { AuditStore } from '../store/audit.js';
import { GrantStore } from '../store/grants.js';
import { GroupStore } from '../store/groups.js';
import { LoginAttemptStore } from '../store/login-attempts.js';
import { RefreshTokenStore } from '../store/refresh-tokens.js';
import { RobotStore } from '../store/robots.js';
import { UserStore } from '../store/users.js';

/** Who performs an admin operation: an admin user over the API, or `cli`. */
export interface Actor {
  name: string;
  /** Client address for the API; '' for the CLI. */
  address: string;
}

/** The stores and settings the operations work on. */
export class OperationContext {
  readonly users: UserStore;
  readonly groups: GroupStore;
  readonly robots: RobotStore;
  readonly grants: GrantStore;
  readonly refreshTokens: RefreshTokenStore;
  readonly audit: AuditStore;
  readonly loginAttempts: LoginAttemptStore;

  constructor(
    readonly db: Knex,
    readonly bcryptCost: number,
    readonly now: () => number,
  ) {
    this.users = new UserStore(db);
    this.groups = new GroupStore(db);
    this.robots = new RobotStore(db);
    this.grants = new GrantStore(db);
    this.refreshTokens = new RefreshTokenStore(db);
    this.audit = new AuditStore(db);
    this.loginAttempts = new LoginAttemptStore(db);
  }

  /**
   * Runs `mutate` in a transaction and appends the audit entry `action` on `target` in the
   * same transaction; `mutate` returns the result and the audit details (never secrets).
   */
  async change<T>(
    actor: Actor,
    action: string,
    target: string,
    mutate: (trx: Knex.Transaction) => Promise<{ result: T; details?: Record<string, unknown> }>,
  ): Promise<T> {
    try {
      return await this.db.transaction(async (trx) => {
        const { result, details } = await mutate(trx);
        await this.audit.append([this.entry(actor, action, target, 'ok', details ?? {})], trx);
        return result;
      });
    } catch (err) {
      if (isDockyardError(err) && err.status < 500) {
        // The refusal is what the caller must see, even if recording it fails too.
        await this.audit.append([this.entry(actor, action, target, 'refused', { code: err.code, message: err.message })]).catch(() => undefined);
      }
      throw err;
    }
  }

  private entry(actor: Actor, action: string, target: string, outcome: string, details: Record<string, unknown>) {
    return { at: this.now(), actor: actor.name, action, target, clientAddress: actor.address, outcome, details };
  }
}
