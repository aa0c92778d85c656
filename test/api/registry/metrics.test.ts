// The registry's /metrics: HTTP series labelled by route template (never the raw path)
// and the active upload gauge.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMetricsRegistry } from '../../../shared/observability/metrics.js';
import { digestOf, startTestRegistry, type TestRegistry } from './harness.js';

describe('registry metrics', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry({ metrics: createMetricsRegistry('registry', { processMetrics: false }) });
  });
  after(() => registry.close());

  const scrape = async () => {
    const response = await fetch(`${registry.url}/metrics`);
    assert.equal(response.status, 200);
    return response.text();
  };

  it('labels requests by route template, not by repository or digest', async () => {
    const digest = digestOf('never pushed');
    assert.equal((await fetch(`${registry.url}/v2/team/secret-name/blobs/${digest}`)).status, 404);
    const text = await scrape();
    assert.match(text, /http_requests_total\{[^}]*route="\/v2\/<name>\/blobs\/<digest>"[^}]*status="404"[^}]*\} 1/);
    assert.doesNotMatch(text, /secret-name/);
    assert.doesNotMatch(text, new RegExp(digest.slice(7)));
  });

  it('counts open upload sessions', async () => {
    const started = await fetch(`${registry.url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
    assert.equal(started.status, 202);
    assert.match(await scrape(), /registry_uploads_active\{[^}]*\} 1/);
    assert.equal((await fetch(`${registry.url}${started.headers.get('location')}`, { method: 'DELETE' })).status, 204);
    assert.match(await scrape(), /registry_uploads_active\{[^}]*\} 0/);
  });
});
