// The web UI asks the auth service once for a scope that several parts of a page need at
// the same moment (README, tags and the offered actions of a repository page load in
// parallel): concurrent callers share the request, a failed request is not kept, and
// another session or scope gets its own. Against a token endpoint on a loopback port that
// counts what it is asked.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Upstream } from '../../services/web/upstream.js';
import type { Session } from '../../services/web/session.js';
import { loadWebConfig } from '../../shared/config/web.js';

function fakeJwt(scope: string): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const [, name, actions] = scope.split(':');
  return `${part({ alg: 'none' })}.${part({ access: [{ type: 'repository', name, actions: actions!.split(',') }] })}.sig`;
}

function session(refreshToken: string): Session {
  return { id: 'x'.repeat(43), csrf: 'c', tokens: new Map(), lastSeen: 0, user: { name: 'alice', refreshToken } };
}

describe('web UI token requests', () => {
  let server: Server;
  let base = '';
  const asked: string[] = [];
  let failNext = false;
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/v2/') {
        res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="${base}/token",service="test"` }).end();
        return;
      }
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        asked.push(`${form.get('refresh_token')} ${form.get('scope')}`);
        // Answer late, so the callers below overlap for sure.
        setTimeout(() => {
          if (failNext) {
            failNext = false;
            res.writeHead(503, { 'Content-Type': 'application/json' }).end('{"errors":[{"message":"busy"}]}');
            return;
          }
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: fakeJwt(form.get('scope')!), expires_in: 300 }));
        }, 100);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends one request for concurrent callers of one session and scope, one per other session or scope', async () => {
    const upstream = new Upstream(loadWebConfig({ env: { WEB_REGISTRY_URL: base } }));
    const alice = session('rt-alice');
    const other = session('rt-other');
    const scope = 'repository:team/app:pull,push,delete';
    asked.length = 0;
    const tokens = await Promise.all([upstream.token(alice, scope), upstream.token(alice, scope), upstream.repositoryActions(alice, 'team/app'), upstream.token(other, scope), upstream.token(alice, 'repository:team/b:pull,push,delete')]);
    assert.deepEqual(asked.sort(), [`rt-alice ${scope}`, 'rt-alice repository:team/b:pull,push,delete', `rt-other ${scope}`]);
    assert.equal(tokens[0], tokens[1]);
    assert.deepEqual([...(tokens[2] as Set<string>)].sort(), ['delete', 'pull', 'push']);
    await upstream.token(alice, scope);
    assert.equal(asked.length, 3, 'then served from the cache');
  });

  it('does not keep a failed request: the next caller asks again', async () => {
    const upstream = new Upstream(loadWebConfig({ env: { WEB_REGISTRY_URL: base } }));
    const alice = session('rt-alice-2');
    asked.length = 0;
    failNext = true;
    const results = await Promise.allSettled([upstream.token(alice, 'repository:x:pull'), upstream.token(alice, 'repository:x:pull')]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
    assert.equal(asked.length, 1);
    assert.ok(await upstream.token(alice, 'repository:x:pull'));
    assert.equal(asked.length, 2);
  });
});
