/**
 * Identity sources beyond the local users table (ARCHITECTURE.md "services/auth/identity/"):
 * today LDAP / Active Directory (ldap/), combined with local users and robots by
 * external.ts. The authenticator gets one ExternalIdentities, built here from the
 * configuration; without a directory configured it still keeps users a directory once
 * linked from signing in by their (random, unknown) local password.
 */
import { readFileSync } from 'node:fs';
import type { Knex } from 'knex';
import type { LdapConfig } from '../../../shared/config/index.js';
import type { Logger } from '../../../shared/observability/logger.js';
import type { Registry } from '../../../shared/observability/metrics.js';
import { ExternalIdentities, externalOptions } from './external.js';
import { LdapDirectory } from './ldap/directory.js';
import { observed } from './observed.js';

/** The identities for `ldap` (undefined: no directory). Reads the CA bundle now, so a bad path fails the start. */
export function identitiesFor(db: Knex, ldap: LdapConfig | undefined, logger: Logger, metrics?: Registry): ExternalIdentities {
  if (!ldap) return new ExternalIdentities(db, undefined);
  const ca = ldap.caFile === undefined ? undefined : readFileSync(ldap.caFile);
  return new ExternalIdentities(db, externalOptions(ldap, observed(new LdapDirectory(ldap, ca), logger, metrics)));
}
