// The blob-redirect scenarios (harness/redirect-scenarios.ts) on s3 storage (REGISTRY_STORAGE=s3
// and the REGISTRY_STORAGE_S3_* names) against a real Ceph RGW: redirects are presigned URLs.
import assert from 'node:assert/strict';
import { s3Environment, s3SuiteGate, s3TestConfig } from '../support/ceph-rgw.js';
import { describeRedirectScenarios } from './harness/redirect-scenarios.js';

await describeRedirectScenarios({
  driver: 's3',
  store: 'the RGW',
  server: 'Ceph RGW',
  signed: 'presigned',
  holder: 'bucket',
  gate: s3SuiteGate,
  async createStore() {
    const config = await s3TestConfig({ rootDirectory: '/e2e' });
    return { env: (redirect) => s3Environment(redirect ? { ...config, redirect: true } : config), origin: config.regionEndpoint! };
  },
  assertSigned(location) {
    assert.match(location.search, /X-Amz-Signature=/);
  },
});
