/**
 * The authorizer: a PURE function from (principal, requested access, grant rules) to the
 * access a token may carry. No I/O, no clock, no state, so it is tested as a table.
 *
 * Repository patterns are `/`-separated segments:
 *   `team/app`   exactly that repository
 *   `team/*`     `*` matches exactly one segment (team/app, not team/a/b)
 *   `team/**`    `**` (last segment only) matches one or more segments (team/a, team/a/b)
 *   `${user}/*`  `${user}` matches the segment equal to the requesting user's name
 * Actions are pull, push, delete, or `*` (every action). Denied actions are dropped,
 * never an error; a resource with nothing granted is left out of the result.
 *
 * The catalog (`registry:catalog:*`): admins get it whole. Everyone else who asks gets
 * `registry:catalog:list` plus the patterns they may pull (`${user}` resolved), which the
 * registry lists through; anonymous only when some grant lets anonymous pull.
 */
import { isValidName } from '../../shared/grammar/reference.js';
import { CATALOG_CLAIM_MAX_CHARS, CATALOG_LIST_ACTION, CATALOG_PATTERNS_MAX, isRepositoryPattern, matchesPattern, patternCovers } from '../../shared/grammar/repository-pattern.js';
import { mergeAccess, type AccessRecord } from '../../shared/grammar/scope.js';

/** Who asks: a user (maybe admin, with group memberships), a robot account, or nobody. */
export interface Principal {
  kind: 'user' | 'robot' | 'anonymous';
  /** User or robot name; '' for anonymous. */
  name: string;
  /** Only honoured for users. */
  admin: boolean;
  /** Names of the groups a user belongs to. */
  groups: readonly string[];
  /** For a user read from the database: what a refresh token issued now is bound to. */
  credential?: CredentialStamp;
  /** Set when a user signed in with a personal access token: its name (registry access only). */
  accessToken?: string;
}

/**
 * A user's immutable id and the version of its credentials (moved on by a password change,
 * disabling and deletion): a refresh token redeems only while both still match, so one
 * issued against an old password or a deleted namesake never does.
 */
export interface CredentialStamp {
  userId: number;
  version: number;
}

/** Kinds of subject a grant can name. `anonymous` applies to everyone, `authenticated` to every logged-in principal. */
export type SubjectKind = 'user' | 'group' | 'robot' | 'anonymous' | 'authenticated';

/** One ACL rule: a subject may perform `actions` on repositories matching `pattern`. */
export interface GrantRule {
  subjectKind: SubjectKind;
  /** '' for anonymous and authenticated. */
  subjectName: string;
  pattern: string;
  actions: readonly string[];
}

/** Actions a grant may hold. */
export const GRANT_ACTIONS = ['pull', 'push', 'delete', '*'] as const;

/** Placeholder segment replaced by the requesting user's name. */
export const USER_PLACEHOLDER = '${user}';

/** The anonymous principal (no credentials). */
export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous', name: '', admin: false, groups: Object.freeze([]) as readonly string[] });

/** True when `pattern` follows the grammar above (checked when a grant is stored). */
export function isValidPattern(pattern: string): boolean {
  // `${user}` stands for one literal segment; any literal does for the check.
  return pattern.length <= 255 && isRepositoryPattern(pattern.split('/').map((s) => (s === USER_PLACEHOLDER ? 'user' : s)).join('/'));
}

/**
 * `pattern` with `${user}` replaced by the requesting user's name, or null when it can
 * match nothing for `principal` (a placeholder for a robot or anonymous, or a user name
 * that is no repository name component).
 */
export function resolvePattern(pattern: string, principal: Principal): string | null {
  if (!pattern.split('/').includes(USER_PLACEHOLDER)) return pattern;
  if (principal.kind !== 'user') return null;
  const resolved = pattern.split('/').map((s) => (s === USER_PLACEHOLDER ? principal.name : s)).join('/');
  return isRepositoryPattern(resolved) ? resolved : null;
}

/** True when repository `name` matches `pattern` for `principal`. */
export function patternMatches(pattern: string, name: string, principal: Principal): boolean {
  const resolved = resolvePattern(pattern, principal);
  return resolved !== null && matchesPattern(resolved, name);
}

/** True when `rule` names `principal` (directly, through a group, or as anonymous/authenticated). */
export function ruleAppliesTo(rule: GrantRule, principal: Principal): boolean {
  switch (rule.subjectKind) {
    case 'anonymous':
      return true;
    case 'authenticated':
      return principal.kind !== 'anonymous';
    case 'user':
      return principal.kind === 'user' && rule.subjectName === principal.name;
    case 'robot':
      return principal.kind === 'robot' && rule.subjectName === principal.name;
    case 'group':
      return principal.kind === 'user' && principal.groups.includes(rule.subjectName);
    default:
      return false;
  }
}

