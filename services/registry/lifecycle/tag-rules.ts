/**
 * Tag rules, the pure part: what a rule is, how its patterns match, and whether a tag
 * push or delete passes a set of rules. A rule applies to repositories matching its
 * repository pattern (`prod/**`, `team/*`, `team/app`: `*` is one path component, `**` one
 * or more trailing ones) and to tags matching its tag pattern (a glob such as `v*`, or a
 * regular expression when it starts with `^`). Kinds:
 * - `immutable`: a matching tag, once it exists, may not move to other content or be deleted;
 * - `forbidden`: a matching tag may not be pushed;
 * - `format`: every tag pushed must match (required formats).
 * Refusals are DENIED (403) with a message naming the rule, which docker, podman and
 * skopeo print to the user (docs/lifecycle.md shows what each prints).
 */
import { isRepositoryPattern, matchesPattern, PATTERN_MAX_LENGTH } from '../../../shared/grammar/repository-pattern.js';
import { DockyardError } from '../../../shared/http/errors.js';

export const TAG_RULE_KINDS = ['immutable', 'forbidden', 'format'] as const;
export type TagRuleKind = (typeof TAG_RULE_KINDS)[number];

/** A rule as the admin wrote it. */
export interface TagRuleSpec {
  kind: TagRuleKind;
  repositoryPattern: string;
  tagPattern: string;
}

/** A stored rule. */
export interface TagRule extends TagRuleSpec {
  id: number;
  createdBy: string;
  createdAt: Date;
}

/** The release policy: commit ids in test/**, immutable versions in prod/**, never `latest` in prod/**. */
export const RELEASE_PRESET: readonly TagRuleSpec[] = [
  { kind: 'format', repositoryPattern: 'test/**', tagPattern: '^[0-9a-f]{7,40}$' },
  { kind: 'forbidden', repositoryPattern: 'prod/**', tagPattern: 'latest' },
  { kind: 'format', repositoryPattern: 'prod/**', tagPattern: '^v?(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$' },
  { kind: 'immutable', repositoryPattern: 'prod/**', tagPattern: '*' },
];

export const PRESETS: Readonly<Record<string, readonly TagRuleSpec[]>> = { release: RELEASE_PRESET };

const GLOB = /^[\w.*?-]{1,128}$/;

/** Why a rule cannot be stored, or null when it is fine. */
export function ruleProblem(spec: TagRuleSpec): string | null {
  if (!(TAG_RULE_KINDS as readonly string[]).includes(spec.kind)) return `kind must be one of ${TAG_RULE_KINDS.join(', ')}`;
  if (!isRepositoryPattern(spec.repositoryPattern)) return `repository pattern ${JSON.stringify(spec.repositoryPattern)} must be path components, * (one) or a trailing ** (any below)`;
  if (spec.tagPattern.length > PATTERN_MAX_LENGTH) return `tag pattern is longer than ${PATTERN_MAX_LENGTH} characters`;
  if (spec.tagPattern.startsWith('^')) {
    try {
      new RegExp(spec.tagPattern);
    } catch (err) {
      return `tag pattern is not a valid regular expression: ${(err as Error).message}`;
    }
  } else if (!GLOB.test(spec.tagPattern)) {
    return 'tag pattern must be a glob of tag characters with * and ?, or a regular expression starting with ^';
  }
  return null;
}

/** True when `tag` matches a glob or (leading `^`) regular expression. */
export function tagMatches(pattern: string, tag: string): boolean {
  if (pattern.startsWith('^')) return new RegExp(pattern).test(tag);
  const source = pattern.replace(/[.+^${}()|[\]\\-]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(tag);
}

/** How a rule is named in messages: `rule 3 (immutable prod/** *)`. */
export function describeRule(rule: TagRule): string {
  return `rule ${rule.id} (${rule.kind} ${rule.repositoryPattern} ${rule.tagPattern})`;
}

function denied(message: string, rule: TagRule, repository: string, tag: string): DockyardError {
  return new DockyardError('DENIED', message, {
    detail: { repository, tag, rule: { id: rule.id, kind: rule.kind, repositoryPattern: rule.repositoryPattern, tagPattern: rule.tagPattern } },
  });
}

function applicable(rules: readonly TagRule[], repository: string, kind: TagRuleKind): TagRule[] {
  return rules.filter((rule) => rule.kind === kind && matchesPattern(rule.repositoryPattern, repository));
}

/**
 * Throws DENIED unless pointing `tag` of `repository` at `digest` passes every rule;
 * `current` is the digest the tag points at now (null when it is new). Re-pushing the same
 * content under an immutable tag passes: nothing changes.
 */
export function checkTagPush(rules: readonly TagRule[], repository: string, tag: string, digest: string, current: string | null): void {
  for (const rule of applicable(rules, repository, 'forbidden')) {
    if (tagMatches(rule.tagPattern, tag)) throw denied(`tag "${tag}" is forbidden in ${repository} by ${describeRule(rule)}`, rule, repository, tag);
  }
  for (const rule of applicable(rules, repository, 'format')) {
    if (!tagMatches(rule.tagPattern, tag)) {
      throw denied(`tag "${tag}" does not have the format ${rule.tagPattern} required in ${repository} by ${describeRule(rule)}`, rule, repository, tag);
    }
  }
  if (current === null || current === digest) return;
  for (const rule of applicable(rules, repository, 'immutable')) {
    if (tagMatches(rule.tagPattern, tag)) {
      throw denied(`tag "${tag}" in ${repository} is immutable by ${describeRule(rule)}: it already points at ${current}; push a new tag instead`, rule, repository, tag);
    }
  }
}

/** Throws DENIED when deleting `tags` of `repository` (a tag, or every tag of a manifest) would remove an immutable tag. */
export function checkTagDelete(rules: readonly TagRule[], repository: string, tags: readonly string[]): void {
  for (const rule of applicable(rules, repository, 'immutable')) {
    const tag = tags.find((t) => tagMatches(rule.tagPattern, t));
    if (tag !== undefined) throw denied(`tag "${tag}" in ${repository} is immutable by ${describeRule(rule)} and cannot be deleted`, rule, repository, tag);
  }
}

/** True when some immutable rule protects `tag` of `repository` (retention never removes such a tag). */
export function isImmutable(rules: readonly TagRule[], repository: string, tag: string): boolean {
  return applicable(rules, repository, 'immutable').some((rule) => tagMatches(rule.tagPattern, tag));
}
