/**
 * The grammar of the auth service's own names and inputs: user, group and robot names,
 * grant subjects (`user:alice`, `group:devs`, `robot:ci`, `anonymous`, `authenticated`),
 * grant actions, passwords and durations. Every value is checked here before it reaches
 * SQL; a bad one is a REQUEST_INVALID with a message saying what was expected.
 */
import { fail } from '../../shared/http/errors.js';
import { GRANT_ACTIONS, isValidPattern, type SubjectKind } from './authorize.js';

/** User names: no `:` (Basic auth), no `$` (reserved for robots). */
export const USER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
export const GROUP_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Robot account names as clients send them: `robot$ci`. */
export const ROBOT_NAME_PATTERN = /^robot\$[a-z0-9][a-z0-9._-]{0,127}$/;
export const ROBOT_PREFIX = 'robot$';

/**
 * True for a name a user or robot can have. Any other name is refused without a lookup,
 * never becomes a throttle key and is never stored raw: it is the client's to choose (NUL,
 * newlines, terminal escapes, 10 000 characters) and PostgreSQL refuses some of that outright.
 */
export function isAccountName(username: string): boolean {
  return USER_NAME_PATTERN.test(username) || ROBOT_NAME_PATTERN.test(username);
}

/** bcrypt uses at most 72 bytes; longer passwords would be silently truncated. */
export const PASSWORD_MAX_BYTES = 72;
export const PASSWORD_MIN_LENGTH = 8;

/** A grant subject. */
export interface Subject {
  kind: SubjectKind;
  /** '' for anonymous and authenticated. */
  name: string;
}

/** Throws unless `name` is a valid user name. */
export function assertUserName(name: unknown): string {
  if (typeof name !== 'string' || !USER_NAME_PATTERN.test(name)) {
    throw fail('REQUEST_INVALID', 'invalid user name: 1-128 characters of A-Z a-z 0-9 . _ @ -, starting with a letter or digit');
  }
  return name;
}

/** Throws unless `name` is a valid group name. */
export function assertGroupName(name: unknown): string {
  if (typeof name !== 'string' || !GROUP_NAME_PATTERN.test(name)) {
    throw fail('REQUEST_INVALID', 'invalid group name: 1-128 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit');
  }
  return name;
}

/** Accepts `ci` or `robot$ci` and returns the full robot name `robot$ci`. */
export function robotName(name: unknown): string {
  const full = typeof name === 'string' && !name.startsWith(ROBOT_PREFIX) ? ROBOT_PREFIX + name : name;
  if (typeof full !== 'string' || !ROBOT_NAME_PATTERN.test(full)) {
    throw fail('REQUEST_INVALID', 'invalid robot name: 1-128 characters of a-z 0-9 . _ -, starting with a letter or digit (the robot$ prefix is added)');
  }
  return full;
}

/** Throws unless `password` is acceptable for a new password (8 characters to 72 bytes). */
export function assertNewPassword(password: unknown): string {
  if (typeof password !== 'string' || password.length < PASSWORD_MIN_LENGTH) {
    throw fail('REQUEST_INVALID', `password must have at least ${PASSWORD_MIN_LENGTH} characters`);
  }
  if (Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES) {
    throw fail('REQUEST_INVALID', `password must not exceed ${PASSWORD_MAX_BYTES} bytes`);
  }
  return password;
}

/** Parses `user:NAME`, `group:NAME`, `robot:NAME`, `anonymous` or `authenticated`. */
export function parseSubject(value: unknown): Subject {
  if (value === 'anonymous' || value === 'authenticated') return { kind: value, name: '' };
  const text = typeof value === 'string' ? value : '';
  const colon = text.indexOf(':');
  const kind = text.slice(0, colon);
  const name = text.slice(colon + 1);
  if (colon > 0) {
    if (kind === 'user') return { kind, name: assertUserName(name) };
    if (kind === 'group') return { kind, name: assertGroupName(name) };
    if (kind === 'robot') return { kind, name: robotName(name) };
  }
  throw fail('REQUEST_INVALID', 'invalid subject: expected user:NAME, group:NAME, robot:NAME, anonymous or authenticated');
}

/** Renders a subject as parseSubject reads it. */
export function formatSubject(subject: Subject): string {
  return subject.name === '' ? subject.kind : `${subject.kind}:${subject.name}`;
}

/** Parses `pull,push` (or an array of actions) into a de-duplicated list of grant actions. */
export function parseActions(value: unknown): string[] {
  const list = typeof value === 'string' ? value.split(',').map((a) => a.trim()) : Array.isArray(value) ? value : [];
  const actions = [...new Set(list)];
  const known: readonly string[] = GRANT_ACTIONS;
  if (actions.length === 0 || !actions.every((a) => typeof a === 'string' && known.includes(a))) {
    throw fail('REQUEST_INVALID', 'invalid actions: expected a comma separated list of pull, push, delete or *');
  }
  return actions as string[];
}

/** Throws unless `pattern` is a valid repository pattern. */
export function assertPattern(pattern: unknown): string {
  if (typeof pattern !== 'string' || !isValidPattern(pattern)) {
    throw fail('REQUEST_INVALID', 'invalid pattern: a repository name whose segments may be *, ${user}, or ** as the last segment');
  }
  return pattern;
}

const DURATION = /^(\d{1,6})([smhdw])$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** Parses a duration such as `30d`, `12h`, `90m`, `3600s` or `2w` into seconds. */
export function parseDuration(value: unknown): number {
  const match = typeof value === 'string' ? DURATION.exec(value) : null;
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2]] : 0;
  if (seconds <= 0) throw fail('REQUEST_INVALID', 'invalid duration: expected a positive number with a unit s, m, h, d or w (e.g. 30d)');
  return seconds;
}
