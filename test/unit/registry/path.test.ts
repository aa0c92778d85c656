// parseRegistryPath as a table: every endpoint, greedy names, and each grammar error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DockyardError } from '../../../shared/http/errors.js';
import { parseRegistryPath, type RegistryRoute } from '../../../services/registry/routes/path.js';

const D = `sha256:${'b'.repeat(64)}`;
const digest = { algorithm: 'sha256' as const, encoded: 'b'.repeat(64), value: D };

const ROUTES: Array<[string, RegistryRoute | null]> = [
  ['/v2/', { kind: 'base' }],
  ['/v2', { kind: 'base' }],
  ['/v2/_catalog', { kind: 'catalog' }],
  ['/v2/team/app/tags/list', { kind: 'tags', name: 'team/app' }],
  ['/v2/a/manifests/latest', { kind: 'manifest', name: 'a', reference: { kind: 'tag', tag: 'latest' } }],
  [`/v2/a/manifests/${D}`, { kind: 'manifest', name: 'a', reference: { kind: 'digest', digest } }],
  ['/v2/a/manifests/manifests/x', { kind: 'manifest', name: 'a/manifests', reference: { kind: 'tag', tag: 'x' } }],
  ['/v2/tags/list/tags/list', { kind: 'tags', name: 'tags/list' }],
  [`/v2/a/b/blobs/${D}`, { kind: 'blob', name: 'a/b', digest }],
  [`/v2/a/blobs/blobs/${D}`, { kind: 'blob', name: 'a/blobs', digest }],
  ['/v2/a/blobs/uploads/', { kind: 'uploads', name: 'a' }],
  ['/v2/a/blobs/uploads', { kind: 'uploads', name: 'a' }],
  ['/v2/a/blobs/uploads/blobs/uploads/', { kind: 'uploads', name: 'a/blobs/uploads' }],
  ['/v2/a/blobs/uploads/0c1e-42_x', { kind: 'upload', name: 'a', uploadId: '0c1e-42_x' }],
  [`/v2/x.y_z/referrers/${D}`, { kind: 'referrers', name: 'x.y_z', digest }],
  ['/v2/_dockyard/rules', { kind: 'tagRules' }],
  ['/v2/_dockyard/rules/12', { kind: 'tagRule', id: 12 }],
  ['/v2/_dockyard/rules/presets/release', { kind: 'tagRulePreset', preset: 'release' }],
  ['/v2/_dockyard/quotas', { kind: 'quotas' }],
  ['/v2/_dockyard/quotas/team', { kind: 'quota', namespace: 'team' }],
  ['/v2/_dockyard/audit', { kind: 'lifecycleAudit' }],
  ['/v2/_dockyard/notifications/endpoints', { kind: 'notificationEndpoints' }],
  ['/v2/_dockyard/notifications/endpoints/ci-hook.1', { kind: 'notificationEndpoint', endpoint: 'ci-hook.1' }],
  ['/v2/_dockyard/notifications/deliveries', { kind: 'notificationDeliveries' }],
  ['/v2/_dockyard/notifications/deliveries/42/redeliver', { kind: 'notificationRedeliver', id: 42 }],
  ['/v2/_dockyard/notifications/endpoints/-bad', null],
  ['/v2/_dockyard/notifications/deliveries/x/redeliver', null],
  ['/v2/_dockyard/retention', { kind: 'retentionPolicies' }],
  ['/v2/_dockyard/retention/3', { kind: 'retentionPolicy', id: 3 }],
  ['/v2/_dockyard/retention/run', { kind: 'retentionRun' }],
  ['/v2/_dockyard/retention/walk', null],
  ['/v2/_dockyard/rules/abc', null],
  ['/v2/_dockyard/rules/1234567890', null],
  ['/v2/_dockyard/rules/presets/Release', null],
  ['/v2/_dockyard/quotas/team/app', null],
  ['/v2/a/tags/list/', null],
  ['/v2/a/blobs/uploads/x/y', null],
  ['/v2/a/unknown', null],
  ['/v2/_catalog/', null],
  ['/v3/a/tags/list', null],
  ['/v2//tags/list', null],
];

const ERRORS: Array<[string, string]> = [
  ['/v2/A/tags/list', 'NAME_INVALID'],
  ['/v2/a/../b/tags/list', 'NAME_INVALID'],
  ['/v2/a/%2e%2e/b/tags/list', 'NAME_INVALID'],
  ['/v2/a%2Fb/tags/list', 'NAME_INVALID'],
  ['/v2/a//b/tags/list', 'NAME_INVALID'],
  ['/v2/_dockyard/quotas/Team', 'NAME_INVALID'],
  ['/v2/_dockyard/quotas/%2e%2e', 'NAME_INVALID'],
  [`/v2/${'a'.repeat(256)}/tags/list`, 'NAME_INVALID'],
  ['/v2/a/manifests/.hidden', 'TAG_INVALID'],
  ['/v2/a/manifests/%2e%2e', 'TAG_INVALID'],
  [`/v2/a/manifests/${'t'.repeat(129)}`, 'TAG_INVALID'],
  ['/v2/a/manifests/sha256:abc', 'DIGEST_INVALID'],
  ['/v2/a/blobs/not-a-digest', 'DIGEST_INVALID'],
  [`/v2/a/blobs/md5:${'0'.repeat(32)}`, 'DIGEST_INVALID'],
  ['/v2/a/referrers/latest', 'DIGEST_INVALID'],
  ['/v2/a/blobs/uploads/..', 'BLOB_UPLOAD_UNKNOWN'],
  ['/v2/a/blobs/uploads/%2e%2e', 'BLOB_UPLOAD_UNKNOWN'],
  [`/v2/a/blobs/uploads/${'u'.repeat(129)}`, 'BLOB_UPLOAD_UNKNOWN'],
];

describe('parseRegistryPath', () => {
  for (const [path, expected] of ROUTES) {
    it(`${path.slice(0, 60)} → ${expected ? expected.kind : 'no route'}`, () => {
      assert.deepEqual(parseRegistryPath(path), expected);
    });
  }
  for (const [path, code] of ERRORS) {
    it(`${path.slice(0, 60)} → ${code}`, () => {
      assert.throws(
        () => parseRegistryPath(path),
        (err: unknown) => err instanceof DockyardError && err.code === code,
      );
    });
  }
});
