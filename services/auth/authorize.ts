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
 */
import { isValidName } from '../../shared/grammar/reference.js';
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

const LITERAL_SEGMENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;

/** The anonymous principal (no credentials). */
export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous', name: '', admin: false, groups: Object.freeze([]) as readonly string[] });

/** True when `pattern` follows the grammar above (checked when a grant is stored). */
export function isValidPattern(pattern: string): boolean {
  if (pattern.length === 0 || pattern.length > 255) return false;
  const segments = pattern.split('/');
  return segments.every((segment, i) => {
    if (segment === '**') return i === segments.length - 1;
    return segment === '*' || segment === USER_PLACEHOLDER || LITERAL_SEGMENT.test(segment);
  });
}

/** True when repository `name` matches `pattern` for `principal`. */
export function patternMatches(pattern: string, name: string, principal: Principal): boolean {
  const want = pattern.split('/');
  const have = name.split('/');
  for (let i = 0; i < want.length; i++) {
    const segment = want[i];
    if (segment === '**') return have.length > i;
    if (i >= have.length) return false;
    if (segment === '*') continue;
    if (segment === USER_PLACEHOLDER) {
      if (principal.kind !== 'user' || have[i] !== principal.name) return false;
      continue;
    }
    if (segment !== have[i]) return false;
  }
  return want.length === have.length;
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
 * The access a token for `principal` may carry: each requested resource with the subset
 * of its actions the rules allow (admins get every requested action, including
 * `registry:catalog:*`). Resources with nothing granted are omitted. A resource named
 * twice is decided once, on the union of its actions, so each appears at most once.
 */
export function authorize(principal: Principal, requested: readonly AccessRecord[], rules: readonly GrantRule[]): AccessRecord[] {
  const result: AccessRecord[] = [];
  for (const record of mergeAccess(requested)) {
    const actions = grantedActions(principal, record, rules);
    if (actions.length > 0) result.push({ type: record.type, name: record.name, actions });
  }
  return result;
}
