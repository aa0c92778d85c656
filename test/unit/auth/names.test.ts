// The auth service's input grammar (subjects, actions, names, durations, htpasswd lines)
// as tables: each bad value is refused with REQUEST_INVALID, each good one parsed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DockyardError } from '../../../shared/http/errors.js';
import { assertNewPassword, assertUserName, parseActions, parseDuration, parseSubject, robotName } from '../../../services/auth/names.js';
import { parseHtpasswd } from '../../../services/auth/store/htpasswd-import.js';

function refused(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    return err instanceof DockyardError && err.code === 'REQUEST_INVALID';
  }
}

const SUBJECTS: Array<[string, { kind: string; name: string } | null]> = [
  ['user:alice', { kind: 'user', name: 'alice' }],
  ['user:a.b@example.com', { kind: 'user', name: 'a.b@example.com' }],
  ['group:devs', { kind: 'group', name: 'devs' }],
  ['robot:ci', { kind: 'robot', name: 'robot$ci' }],
  ['robot:robot$ci', { kind: 'robot', name: 'robot$ci' }],
  ['anonymous', { kind: 'anonymous', name: '' }],
  ['authenticated', { kind: 'authenticated', name: '' }],
  ['user:', null],
  ['user:robot$x', null],
  ['user:has space', null],
  ['user:a:b', null],
  ['group:', null],
  ['robot:CI', null],
  ['admin:root', null],
  ['anonymous:x', null],
  ['alice', null],
  ['', null],
];

for (const [input, expected] of SUBJECTS) {
  test(`parseSubject(${JSON.stringify(input)})`, () => {
    if (expected === null) assert.ok(refused(() => parseSubject(input)));
    else assert.deepEqual(parseSubject(input), expected);
  });
}

test('parseActions: comma lists and arrays of pull, push, delete, *; nothing else', () => {
  assert.deepEqual(parseActions('pull,push'), ['pull', 'push']);
  assert.deepEqual(parseActions('push, pull,push'), ['push', 'pull']);
  assert.deepEqual(parseActions(['*']), ['*']);
  for (const bad of ['', 'pull,', 'read', 'PULL', [], ['pull', 3], 42, null]) assert.ok(refused(() => parseActions(bad)), JSON.stringify(bad));
});

test('parseDuration: number plus unit, positive', () => {
  assert.equal(parseDuration('30d'), 30 * 86400);
  assert.equal(parseDuration('12h'), 12 * 3600);
  assert.equal(parseDuration('90m'), 5400);
  assert.equal(parseDuration('3600s'), 3600);
  assert.equal(parseDuration('2w'), 2 * 604800);
  for (const bad of ['0d', '30', 'd', '1y', '-1d', '1.5d', 30, '9999999d']) assert.ok(refused(() => parseDuration(bad)), String(bad));
});

test('names: users may not look like robots; robots get their prefix; passwords 8..72 bytes', () => {
  assert.equal(assertUserName('alice'), 'alice');
  assert.ok(refused(() => assertUserName('robot$ci')));
  assert.ok(refused(() => assertUserName('a'.repeat(129))));
  assert.equal(robotName('ci'), 'robot$ci');
  assert.ok(refused(() => robotName('robot$')));
  assert.equal(assertNewPassword('12345678'), '12345678');
  assert.ok(refused(() => assertNewPassword('1234567')));
  assert.ok(refused(() => assertNewPassword('é'.repeat(37))), '74 bytes in UTF-8 would be truncated by bcrypt');
});

test('parseHtpasswd: bcrypt entries kept, the rest reported with a reason', () => {
  const hash = '$2y$05$dV1LoW73KAT2byK9wIqWhu2Jim7Xl7.u05hpm9rw3MKqWxZR0PgWK';
  const { entries, skipped } = parseHtpasswd(
    ['# comment', `bob:${hash}`, 'eve:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=', 'mallory:plain', `bob:${hash}`, 'bad name:' + hash, 'nocolon', ''].join('\r\n'),
  );
  assert.deepEqual(entries, [{ line: 2, name: 'bob', hash }]);
  assert.deepEqual(
    skipped.map((s) => [s.line, s.name, s.reason.split(' ')[0]]),
    [[3, 'eve', 'not'], [4, 'mallory', 'not'], [5, 'bob', 'duplicate'], [6, 'bad name', 'invalid'], [7, '', 'not']],
  );
  assert.match(skipped[0].reason, /SHA-1/);
});
