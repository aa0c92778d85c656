/**
 * The admin operations, written once and used by both the REST API (routes/admin.ts) and
 * the CLI (cli.ts). They work directly on the database, so a change made by either is
 * seen by every replica on its next token request.
 */
import type { Knex } from 'knex';
import { fail } from '../../../shared/http/errors.js';
import type { SigningKey } from '../../../shared/crypto/keys.js';
import { parseSubject } from '../names.js';
import type { AuditQuery, AuditRecord } from '../store/audit.js';
import type { RefreshSubjectKind, RefreshTokenRecord } from '../store/refresh-tokens.js';
import { OperationContext, type Actor } from './context.js';
import { AccessTokenOperations } from '../access-tokens/operations.js';
import { GrantOperations } from './grants.js';
import { GroupOperations } from './groups.js';
import { RobotOperations } from './robots.js';
import { UserOperations } from './users.js';

export type { Actor } from './context.js';
export type { CreatedRobot } from './robots.js';
export type { PublicGrant } from './grants.js';

/** The part of the KeyStore that key rotation needs. */
export interface KeyRotator {
  rotate(): Promise<SigningKey>;
}

/** One page of audit entries; pass `nextBefore` as `before` for the next page. */
export interface AuditPage {
  entries: AuditRecord[];
  nextBefore: number | null;
}

/** Audit entries per page when no limit is given, and the most one page may hold. */
export const AUDIT_PAGE_DEFAULT = 50;
export const AUDIT_PAGE_MAX = 500;

/** Every admin operation, grouped by what it manages. */
export class AdminOperations {
  readonly users: UserOperations;
  readonly groups: GroupOperations;
  readonly robots: RobotOperations;
  readonly grants: GrantOperations;
  readonly accessTokens: AccessTokenOperations;
  private readonly ctx: OperationContext;
  private readonly keys: KeyRotator | undefined;

  constructor(deps: { db: Knex; bcryptCost: number; keys?: KeyRotator; now?: () => number; accessTokenMaxLifetimeSeconds?: number }) {
    this.ctx = new OperationContext(deps.db, deps.bcryptCost, deps.now ?? Date.now);
    this.users = new UserOperations(this.ctx);
    this.groups = new GroupOperations(this.ctx);
    this.robots = new RobotOperations(this.ctx);
    this.grants = new GrantOperations(this.ctx);
    this.accessTokens = new AccessTokenOperations(this.ctx, deps.accessTokenMaxLifetimeSeconds);
    this.keys = deps.keys;
  }

  /** Revokes every refresh token of a user or robot (`user:alice`, `robot:ci`); returns how many. */
  async revokeRefreshTokens(actor: Actor, subject: unknown): Promise<number> {
    const { kind, name } = this.refreshSubject(subject);
    return this.ctx.change(actor, 'refresh-token.revoke', `${kind}:${name}`, async (trx) => {
      const revoked = await this.ctx.refreshTokens.revokeForSubject(kind, name, trx);
      return { result: revoked, details: { revoked } };
    });
  }

  /** Live refresh tokens of a user or robot (never the tokens or their hashes). */
  async listRefreshTokens(subject: unknown): Promise<RefreshTokenRecord[]> {
    const { kind, name } = this.refreshSubject(subject);
    return this.ctx.refreshTokens.listForSubject(kind, name);
  }

  /** Makes a new signing key current; the old one stays published until its tokens expire. */
  async rotateKeys(actor: Actor): Promise<{ kid: string }> {
    const keys = this.keys;
    if (!keys) throw fail('UNAVAILABLE', 'key rotation is not available here');
    return this.ctx.change(actor, 'keys.rotate', 'keys', async () => {
      const key = await keys.rotate();
      return { result: { kid: key.kid }, details: { kid: key.kid } };
    });
  }

  private refreshSubject(subject: unknown): { kind: RefreshSubjectKind; name: string } {
    const parsed = parseSubject(subject);
    if (parsed.kind !== 'user' && parsed.kind !== 'robot') {
      throw fail('REQUEST_INVALID', 'refresh tokens belong to users and robots: expected user:NAME or robot:NAME');
    }
    return { kind: parsed.kind, name: parsed.name };
  }

  /** A page of audit entries, newest first. */
  async queryAudit(filter: Partial<AuditQuery>): Promise<AuditPage> {
    const limit = filter.limit ?? AUDIT_PAGE_DEFAULT;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > AUDIT_PAGE_MAX) {
      throw fail('PAGINATION_NUMBER_INVALID', `limit must be between 1 and ${AUDIT_PAGE_MAX}`);
    }
    const entries = await this.ctx.audit.query({ ...filter, limit });
    const last = entries.at(-1);
    return { entries, nextBefore: entries.length === limit && last ? last.id : null };
  }
}
