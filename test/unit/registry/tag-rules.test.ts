// Tag rules as a table: every kind, glob and regular-expression tag patterns, repository
// patterns, on push and on delete.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesPattern as repositoryMatches } from '../../../shared/grammar/repository-pattern.js';
import { DockyardError } from '../../../shared/http/errors.js';
import {
  checkTagDelete,
  checkTagPush,
  isImmutable,
  RELEASE_PRESET,
  ruleProblem,
  tagMatches,
  type TagRule,
  type TagRuleSpec,
} from '../../../services/registry/lifecycle/tag-rules.js';

const A = 'sha256:' + 'a'.repeat(64);
const B = 'sha256:' + 'b'.repeat(64);

function stored(specs: readonly TagRuleSpec[]): TagRule[] {
  return specs.map((spec, i) => ({ ...spec, id: i + 1, createdBy: 'test', createdAt: new Date(0) }));
}

/** The DENIED message, or null when allowed. */
function outcome(fn: () => void): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    assert.ok(err instanceof DockyardError && err.code === 'DENIED' && err.status === 403, String(err));
    return err.message;
  }
}

describe('tag rule patterns', () => {
  const repositories: Array<[string, string, boolean]> = [
    ['prod/**', 'prod/app', true],
    ['prod/**', 'prod/team/app', true],
    ['prod/**', 'prod', false],
    ['prod/**', 'production/app', false],
    ['team/*', 'team/app', true],
    ['team/*', 'team/app/sub', false],
    ['team/app', 'team/app', true],
    ['team/app', 'team/apps', false],
  ];
  for (const [pattern, name, expected] of repositories) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${name}`, () => assert.equal(repositoryMatches(pattern, name), expected));
  }
  const tags: Array<[string, string, boolean]> = [
    ['v*', 'v1.2.3', true],
    ['v*', 'release-v1', false],
    ['latest', 'latest', true],
    ['latest', 'latest2', false],
    ['1.?', '1.5', true],
    ['1.?', '105', false],
    ['^[0-9a-f]{7,40}$', '3f2a9c1', true],
    ['^[0-9a-f]{7,40}$', '3f2a9c', false],
    ['^[0-9a-f]{7,40}$', 'main', false],
  ];
  for (const [pattern, tag, expected] of tags) {
    it(`tag pattern ${pattern} ${expected ? 'matches' : 'does not match'} ${tag}`, () => assert.equal(tagMatches(pattern, tag), expected));
  }
  it('refuses malformed rules with a reason', () => {
    assert.match(ruleProblem({ kind: 'immutable', repositoryPattern: 'prod/**/x', tagPattern: '*' }) ?? '', /trailing \*\*/);
    assert.match(ruleProblem({ kind: 'format', repositoryPattern: 'prod/**', tagPattern: '^([' }) ?? '', /regular expression/);
    assert.match(ruleProblem({ kind: 'format', repositoryPattern: 'prod/**', tagPattern: 'a b' }) ?? '', /glob/);
    assert.match(ruleProblem({ kind: 'sticky' as 'format', repositoryPattern: 'prod/**', tagPattern: '*' }) ?? '', /kind/);
    assert.equal(ruleProblem({ kind: 'immutable', repositoryPattern: 'Prod', tagPattern: '*' }) !== null, true);
    for (const spec of RELEASE_PRESET) assert.equal(ruleProblem(spec), null, JSON.stringify(spec));
  });
});

describe('tag rules on push and delete', () => {
  const rules = stored([
    { kind: 'immutable', repositoryPattern: 'lib/*', tagPattern: 'v*' },
    { kind: 'forbidden', repositoryPattern: 'lib/**', tagPattern: 'nightly' },
    { kind: 'format', repositoryPattern: 'ci/**', tagPattern: '^[0-9a-f]{7,40}$' },
  ]);
  const pushes: Array<[string, string, string, string | null, RegExp | null]> = [
    // repository, tag, new digest, current digest, expected refusal
    ['lib/app', 'v1', A, null, null],
    ['lib/app', 'v1', A, A, null],
    ['lib/app', 'v1', B, A, /tag "v1" in lib\/app is immutable by rule 1 \(immutable lib\/\* v\*\): it already points at sha256:a+; push a new tag instead/],
    ['lib/app', 'dev', B, A, null],
    ['lib/app/sub', 'v1', B, A, null],
    ['lib/app', 'nightly', A, null, /tag "nightly" is forbidden in lib\/app by rule 2 \(forbidden lib\/\*\* nightly\)/],
    ['ci/app', '3f2a9c1', A, null, null],
    ['ci/app', 'main', A, null, /tag "main" does not have the format \^\[0-9a-f\]\{7,40\}\$ required in ci\/app by rule 3/],
    ['other/app', 'nightly', B, A, null],
  ];
  for (const [repository, tag, digest, current, expected] of pushes) {
    it(`push ${repository}:${tag} ${current === null ? '(new)' : current === digest ? '(same content)' : '(moved)'} is ${expected ? 'refused' : 'allowed'}`, () => {
      const message = outcome(() => checkTagPush(rules, repository, tag, digest, current));
      if (expected) assert.match(message ?? 'allowed', expected);
      else assert.equal(message, null);
    });
  }
  it('refuses deleting an immutable tag, directly or with its manifest', () => {
    assert.match(outcome(() => checkTagDelete(rules, 'lib/app', ['v2'])) ?? '', /tag "v2" in lib\/app is immutable by rule 1 .* cannot be deleted/);
    assert.match(outcome(() => checkTagDelete(rules, 'lib/app', ['dev', 'v3'])) ?? '', /"v3"/);
    assert.equal(outcome(() => checkTagDelete(rules, 'lib/app', ['dev'])), null);
    assert.equal(outcome(() => checkTagDelete(rules, 'ci/app', ['v1'])), null);
    assert.equal(isImmutable(rules, 'lib/app', 'v9'), true);
    assert.equal(isImmutable(rules, 'lib/app', 'dev'), false);
  });
  it('the release preset: commit ids in test/**, immutable versions and no latest in prod/**', () => {
    const release = stored(RELEASE_PRESET);
    assert.equal(outcome(() => checkTagPush(release, 'test/app', '3f2a9c1d', A, null)), null);
    assert.match(outcome(() => checkTagPush(release, 'test/app', 'latest', A, null)) ?? '', /format/);
    assert.equal(outcome(() => checkTagPush(release, 'prod/app', '1.4.2', A, null)), null);
    assert.equal(outcome(() => checkTagPush(release, 'prod/app', 'v2.0.0-rc.1', A, null)), null);
    assert.match(outcome(() => checkTagPush(release, 'prod/app', 'latest', A, null)) ?? '', /forbidden/);
    assert.match(outcome(() => checkTagPush(release, 'prod/app', '3f2a9c1d', A, null)) ?? '', /format/);
    assert.match(outcome(() => checkTagPush(release, 'prod/app', '1.4.2', B, A)) ?? '', /immutable/);
    assert.match(outcome(() => checkTagDelete(release, 'prod/team/app', ['1.4.2'])) ?? '', /immutable/);
    assert.equal(outcome(() => checkTagPush(release, 'dev/app', 'latest', B, A)), null);
  });
});
