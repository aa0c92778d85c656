/**
 * Personal access tokens (issue 16): a user, also one who only signs in through single
 * sign-on and so has no password docker could send, creates a named token with an expiry
 * and uses it as the `docker login` password. It grants exactly what the user's grants
 * grant, never the admin API. The secret is returned once (only its SHA-256 is kept);
 * owners list and revoke their own, admins anyone's. Each change is audited in the
 * transaction that makes it.
 */
import { fail } from '../../../shared/http/errors.js';
import { parseDuration } from '../names.js';
import { secretHash } from '../secrets.js';
import type { Actor, OperationContext } from '../operations/context.js';
import { newAccessToken } from './secret.js';
import { AccessTokenStore, toPublicAccessToken, type PublicAccessToken } from './store.js';

/** A new token: the only time its secret is available. */
export interface CreatedAccessToken {
  token: PublicAccessToken;
  /** The docker login user name. */
  username: string;
  /** The docker login password. */
  secret: string;
}

const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Without `expires`: 30 days, or the maximum when that is shorter. */
const DEFAULT_LIFETIME_SECONDS = 30 * 86400;
/** Live tokens one user may hold. */
export const MAX_LIVE_TOKENS_PER_USER = 50;
export const DEFAULT_MAX_LIFETIME_SECONDS = 365 * 86400;

function tokenName(value: unknown): string {
  if (typeof value !== 'string' || !TOKEN_NAME.test(value)) {
    throw fail('REQUEST_INVALID', 'invalid token name: 1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit');
  }
  return value;
}

/** The user a `self` caller is (`user:NAME`); robots have no personal tokens. */
export function callerUser(caller: string): string {
  if (!caller.startsWith('user:')) throw fail('DENIED', 'personal access tokens belong to users; robots already have a secret');
  return caller.slice('user:'.length);
}

/** Operations on personal access tokens. */
export class AccessTokenOperations {
  private readonly store: AccessTokenStore;

  constructor(
    private readonly ctx: OperationContext,
    private readonly maxLifetimeSeconds: number = DEFAULT_MAX_LIFETIME_SECONDS,
  ) {
    this.store = new AccessTokenStore(ctx.db);
  }

  /** Creates a token for `user`; `expires` is a duration such as 30d (default 30d, capped by the maximum). */
  async create(actor: Actor, user: string, input: { name: unknown; expires?: unknown }): Promise<CreatedAccessToken> {
    const name = tokenName(input.name);
    const lifetime = input.expires === undefined || input.expires === null ? Math.min(DEFAULT_LIFETIME_SECONDS, this.maxLifetimeSeconds) : parseDuration(input.expires);
    if (lifetime > this.maxLifetimeSeconds) {
      throw fail('REQUEST_INVALID', `expires must be at most ${Math.floor(this.maxLifetimeSeconds / 86400)}d (auth.accesstokens.maxlifetimeseconds)`);
    }
    const { token: secret, lookupId } = newAccessToken();
    return this.ctx.change(actor, 'access-token.create', `user:${user}`, async (trx) => {
      const now = this.ctx.now();
      const owner = await this.ctx.users.find(user, trx);
      if (!owner) throw fail('NOT_FOUND', `no user named ${user}`);
      if ((await this.store.countLive(owner.id, now, trx)) >= MAX_LIVE_TOKENS_PER_USER) {
        throw fail('DENIED', `a user may hold at most ${MAX_LIVE_TOKENS_PER_USER} live personal access tokens; revoke some first`);
      }
      const expiresAt = now + lifetime * 1000;
      await this.store.insert({ lookupId, secretHash: secretHash(secret), userId: owner.id, name, now, expiresAt }, trx);
      const token = { name, user, createdAt: now, expiresAt, lastUsedAt: null, revoked: false };
      return { result: { token, username: user, secret }, details: { name, expiresAt } };
    });
  }

  /** The tokens of `user` (NOT_FOUND for an unknown user). */
  async list(user: string): Promise<PublicAccessToken[]> {
    if (!(await this.ctx.users.find(user))) throw fail('NOT_FOUND', `no user named ${user}`);
    return (await this.store.listForUser(user)).map(toPublicAccessToken);
  }

  /** Revokes `user`'s token `name`: it stops working at the next token request. */
  async revoke(actor: Actor, user: string, name: unknown): Promise<void> {
    const tokenNameValue = tokenName(name);
    await this.ctx.change(actor, 'access-token.revoke', `user:${user}`, async (trx) => {
      const owner = await this.ctx.users.find(user, trx);
      if (!owner || !(await this.store.revoke(owner.id, tokenNameValue, trx))) throw fail('NOT_FOUND', `no live personal access token ${tokenNameValue} of user ${user}`);
      return { result: undefined, details: { name: tokenNameValue } };
    });
  }
}
