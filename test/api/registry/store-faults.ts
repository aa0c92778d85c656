/**
 * The store-fault scenarios every object-store driver runs (s3-, azure-, swift-faults.test.ts):
 * for each wrong setting (credentials, a missing bucket or container, an endpoint nobody
 * listens on) a registry on that driver answers JSON 503 UNAVAILABLE (never a 500) and
 * /readyz reports the store unavailable, and the driver's own calls fail as the backend's
 * check says. A backend gives its fault cases, its driver and that check; tests only one
 * store has stay in its test file.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StorageDriver } from '../../../services/registry/storage/driver.js';
import { digestOf, expectError, startTestRegistry, type TestRegistry } from './harness.js';

export interface FaultCase<C> {
  name: string;
  config: () => Promise<C>;
  /** What the driver's error message must say. */
  message: RegExp;
}

export interface FaultBackend<C, D extends StorageDriver> {
  /** The gate's name ('S3 faults') and the suite's title ('S3 store faults (Ceph RGW)'). */
  gateName: string;
  title: string;
  gate(name: string): Promise<boolean>;
  goodConfig(): Promise<C>;
  /** The fault cases; `good` returns the working configuration once the suite started. */
  cases(good: () => C): FaultCase<C>[];
  driver(config: C): D;
  closeDriver(driver: D): Promise<void>;
  /** How the driver's own calls must fail under a fault. */
  driverCalls: { title: string; check(driver: D, message: RegExp): Promise<void> };
  /** Registers the tests after the fault cases (this store with the right settings). */
  afterCases(good: () => C): void;
}

/** The registry refuses with 503 UNAVAILABLE in the JSON envelope, and /readyz says storage is unavailable. */
export async function expectUnavailable(registry: { url: string }): Promise<void> {
  const digest = digestOf('x');
  await expectError(await fetch(`${registry.url}/v2/team/app/blobs/uploads/`, { method: 'POST' }), 503, 'UNAVAILABLE');
  await expectError(await fetch(`${registry.url}/v2/team/app/blobs/uploads/?digest=${digest}`, { method: 'POST', body: 'x' }), 503, 'UNAVAILABLE');
  const ready = await fetch(`${registry.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, { storage: 'unavailable', metadata: 'ok' });
}

export async function expectReady(registry: { url: string }): Promise<void> {
  const ready = await fetch(`${registry.url}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, { storage: 'ok', metadata: 'ok' });
}

/** The plain last test: with the right settings /readyz reports the store ready. */
export function readyWithRightSettings<C, D extends StorageDriver>(backend: FaultBackend<C, D>, good: () => C): void {
  it('with the right settings /readyz reports the store ready', async () => {
    const driver = backend.driver(good());
    const registry = await startTestRegistry({ driver });
    try {
      await expectReady(registry);
    } finally {
      await registry.close();
      await backend.closeDriver(driver);
    }
  });
}

export async function describeStoreFaults<C, D extends StorageDriver>(backend: FaultBackend<C, D>): Promise<void> {
  if (!(await backend.gate(backend.gateName))) return;
  describe(backend.title, () => {
    let good: C;
    before(async () => {
      good = await backend.goodConfig();
    });

    for (const { name, config, message } of backend.cases(() => good)) {
      describe(name, () => {
        let driver: D;
        let registry: TestRegistry;
        before(async () => {
          driver = backend.driver(await config());
          registry = await startTestRegistry({ driver });
        });
        after(async () => {
          await registry.close();
          await backend.closeDriver(driver);
        });

        it(backend.driverCalls.title, () => backend.driverCalls.check(driver, message));

        it('the registry answers 503 UNAVAILABLE with the JSON envelope, and /readyz says storage is unavailable', async () => {
          await expectUnavailable(registry);
        });
      });
    }

    backend.afterCases(() => good);
  });
}
