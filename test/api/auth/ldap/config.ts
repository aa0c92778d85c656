/** The LdapConfig the directory tests start from: the seeded slapd of test/support/slapd.ts. */
import type { LdapConfig } from '../../../../shared/config/index.js';
import { BASE_DN, SERVICE_DN, SERVICE_PASSWORD } from '../../../support/slapd.js';

/** OpenLDAP settings as docs/identity.md shows them, against `url`. */
export function openLdapConfig(url: string, overrides: Partial<LdapConfig> = {}): LdapConfig {
  return {
    url,
    bindDn: SERVICE_DN,
    bindPassword: SERVICE_PASSWORD,
    baseDn: BASE_DN,
    userFilter: '(&(objectClass=inetOrgPerson)(uid=%s))',
    startTls: false,
    usernameAttribute: 'uid',
    disabledFilter: '(employeeType=disabled)',
    groupMap: {},
    precedence: 'local',
    cacheSeconds: 0,
    timeoutSeconds: 10,
    maxConnections: 4,
    ...overrides,
  };
}
