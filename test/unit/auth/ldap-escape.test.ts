// RFC 4515 filter escaping and RFC 4514 DN values for directory sign-in: every filter
// metacharacter and NUL in a login name becomes a `\XX` escape, so a name can never widen,
// close or extend the configured filter; memberOf DNs are read back to their `cn`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { escapeDnValue, escapeFilterValue, fillFilter, firstRdnValue } from '../../../services/auth/identity/ldap/escape.js';
import { isDirectoryName } from '../../../services/auth/identity/source.js';

describe('escapeFilterValue (RFC 4515)', () => {
  it('escapes * ( ) \\ and NUL as two hex digits', () => {
    assert.equal(escapeFilterValue('*'), '\\2a');
    assert.equal(escapeFilterValue('('), '\\28');
    assert.equal(escapeFilterValue(')'), '\\29');
    assert.equal(escapeFilterValue('\\'), '\\5c');
    assert.equal(escapeFilterValue('\u0000'), '\\00');
    assert.equal(escapeFilterValue('a*b(c)\\d\u0000e'), 'a\\2ab\\28c\\29\\5cd\\00e');
  });

  it('leaves other characters, including non-ASCII, as they are', () => {
    assert.equal(escapeFilterValue("o'brien-müller.x@y"), "o'brien-müller.x@y");
  });

  it('output never holds an unescaped metacharacter (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = escapeFilterValue(s);
        // Removing the escapes leaves no metacharacter behind.
        assert.doesNotMatch(out.replace(/\\[0-9a-f]{2}/g, ''), /[*()\\\u0000]/);
      }),
    );
  });
});

describe('fillFilter', () => {
  it('puts the escaped name into every %s and nothing else', () => {
    assert.equal(fillFilter('(|(uid=%s)(mail=%s))', '*)(uid=*'), '(|(uid=\\2a\\29\\28uid=\\2a)(mail=\\2a\\29\\28uid=\\2a))');
  });

  it('does not interpret $ patterns of String.replace', () => {
    assert.equal(fillFilter('(uid=%s)', "$&$'$`"), "(uid=$&$'$`)");
  });
});

describe('escapeDnValue (RFC 4514)', () => {
  it('escapes the special characters, a leading # or space and a trailing space', () => {
    assert.equal(escapeDnValue('a,b+c"d\\e<f>g;h'), 'a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h');
    assert.equal(escapeDnValue('#x'), '\\#x');
    assert.equal(escapeDnValue(' x '), '\\ x\\ ');
    assert.equal(escapeDnValue('a\u0000b'), 'a\\00b');
  });

  it('round-trips through firstRdnValue (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }).filter((s) => s.trim() === s && s !== ''), (value) => {
        assert.equal(firstRdnValue(`cn=${escapeDnValue(value)},ou=groups,dc=x`, 'cn'), value);
      }),
    );
  });
});

describe('firstRdnValue', () => {
  it('reads cn from the first RDN, unescaping hex pairs and specials', () => {
    assert.equal(firstRdnValue('cn=Registry Admins,ou=groups,dc=example,dc=com', 'cn'), 'Registry Admins');
    assert.equal(firstRdnValue('CN=Smith\\, John,OU=x', 'cn'), 'Smith, John');
    assert.equal(firstRdnValue('cn=caf\\C3\\A9,dc=x', 'cn'), 'café');
    assert.equal(firstRdnValue('ou=x+cn=multi,dc=x', 'cn'), 'multi');
  });

  it('is null when the first RDN has no such attribute', () => {
    assert.equal(firstRdnValue('ou=groups,dc=x', 'cn'), null);
    assert.equal(firstRdnValue('dc=x,cn=later', 'cn'), null);
  });
});

describe('isDirectoryName', () => {
  it('accepts metacharacters and non-ASCII, refuses control characters, colons, padding and length', () => {
    for (const ok of ['alice', 'a*b(c)\\d', "o'brien", 'jürgen', 'x'.repeat(128)]) assert.ok(isDirectoryName(ok), ok);
    for (const bad of ['', 'a\u0000b', 'a\nb', 'a:b', ' alice', 'alice ', 'x'.repeat(129), 'a\u0085b']) assert.ok(!isDirectoryName(bad), JSON.stringify(bad));
  });
});
