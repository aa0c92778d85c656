// The blob-redirect scenarios (harness/redirect-scenarios.ts) on azure storage
// (REGISTRY_STORAGE=azure and the REGISTRY_STORAGE_AZURE_* names) against Azurite (started by
// this file): redirects are read-only SAS URLs.
import assert from 'node:assert/strict';
import { azureEnvironment, azureTestConfig, azuriteSuiteGate } from '../support/azurite.js';
import { describeRedirectScenarios } from './harness/redirect-scenarios.js';

await describeRedirectScenarios({
  driver: 'azure',
  store: 'Azurite',
  server: 'Azurite',
  signed: 'SAS',
  holder: 'container',
  gate: azuriteSuiteGate,
  async createStore() {
    const config = await azureTestConfig({ rootDirectory: '/e2e' });
    return { env: (redirect) => azureEnvironment(redirect ? { ...config, redirect: true } : config), origin: config.serviceUrl };
  },
  assertSigned(location) {
    assert.match(location.search, /[?&]sig=/);
    assert.match(location.search, /[?&]sp=r(&|$)/);
  },
});
