/**
 * LDAP / Active Directory as an identity source (issue 16; docs/identity.md). A login:
 * bind as the service account, search the user with the configured filter (the login name
 * escaped per RFC 4515), check the disabled filter on the entry, bind as the entry's DN
 * with the password, bind back as the service account and read the groups (`memberOf`, or
 * the group filter with the user's DN). A re-check for a refresh token does the same
 * without the user bind. Each runs on its own connection inside a bounded number of slots
 * (identity/limiter.ts) under a deadline, so a hung directory costs at most that.
 */
import { InvalidCredentialsError, type Client, type Entry } from 'ldapts';
import type { LdapConfig } from '../../../../shared/config/index.js';
import { BusyError, Limiter } from '../limiter.js';
import { isDirectoryName, type DirectoryAnswer, type IdentitySource } from '../source.js';
import { DeadlineError, withConnection, type ConnectionSettings } from './connection.js';
import { fillFilter, firstRdnValue } from './escape.js';

/** Steps of one operation, each under the operation timeout: the deadline over all of them. */
const STEPS_PER_OPERATION = 6;
/** Requests that may wait for a slot, per slot. */
const WAITING_PER_SLOT = 4;
/** Most group entries read per user. */
const GROUPS_MAX = 1000;

type Found = { dn: string; name: string; memberOf: string[] };

function values(entry: Entry, attribute: string): string[] {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  const value = key === undefined ? undefined : entry[key];
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : v));
}

/** The LDAP identity source. */
export class LdapDirectory implements IdentitySource {
  readonly kind = 'ldap';
  private readonly limiter: Limiter;
  private readonly connection: ConnectionSettings;

  constructor(
    private readonly config: LdapConfig,
    ca?: Buffer,
  ) {
    const timeoutMs = config.timeoutSeconds * 1000;
    this.connection = { url: config.url, startTls: config.startTls, ca, timeoutMs };
    this.limiter = new Limiter(config.maxConnections, config.maxConnections * WAITING_PER_SLOT, timeoutMs);
  }

  authenticate(login: string, password: string): Promise<DirectoryAnswer> {
    // An empty password would be an "unauthenticated bind", which succeeds (RFC 4513 5.1.2).
    if (password === '') return Promise.resolve({ status: 'password' });
    return this.operation(login, password);
  }

  lookup(name: string): Promise<DirectoryAnswer> {
    return this.operation(name, null);
  }

  private async operation(login: string, password: string | null): Promise<DirectoryAnswer> {
    try {
      return await this.limiter.run(() =>
        withConnection(this.connection, this.connection.timeoutMs * STEPS_PER_OPERATION, (client) => this.run(client, login, password)),
      );
    } catch (err) {
      if (err instanceof BusyError || err instanceof DeadlineError) return { status: 'unavailable', detail: err.message };
      return { status: 'unavailable', detail: describe(err) };
    }
  }

  private async run(client: Client, login: string, password: string | null): Promise<DirectoryAnswer> {
    await this.serviceBind(client);
    const { searchEntries } = await client.search(this.config.baseDn, {
      scope: 'sub',
      filter: fillFilter(this.config.userFilter, login),
      attributes: [this.config.usernameAttribute, ...(this.config.groupFilter ? [] : ['memberOf'])],
    });
    if (searchEntries.length === 0) return { status: 'unknown' };
    if (searchEntries.length > 1) return { status: 'ambiguous' };
    const entry = searchEntries[0]!;
    if (this.config.disabledFilter && (await this.matches(client, entry.dn, this.config.disabledFilter))) return { status: 'disabled' };
    if (password !== null) {
      try {
        await client.bind(entry.dn, password);
      } catch (err) {
        if (err instanceof InvalidCredentialsError) return { status: 'password' };
        throw err;
      }
      // Groups are read with the service account's rights, not the user's.
      await this.serviceBind(client);
    }
    const name = values(entry, this.config.usernameAttribute)[0];
    if (name === undefined || !isDirectoryName(name)) return { status: 'bad_name' };
    const found: Found = { dn: entry.dn, name, memberOf: values(entry, 'memberOf') };
    return { status: 'found', name, dn: entry.dn, groups: await this.groupsOf(client, found) };
  }

  private async serviceBind(client: Client): Promise<void> {
    if (this.config.bindDn !== undefined) await client.bind(this.config.bindDn, this.config.bindPassword);
  }

  /** True when the entry at `dn` matches `filter` (a base search). */
  private async matches(client: Client, dn: string, filter: string): Promise<boolean> {
    const { searchEntries } = await client.search(dn, { scope: 'base', filter, attributes: ['1.1'] });
    return searchEntries.length > 0;
  }

  /** The `cn`s of the user's groups: from `memberOf`, or from the group filter. */
  private async groupsOf(client: Client, user: Found): Promise<string[]> {
    if (!this.config.groupFilter) {
      return unique(user.memberOf.map((dn) => firstRdnValue(dn, 'cn')).filter((cn): cn is string => cn !== null && cn !== ''));
    }
    const { searchEntries } = await client.search(this.config.baseDn, {
      scope: 'sub',
      filter: fillFilter(this.config.groupFilter, user.dn),
      attributes: ['cn'],
      sizeLimit: GROUPS_MAX,
    });
    return unique(searchEntries.flatMap((group) => values(group, 'cn').slice(0, 1)));
  }
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}

/** A directory error for the audit trail: its class and message, never a password (ldapts does not put one there). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return 'directory error';
  return `${err.constructor.name}: ${err.message}`.slice(0, 200);
}
