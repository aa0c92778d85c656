// CNCF distribution 2.8.2 (Debian's docker-registry) as a peer of our token issuer: it must
// accept our tokens (x5c against its rootcertbundle, or a libtrust kid alone), let a blob
// upload and pull through, and refuse a token for another repository, a foreign key, and
// a non-admin's catalog listing (which only our registry reads).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { TokenIssuer } from '../../services/auth/issue.js';
import { KeyStore } from '../../shared/crypto/keys.js';
import type { AccessRecord } from '../../shared/grammar/scope.js';
import { freePort } from './harness/ports.js';
import { httpProbe, startProcess } from './harness/process.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';

const gate = requireTools(['docker-registry']);
const ISSUER = 'dockyard-auth';
const SERVICE = 'dockyard';
const REALM = 'http://127.0.0.1:5001/token';

const repo = (name: string, ...actions: string[]): AccessRecord => ({ type: 'repository', name, actions });

describe('CNCF distribution 2.8 accepts tokens from TokenIssuer', { skip: gate.skip }, () => {
  let ws: Workspace;
  let keys: KeyStore;
  let issuer: TokenIssuer;
  let url: string;

  before(async () => {
    ws = Workspace.create('distribution-peer');
    keys = await KeyStore.open(ws.path('keys'));
    issuer = new TokenIssuer({ keys, issuer: ISSUER, ttlSeconds: 300 });
    const bundle = ws.path('auth-cert.pem');
    writeFileSync(bundle, keys.certificatesPem());
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const config = ws.path('config.yml');
    writeFileSync(
      config,
      [
        'version: 0.1',
        'log: { level: info }',
        `storage: { filesystem: { rootdirectory: ${ws.path('data')} }, delete: { enabled: true } }`,
        `http: { addr: 127.0.0.1:${port}, secret: ${randomBytes(16).toString('hex')} }`,
        `auth: { token: { realm: "${REALM}", service: "${SERVICE}", issuer: "${ISSUER}", rootcertbundle: ${bundle} } }`,
        '',
      ].join('\n'),
    );
    await startProcess(ws, { name: 'docker-registry', command: 'docker-registry', args: ['serve', config], ready: httpProbe(`${url}/v2/`) });
  });
  after(() => ws?.dispose());

  async function bearer(access: AccessRecord[]): Promise<Record<string, string>> {
    const { token } = await issuer.issue({ subject: 'alice', audience: SERVICE, access });
    return { authorization: `Bearer ${token}` };
  }

  /** The response's challenge; fails with the server log unless the status is 401. */
  async function challenge(response: Response): Promise<string> {
    await response.body?.cancel();
    assert.equal(response.status, 401, ws.logTails());
    return response.headers.get('www-authenticate') ?? '';
  }

  it('challenges an anonymous GET /v2/ and answers 200 with a token', async () => {
    assert.equal(await challenge(await fetch(`${url}/v2/`)), `Bearer realm="${REALM}",service="${SERVICE}"`);
    const ok = await fetch(`${url}/v2/`, { headers: await bearer([]) });
    await ok.body?.cancel();
    assert.equal(ok.status, 200, ws.logTails());
  });

  it('lets a blob upload and pull through with a pull,push token', async () => {
    const blob = randomBytes(64 * 1024);
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const push = await bearer([repo('team/app', 'pull', 'push')]);
    const start = await fetch(`${url}/v2/team/app/blobs/uploads/`, { method: 'POST', headers: push });
    await start.body?.cancel();
    assert.equal(start.status, 202, ws.logTails());
    const location = new URL(start.headers.get('location')!, url);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT',
      headers: { ...push, 'content-type': 'application/octet-stream', 'content-length': String(blob.length) },
      body: blob,
    });
    await put.body?.cancel();
    assert.equal(put.status, 201, ws.logTails());
    assert.equal(put.headers.get('docker-content-digest'), digest);

    const pulled = await fetch(`${url}/v2/team/app/blobs/${digest}`, { headers: await bearer([repo('team/app', 'pull')]) });
    assert.equal(pulled.status, 200, ws.logTails());
    assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(blob), 'pulled blob has other bytes');
  });

  it('accepts a token that names its key only by the libtrust kid (no x5c)', async () => {
    const key = keys.current();
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ access: [] })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: key.kid })
      .setIssuer(ISSUER).setSubject('alice').setAudience(SERVICE).setIssuedAt(now).setNotBefore(now).setExpirationTime(now + 60).setJti('kid-only')
      .sign(key.privateKey);
    const response = await fetch(`${url}/v2/`, { headers: { authorization: `Bearer ${token}` } });
    await response.body?.cancel();
    assert.equal(response.status, 200, ws.logTails());
  });

  it('answers insufficient_scope to a token for another repository', async () => {
    const response = await fetch(`${url}/v2/team/app/tags/list`, { headers: await bearer([repo('team/other', 'pull', 'push')]) });
    assert.equal(
      await challenge(response),
      `Bearer realm="${REALM}",service="${SERVICE}",scope="repository:team/app:pull",error="insufficient_scope"`,
    );
  });

  it("does not take a non-admin's catalog listing (registry:catalog:list + patterns) for the whole catalog", async () => {
    const { token } = await issuer.issue({
      subject: 'alice',
      audience: SERVICE,
      access: [{ type: 'registry', name: 'catalog', actions: ['list'] }],
      catalog: ['team/*'],
    });
    const listed = await fetch(`${url}/v2/_catalog`, { headers: { authorization: `Bearer ${token}` } });
    assert.match(await challenge(listed), /scope="registry:catalog:\*",error="insufficient_scope"/);
    const admin = await fetch(`${url}/v2/_catalog`, { headers: await bearer([{ type: 'registry', name: 'catalog', actions: ['*'] }]) });
    assert.equal(admin.status, 200, ws.logTails());
    await admin.body?.cancel();
  });

  it('answers invalid_token to a token signed by a foreign key', async () => {
    const foreignKeys = await KeyStore.open(ws.path('foreign-keys'));
    const foreign = new TokenIssuer({ keys: foreignKeys, issuer: ISSUER, ttlSeconds: 300 });
    const { token } = await foreign.issue({ subject: 'mallory', audience: SERVICE, access: [repo('team/app', 'pull')] });
    const response = await fetch(`${url}/v2/team/app/tags/list`, { headers: { authorization: `Bearer ${token}` } });
    assert.match(await challenge(response), /error="invalid_token"/);
  });
});
