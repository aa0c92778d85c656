// The catalog's per-pattern index walk (services/registry/catalog/scan.ts): the stretch a
// pattern walks, and every skip it takes is safe (no match lies between a name and its
// seek target) and real (the target lies after the name), checked against the shared
// matcher over every name of a small alphabet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareNames } from '../../../shared/grammar/reference.js';
import { matchesPattern } from '../../../shared/grammar/repository-pattern.js';
import { patternRange, scanStep } from '../../../services/registry/catalog/scan.js';

test('patternRange: the literal leading segments bound the walk; a leading wildcard walks everything', () => {
  assert.deepEqual(patternRange('team/*'), { start: { name: 'team/', inclusive: true }, before: 'team0' });
  assert.deepEqual(patternRange('team/app/**'), { start: { name: 'team/app/', inclusive: true }, before: 'team/app0' });
  assert.deepEqual(patternRange('a/*/b'), { start: { name: 'a/', inclusive: true }, before: 'a0' });
  assert.deepEqual(patternRange('*/tool'), {});
  assert.deepEqual(patternRange('**'), {});
});

test('scanStep: matches, a too-deep name skips its whole subtree, a wrong literal seeks to the right one', () => {
  assert.deepEqual(scanStep('team/*', 'team/app'), { kind: 'match' });
  assert.deepEqual(scanStep('team/*', 'team/app/sub'), { kind: 'seek', seek: 'team/app0' });
  assert.deepEqual(scanStep('team/**', 'team/app/sub/x'), { kind: 'match' });
  assert.deepEqual(scanStep('a/*/b', 'a/x/a'), { kind: 'seek', seek: 'a/x/b' });
  assert.deepEqual(scanStep('a/*/b', 'a/x/c'), { kind: 'seek', seek: 'a/x0' });
  assert.deepEqual(scanStep('a/*/b', 'a/x'), { kind: 'next' }, 'a longer sibling like a/x-y/b may follow');
  assert.deepEqual(scanStep('*/tool', 'alice/a'), { kind: 'seek', seek: 'alice/tool' });
  assert.deepEqual(scanStep('*/tool', 'alice/zzz'), { kind: 'seek', seek: 'alice0' });
  assert.deepEqual(scanStep('**', 'x'), { kind: 'match' });
});

const ALPHABET = ['a', 'b', 'a-b', 'a.b', 'ab', 'b0'];

function allNames(depth: number): string[] {
  let level = [...ALPHABET];
  const names = [...level];
  for (let d = 1; d < depth; d++) {
    level = level.flatMap((prefix) => ALPHABET.map((s) => `${prefix}/${s}`));
    names.push(...level);
  }
  return names.sort(compareNames);
}

test('scanStep over every name up to depth 3: a match is a match, and nothing a skip jumps over matches', () => {
  const names = allNames(3);
  const patterns = ['a/*', 'a/**', 'ab', '*', '*/b', 'a/*/b', '*/*', 'b0/a-b/*', '*/a.b/**', 'a.b/b'];
  for (const pattern of patterns) {
    names.forEach((name, index) => {
      const step = scanStep(pattern, name);
      assert.equal(step.kind === 'match', matchesPattern(pattern, name), `${pattern} vs ${name}`);
      if (step.kind === 'seek') {
        assert.ok(step.seek > name, `${pattern} at ${name}: seek ${step.seek} must move forward`);
        const skipped = names.slice(index + 1).filter((other) => other < step.seek);
        assert.deepEqual(skipped.filter((other) => matchesPattern(pattern, other)), [], `${pattern} at ${name} skips a match`);
      }
      if (step.kind === 'end') assert.deepEqual(names.slice(index + 1).filter((other) => matchesPattern(pattern, other)), []);
    });
  }
});
