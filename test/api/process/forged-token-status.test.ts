// `npm start` in token mode with the auth service on HTTPS (as the walkthrough sets it up):
// a token naming a key id nobody issued, or carrying its own x5c chain or jwk, is answered
// 401 with error="invalid_token", never 503 UNAVAILABLE (a forged token must not look like
// an outage), and a token the auth service issued still works.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SignJWT, type JWTHeaderParameters } from 'jose';
import { createSelfSignedCertificate } from '../../../shared/crypto/x509.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PASSWORD = 'correct-horse-battery-staple';

describe('npm start: forged tokens get 401 invalid_token', () => {
  let dir: string;
  let child: ChildProcessWithoutNullStreams;
  let exited: Promise<number | null>;
  let registry: string;
  let auth: string;
  let authCa: Buffer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dockyard-forged-'));
    const key = join(dir, 'auth.key');
    const cert = join(dir, 'auth.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=auth.example.test', '-addext', 'subjectAltName=DNS:auth.example.test'], { stdio: 'ignore' });
    authCa = readFileSync(cert);
    child = spawn(process.execPath, ['--import', 'tsx', 'services/main.ts'], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        LOG_LEVEL: 'warn',
        DOCKYARD_DATA_DIR: join(dir, 'data'),
        DOCKYARD_ADMIN_PASSWORD: PASSWORD,
        REGISTRY_HTTP_ADDR: '127.0.0.1:0',
        AUTH_HTTP_ADDR: '127.0.0.1:0',
        WEB_HTTP_ADDR: '127.0.0.1:0',
        AUTH_HTTP_TLS_CERTIFICATE: cert,
        AUTH_HTTP_TLS_KEY: key,
      },
    });
    exited = new Promise((resolve) => child.on('exit', resolve));
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    registry = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /registry (http:\/\/[0-9.:]+).*auth service (https:\/\/[0-9.:]+)/.exec(output);
        if (match) {
          auth = match[2]!;
          resolve(match[1]!);
        }
      });
      void exited.then((code) => reject(new Error(`npm start exited with ${code}: ${output}`)));
    });
  });

  after(async () => {
    child?.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });

  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const attackerCert = createSelfSignedCertificate({ ...attacker, commonName: 'mallory', days: 1 });
  async function forge(header: JWTHeaderParameters): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ access: [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }] })
      .setProtectedHeader(header)
      .setIssuer('dockyard-auth').setAudience('dockyard').setSubject('admin').setIssuedAt(now).setExpirationTime(now + 300)
      .sign(attacker.privateKey);
  }

  /** A token from the auth service itself (its certificate names auth.example.test). */
  function issuedToken(): Promise<string> {
    const url = new URL(`${auth}/token?service=dockyard&scope=repository:team/app:pull`);
    return new Promise((resolve, reject) => {
      const req = request(url, { ca: authCa, servername: 'auth.example.test', auth: `admin:${PASSWORD}` }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => (res.statusCode === 200 ? resolve((JSON.parse(body) as { token: string }).token) : reject(new Error(`${res.statusCode} ${body}`))));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('a token the auth service issued is accepted', async () => {
    const response = await fetch(`${registry}/v2/team/app/tags/list`, { headers: { authorization: `Bearer ${await issuedToken()}` } });
    await response.body?.cancel();
    assert.equal(response.status, 404, 'authorized: the repository does not exist yet');
  });

  const cases: Array<[string, () => Promise<string>]> = [
    ['an unknown kid', () => forge({ alg: 'ES256', kid: 'AAAA:BBBB:CCCC:DDDD:EEEE:FFFF:GGGG:HHHH:IIII:JJJJ:KKKK:LLLL' })],
    ['its own x5c chain', () => forge({ alg: 'ES256', x5c: [attackerCert.der.toString('base64')] })],
    ['its own jwk', () => forge({ alg: 'ES256', jwk: attacker.publicKey.export({ format: 'jwk' }) as JWTHeaderParameters['jwk'] })],
    ['an unknown kid and its own x5c chain', () => forge({ alg: 'ES256', kid: 'FORGED', x5c: [attackerCert.der.toString('base64')] })],
  ];
  for (const [name, token] of cases) {
    it(`a token with ${name}`, async () => {
      const response = await fetch(`${registry}/v2/team/app/tags/list`, { headers: { authorization: `Bearer ${await token()}` } });
      const body = await response.text();
      assert.equal(response.status, 401, body);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer realm="https:\/\/127\.0\.0\.1:\d+\/token".*,error="invalid_token"$/);
      assert.match(body, /"code":"UNAUTHORIZED"/);
    });
  }
});
