// `config check` reports the directory and asks it: the line names URL, TLS, bind DN, base,
// filters and precedence (never the bind password); a wrong bind password or an
// unreachable directory fails the check naming auth.ldap.url.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkConfiguration } from '../../../../services/config-check.js';
import { ConfigError } from '../../../../shared/config/index.js';
import { BASE_DN, SERVICE_DN, SERVICE_PASSWORD, slapdSuiteGate, startSlapd, type Slapd } from '../../../support/slapd.js';

if (slapdSuiteGate('config check of the directory')) {
  describe('config check with a directory', () => {
    let slapd: Slapd;
    let dir: string;
    const env = (extra: Record<string, string> = {}) => ({
      DOCKYARD_DATA_DIR: dir,
      REGISTRY_HTTP_ADDR: '127.0.0.1:0',
      AUTH_HTTP_ADDR: '127.0.0.1:0',
      AUTH_LDAP_URL: slapd.ldapsUrl!,
      AUTH_LDAP_CA_FILE: slapd.tls!.ca,
      AUTH_LDAP_BIND_DN: SERVICE_DN,
      AUTH_LDAP_BIND_PASSWORD: SERVICE_PASSWORD,
      AUTH_LDAP_BASE_DN: BASE_DN,
      ...extra,
    });

    before(async () => {
      slapd = await startSlapd({ tls: true });
      dir = mkdtempSync(join(tmpdir(), 'dockyard-ldap-check-'));
    });
    after(async () => {
      await slapd?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('prints the directory line after binding and reading the base DN', async () => {
      const lines = await checkConfiguration(undefined, env());
      const line = lines.find((l) => l.startsWith('auth ldap:'));
      assert.ok(line, lines.join('\n'));
      assert.match(line, new RegExp(`${slapd.ldapsUrl!} \\(ldaps, CA `));
      assert.match(line, /bind cn=dockyard,ou=services/);
      assert.match(line, /user filter \(uid=%s\), groups from memberOf, precedence local/);
      assert.ok(!lines.join('\n').includes(SERVICE_PASSWORD));
    });

    it('fails on a wrong bind password or an unreachable directory, naming auth.ldap.url', async () => {
      const broken: Array<Record<string, string>> = [{ AUTH_LDAP_BIND_PASSWORD: 'wrong' }, { AUTH_LDAP_URL: 'ldap://127.0.0.1:1', AUTH_LDAP_TIMEOUT_SECONDS: '2' }];
      for (const extra of broken) {
        await assert.rejects(checkConfiguration(undefined, env(extra)), (err: unknown) => err instanceof ConfigError && /auth\.ldap\.url \(AUTH_LDAP_URL\).*directory check failed/.test(err.message));
      }
    });
  });
}
