// The directory over TLS, against a real slapd with a CA and server certificate made by
// openssl here: ldaps:// and StartTLS on ldap:// verify the certificate against the
// configured CA bundle; a bundle that does not hold the signing CA means no sign-in (503),
// never a fallback to plain text.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { LdapDirectory } from '../../../../services/auth/identity/ldap/directory.js';
import { startHarness } from '../harness.js';
import { PEOPLE, slapdSuiteGate, startSlapd, type Slapd } from '../../../support/slapd.js';
import { openLdapConfig } from './config.js';
import { lastAudit, login } from './helpers.js';

if (slapdSuiteGate('directory over TLS')) {
  describe('directory over TLS', () => {
    let slapd: Slapd;
    let ca: Buffer;
    let otherCa: Buffer;

    before(async () => {
      slapd = await startSlapd({ tls: true });
      ca = readFileSync(slapd.tls!.ca);
      otherCa = readFileSync(slapd.tls!.otherCa);
    });
    after(() => slapd?.stop());

    it('ldaps:// with the CA bundle signs in', async () => {
      const answer = await new LdapDirectory(openLdapConfig(slapd.ldapsUrl!), ca).authenticate('alice', PEOPLE.alice);
      assert.equal(answer.status, 'found', JSON.stringify(answer));
    });

    it('StartTLS on ldap:// with the CA bundle signs in', async () => {
      const answer = await new LdapDirectory(openLdapConfig(slapd.url, { startTls: true }), ca).authenticate('alice', PEOPLE.alice);
      assert.equal(answer.status, 'found', JSON.stringify(answer));
    });

    it('a certificate not signed by the configured CA is refused, for ldaps:// and StartTLS', async () => {
      for (const config of [openLdapConfig(slapd.ldapsUrl!), openLdapConfig(slapd.url, { startTls: true })]) {
        const answer = await new LdapDirectory(config, otherCa).authenticate('alice', PEOPLE.alice);
        assert.equal(answer.status, 'unavailable');
        assert.match(answer.status === 'unavailable' ? answer.detail : '', /certificate/i);
      }
    });

    it('a certificate for another host name is refused', async () => {
      // `localhost` reaches the same slapd, whose certificate names 127.0.0.1 only.
      const answer = await new LdapDirectory(openLdapConfig(slapd.ldapsUrl!.replace('127.0.0.1', 'localhost')), ca).authenticate('alice', PEOPLE.alice);
      assert.equal(answer.status, 'unavailable');
      assert.match(answer.status === 'unavailable' ? answer.detail : '', /altnames|certificate/i);
    });

    it('through /token: LDAPS with the CA file from the configuration; a wrong CA file gives 503, audited', async () => {
      const good = await startHarness({ config: { ldap: openLdapConfig(slapd.ldapsUrl!, { caFile: slapd.tls!.ca }) } });
      try {
        assert.equal((await login(good, 'alice', PEOPLE.alice)).status, 200);
      } finally {
        await good.close();
      }
      const bad = await startHarness({ config: { ldap: openLdapConfig(slapd.url, { startTls: true, caFile: slapd.tls!.otherCa }) } });
      try {
        assert.equal((await login(bad, 'alice', PEOPLE.alice)).status, 503);
        const audit = await lastAudit(bad, 'alice');
        assert.equal(audit.details.reason, 'directory_unavailable');
        assert.match(String(audit.details.directory), /certificate/i);
      } finally {
        await bad.close();
      }
    });
  });
}
