// The authorizer as a table: principal + requested scope + rules → granted access.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ANONYMOUS, authorize, isValidPattern, patternMatches, pullPatterns, usesGrants, type GrantRule, type Principal } from '../../../services/auth/authorize.js';
import { formatScope, parseScope, type AccessRecord } from '../../../shared/grammar/scope.js';

const alice: Principal = { kind: 'user', name: 'alice', admin: false, groups: ['devs'] };
const bob: Principal = { kind: 'user', name: 'bob', admin: false, groups: [] };
const root: Principal = { kind: 'user', name: 'root', admin: true, groups: [] };
const ci: Principal = { kind: 'robot', name: 'robot$ci', admin: false, groups: [] };
const fakeAdminRobot: Principal = { kind: 'robot', name: 'robot$x', admin: true, groups: [] };

function rule(subject: string, pattern: string, actions: string): GrantRule {
  const [kind, name = ''] = subject.split(':') as [GrantRule['subjectKind'], string?];
  return { subjectKind: kind, subjectName: name, pattern, actions: actions.split(',') };
}

const RULES: GrantRule[] = [
  rule('user:alice', 'team/app', 'pull,push'),
  rule('group:devs', 'devs/*', 'pull,push'),
  rule('group:ops', 'ops/**', '*'),
  rule('user:bob', 'shared/**', 'pull'),
  rule('user:bob', 'shared/bob-owned', 'push,delete'),
  rule('anonymous', 'public/**', 'pull'),
  rule('authenticated', 'internal/*', 'pull'),
  rule('robot:robot$ci', 'team/*', 'pull,push'),
  rule('user:alice', '${user}/*', '*'),
  rule('authenticated', '${user}/**', 'pull'),
  rule('user:bob', 'wild/*/app', 'pull'),
];

