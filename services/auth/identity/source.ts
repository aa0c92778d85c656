/**
 * The identity-source seam: what the auth service asks an external directory (LDAP / AD
 * today) about a login name. A source answers in these terms only; accounts, groups,
 * grants and tokens stay the auth service's business (identity/external.ts).
 */

/** What a directory says about a name (and, for a login, its password). */
export type DirectoryAnswer =
  /** The entry exists, is enabled and (for a login) the password is right. */
  | { status: 'found'; name: string; dn: string; groups: string[] }
  /** No entry matches the user filter: removed, never there, or excluded by the filter (disabled). */
  | { status: 'unknown' }
  /** The entry matches the disabled filter. */
  | { status: 'disabled' }
  /** The entry exists but the password is wrong (or empty). */
  | { status: 'password' }
  /** Several entries match the user filter: the filter is too wide for this name. */
  | { status: 'ambiguous' }
  /** The entry's user-name attribute is missing or not usable as a Dockyard name. */
  | { status: 'bad_name' }
  /** The directory did not answer in time, refused the service account, or is busy. */
  | { status: 'unavailable'; detail: string };

/** An external directory of accounts. */
export interface IdentitySource {
  /** Short name, recorded with each linked account (`ldap`). */
  readonly kind: string;
  /** Checks `password` for `login` and reads the entry's groups (their `cn`s). */
  authenticate(login: string, password: string): Promise<DirectoryAnswer>;
  /** The entry of `name` and its groups, without a password (refresh-token re-checks). */
  lookup(name: string): Promise<DirectoryAnswer>;
}

/** Audit reasons for logins a directory refused (see AuthFailureReason). */
export type DirectoryFailureReason =
  | 'directory_unknown'
  | 'directory_disabled'
  | 'directory_password'
  | 'directory_ambiguous'
  | 'directory_bad_name'
  | 'local_conflict'
  /** The user belongs to a directory that is no longer configured. */
  | 'directory_off';

/**
 * A name a directory login may use: 1 to 128 characters, no control characters (NUL
 * included), no `:` (Basic credentials split there), no space at either end. Wider than
 * local user names: directory names such as `o'brien` or `a*b(c)` must sign in too.
 */
export function isDirectoryName(name: string): boolean {
  const length = [...name].length;
  return length >= 1 && length <= 128 && !/[\u0000-\u001f\u007f-\u009f:]/u.test(name) && name.trim() === name;
}
