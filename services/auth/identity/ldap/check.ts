/**
 * `config check`'s look at the directory: connect (with the configured TLS), bind as the
 * service account and read the base DN, so a wrong URL, CA bundle, bind password or base
 * shows before the first user tries to sign in.
 */
import { readFileSync } from 'node:fs';
import type { LdapConfig } from '../../../../shared/config/index.js';
import { withConnection } from './connection.js';

/** One line describing the directory settings (no password). */
export function describeDirectory(ldap: LdapConfig): string {
  const tls = ldap.url.toLowerCase().startsWith('ldaps:') ? 'ldaps' : ldap.startTls ? 'StartTLS' : 'no TLS';
  const groups = ldap.groupFilter ? `group filter ${ldap.groupFilter}` : 'groups from memberOf';
  return `auth ldap: ${ldap.url} (${tls}${ldap.caFile ? `, CA ${ldap.caFile}` : ''}), bind ${ldap.bindDn ?? 'anonymous'}, base ${ldap.baseDn}, user filter ${ldap.userFilter}, ${groups}, precedence ${ldap.precedence}`;
}

/** Throws an Error saying what failed when the directory cannot be reached, bound to or searched. */
export async function checkDirectory(ldap: LdapConfig): Promise<void> {
  const ca = ldap.caFile === undefined ? undefined : readFileSync(ldap.caFile);
  const timeoutMs = ldap.timeoutSeconds * 1000;
  await withConnection({ url: ldap.url, startTls: ldap.startTls, ca, timeoutMs }, timeoutMs * 4, async (client) => {
    if (ldap.bindDn !== undefined) await client.bind(ldap.bindDn, ldap.bindPassword);
    await client.search(ldap.baseDn, { scope: 'base', attributes: ['1.1'] });
  });
}