// [description, principal, requested scope, expected granted scope or null when nothing]
const TABLE: Array<[string, Principal, string, string | null]> = [
  ['exact grant gives requested actions', alice, 'repository:team/app:pull,push', 'repository:team/app:pull,push'],
  ['exact grant keeps docker action order', alice, 'repository:team/app:push,pull', 'repository:team/app:push,pull'],
  ['exact grant drops an ungranted action', alice, 'repository:team/app:pull,delete', 'repository:team/app:pull'],
  ['exact grant does not cover a sibling', alice, 'repository:team/other:pull', null],
  ['exact grant does not cover a child', alice, 'repository:team/app/sub:pull', null],
  ['group grant with * covers one level', alice, 'repository:devs/tool:pull', 'repository:devs/tool:pull'],
  ['group grant * does not cover two levels', alice, 'repository:devs/a/b:pull', null],
  ['group grant * does not cover the prefix itself', alice, 'repository:devs:pull', null],
  ['group grant applies only to members', bob, 'repository:devs/tool:pull', null],
  ['grant to a group alice is not in', alice, 'repository:ops/x:pull', null],
  ['** covers one level', bob, 'repository:shared/a:pull', 'repository:shared/a:pull'],
  ['** covers many levels', bob, 'repository:shared/a/b/c:pull', 'repository:shared/a/b/c:pull'],
  ['** does not cover the prefix itself', bob, 'repository:shared:pull', null],
  ['** does not cover a lookalike prefix', bob, 'repository:sharedx/a:pull', null],
  ['rules for one repo add up', bob, 'repository:shared/bob-owned:pull,push,delete', 'repository:shared/bob-owned:pull,push,delete'],
  ['push alone is granted without pull', bob, 'repository:shared/bob-owned:push', 'repository:shared/bob-owned:push'],
  ['anonymous grant applies to anonymous', ANONYMOUS, 'repository:public/lib:pull', 'repository:public/lib:pull'],
  ['anonymous grant applies to users too', bob, 'repository:public/lib/x:pull', 'repository:public/lib/x:pull'],
  ['anonymous grant applies to robots too', ci, 'repository:public/lib:pull', 'repository:public/lib:pull'],
  ['anonymous cannot push under an anonymous pull grant', ANONYMOUS, 'repository:public/lib:push', null],
  ['anonymous gets nothing elsewhere', ANONYMOUS, 'repository:team/app:pull', null],
  ['authenticated grant applies to users', bob, 'repository:internal/x:pull', 'repository:internal/x:pull'],
  ['authenticated grant applies to robots', ci, 'repository:internal/x:pull', 'repository:internal/x:pull'],
  ['authenticated grant does not apply to anonymous', ANONYMOUS, 'repository:internal/x:pull', null],
  ['robot grant applies to the robot', ci, 'repository:team/svc:push,pull', 'repository:team/svc:push,pull'],
  ['robot grant does not apply to a user', bob, 'repository:team/svc:pull', null],
  ['user grant does not apply to a robot of another name', ci, 'repository:team/app/x:pull', null],
  ['personal namespace: own name', alice, 'repository:alice/tool:pull,push,delete', 'repository:alice/tool:pull,push,delete'],
  ['personal namespace: another user name', alice, 'repository:bob/tool:pull', null],
  ['personal namespace via authenticated ${user}/**', bob, 'repository:bob/deep/tool:pull', 'repository:bob/deep/tool:pull'],
  ['personal namespace via authenticated: not someone else', bob, 'repository:alice/tool:pull', null],
  ['${user} never matches for robots', ci, 'repository:robot$ci/x:pull', null],
  ['${user} never matches for anonymous', ANONYMOUS, 'repository:x/y:pull', null],
  ['* in the middle of a pattern', bob, 'repository:wild/any/app:pull', 'repository:wild/any/app:pull'],
  ['* in the middle needs the exact tail', bob, 'repository:wild/any/other:pull', null],
  ['a * grant gives every requested action', alice, 'repository:alice/x:pull,push,delete', 'repository:alice/x:pull,push,delete'],
  ['a * grant answers a * request with *', alice, 'repository:alice/x:*', 'repository:alice/x:*'],
  ['a * request without a * grant gets the concrete actions', bob, 'repository:shared/bob-owned:*', 'repository:shared/bob-owned:pull,push,delete'],
  ['a * request with only pull gets pull', bob, 'repository:shared/lib:*', 'repository:shared/lib:pull'],
  ['unknown actions are dropped', alice, 'repository:team/app:pull,frobnicate', 'repository:team/app:pull'],
  ['unknown actions pass under a * grant', alice, 'repository:alice/x:frobnicate', 'repository:alice/x:frobnicate'],
  ['admin gets every requested action', root, 'repository:any/thing:pull,push,delete', 'repository:any/thing:pull,push,delete'],
  ['admin gets the catalog', root, 'registry:catalog:*', 'registry:catalog:*'],
  ['non-admin gets the catalog as a listing of its patterns', alice, 'registry:catalog:*', 'registry:catalog:list'],
  ['asking for the listing itself works too', alice, 'registry:catalog:list', 'registry:catalog:list'],
  ['other catalog actions are not granted to non-admins', alice, 'registry:catalog:pull', null],
  ['anonymous gets the listing when an anonymous grant exists', ANONYMOUS, 'registry:catalog:*', 'registry:catalog:list'],
  ['admin flag on a robot is ignored', fakeAdminRobot, 'registry:catalog:*', 'registry:catalog:list'],
  ['admin flag on a robot grants nothing extra', fakeAdminRobot, 'repository:any/thing:pull', null],
  ['non-repository types are refused to non-admins', ci, 'plugin:team/app:pull', null],
  ['invalid repository names are refused even to admins', root, 'repository:Team/App:pull', null],
  ['invalid repository names are refused under ** grants', bob, 'repository:shared/../etc:pull', null],
];

for (const [description, principal, requested, expected] of TABLE) {
  test(`authorize: ${description}`, () => {
    const record = parseScope(requested);
    assert.ok(record, `test scope ${requested} must parse`);
    const granted = authorize(principal, [record], RULES);
    assert.deepEqual(granted.access.map(formatScope), expected === null ? [] : [expected]);
  });
}

