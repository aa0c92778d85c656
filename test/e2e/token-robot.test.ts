// Robot accounts and disabled users with token auth: a robot created with `robots add --json`
// logs in with skopeo and pushes; `robots revoke` and `users disable` refuse them at once,
// without restarting anything.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildFixtureLayout, type FixtureLayout } from '../fixtures/image.js';
import { ACCESS_REFUSED, authFile, skopeo, type Tool } from './harness/clients.js';
import { addRobot, addUser, grant, startTokenStack, testPassword, type TokenStack } from './harness/token-stack.js';
import { requireTools } from './harness/tools.js';
import { Workspace } from './harness/workspace.js';

const gate = requireTools(['skopeo']);

describe('robots and disabled users (token auth)', { skip: gate.skip }, () => {
  let ws: Workspace;
  let fixture: FixtureLayout;
  let stack: TokenStack;
  let sk: Tool;
  let robot: { username: string; secret: string };
  let robotAuthFile: string;
  const carol = testPassword('carol');
  const ref = (repository: string): string => `docker://${stack.registry.host}/${repository}`;
  const push = (creds: string, target: string): string[] => [
    'copy',
    '--dest-tls-verify=false',
    '--dest-creds',
    creds,
    fixture.ref('tiny'),
    ref(target),
  ];

  before(async () => {
    ws = Workspace.create('token-robot');
    fixture = await buildFixtureLayout(ws.path('oci'));
    stack = await startTokenStack(ws);
    sk = skopeo(ws);
    robot = await addRobot(stack.auth, 'ci');
    await grant(stack.auth, 'robot:ci', 'ci/*', 'pull,push');
    await addUser(stack.auth, 'carol', carol);
    await grant(stack.auth, 'user:carol', 'team/*', 'pull,push');
  });
  after(() => ws?.dispose());

  it('a robot logs in with skopeo and pushes', async () => {
    robotAuthFile = authFile(ws, 'robot');
    await sk.ok(['login', '--authfile', robotAuthFile, '--tls-verify=false', '-u', robot.username, '--password-stdin', stack.registry.host], {
      input: `${robot.secret}\n`,
    });
    await sk.ok(['copy', '--authfile', robotAuthFile, '--dest-tls-verify=false', fixture.ref('tiny'), ref('ci/app:v1')]);
    await sk.ok(push(`${robot.username}:${robot.secret}`, 'ci/app:v2'));
    const tags = JSON.parse((await sk.ok(['list-tags', '--authfile', robotAuthFile, '--tls-verify=false', ref('ci/app')])).stdout) as {
      Tags: string[];
    };
    assert.deepEqual([...tags.Tags].sort(), ['v1', 'v2']);
  });

  it('a robot is refused at once after robots revoke', async () => {
    await stack.auth.cli(['robots', 'revoke', 'ci']);
    stack.recorder.clear();
    await sk.fails(['copy', '--authfile', robotAuthFile, '--dest-tls-verify=false', fixture.ref('tiny'), ref('ci/app:v3')], ACCESS_REFUSED);
    await sk.fails(push(`${robot.username}:${robot.secret}`, 'ci/app:v4'), ACCESS_REFUSED);
    assert.ok(stack.recorder.requests.some((r) => r.status === 401), 'the token endpoint refuses the revoked robot');
    await sk.fails(['login', '--authfile', authFile(ws, 'robot-again'), '--tls-verify=false', '-u', robot.username, '--password-stdin', stack.registry.host], ACCESS_REFUSED, {
      input: `${robot.secret}\n`,
    });
  });

  it('a user is refused at once after users disable', async () => {
    await sk.ok(push(`carol:${carol}`, 'team/carol:v1'));
    await stack.auth.cli(['users', 'disable', 'carol']);
    await sk.fails(push(`carol:${carol}`, 'team/carol:v2'), ACCESS_REFUSED);
    await sk.fails(['inspect', '--raw', '--tls-verify=false', '--creds', `carol:${carol}`, ref('team/carol:v1')], ACCESS_REFUSED);
  });
});
