/**
 * A private OpenLDAP `slapd` for directory sign-in tests (RECIPES.md "OpenLDAP"): its own
 * slapd.conf, mdb database and port in a temp directory, the memberof and refint overlays
 * (memberOf follows groupOfNames members), optionally TLS (ldaps:// plus StartTLS on
 * ldap://) with a CA and server certificate made by openssl here. The seeded directory:
 *   alice   developers, Registry Admins
 *   bob     ops
 *   carol   developers, disabled (employeeType: disabled)
 *   a*b(c)\d  developers: a name made of filter metacharacters
 * plus the service account cn=dockyard,ou=services. Anonymous may not search (ACL), so a
 * working search proves the service bind. LDIF helpers change people and groups as an
 * administrator would (ldapmodify). Missing slapd skips locally and fails under CI
 * (slapdSuiteGate, like postgresSuiteGate).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

export const BASE_DN = 'dc=dockyard,dc=test';
export const ROOT_DN = `cn=admin,${BASE_DN}`;
export const SERVICE_DN = `cn=dockyard,ou=services,${BASE_DN}`;
export const SERVICE_PASSWORD = 'service-account-secret';
/** The seeded people and their passwords. */
export const PEOPLE = {
  alice: 'alice-directory-pw',
  bob: 'bob-directory-pw',
  carol: 'carol-directory-pw',
  'a*b(c)\\d': 'meta-directory-pw',
} as const;
export const META_NAME = 'a*b(c)\\d';

const SLAPD = '/usr/sbin/slapd';
const LDAPMODIFY = '/usr/bin/ldapmodify';
const ROOT_PASSWORD = 'root-secret-for-tests';

/** Why slapd cannot run here, or null. */
export function slapdUnavailable(): string | null {
  for (const tool of [SLAPD, LDAPMODIFY, '/usr/bin/openssl']) if (!existsSync(tool)) return `${tool} is not installed (apt-get install slapd ldap-utils openssl)`;
  if (!existsSync('/usr/lib/ldap/memberof.so')) return 'the slapd memberof overlay is missing (/usr/lib/ldap/memberof.so)';
  return null;
}

/**
 * True when slapd can run; otherwise registers one test in the suite's place: failing
 * under CI, skipped with the reason elsewhere.
 */
export function slapdSuiteGate(name: string): boolean {
  const reason = slapdUnavailable();
  if (reason === null) return true;
  if (process.env.CI) test(`slapd is available for ${name}`, () => assert.fail(`slapd is required under CI: ${reason}`));
  else test(`${name}: slapd`, { skip: `${reason}; set CI=1 to make this a failure` }, () => {});
  return false;
}

