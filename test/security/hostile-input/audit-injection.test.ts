// Log and terminal injection through the audit trail (issue 18.6). A refused login's user
// name is the client's bytes: a name outside the account grammar is never stored raw (the
// actor becomes `invalid-name:` and a hash prefix, the details an escaped, clipped form),
// and `npm run admin -- audit` escapes control characters in everything it prints from the
// database, so a newline cannot forge a row and an escape sequence cannot reach the
// operator's terminal, in the table and in `--json` (which stays the same JSON).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { escapeControls, formatJson, formatTable } from '../../../services/auth/cli/format.js';
import { basic, getToken, runAdminCli, SERVICE, startHarness, type AuthHarness } from '../../api/auth/harness.js';

/** A forged second audit row, red text, a C1 CSI and a bidirectional override. */
const HOSTILE = 'mallory\n2026-01-01T00:00:00Z  admin  user.create  user:x  ok\u001b[31mred\u001b[0m\u009b2J\u202etxt';
/** Raw control characters a terminal would act on. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const admin = (h: AuthHarness, args: string[]) => runAdminCli(h.dataDir, args);

describe('audit trail injection', () => {
  let h: AuthHarness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h?.close());

  it('a refused login with a hostile user name is audited under a safe actor, with an escaped form of the name', async () => {
    assert.equal((await getToken(h, [['service', SERVICE]], basic(HOSTILE, 'some-password'))).status, 401);
    const rows = await h.db('audit').where({ action: 'token.issue', outcome: 'denied' }).select('actor', 'details');
    assert.equal(rows.length, 1);
    const [{ actor, details }] = rows as Array<{ actor: string; details: string }>;
    assert.match(actor, /^invalid-name:[0-9a-f]{16}$/);
    const name = (JSON.parse(details) as { name: string }).name;
    assert.doesNotMatch(name, CONTROL);
    assert.ok(name.startsWith('mallory\\u{a}2026'), name);
    assert.ok(!details.includes('mallory\n'));
  });

  it('`admin audit` escapes control characters from the database in the table and in --json', async () => {
    // A row as an older version (or any other writer) may have left it.
    await h.db('audit').insert({ at: Date.now(), actor: HOSTILE, action: 'token.issue', target: SERVICE, client_address: '127.0.0.1', outcome: 'denied', details: JSON.stringify({ note: HOSTILE }) });
    const table = await admin(h, ['audit']);
    assert.equal(table.code, 0, table.stderr);
    assert.doesNotMatch(table.stdout, CONTROL);
    assert.ok(table.stdout.includes('mallory\\u000a2026-01-01T00:00:00Z'), table.stdout);
    const lines = table.stdout.trimEnd().split('\n');
    const entries = await h.db('audit').count({ n: '*' }).first();
    assert.equal(lines.length, 1 + Number(entries?.n), 'one line per entry plus the header: no forged rows');

    const json = await admin(h, ['audit', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.doesNotMatch(json.stdout, CONTROL);
    const parsed = JSON.parse(json.stdout) as Array<{ actor: string; details: { note?: string } }>;
    assert.equal(parsed[0].actor, HOSTILE, '--json is still the same JSON');
    assert.equal(parsed[0].details.note, HOSTILE);
  });

  it('the formatter: every control character escaped, printable text untouched', () => {
    assert.equal(escapeControls('a\u0000b\u001bc\u007fd\u0085e\u2028f\u202eg\u2069 ok ü'), 'a\\u0000b\\u001bc\\u007fd\\u0085e\\u2028f\\u202eg\\u2069 ok ü');
    assert.equal(formatTable(['A', 'B'], [['x\ny', 'z']]), 'A         B\nx\\u000ay  z');
    assert.equal(JSON.parse(formatJson({ s: '\u009b\u202e' })).s, '\u009b\u202e');
    assert.doesNotMatch(formatJson({ s: '\u009b\u202e\n' }), CONTROL);
  });
});
