/**
 * Credentials → principal. Users are checked with bcrypt; robots (`robot$NAME`) by the
 * SHA-256 of their random secret compared in constant time, so robot logins never pay for
 * bcrypt. Timing does not reveal which names exist: an unknown user costs one bcrypt
 * comparison at the configured cost against a dummy hash; a hash of a lower cost (imported
 * from htpasswd, or from before a cost change) is compared and then the dummy comparison
 * runs as well, and a successful login rehashes the password at the configured cost.
 * Every refusal looks the same to the client; the reason is only for the audit trail.
 */
import bcrypt from 'bcryptjs';
import type { Knex } from 'knex';
import { AccessTokenVerifier, type AccessTokenRefusal } from './access-tokens/verify.js';
import type { Principal } from './authorize.js';
import type { DirectoryFacts, ExternalIdentities } from './identity/external.js';
import type { DirectoryFailureReason } from './identity/source.js';
import { isAccountName, ROBOT_PREFIX } from './names.js';
import { hashesEqual, secretHash } from './secrets.js';
import { GroupStore } from './store/groups.js';
import { RobotStore, type RobotRecord } from './store/robots.js';
import { UserStore, type UserRecord } from './store/users.js';
import type { LoginThrottle } from './throttle.js';

/** Why a login was refused (audit only; never sent to the client). */
export type AuthFailureReason = 'unknown' | 'password' | 'disabled' | 'expired' | 'revoked' | 'malformed' | AccessTokenRefusal | DirectoryFailureReason;

/** The outcome of checking credentials. */
export type AuthResult = { ok: true; principal: Principal } | { ok: false; reason: AuthFailureReason };

/** Robots' last_used_at is written at most this often. */
const ROBOT_TOUCH_INTERVAL_MS = 60_000;
const PASSWORD_MAX = 1024;
const DUMMY_SECRET_HASH = '0'.repeat(64);

/** Checks credentials against the users and robots tables. */
export class Authenticator {
  private readonly users: UserStore;
  private readonly groups: GroupStore;
  private readonly robots: RobotStore;
  private readonly accessTokens: AccessTokenVerifier;
  private readonly throttle: LoginThrottle;
  private readonly now: () => number;
  private readonly bcryptCost: number;
  /** Computed once up front so the first unknown user costs the same as later ones. */
  private readonly dummyHash: Promise<string>;
  /** Directory sign-in (identity/); also keeps directory-linked users from signing in by a local password. */
  private readonly identity: ExternalIdentities | undefined;

  constructor(deps: { db: Knex; bcryptCost: number; throttle: LoginThrottle; now?: () => number; identity?: ExternalIdentities }) {
    this.users = new UserStore(deps.db);
    this.groups = new GroupStore(deps.db);
    this.robots = new RobotStore(deps.db);
    this.accessTokens = new AccessTokenVerifier(deps.db);
    this.throttle = deps.throttle;
    this.now = deps.now ?? Date.now;
    this.bcryptCost = deps.bcryptCost;
    this.identity = deps.identity;
    this.dummyHash = bcrypt.hash('dockyard-dummy-password', deps.bcryptCost);
  }

  /**
   * A login attempt from `clientAddress`, throttled: the attempt is counted (reserved)
   * before the password is checked, or refused with TOOMANYREQUESTS, and stops counting
   * when it succeeds. Robots are only counted after a failure: their secrets cannot be
   * guessed, and their fast path stays free of the throttle.
   */
  async login(username: string, password: string, clientAddress: string): Promise<AuthResult> {
    // A name no account can have counts against the address alone.
    const account = this.accepts(username) ? username : null;
    if (username.startsWith(ROBOT_PREFIX)) {
      const result = await this.verify(username, password);
      if (!result.ok) await this.throttle.reserve(account, clientAddress);
      return result;
    }
    const reservation = await this.throttle.reserve(account, clientAddress);
    const result = await this.verify(username, password);
    if (result.ok) await this.throttle.succeeded(reservation);
    return result;
  }