test('authorize: several scopes at once are answered one by one, in order', () => {
  const requested = ['repository:team/app:pull,push', 'repository:secret/x:pull', 'repository:public/base:pull'].map((s) => parseScope(s)!);
  assert.deepEqual(authorize(alice, requested, RULES).access.map(formatScope), ['repository:team/app:pull,push', 'repository:public/base:pull']);
});

test('authorize: no rules means nothing for non-admins', () => {
  assert.deepEqual(authorize(alice, [parseScope('repository:team/app:pull')!], []), { access: [] });
});

test('authorize: a user rule with an empty name never matches anonymous', () => {
  const rules = [rule('user:', 'x/y', 'pull')];
  assert.deepEqual(authorize(ANONYMOUS, [parseScope('repository:x/y:pull')!], rules), { access: [] });
});

// The catalog claim: [description, principal, expected patterns (undefined: no catalog claim)].
const CATALOG: Array<[string, Principal, string[] | undefined]> = [
  ['user: own, group, anonymous and authenticated grants; ${user} resolved; alice/* folded into alice/**', alice, ['alice/**', 'devs/*', 'internal/*', 'public/**', 'team/app']],
  ['user: push/delete-only grants do not list; * in the middle is kept', bob, ['bob/**', 'internal/*', 'public/**', 'shared/**', 'wild/*/app']],
  ['robot: its own and shared grants; ${user} never applies', ci, ['internal/*', 'public/**', 'team/*']],
  ['anonymous: anonymous grants only', ANONYMOUS, ['public/**']],
  ['admin: the whole catalog, no claim', root, undefined],
];

for (const [description, principal, expected] of CATALOG) {
  test(`authorize catalog: ${description}`, () => {
    const result = authorize(principal, [parseScope('registry:catalog:*')!], RULES);
    assert.deepEqual(result.catalog, expected);
    if (expected) assert.deepEqual(pullPatterns(principal, RULES), expected);
  });
}

test('authorize catalog: anonymous without any anonymous grant gets no catalog (a 401 asks it to log in); a user gets an empty one', () => {
  const rules = [rule('user:alice', 'team/app', 'pull')];
  assert.deepEqual(authorize(ANONYMOUS, [parseScope('registry:catalog:*')!], rules), { access: [] });
  assert.deepEqual(authorize(bob, [parseScope('registry:catalog:*')!], rules), { access: [{ type: 'registry', name: 'catalog', actions: ['list'] }], catalog: [] });
});

test('authorize catalog: a user name that is no repository component resolves ${user} to nothing', () => {
  const odd: Principal = { kind: 'user', name: 'Odd@Name', admin: false, groups: [] };
  assert.deepEqual(authorize(odd, [parseScope('registry:catalog:*')!], [rule('authenticated', '${user}/*', 'pull'), rule('anonymous', 'pub/*', 'pull')]).catalog, ['pub/*']);
});

test('authorize catalog: more patterns (or characters) than a token may carry means no catalog, not a truncated one', () => {
  const many = Array.from({ length: 257 }, (_, i) => rule('user:bob', `team/app${i}`, 'pull'));
  assert.deepEqual(authorize(bob, [parseScope('registry:catalog:*')!], many), { access: [] });
  assert.equal(authorize(bob, [parseScope('registry:catalog:*')!], many.slice(0, 256)).catalog?.length, 256);
  const long = Array.from({ length: 20 }, (_, i) => rule('user:bob', `${'a'.repeat(200)}/app${i}`, 'pull'));
  assert.deepEqual(authorize(bob, [parseScope('registry:catalog:*')!], long), { access: [] }, 'over 4096 characters of patterns');
});

test('property: every repository a non-admin may pull matches one of its catalog patterns, and nothing else does', () => {
  fc.assert(
    fc.property(principalArb, fc.array(ruleArb, { maxLength: 8 }), repoName, (principal, rules, name) => {
      const patterns = authorize(principal, [parseScope('registry:catalog:*')!], rules).catalog ?? [];
      const mayPull = authorize(principal, [{ type: 'repository', name, actions: ['pull'] }], rules).access.length > 0;
      assert.equal(patterns.some((p) => patternMatches(p, name, principal)), mayPull, `${name} with ${JSON.stringify(patterns)}`);
    }),
  );
});

