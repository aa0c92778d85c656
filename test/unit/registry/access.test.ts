// requiredAccess as a table: every route kind × method, and the mount query.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requiredAccess, type AccessRequirement, type HttpMethod } from '../../../services/registry/access.js';
import { parseRegistryPath } from '../../../services/registry/routes/path.js';

const D = `sha256:${'a'.repeat(64)}`;
const pull = (name: string) => ({ type: 'repository', name, actions: ['pull'] });
const push = (name: string) => ({ type: 'repository', name, actions: ['pull', 'push'] });
const del = (name: string) => ({ type: 'repository', name, actions: ['delete'] });
const catalog = { type: 'registry', name: 'catalog', actions: ['*'] };
const catalogList = { type: 'registry', name: 'catalog', actions: ['list'] };

const TABLE: Array<[HttpMethod, string, AccessRequirement]> = [
  ['GET', '/v2/', { required: [] }],
  ['HEAD', '/v2/', { required: [] }],
  ['GET', '/v2/_catalog', { required: [catalog], minimum: [catalogList] }],
  ['GET', '/v2/team/app/tags/list', { required: [pull('team/app')] }],
  ['GET', '/v2/team/app/manifests/latest', { required: [pull('team/app')] }],
  ['HEAD', `/v2/team/app/manifests/${D}`, { required: [pull('team/app')] }],
  ['PUT', '/v2/team/app/manifests/latest', { required: [push('team/app')] }],
  ['DELETE', '/v2/team/app/manifests/latest', { required: [del('team/app')] }],
  ['GET', `/v2/a/b/c/blobs/${D}`, { required: [pull('a/b/c')] }],
  ['HEAD', `/v2/a/b/c/blobs/${D}`, { required: [pull('a/b/c')] }],
  ['DELETE', `/v2/a/b/c/blobs/${D}`, { required: [del('a/b/c')] }],
  ['POST', '/v2/team/app/blobs/uploads/', { required: [push('team/app')] }],
  ['POST', `/v2/team/app/blobs/uploads/?digest=${D}`, { required: [push('team/app')] }],
  ['GET', '/v2/team/app/blobs/uploads/abc', { required: [pull('team/app')] }],
  ['PATCH', '/v2/team/app/blobs/uploads/abc', { required: [push('team/app')] }],
  ['PUT', `/v2/team/app/blobs/uploads/abc?digest=${D}`, { required: [push('team/app')] }],
  ['DELETE', '/v2/team/app/blobs/uploads/abc', { required: [del('team/app')] }],
  ['GET', `/v2/team/app/referrers/${D}`, { required: [pull('team/app')] }],
  // Storage usage: a repository's needs pull on it, a namespace's sums repositories: catalog.
  ['GET', '/v2/team/app/_dockyard/usage', { required: [pull('team/app')] }],
  ['GET', '/v2/_dockyard/usage/team', { required: [catalog] }],
  // The lifecycle admin API is registry-wide policy: catalog (which only admins get whole).
  ['GET', '/v2/_dockyard/rules', { required: [catalog] }],
  ['POST', '/v2/_dockyard/rules', { required: [catalog] }],
  ['DELETE', '/v2/_dockyard/rules/7', { required: [catalog] }],
  ['POST', '/v2/_dockyard/rules/presets/release', { required: [catalog] }],
  ['GET', '/v2/_dockyard/quotas', { required: [catalog] }],
  ['PUT', '/v2/_dockyard/quotas/team', { required: [catalog] }],
  ['DELETE', '/v2/_dockyard/quotas/team', { required: [catalog] }],
  ['GET', '/v2/_dockyard/notifications/endpoints', { required: [catalog] }],
  ['POST', '/v2/_dockyard/notifications/endpoints', { required: [catalog] }],
  ['DELETE', '/v2/_dockyard/notifications/endpoints/ci', { required: [catalog] }],
  ['GET', '/v2/_dockyard/notifications/deliveries', { required: [catalog] }],
  ['POST', '/v2/_dockyard/notifications/deliveries/7/redeliver', { required: [catalog] }],
  ['GET', '/v2/_dockyard/audit', { required: [catalog] }],
  ['GET', '/v2/_dockyard/retention', { required: [catalog] }],
  ['POST', '/v2/_dockyard/retention', { required: [catalog] }],
  ['DELETE', '/v2/_dockyard/retention/3', { required: [catalog] }],
  ['POST', '/v2/_dockyard/retention/run', { required: [catalog] }],
  // A mount also needs pull on `from`; without it the request is still a plain upload.
  ['POST', `/v2/team/app/blobs/uploads/?mount=${D}&from=other/repo`, { required: [push('team/app'), pull('other/repo')], minimum: [push('team/app')] }],
  ['POST', `/v2/team/app/blobs/uploads/?from=other/repo&mount=${D}`, { required: [push('team/app'), pull('other/repo')], minimum: [push('team/app')] }],
  // Nothing extra when the mount cannot happen anyway.
  ['POST', `/v2/team/app/blobs/uploads/?mount=${D}`, { required: [push('team/app')] }],
  ['POST', `/v2/team/app/blobs/uploads/?mount=${D}&from=team/app`, { required: [push('team/app')] }],
  ['POST', `/v2/team/app/blobs/uploads/?mount=${D}&from=Bad/../Name`, { required: [push('team/app')] }],
  ['POST', '/v2/team/app/blobs/uploads/?mount=sha256:short&from=other/repo', { required: [push('team/app')] }],
  ['POST', `/v2/team/app/blobs/uploads/?mount=${D}&from=`, { required: [push('team/app')] }],
];

describe('requiredAccess', () => {
  for (const [method, url, expected] of TABLE) {
    it(`${method} ${url}`, () => {
      const [path, query = ''] = url.split('?');
      const route = parseRegistryPath(path!);
      assert.ok(route, `no route for ${path}`);
      assert.deepEqual(requiredAccess(route, method, new URLSearchParams(query)), expected);
    });
  }

  it('returns fresh records each time (callers may not corrupt the next request)', () => {
    const route = parseRegistryPath('/v2/_catalog')!;
    const first = requiredAccess(route, 'GET', new URLSearchParams());
    first.required[0]!.actions.push('extra');
    first.minimum![0]!.actions.push('extra');
    assert.deepEqual(requiredAccess(route, 'GET', new URLSearchParams()), { required: [catalog], minimum: [catalogList] });
  });
});