  /** Checks credentials without throttling (the throttle wraps this in `login`). */
  async verify(username: string, password: string): Promise<AuthResult> {
    if (!this.accepts(username) || password.length > PASSWORD_MAX) {
      return { ok: false, reason: 'malformed' };
    }
    // A personal access token (access-tokens/) stands in for the user's password; a
    // directory user's token still answers to the directory, as a refresh token does.
    const viaToken = await this.accessTokens.check(username, password, this.now());
    if (viaToken) {
      if (!viaToken.ok) return viaToken;
      const facts = this.identity ? await this.identity.recheck(viaToken.user) : undefined;
      if (facts === null) return { ok: false, reason: 'directory_disabled' };
      return { ok: true, principal: { ...(await this.userPrincipal(viaToken.user, facts)), accessToken: viaToken.tokenName } };
    }
    if (username.startsWith(ROBOT_PREFIX)) return this.verifyRobot(username, password);
    if (!this.identity) return this.verifyUser(password, await this.users.find(username));
    const verdict = await this.identity.verify(username, password);
    if (verdict.use === 'local') return this.verifyUser(password, verdict.user);
    return verdict.ok ? { ok: true, principal: await this.userPrincipal(verdict.user, verdict.facts) } : { ok: false, reason: verdict.reason };
  }

  /** Names worth checking: account names, and with a directory its wider names. */
  private accepts(username: string): boolean {
    return isAccountName(username) || (this.identity?.accepts(username) ?? false);
  }

  /**
   * The current principal for a subject named in a refresh token or admin bearer token,
   * or null when it no longer exists, is disabled, revoked or expired. Reads the database
   * every time, so changes take effect on the next request.
   */
  async principalFor(kind: 'user' | 'robot', name: string): Promise<Principal | null> {
    if (kind === 'robot') {
      const robot = await this.robots.find(name);
      return robot && this.robotUsable(robot) ? this.robotPrincipal(robot) : null;
    }
    const user = await this.users.find(name);
    if (!user || user.disabled) return null;
    const facts = this.identity ? await this.identity.recheck(user) : undefined;
    return facts === null ? null : this.userPrincipal(user, facts);
  }

  /** Checks `password` against the users row read for the login name (null: no such user). */
  private async verifyUser(password: string, user: UserRecord | null): Promise<AuthResult> {
    if (!user) {
      await bcrypt.compare(password, await this.dummyHash);
      return { ok: false, reason: 'unknown' };
    }
    const cost = bcrypt.getRounds(user.passwordHash);
    const matches = await bcrypt.compare(password, user.passwordHash);
    if (!matches || user.disabled) {
      // A cheaper hash would answer faster than an unknown user: add the unknown user's work.
      if (cost < this.bcryptCost) await bcrypt.compare(password, await this.dummyHash);
      return { ok: false, reason: matches ? 'disabled' : 'password' };
    }
    if (cost !== this.bcryptCost) await this.users.replaceHash(user.id, user.passwordHash, await bcrypt.hash(password, this.bcryptCost));
    return { ok: true, principal: await this.userPrincipal(user) };
  }

  /** A user's principal; a directory user's directory groups and admin group count as well. */
  private async userPrincipal(user: UserRecord, directory?: DirectoryFacts): Promise<Principal> {
    const local = await this.groups.namesForUser(user.id);
    const groups = directory ? [...new Set([...local, ...directory.groups])] : local;
    const admin = user.admin || (directory?.admin ?? false);
    return { kind: 'user', name: user.name, admin, groups, credential: { userId: user.id, version: user.credentialVersion } };
  }

  private async verifyRobot(username: string, secret: string): Promise<AuthResult> {
    const robot = await this.robots.find(username);
    const matches = hashesEqual(secretHash(secret), robot?.secretHash ?? DUMMY_SECRET_HASH);
    if (!robot) return { ok: false, reason: 'unknown' };
    if (!matches) return { ok: false, reason: 'password' };
    if (robot.revoked) return { ok: false, reason: 'revoked' };
    if (!this.robotUsable(robot)) return { ok: false, reason: 'expired' };
    return { ok: true, principal: await this.robotPrincipal(robot) };
  }

  private robotUsable(robot: RobotRecord): boolean {
    return !robot.revoked && (robot.expiresAt === null || robot.expiresAt > this.now());
  }

  private async robotPrincipal(robot: RobotRecord): Promise<Principal> {
    const now = this.now();
    if (robot.lastUsedAt === null || robot.lastUsedAt < now - ROBOT_TOUCH_INTERVAL_MS) {
      await this.robots.touch(robot.id, now, ROBOT_TOUCH_INTERVAL_MS);
    }
    return { kind: 'robot', name: robot.name, admin: false, groups: [] };
  }
}
