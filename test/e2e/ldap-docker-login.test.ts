// docker login with a directory password through real dockerd, against a real slapd: the
// identity token docker keeps is re-checked against the directory on every push and pull,
// so moving the user to a read-only group takes push away at once and disabling the user
// in the directory (ldapmodify) refuses the next pull and any new docker login.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildFixtureLayout } from '../fixtures/image.js';
import { ACCESS_REFUSED, skopeo } from './harness/clients.js';
import { startDockerd, type Dockerd } from './harness/dockerd.js';
import { grant, startTokenStack, type TokenStack } from './harness/token-stack.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';
import { addGroup, addPerson, BASE_DN, disablePerson, joinGroup, leaveGroup, SERVICE_DN, SERVICE_PASSWORD, slapdSuiteGate, startSlapd, type Slapd } from '../support/slapd.js';

const gate = requireTools(['/usr/sbin/dockerd', 'docker', 'skopeo'], { needsRoot: true });
const PASSWORD = 'dave-directory-pw';

if (slapdSuiteGate('docker login with a directory password')) {
  describe('docker login with a directory password', { skip: gate.skip }, () => {
    let ws: Workspace;
    let slapd: Slapd;
    let stack: TokenStack;
    let docker: Dockerd;
    const image = (): string => `${stack.registry.host}/team/app:v1`;

    before(async () => {
      ws = Workspace.create('ldap-docker');
      slapd = await startSlapd();
      const fixture = await buildFixtureLayout(ws.path('oci'));
      const archive = ws.path('tiny.tar');
      await skopeo(ws).ok(['copy', fixture.ref('tiny'), `docker-archive:${archive}:tiny:latest`]);
      [stack, docker] = await Promise.all([
        startTokenStack(ws, {
          AUTH_LDAP_URL: slapd.url,
          AUTH_LDAP_BIND_DN: SERVICE_DN,
          AUTH_LDAP_BIND_PASSWORD: SERVICE_PASSWORD,
          AUTH_LDAP_BASE_DN: BASE_DN,
          AUTH_LDAP_USER_FILTER: '(&(objectClass=inetOrgPerson)(uid=%s)(!(employeeType=disabled)))',
          AUTH_LDAP_CACHE_SECONDS: '0',
        }),
        startDockerd(ws),
      ]);
      // Existing grants on Dockyard groups named like the directory groups.
      for (const [group, actions] of [['developers', 'pull,push'], ['readers', 'pull']]) {
        await stack.auth.cli(['groups', 'add', group]);
        await grant(stack.auth, `group:${group}`, 'team/*', actions);
      }
      addGroup(slapd, 'readers', 'bob');
      addPerson(slapd, 'dave', PASSWORD, ['developers']);
      await docker.ok(['load', '-i', archive]);
      await docker.ok(['tag', 'tiny:latest', image()]);
    });
    after(async () => {
      ws?.dispose();
      await slapd?.stop();
    });

    it('docker login takes the directory password; push works through the developers group', async () => {
      await docker.ok(['login', '-u', 'dave', '--password-stdin', stack.registry.host], { input: `${PASSWORD}\n` });
      await docker.ok(['push', image()]);
    });

    it('a wrong directory password is refused by docker login', async () => {
      await docker.fails(['login', '-u', 'dave', '--password-stdin', stack.registry.host], ACCESS_REFUSED, { input: 'not-the-password\n' });
      // The stored identity token from the first login stays usable.
      await docker.ok(['login', '-u', 'dave', '--password-stdin', stack.registry.host], { input: `${PASSWORD}\n` });
    });

    it('moved from developers to readers in the directory: pull still works, push is refused', async () => {
      joinGroup(slapd, 'dave', 'readers');
      leaveGroup(slapd, 'dave', 'developers');
      await docker.ok(['rmi', image()]);
      await docker.ok(['pull', image()]);
      await docker.ok(['tag', 'tiny:latest', `${stack.registry.host}/team/other:v1`]);
      await docker.fails(['push', `${stack.registry.host}/team/other:v1`], ACCESS_REFUSED);
    });

    it('disabled in the directory: the next pull is refused, and so is a new docker login', async () => {
      disablePerson(slapd, 'dave');
      await docker.ok(['rmi', image()]);
      stack.recorder.clear();
      await docker.fails(['pull', image()], ACCESS_REFUSED);
      assert.ok(stack.recorder.requests.some((r) => r.method === 'POST' && r.status === 401), JSON.stringify(stack.recorder.requests));
      await docker.fails(['login', '-u', 'dave', '--password-stdin', stack.registry.host], ACCESS_REFUSED, { input: `${PASSWORD}\n` });
    });
  });
}
