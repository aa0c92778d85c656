// The primary's side of the cross-worker mutex: one holder per key, waiters served in
// arrival order, and a worker that exits (a SIGKILL included) gives up what it held.
import assert from 'node:assert/strict';
import type { Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { ClusterLockTable } from '../../../shared/process/cluster-mutex.js';

/** Just enough of a cluster Worker: messages in, grants recorded. */
class FakeWorker extends EventEmitter {
  readonly granted: Array<{ key: string; id: number }> = [];
  connected = true;
  isConnected(): boolean {
    return this.connected;
  }
  send(message: { op: string; key: string; id: number }): boolean {
    assert.equal(message.op, 'granted');
    this.granted.push({ key: message.key, id: message.id });
    return true;
  }
  ask(op: 'acquire' | 'release', key: string, id: number): void {
    this.emit('message', { tag: 'dockyard:mutex', op, key, id });
  }
}

function table(...workers: FakeWorker[]): ClusterLockTable {
  const locks = new ClusterLockTable();
  for (const worker of workers) locks.attach(worker as unknown as Worker);
  return locks;
}

describe('ClusterLockTable', () => {
  it('grants a key to one request at a time, in arrival order', () => {
    const a = new FakeWorker();
    const b = new FakeWorker();
    table(a, b);
    a.ask('acquire', 'upload-1', 1);
    b.ask('acquire', 'upload-1', 1);
    a.ask('acquire', 'upload-1', 2);
    assert.deepEqual(a.granted, [{ key: 'upload-1', id: 1 }]);
    assert.deepEqual(b.granted, []);
    a.ask('release', 'upload-1', 1);
    assert.deepEqual(b.granted, [{ key: 'upload-1', id: 1 }]);
    assert.equal(a.granted.length, 1);
    b.ask('release', 'upload-1', 1);
    assert.deepEqual(a.granted, [{ key: 'upload-1', id: 1 }, { key: 'upload-1', id: 2 }]);
  });

  it('keeps keys independent', () => {
    const a = new FakeWorker();
    const b = new FakeWorker();
    table(a, b);
    a.ask('acquire', 'upload-1', 1);
    b.ask('acquire', 'upload-2', 1);
    assert.deepEqual(a.granted, [{ key: 'upload-1', id: 1 }]);
    assert.deepEqual(b.granted, [{ key: 'upload-2', id: 1 }]);
  });

  it('passes on what an exited worker held and drops what it waited for', () => {
    const a = new FakeWorker();
    const b = new FakeWorker();
    const c = new FakeWorker();
    table(a, b, c);
    a.ask('acquire', 'upload-1', 1);
    b.ask('acquire', 'upload-2', 1);
    b.ask('acquire', 'upload-1', 2);
    c.ask('acquire', 'upload-1', 1);
    a.connected = false;
    a.emit('exit', null, 'SIGKILL');
    assert.deepEqual(b.granted, [{ key: 'upload-2', id: 1 }, { key: 'upload-1', id: 2 }]);
    b.connected = false;
    b.emit('exit', null, 'SIGKILL');
    assert.deepEqual(c.granted, [{ key: 'upload-1', id: 1 }]);
  });

  it('ignores a release of a key it never granted and messages that are not its own', () => {
    const a = new FakeWorker();
    const b = new FakeWorker();
    table(a, b);
    a.ask('acquire', 'upload-1', 1);
    b.ask('release', 'upload-1', 1);
    b.emit('message', { tag: 'dockyard:ready' });
    b.ask('acquire', 'upload-1', 2);
    assert.deepEqual(b.granted, []);
    a.ask('release', 'upload-1', 1);
    assert.deepEqual(b.granted, [{ key: 'upload-1', id: 2 }]);
  });
});
