// The token endpoint's group-committing audit writer, against a store that records its commits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditLog } from '../../../services/auth/audit.js';
import type { AuditEntry, AuditStore } from '../../../services/auth/store/audit.js';

function entry(n: number): AuditEntry {
  return { at: n, actor: `a${n}`, action: 'token.issue', target: 'svc', clientAddress: '127.0.0.1', outcome: 'ok', details: {} };
}

/** Records each commit; `failOn` makes the commit holding that entry fail. */
function recordingStore(failOn?: number) {
  const commits: number[][] = [];
  const store = {
    async appendDeferred(entries: readonly AuditEntry[]): Promise<void> {
      if (entries.some((e) => e.at === failOn)) throw new Error('disk on fire');
      commits.push(entries.map((e) => e.at));
    },
    async syncDeferred(): Promise<void> {},
  };
  return { commits, store: store as unknown as AuditStore };
}

test('every entry is committed exactly once, in order, before its promise resolves', async () => {
  const { commits, store } = recordingStore();
  const log = new AuditLog(store);
  const committedWhenResolved: boolean[] = [];
  const record = (n: number) => log.record(entry(n)).then(() => committedWhenResolved.push(commits.flat().includes(n)));
  // Bursts in one turn and entries arriving while earlier ones wait for their commit.
  const first = [1, 2, 3].map(record);
  await first[0];
  const later = [4, 5].map(record);
  await new Promise((resolve) => setImmediate(resolve));
  const last = record(6);
  await Promise.all([...first, ...later, last]);
  assert.deepEqual(commits.flat(), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(committedWhenResolved, [true, true, true, true, true, true]);
  assert.ok(commits.length >= 2, 'entries recorded after a commit go into a later one');
});

test('a failed commit rejects the entries it held, and later entries still commit', async () => {
  const { commits, store } = recordingStore(2);
  const log = new AuditLog(store);
  const results = await Promise.allSettled([1, 2].map((n) => log.record(entry(n))));
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  await log.record(entry(3));
  assert.deepEqual(commits, [[3]]);
});