/** A DN attribute value escaped per RFC 4514 (for the seed; the service has its own). */
function dnValue(value: string): string {
  return value.replace(/["+,;<>\\]/g, (c) => `\\${c}`);
}

/** The DN of a seeded person. */
export function personDn(uid: string): string {
  return `uid=${dnValue(uid)},ou=people,${BASE_DN}`;
}

/** The DN of a seeded group. */
export function groupDn(cn: string): string {
  return `cn=${dnValue(cn)},ou=groups,${BASE_DN}`;
}

function person(uid: string, password: string, extra: string[] = []): string {
  return [`dn: ${personDn(uid)}`, 'objectClass: inetOrgPerson', `uid: ${uid}`, `cn: ${uid}`, `sn: ${uid}`, `userPassword: ${password}`, ...extra, ''].join('\n');
}

function group(cn: string, members: string[]): string {
  return [`dn: ${groupDn(cn)}`, 'objectClass: groupOfNames', `cn: ${cn}`, ...members.map((m) => `member: ${personDn(m)}`), ''].join('\n');
}

function seed(): string {
  return [
    [`dn: ${BASE_DN}`, 'objectClass: dcObject', 'objectClass: organization', 'o: Dockyard tests', 'dc: dockyard', ''].join('\n'),
    ...['people', 'groups', 'services'].map((ou) => [`dn: ou=${ou},${BASE_DN}`, 'objectClass: organizationalUnit', `ou: ${ou}`, ''].join('\n')),
    [`dn: ${SERVICE_DN}`, 'objectClass: person', 'cn: dockyard', 'sn: dockyard', `userPassword: ${SERVICE_PASSWORD}`, ''].join('\n'),
    person('alice', PEOPLE.alice),
    person('bob', PEOPLE.bob),
    person('carol', PEOPLE.carol, ['employeeType: disabled']),
    person(META_NAME, PEOPLE[META_NAME]),
    group('developers', ['alice', 'carol', META_NAME]),
    group('ops', ['bob']),
    group('Registry Admins', ['alice']),
  ].join('\n');
}

/** CA and server certificate files for TLS tests. */
export interface TlsMaterial {
  ca: string;
  cert: string;
  key: string;
  /** A CA that signed nothing here: a client trusting only it must refuse the server. */
  otherCa: string;
}

/** Makes a CA, a server certificate for 127.0.0.1 (not `localhost`: a name it lacks) signed by it, and an unrelated CA. */
export function makeTlsMaterial(dir: string): TlsMaterial {
  mkdirSync(dir, { recursive: true });
  const p = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  for (const name of ['ca', 'other-ca']) {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-subj', `/CN=Dockyard test ${name}`, '-keyout', p(`${name}.key`), '-out', p(`${name}.crt`)]);
  }
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-subj', '/CN=127.0.0.1', '-keyout', p('server.key'), '-out', p('server.csr')]);
  writeFileSync(p('san.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '2', '-sha256', '-extfile', p('san.ext'), '-out', p('server.crt')]);
  return { ca: p('ca.crt'), cert: p('server.crt'), key: p('server.key'), otherCa: p('other-ca.crt') };
}

/** A running slapd. */
export interface Slapd {
  /** ldap://127.0.0.1:PORT (StartTLS available when started with TLS). */
  url: string;
  /** ldaps://127.0.0.1:PORT, when started with TLS. */
  ldapsUrl?: string;
  tls?: TlsMaterial;
  /** Applies an LDIF change as the root DN (ldapmodify). */
  modify(ldif: string): void;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function slapdConf(dir: string, tls: TlsMaterial | undefined): string {
  const rootpw = execFileSync('/usr/sbin/slappasswd', ['-h', '{SSHA}', '-s', ROOT_PASSWORD], { encoding: 'utf8' }).trim();
  return [
    ...['core', 'cosine', 'inetorgperson'].map((s) => `include /etc/ldap/schema/${s}.schema`),
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    'moduleload memberof',
    'moduleload refint',
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    ...(tls ? [`TLSCACertificateFile ${tls.ca}`, `TLSCertificateFile ${tls.cert}`, `TLSCertificateKeyFile ${tls.key}`] : []),
    'database mdb',
    `suffix "${BASE_DN}"`,
    `rootdn "${ROOT_DN}"`,
    `rootpw ${rootpw}`,
    `directory ${join(dir, 'db')}`,
    'maxsize 67108864',
    'overlay memberof',
    'overlay refint',
    'refint_attributes member',
    // Passwords are for binding only; nothing is readable without a bind.
    'access to attrs=userPassword by self write by anonymous auth by * none',
    'access to * by users read by * none',
    '',
  ].join('\n');
}

/** Starts slapd with the seeded directory (and TLS when `tls`); stop() also on failure. */
export async function startSlapd(options: { tls?: boolean } = {}): Promise<Slapd> {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-slapd-'));
  let child: ChildProcess | undefined;
  let log = '';
  const stop = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const tls = options.tls ? makeTlsMaterial(join(dir, 'tls')) : undefined;
    mkdirSync(join(dir, 'db'));
    const conf = join(dir, 'slapd.conf');
    writeFileSync(conf, slapdConf(dir, tls));
    const port = await freePort();
    const tlsPort = tls ? await freePort() : 0;
    const url = `ldap://127.0.0.1:${port}`;
    const ldapsUrl = tls ? `ldaps://127.0.0.1:${tlsPort}` : undefined;
    child = spawn(SLAPD, ['-d', 'stats', '-f', conf, '-h', [`${url}/`, ...(ldapsUrl ? [`${ldapsUrl}/`] : [])].join(' ')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
    const deadline = Date.now() + 15_000;
    while (!(await reachable(port)) || (tls && !(await reachable(tlsPort)))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`slapd did not start:\n${log}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const modify = (ldif: string, add = false): void => {
      execFileSync(LDAPMODIFY, ['-x', ...(add ? ['-a'] : []), '-H', url, '-D', ROOT_DN, '-w', ROOT_PASSWORD], { input: ldif, stdio: ['pipe', 'pipe', 'pipe'] });
    };
    // Added online, not with slapadd: the memberof overlay only maintains memberOf on live changes.
    modify(seed(), true);
    return { url, ldapsUrl, tls, modify: (ldif) => modify(ldif), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Adds a person (and makes it a member of `groups`). */
export function addPerson(slapd: Slapd, uid: string, password: string, groups: string[]): void {
  slapd.modify(
    [
      `dn: ${personDn(uid)}`,
      'changetype: add',
      'objectClass: inetOrgPerson',
      `uid: ${uid}`,
      `cn: ${uid}`,
      `sn: ${uid}`,
      `userPassword: ${password}`,
      '',
      ...groups.flatMap((g) => [`dn: ${groupDn(g)}`, 'changetype: modify', 'add: member', `member: ${personDn(uid)}`, '', '']),
    ].join('\n'),
  );
}

/** Removes `uid` from `group`. */
export function leaveGroup(slapd: Slapd, uid: string, group: string): void {
  slapd.modify([`dn: ${groupDn(group)}`, 'changetype: modify', 'delete: member', `member: ${personDn(uid)}`, ''].join('\n'));
}

/** Marks `uid` disabled (employeeType: disabled, which the disabled filter matches). */
export function disablePerson(slapd: Slapd, uid: string): void {
  slapd.modify([`dn: ${personDn(uid)}`, 'changetype: modify', 'add: employeeType', 'employeeType: disabled', ''].join('\n'));
}

/** Deletes `uid`'s entry (refint drops its group memberships). */
export function deletePerson(slapd: Slapd, uid: string): void {
  slapd.modify([`dn: ${personDn(uid)}`, 'changetype: delete', ''].join('\n'));
}

/** Adds `uid` to `group`. */
export function joinGroup(slapd: Slapd, uid: string, group: string): void {
  slapd.modify([`dn: ${groupDn(group)}`, 'changetype: modify', 'add: member', `member: ${personDn(uid)}`, ''].join('\n'));
}

/** Adds a group with its first member (groupOfNames needs one). */
export function addGroup(slapd: Slapd, cn: string, firstMember: string): void {
  slapd.modify([`dn: ${groupDn(cn)}`, 'changetype: add', 'objectClass: groupOfNames', `cn: ${cn}`, `member: ${personDn(firstMember)}`, ''].join('\n'));
}
