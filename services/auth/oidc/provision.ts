/**
 * A verified sign-in becomes a Dockyard user. The user is found by the provider's issuer
 * and subject (never by name, which the provider lets people change); a first sign-in
 * creates the user from the username claim, unless a user of that name already exists:
 * taking over a local account because some provider vouches for the same name would hand
 * it to whoever controls that provider's account, so that is refused and audited. The new
 * user's password hash is of a random secret nobody ever sees: the account has no password.
 *
 * Groups: the claim's names, mapped by `auth.oidc.groupmap` (same name by default), become
 * memberships in the Dockyard groups that exist, so grants work unchanged. The provider
 * manages only the memberships it added: one it no longer lists is removed at the next
 * sign-in, one an admin added by hand stays.
 */
import bcrypt from 'bcryptjs';
import type { Knex } from 'knex';
import type { OidcConfig } from '../../../shared/config/index.js';
import { GROUP_NAME_PATTERN, USER_NAME_PATTERN } from '../names.js';
import { randomSecret } from '../secrets.js';
import { isUniqueViolation, toBool } from '../store/common.js';
import { OidcStore } from './store.js';

/** What the provider says about the person signing in (already verified). */
export interface SignInClaims {
  subject: string;
  username: unknown;
  groups: unknown;
}

/** A provisioned user, or why not (audit only). */
export type ProvisionResult =
  | { ok: true; userId: number; name: string; created: boolean; groups: string[]; unknownGroups: string[] }
  | { ok: false; reason: 'username_missing' | 'username_invalid' | 'username_taken' | 'disabled'; name?: string };

/** The Dockyard group names for a groups claim: mapped, de-duplicated, only valid names. */
export function mapGroups(claim: unknown, map: OidcConfig['groupMap']): string[] {
  const names = Array.isArray(claim) ? claim : typeof claim === 'string' ? [claim] : [];
  const mapped = names
    .filter((n): n is string => typeof n === 'string')
    .map((n) => (Object.hasOwn(map, n) ? map[n] : n))
    .filter((n): n is string => n !== null && GROUP_NAME_PATTERN.test(n));
  return [...new Set(mapped)].sort();
}

/** Finds or creates the user of a sign-in and brings its provider-managed groups up to date. */
export class OidcProvisioner {
  private readonly store: OidcStore;

  constructor(
    private readonly db: Knex,
    private readonly config: Pick<OidcConfig, 'issuer' | 'groupMap'>,
    private readonly bcryptCost: number,
    private readonly now: () => number = Date.now,
  ) {
    this.store = new OidcStore(db);
  }

  async provision(claims: SignInClaims): Promise<ProvisionResult> {
    const wanted = mapGroups(claims.groups, this.config.groupMap);
    // Hashed before the transaction: bcrypt must not hold SQLite's write lock.
    const unusableHash = await bcrypt.hash(randomSecret(), this.bcryptCost);
    try {
      return await this.db.transaction((trx) => this.provisionIn(trx, claims, wanted, unusableHash));
    } catch (err) {
      // Two first sign-ins of one person at once: the other one created the user; find it.
      if (!isUniqueViolation(err)) throw err;
      return this.db.transaction((trx) => this.provisionIn(trx, claims, wanted, unusableHash));
    }
  }

  private async provisionIn(trx: Knex.Transaction, claims: SignInClaims, wanted: string[], unusableHash: string): Promise<ProvisionResult> {
    const now = this.now();
    const identity = await this.store.findIdentity(this.config.issuer, claims.subject, trx);
    let user: { id: number; name: string; disabled: boolean } | undefined;
    let created = false;
    if (identity) {
      const row = await trx('users').where({ id: identity.userId }).first('id', 'name', 'disabled');
      user = row && { id: Number(row.id), name: row.name, disabled: toBool(row.disabled) };
    }
    if (!user) {
      if (typeof claims.username !== 'string' || claims.username === '') return { ok: false, reason: 'username_missing' };
      const name = claims.username;
      if (!USER_NAME_PATTERN.test(name)) return { ok: false, reason: 'username_invalid' };
      if (await trx('users').where({ name }).first('id')) return { ok: false, reason: 'username_taken', name };
      await trx('users').insert({ name, password_hash: unusableHash, admin: false, disabled: false, password_changed_at: now, created_at: now });
      const row = await trx('users').where({ name }).first('id');
      user = { id: Number(row.id), name, disabled: false };
      await this.store.insertIdentity({ userId: user.id, issuer: this.config.issuer, subject: claims.subject, managedGroups: [], now }, trx);
      created = true;
    }
    if (user.disabled) return { ok: false, reason: 'disabled', name: user.name };
    const groups = await this.syncGroups(trx, user.id, wanted, identity?.managedGroups ?? []);
    await this.store.updateIdentity(user.id, groups, now, trx);
    return { ok: true, userId: user.id, name: user.name, created, groups, unknownGroups: wanted.filter((g) => !groups.includes(g)) };
  }

  /** Adds the wanted memberships, removes the managed ones no longer wanted; returns the groups now managed. */
  private async syncGroups(trx: Knex.Transaction, userId: number, wanted: string[], managed: string[]): Promise<string[]> {
    const existing: Array<{ id: number; name: string }> = wanted.length === 0 ? [] : await trx('groups').whereIn('name', wanted).select('id', 'name');
    const current: Array<{ id: number; name: string }> = await trx('group_members as m').join('groups as g', 'g.id', 'm.group_id').where('m.user_id', userId).select('g.id as id', 'g.name as name');
    const currentNames = new Set(current.map((g) => g.name));
    const wantedNames = new Set(existing.map((g) => g.name));
    const toAdd = existing.filter((g) => !currentNames.has(g.name));
    const toRemove = current.filter((g) => managed.includes(g.name) && !wantedNames.has(g.name));
    if (toAdd.length > 0) await trx('group_members').insert(toAdd.map((g) => ({ group_id: g.id, user_id: userId })));
    if (toRemove.length > 0) await trx('group_members').where('user_id', userId).whereIn('group_id', toRemove.map((g) => g.id)).delete();
    return [...wantedNames].sort();
  }
}