/** True when the access of `principal` depends on grant rules (false for admins, who get what they ask for). */
export function usesGrants(principal: Principal): boolean {
  return !(principal.kind === 'user' && principal.admin);
}

const CONCRETE_ACTIONS = ['pull', 'push', 'delete'];

function grantedActions(principal: Principal, requested: AccessRecord, rules: readonly GrantRule[]): string[] {
  const isRepository = requested.type === 'repository';
  // A token for a name the registry would reject is useless; refuse it even to admins.
  if (isRepository && !isValidName(requested.name)) return [];
  if (!usesGrants(principal)) return [...requested.actions];
  if (!isRepository) return [];

  const allowed = new Set<string>();
  for (const rule of rules) {
    if (ruleAppliesTo(rule, principal) && patternMatches(rule.pattern, requested.name, principal)) {
      for (const action of rule.actions) allowed.add(action);
    }
  }
  if (allowed.has('*')) return [...requested.actions];
  const granted = requested.actions.filter((action) => action !== '*' && allowed.has(action));
  // A request for `*` gets every concrete action the rules allow, not `*` itself.
  if (requested.actions.includes('*')) {
    for (const action of CONCRETE_ACTIONS) if (allowed.has(action) && !granted.includes(action)) granted.push(action);
  }
  return granted;
}

/**
 * The patterns of every repository `principal` may pull, `${user}` resolved, each once,
 * none covered by another, sorted: what its catalog lists.
 */
export function pullPatterns(principal: Principal, rules: readonly GrantRule[]): string[] {
  const patterns = new Set<string>();
  for (const rule of rules) {
    if (!ruleAppliesTo(rule, principal) || !(rule.actions.includes('pull') || rule.actions.includes('*'))) continue;
    const resolved = resolvePattern(rule.pattern, principal);
    if (resolved !== null) patterns.add(resolved);
  }
  const all = [...patterns];
  return all.filter((p) => !all.some((other) => other !== p && patternCovers(other, p))).sort();
}

function isCatalog(record: AccessRecord): boolean {
  return record.type === 'registry' && record.name === 'catalog';
}

/** A non-admin's catalog: `list` with its pull patterns, or null when it gets none. */
function catalogListing(principal: Principal, requested: AccessRecord, rules: readonly GrantRule[]): { access: AccessRecord; patterns: string[] } | null {
  if (!requested.actions.includes('*') && !requested.actions.includes(CATALOG_LIST_ACTION)) return null;
  const patterns = pullPatterns(principal, rules);
  // Anonymous with nothing to pull is better told to log in (a 401) than shown an empty list.
  if (principal.kind === 'anonymous' && patterns.length === 0) return null;
  // A token must fit in a header; so many separate grants get no catalog rather than a wrong one.
  if (patterns.length > CATALOG_PATTERNS_MAX || patterns.reduce((sum, p) => sum + p.length, 0) > CATALOG_CLAIM_MAX_CHARS) return null;
  return { access: { type: 'registry', name: 'catalog', actions: [CATALOG_LIST_ACTION] }, patterns };
}

/** What a token may carry: access records, and for a non-admin's catalog the patterns it lists. */
export interface Authorization {
  access: AccessRecord[];
  /** Set exactly when `access` holds `registry:catalog:list`. */
  catalog?: string[];
}

/**
 * The access a token for `principal` may carry: each requested resource with the subset
 * of its actions the rules allow (admins get every requested action, including
 * `registry:catalog:*`; others the catalog listing above). Resources with nothing granted
 * are omitted. A resource named twice is decided once, on the union of its actions, so
 * each appears at most once.
 */
export function authorize(principal: Principal, requested: readonly AccessRecord[], rules: readonly GrantRule[]): Authorization {
  const access: AccessRecord[] = [];
  let catalog: string[] | undefined;
  for (const record of mergeAccess(requested)) {
    if (isCatalog(record) && usesGrants(principal)) {
      const listing = catalogListing(principal, record, rules);
      if (listing) {
        access.push(listing.access);
        catalog = listing.patterns;
      }
      continue;
    }
    const actions = grantedActions(principal, record, rules);
    if (actions.length > 0) access.push({ type: record.type, name: record.name, actions });
  }
  return catalog === undefined ? { access } : { access, catalog };
}
