// Every REGISTRY_* variable is understood or refused: Dockyard's own names, distribution's
// names for its config.yml keys (mapped, warned about or refused like the key in a file),
// variables of other programs, and anything else refused with the nearest known name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadRegistryConfig, registryConfigFromEnv } from '../../../shared/config/index.js';

const load = (env: Record<string, string>) => registryConfigFromEnv({ REGISTRY_STORAGE: 'memory', ...env });

describe('REGISTRY_* variables', () => {
  it('refuses a misspelled variable, suggesting the right one', () => {
    assert.throws(() => load({ REGISTRY_HTTP_ADRR: '127.0.0.1:5000' }), /invalid configuration REGISTRY_HTTP_ADRR: unknown variable \(did you mean REGISTRY_HTTP_ADDR\?\)/);
    assert.throws(() => load({ REGISTRY_AUTH_HTPASSWD_PAHT: '/x' }), /REGISTRY_AUTH_HTPASSWD_PAHT: unknown variable \(did you mean REGISTRY_AUTH_HTPASSWD_PATH\?\)/);
    assert.throws(() => load({ REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_AEG: '1h' }), /did you mean REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_AGE\?/);
  });

  it('refuses an unknown variable with nothing close to it', () => {
    assert.throws(() => load({ REGISTRY_FROBNICATE: '1' }), /invalid configuration REGISTRY_FROBNICATE: unknown variable$/);
  });

  it('maps distribution\'s names for keys Dockyard has under another name', () => {
    const config = load({ REGISTRY_LOG_LEVEL: 'debug', REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_AGE: '2h', REGISTRY_STORAGE_MAINTENANCE_READONLY_ENABLED: 'true' });
    assert.equal(config.log?.level, 'debug');
    assert.equal(config.uploads.purgeAfterSeconds, 7200);
    assert.equal(config.readOnly, true);
    assert.deepEqual(config.warnings, []);
  });

  it('selects the memory driver from REGISTRY_STORAGE_INMEMORY', () => {
    assert.equal(registryConfigFromEnv({ REGISTRY_STORAGE_INMEMORY: 'true' }).storage.driver, 'memory');
  });

  it('warns about variables without effect, naming them', () => {
    const config = load({ REGISTRY_STORAGE_DELETE_ENABLED: 'false', REGISTRY_HTTP_SECRET: 'x' });
    assert.deepEqual(config.warnings, [
      'REGISTRY_HTTP_SECRET: not needed: upload state is kept by the registry, not signed into client state',
      'REGISTRY_STORAGE_DELETE_ENABLED: not supported: deletes cannot be switched off; with token auth grant delete only to whom it is meant for',
    ]);
    assert.deepEqual(load({ REGISTRY_STORAGE_DELETE_ENABLED: 'true' }).warnings, []);
  });

  it('refuses variables for features Dockyard does not have', () => {
    assert.throws(() => load({ REGISTRY_HTTP_TLS_CLIENTCAS: '/ca.pem' }), /REGISTRY_HTTP_TLS_CLIENTCAS: client certificate authentication is not supported/);
    assert.throws(() => load({ REGISTRY_PROXY_REMOTEURL: 'https://registry-1.docker.io' }), /REGISTRY_PROXY_REMOTEURL: pull-through cache/);
    assert.throws(() => registryConfigFromEnv({ REGISTRY_STORAGE_GCS_BUCKET: 'b' }), /REGISTRY_STORAGE_GCS_BUCKET: the gcs storage driver is not available/);
  });

  it('refuses a distribution name that contradicts the Dockyard name', () => {
    assert.throws(() => load({ REGISTRY_LOG_LEVEL: 'debug', LOG_LEVEL: 'info' }), /REGISTRY_LOG_LEVEL: contradicts LOG_LEVEL=info/);
  });

  it('leaves alone variables of other programs and empty ones', () => {
    const config = load({
      REGISTRY_AUTH_FILE: '/root/auth.json',
      REGISTRY_PORT: 'tcp://10.0.0.1:5000',
      REGISTRY_PORT_5000_TCP_ADDR: '10.0.0.1',
      REGISTRY_SERVICE_HOST: '10.0.0.1',
      REGISTRY_NOT_A_THING: '',
    });
    assert.deepEqual(config.warnings, []);
  });

  it('is checked when a file is loaded too', () => {
    assert.throws(() => loadRegistryConfig({ env: { REGISTRY_HTTP_ADRR: ':5000' } }), /REGISTRY_HTTP_ADRR/);
  });
});
