/**
 * Directory sign-in next to local users and robots (issue 16; docs/identity.md). This is
 * the identity seam's one entry for the authenticator (services/auth/authenticate.ts),
 * which asks it two things: how to check a login, and whether a user named in a refresh
 * token (or admin bearer token) may still act. A directory user gets an ordinary users row
 * linked to the directory (identity/accounts.ts), so grants, memberships and tokens work
 * unchanged; its directory groups (by `cn`, or as mapped) join its local ones for grants.
 * Which source decides for a name both know is the precedence setting. A directory that
 * does not answer makes the request fail with 503, never a login with stale facts.
 */
import type { Knex } from 'knex';
import type { LdapConfig, LdapPrecedence } from '../../../shared/config/index.js';
import { DockyardError } from '../../../shared/http/errors.js';
import { UserStore, type UserRecord } from '../store/users.js';
import { DirectoryAccountStore } from './accounts.js';
import { isDirectoryName, type DirectoryAnswer, type DirectoryFailureReason, type IdentitySource } from './source.js';

/** What a directory user brings to its principal on top of its users row. */
export interface DirectoryFacts {
  groups: string[];
  admin: boolean;
}

/** How to check a login: locally, or the directory's verdict. */
export type DirectoryVerdict =
  /** `user`: the users row already read for the name (null: none), so the local check need not read it again. */
  | { use: 'local'; user: UserRecord | null }
  | { use: 'directory'; ok: true; user: UserRecord; facts: DirectoryFacts }
  | { use: 'directory'; ok: false; reason: DirectoryFailureReason | 'disabled' };

/** Answers remembered for refresh re-checks, at most this many names. */
const CACHE_MAX = 10_000;

/** The directory and how it combines with local accounts. */
export interface ExternalIdentityOptions {
  source: IdentitySource;
  precedence: LdapPrecedence;
  cacheSeconds: number;
  groupMap: Record<string, string>;
  adminGroup?: string;
}

/** The options of `config` for `source`. */
export function externalOptions(config: LdapConfig, source: IdentitySource): ExternalIdentityOptions {
  return { source, precedence: config.precedence, cacheSeconds: config.cacheSeconds, groupMap: config.groupMap, adminGroup: config.adminGroup };
}

/** The 503 a request gets while the directory cannot answer for its user; `directoryDetail` is for the audit trail only. */
export class DirectoryUnavailableError extends DockyardError {
  constructor(readonly directoryDetail: string) {
    super('UNAVAILABLE', 'the directory did not answer; retry later', { headers: { 'Retry-After': '5' } });
  }
}

function directoryUnavailable(detail: string): DirectoryUnavailableError {
  return new DirectoryUnavailableError(detail);
}

export class ExternalIdentities {
  private readonly users: UserStore;
  private readonly accounts: DirectoryAccountStore;
  private readonly cache = new Map<string, { until: number; answer: DirectoryAnswer }>();

  /** With `options` undefined no directory is configured: linked users are then refused, never let in by a local password. */
  constructor(
    db: Knex,
    private readonly options: ExternalIdentityOptions | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.users = new UserStore(db);
    this.accounts = new DirectoryAccountStore(db);
  }

  /** True when `username` may be tried at all (local names, and with a directory, wider directory names). */
  accepts(username: string): boolean {
    return this.options !== undefined && isDirectoryName(username);
  }

  /** How to check `username` / `password` (not robots: they are always local). */
  async verify(username: string, password: string): Promise<DirectoryVerdict> {
    const options = this.options;
    const local = await this.users.find(username);
    const localOnly = local !== null && (await this.accounts.sourceOf(local.id)) === null;
    // A directory's user never falls back to its users row's password, also with the directory switched off.
    if (!options) return local === null || localOnly ? { use: 'local', user: local } : { use: 'directory', ok: false, reason: 'directory_off' };
    if (localOnly && options.precedence === 'local') return { use: 'local', user: local };
    const answer = await options.source.authenticate(username, password);
    this.remember(username, answer);
    if (answer.status === 'unavailable') throw directoryUnavailable(answer.detail);
    if (answer.status !== 'found') {
      // Precedence `directory`, and the directory does not know the name: the local user's password decides.
      if (answer.status === 'unknown' && localOnly) return { use: 'local', user: local };
      return { use: 'directory', ok: false, reason: `directory_${answer.status}` };
    }
    this.remember(answer.name, answer);
    const existing = answer.name === username ? local : await this.users.find(answer.name);
    // The directory's spelling of the name is a local user's, which precedence `local` keeps local.
    if (existing && options.precedence === 'local' && (await this.accounts.sourceOf(existing.id)) === null) {
      return { use: 'directory', ok: false, reason: 'local_conflict' };
    }
    const user = await this.accounts.link(answer.name, options.source.kind, answer.dn, this.now());
    if (user.disabled) return { use: 'directory', ok: false, reason: 'disabled' };
    return { use: 'directory', ok: true, user, facts: this.facts(answer.groups) };
  }

  /**
   * For a user named in a refresh or admin bearer token: undefined for a local user (the
   * database alone decides), the directory facts for a linked one still found and enabled
   * there, null when it is gone or disabled. Asks the directory at most once per cache
   * period per name; 503 when the directory cannot answer.
   */
  async recheck(user: UserRecord): Promise<DirectoryFacts | null | undefined> {
    const source = await this.accounts.sourceOf(user.id);
    if (source === null) return undefined;
    const options = this.options;
    if (!options || source !== options.source.kind) return null;
    const answer = await this.cachedLookup(options.source, user.name);
    if (answer.status === 'unavailable') throw directoryUnavailable(answer.detail);
    return answer.status === 'found' && answer.name === user.name ? this.facts(answer.groups) : null;
  }

  private async cachedLookup(source: IdentitySource, name: string): Promise<DirectoryAnswer> {
    const cached = this.cache.get(name);
    if (cached && cached.until > this.now()) return cached.answer;
    const answer = await source.lookup(name);
    this.remember(name, answer);
    return answer;
  }

  /** Keeps a definite answer for the cache period; an unavailable directory is asked again next time. */
  private remember(name: string, answer: DirectoryAnswer): void {
    const seconds = this.options?.cacheSeconds ?? 0;
    // Deleted first so a renewed entry moves to the end: the oldest answers are dropped first.
    this.cache.delete(name);
    if (seconds === 0 || answer.status === 'unavailable' || answer.status === 'password') return;
    this.cache.set(name, { until: this.now() + seconds * 1000, answer });
    if (this.cache.size > CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
  }

  private facts(directoryGroups: string[]): DirectoryFacts {
    const map = this.options?.groupMap ?? {};
    const groups = [...new Set(directoryGroups.map((cn) => map[cn.toLowerCase()] ?? cn))];
    const adminGroup = this.options?.adminGroup;
    return { groups, admin: adminGroup !== undefined && groups.includes(adminGroup) };
  }
}
