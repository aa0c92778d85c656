// auth.ldap.* (docs/configuration.md, docs/identity.md): the contract environment names,
// defaults, and a ConfigError naming the setting for each kind of bad value.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authConfigFromEnv, ConfigError } from '../../../shared/config/index.js';

const BASE = { AUTH_LDAP_URL: 'ldap://ldap.example.com:389', AUTH_LDAP_BASE_DN: 'dc=example,dc=com' };

function refused(env: Record<string, string>, key: RegExp): void {
  assert.throws(() => authConfigFromEnv(env), (err: unknown) => err instanceof ConfigError && key.test(err.message), JSON.stringify(env));
}

describe('auth.ldap settings', () => {
  it('are off without a URL', () => {
    assert.equal(authConfigFromEnv({}).ldap, undefined);
  });

  it('read every contract environment name, with the documented defaults', () => {
    const ldap = authConfigFromEnv({
      ...BASE,
      AUTH_LDAP_BIND_DN: 'cn=svc,dc=example,dc=com',
      AUTH_LDAP_BIND_PASSWORD: 'pw',
      AUTH_LDAP_USER_FILTER: '(sAMAccountName=%s)',
      AUTH_LDAP_GROUP_FILTER: '(member=%s)',
      AUTH_LDAP_CA_FILE: '/etc/ssl/ldap-ca.pem',
      AUTH_LDAP_STARTTLS: 'true',
      AUTH_LDAP_GROUP_MAP: 'Registry Admins=admins, a=b=c',
    }).ldap;
    assert.ok(ldap);
    assert.equal(ldap.url, 'ldap://ldap.example.com:389');
    assert.equal(ldap.bindDn, 'cn=svc,dc=example,dc=com');
    assert.equal(ldap.bindPassword, 'pw');
    assert.equal(ldap.baseDn, 'dc=example,dc=com');
    assert.equal(ldap.userFilter, '(sAMAccountName=%s)');
    assert.equal(ldap.groupFilter, '(member=%s)');
    assert.equal(ldap.caFile, '/etc/ssl/ldap-ca.pem');
    assert.equal(ldap.startTls, true);
    assert.deepEqual(ldap.groupMap, { 'registry admins': 'admins', 'a=b': 'c' });
    const defaults = authConfigFromEnv(BASE).ldap!;
    assert.equal(defaults.userFilter, '(uid=%s)');
    assert.equal(defaults.groupFilter, undefined);
    assert.equal(defaults.precedence, 'local');
    assert.equal(defaults.cacheSeconds, 60);
    assert.equal(defaults.timeoutSeconds, 5);
    assert.equal(defaults.maxConnections, 8);
    assert.equal(defaults.usernameAttribute, 'uid');
  });

  it('refuse bad values, naming the setting', () => {
    refused({ ...BASE, AUTH_LDAP_URL: 'http://ldap.example.com' }, /AUTH_LDAP_URL/);
    refused({ ...BASE, AUTH_LDAP_URL: 'ldap://host/dc=x?uid' }, /AUTH_LDAP_URL/);
    refused({ AUTH_LDAP_URL: 'ldap://host' }, /AUTH_LDAP_BASE_DN/);
    refused({ ...BASE, AUTH_LDAP_URL: 'ldaps://host', AUTH_LDAP_STARTTLS: 'true' }, /AUTH_LDAP_STARTTLS/);
    refused({ ...BASE, AUTH_LDAP_BIND_DN: 'cn=svc' }, /AUTH_LDAP_BIND_PASSWORD/);
    refused({ ...BASE, AUTH_LDAP_USER_FILTER: '(uid=alice)' }, /AUTH_LDAP_USER_FILTER/);
    refused({ ...BASE, AUTH_LDAP_USER_FILTER: 'uid=%s' }, /AUTH_LDAP_USER_FILTER/);
    refused({ ...BASE, AUTH_LDAP_GROUP_FILTER: '(member=x)' }, /AUTH_LDAP_GROUP_FILTER/);
    refused({ ...BASE, AUTH_LDAP_GROUP_MAP: 'no-equals-sign' }, /AUTH_LDAP_GROUP_MAP/);
    refused({ ...BASE, AUTH_LDAP_GROUP_MAP: 'cn=not a group name' }, /AUTH_LDAP_GROUP_MAP/);
    refused({ ...BASE, AUTH_LDAP_PRECEDENCE: 'both' }, /AUTH_LDAP_PRECEDENCE/);
    refused({ ...BASE, AUTH_LDAP_TIMEOUT_SECONDS: '0' }, /AUTH_LDAP_TIMEOUT_SECONDS/);
    refused({ ...BASE, AUTH_LDAP_MAX_CONNECTIONS: '0' }, /AUTH_LDAP_MAX_CONNECTIONS/);
    refused({ ...BASE, AUTH_LDAP_USERNAME_ATTRIBUTE: 'uid)(x' }, /AUTH_LDAP_USERNAME_ATTRIBUTE/);
  });
});
