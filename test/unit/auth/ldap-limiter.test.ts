// The bound on directory operations in flight (services/auth/identity/limiter.ts): at most
// `max` run, at most `maxWaiting` wait, a waiter gives up after `waitMs`, and a freed slot
// goes to the oldest waiter.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BusyError, Limiter } from '../../../services/auth/identity/limiter.js';

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('Limiter', () => {
  it('runs at most max at once and hands a freed slot to the oldest waiter', async () => {
    const limiter = new Limiter(2, 10, 60_000);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const gates = Array.from({ length: 5 }, gate);
    const runs = gates.map((g, i) =>
      limiter.run(async () => {
        running += 1;
        peak = Math.max(peak, running);
        order.push(i);
        await g.promise;
        running -= 1;
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, [0, 1]);
    for (const g of gates) g.open();
    await Promise.all(runs);
    assert.equal(peak, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
  });

  it('refuses at once when the queue is full, and a waiter after waitMs', async () => {
    const limiter = new Limiter(1, 1, 50);
    const held = gate();
    const first = limiter.run(() => held.promise);
    const waiter = limiter.run(async () => 'never');
    await assert.rejects(limiter.run(async () => 'overflow'), BusyError);
    await assert.rejects(waiter, BusyError);
    held.open();
    await first;
    assert.equal(await limiter.run(async () => 'free again'), 'free again');
  });

  it('frees the slot when the operation throws', async () => {
    const limiter = new Limiter(1, 0, 10);
    await assert.rejects(limiter.run(async () => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(await limiter.run(async () => 'next'), 'next');
  });
});