const PATTERNS: Array<[string, boolean]> = [
  ['team/app', true],
  ['team/*', true],
  ['team/**', true],
  ['**', true],
  ['*', true],
  ['${user}/*', true],
  ['${user}/**', true],
  ['a/*/b', true],
  ['a.b/c-d/e_f', true],
  ['', false],
  ['team/', false],
  ['/team', false],
  ['team//app', false],
  ['**/app', false],
  ['team/**/app', false],
  ['Team/app', false],
  ['team/ap*', false],
  ['${USER}/*', false],
  ['team/app?', false],
  ['a'.repeat(256), false],
];

for (const [pattern, valid] of PATTERNS) {
  test(`isValidPattern(${JSON.stringify(pattern.slice(0, 40))}) is ${valid}`, () => {
    assert.equal(isValidPattern(pattern), valid);
  });
}

test('patternMatches: ** alone matches every name, * alone only single segments', () => {
  assert.equal(patternMatches('**', 'a', bob), true);
  assert.equal(patternMatches('**', 'a/b/c', bob), true);
  assert.equal(patternMatches('*', 'a', bob), true);
  assert.equal(patternMatches('*', 'a/b', bob), false);
});

const segment = fc.constantFrom('team', 'app', 'alice', 'x', 'lib');
const repoName = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
const actions = fc.subarray(['pull', 'push', 'delete', '*', 'other'], { minLength: 1 });
const access = fc.record({ type: fc.constantFrom('repository', 'registry'), name: repoName, actions });
const ruleArb = fc.record({
  subjectKind: fc.constantFrom('user', 'group', 'robot', 'anonymous', 'authenticated') as fc.Arbitrary<GrantRule['subjectKind']>,
  subjectName: fc.constantFrom('', 'alice', 'devs', 'robot$ci'),
  pattern: fc.constantFrom('team/*', 'team/**', '**', 'alice/app', '${user}/*', 'x'),
  actions: fc.subarray(['pull', 'push', 'delete', '*'], { minLength: 1 }),
});
const principalArb = fc.constantFrom(alice, bob, ci, ANONYMOUS);

test('property: a non-admin is never granted more than it requested, nor anything outside repositories', () => {
  fc.assert(
    fc.property(principalArb, fc.array(access, { maxLength: 5 }), fc.array(ruleArb, { maxLength: 8 }), (principal, requested, rules) => {
      const granted = authorize(principal, requested as AccessRecord[], rules).access;
      for (const g of granted) {
        assert.equal(g.type, 'repository');
        const asked = requested.filter((r) => r.type === g.type && r.name === g.name).flatMap((r) => r.actions);
        for (const action of g.actions) assert.ok(asked.includes(action) || (asked.includes('*') && action !== '*'), `${action} was not asked for`);
        assert.ok(g.actions.length > 0);
      }
    }),
  );
});

test('property: adding rules never takes access away', () => {
  fc.assert(
    fc.property(principalArb, fc.array(access, { maxLength: 4 }), fc.array(ruleArb, { maxLength: 6 }), ruleArb, (principal, requested, rules, extra) => {
      const before = authorize(principal, requested as AccessRecord[], rules).access;
      const after = authorize(principal, requested as AccessRecord[], [...rules, extra]).access;
      for (const g of before) {
        const now = after.find((a) => a.type === g.type && a.name === g.name);
        assert.ok(now, `${formatScope(g)} disappeared`);
        for (const action of g.actions) assert.ok(now.actions.includes(action) || now.actions.includes('*'), `${action} on ${g.name} disappeared`);
      }
    }),
  );
});

test('usesGrants: only admin users are decided without rules, so the token service may skip reading them', () => {
  assert.deepEqual([alice, bob, ci, fakeAdminRobot, ANONYMOUS, root].map(usesGrants), [true, true, true, true, true, false]);
  fc.assert(
    fc.property(fc.array(access, { maxLength: 5 }), fc.array(ruleArb, { maxLength: 8 }), (requested, rules) => {
      assert.deepEqual(authorize(root, requested as AccessRecord[], rules), authorize(root, requested as AccessRecord[], []));
    }),
  );
});
