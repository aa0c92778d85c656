import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { ChallengeError } from '../../../services/registry/auth/controller.js';
import { HtpasswdAccessController, parseBasicAuthorization } from '../../../services/registry/auth/htpasswd.js';
import { createAccessController } from '../../../services/registry/auth/index.js';
import { HtpasswdError, HtpasswdFile, parseHtpasswd } from '../../../shared/crypto/htpasswd.js';
import { silentLogger } from '../../../shared/observability/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'dockyard-htpasswd-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;

function htpasswdLine(flag: string, user: string, password: string): string {
  return execFileSync('htpasswd', [`-nb${flag}`, user, password], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

function file(content: string): string {
  const path = join(dir, `htpasswd-${fileCount++}`);
  writeFileSync(path, content);
  return path;
}

function basic(user: string, password: string): { authorization: string } {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

const ALICE = htpasswdLine('B', 'alice', 'alice-pw'); // $2y$, as `htpasswd -B` writes it

describe('htpasswd parsing', () => {
  it('reads $2y$ (htpasswd -B), $2a$ and $2b$ entries, skipping comments and blank lines', () => {
    assert.match(ALICE, /^alice:\$2y\$/);
    const bob = `bob:${bcrypt.hashSync('bob-pw', 4).replace(/^\$2b\$/, '$2a$')}`;
    const carol = `carol:${bcrypt.hashSync('carol-pw', 4)}`;
    const users = parseHtpasswd(`# users\n${ALICE}\r\n\n${bob}\n${carol}\n`, 'test');
    assert.deepEqual([...users.keys()], ['alice', 'bob', 'carol']);
  });

  it('refuses other hash kinds with the file, line and user', () => {
    const cases: Array<[string, RegExp]> = [
      [htpasswdLine('m', 'md5', 'pw'), /test:2: user "md5" has a MD5 \(apr1\) hash; only bcrypt is supported \(create entries with htpasswd -B\)/],
      [htpasswdLine('s', 'sha', 'pw'), /test:2: user "sha" has a SHA-1 hash/],
      [htpasswdLine('p', 'plain', 'pw'), /test:2: user "plain" has a plain-text or unknown hash/],
      [htpasswdLine('d', 'des', 'pw'), /test:2: user "des" has a DES crypt hash/],
      ['nocolon', /test:2: expected "user:hash"/],
    ];
    for (const [line, message] of cases) {
      assert.throws(() => parseHtpasswd(`${ALICE}\n${line}\n`, 'test'), (err: unknown) => err instanceof HtpasswdError && message.test(err.message));
    }
  });
});

describe('HtpasswdFile', () => {
  it('verifies passwords and rejects wrong ones and unknown users', async () => {
    const htpasswd = await HtpasswdFile.open(file(`${ALICE}\n`));
    assert.equal(await htpasswd.verify('alice', 'alice-pw'), true);
    assert.equal(await htpasswd.verify('alice', 'alice-pw'), true, 'again, from the success cache');
    assert.equal(await htpasswd.verify('alice', 'wrong'), false);
    assert.equal(await htpasswd.verify('mallory', 'alice-pw'), false);
    assert.equal(await htpasswd.verify('', ''), false);
  });

  it('spends one bcrypt comparison of the usual cost on an unknown user, like on a known one', async () => {
    const htpasswd = await HtpasswdFile.open(file(`${ALICE}\n`));
    const original = bcrypt.compare;
    const hashes: string[] = [];
    bcrypt.compare = ((password: string, hash: string) => {
      hashes.push(hash);
      return original(password, hash);
    }) as typeof bcrypt.compare;
    try {
      assert.equal(await htpasswd.verify('ghost', 'alice-pw'), false);
      assert.equal(await htpasswd.verify('alice', 'not-it'), false);
    } finally {
      bcrypt.compare = original;
    }
    assert.equal(hashes.length, 2);
    assert.notEqual(hashes[0], hashes[1]);
    assert.equal(bcrypt.getRounds(hashes[0]!), bcrypt.getRounds(hashes[1]!));
  });

  it('does not let a cached success leak to another split of the same bytes', async () => {
    const path = file(`${htpasswdLine('B', 'a', 'b:c')}\n`);
    const htpasswd = await HtpasswdFile.open(path);
    assert.equal(await htpasswd.verify('a', 'b:c'), true);
    assert.equal(await htpasswd.verify('a:b', 'c'), false);
  });

  it('re-reads the file when it changes, and keeps the old users when the new file is invalid', async () => {
    const path = file(`${ALICE}\n`);
    const htpasswd = await HtpasswdFile.open(path, { logger: silentLogger() });
    assert.equal(await htpasswd.verify('dan', 'dan-pw'), false);
    writeFileSync(path, `${htpasswdLine('B', 'dan', 'dan-pw')}\n`);
    assert.equal(await htpasswd.verify('dan', 'dan-pw'), true);
    assert.equal(await htpasswd.verify('alice', 'alice-pw'), false, 'alice was removed');
    writeFileSync(path, `${htpasswdLine('m', 'eve', 'eve-pw')}\n`);
    assert.equal(await htpasswd.verify('eve', 'eve-pw'), false);
    assert.equal(await htpasswd.verify('dan', 'dan-pw'), true, 'the valid previous file still applies');
  });

  it('fails at startup on a missing file or a non-bcrypt entry', async () => {
    await assert.rejects(HtpasswdFile.open(join(dir, 'missing')), /cannot read htpasswd file .*missing/);
    await assert.rejects(HtpasswdFile.open(file(`${htpasswdLine('m', 'md5', 'pw')}\n`)), /only bcrypt is supported/);
    await assert.rejects(
      createAccessController({ kind: 'htpasswd', path: file('x:{SHA}abc\n'), realm: 'r' }, silentLogger()),
      HtpasswdError,
    );
  });
});

describe('HtpasswdAccessController', () => {
  it('grants any valid user every required access and challenges everyone else with Basic', async () => {
    const controller = await HtpasswdAccessController.open(file(`${ALICE}\n`), 'Registry "Realm"');
    const required = [{ type: 'repository', name: 'x/y', actions: ['pull', 'push'] }, { type: 'registry', name: 'catalog', actions: ['*'] }];
    assert.deepEqual(await controller.authorize(basic('alice', 'alice-pw'), required), { subject: 'alice', access: required });

    for (const headers of [{}, basic('alice', 'nope'), basic('bob', 'alice-pw'), { authorization: 'Basic !!!' }, { authorization: 'Bearer abc' }]) {
      await assert.rejects(controller.authorize(headers, required), (err: unknown) => {
        assert.ok(err instanceof ChallengeError);
        assert.equal(err.status, 401);
        assert.equal(err.headers['WWW-Authenticate'], 'Basic realm="Registry \\"Realm\\""');
        return true;
      });
    }
  });

  it('parses Basic credentials whose password contains colons', () => {
    assert.deepEqual(parseBasicAuthorization(basic('u', 'p:a:s').authorization), { user: 'u', password: 'p:a:s' });
    assert.equal(parseBasicAuthorization(`Basic ${Buffer.from('nocolon').toString('base64')}`), null);
    assert.equal(parseBasicAuthorization(undefined), null);
  });
});
