// The progress helper: a bar redrawn in place on a terminal (throttled), plain lines at
// each tenth elsewhere, without control characters; a clock passed in, never waited for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgress } from '../../../shared/observability/progress.js';

function sink(isTTY: boolean) {
  const writes: string[] = [];
  return { out: { isTTY, columns: 60, write: (t: string) => writes.push(t) }, writes };
}

test('on a terminal: one line redrawn in place, at most once per redraw interval, ended by done', () => {
  let clock = 0;
  const { out, writes } = sink(true);
  const progress = createProgress({ label: 'importing', total: 200, unit: 'items', out, now: () => clock, redrawMs: 100 });
  for (let i = 0; i < 200; i++) {
    clock += 1;
    progress.advance(1, `blob ${i}`);
  }
  assert.equal(writes.length, 2, 'drawn at t=1 and t=101 only');
  assert.match(writes[1], /^\rimporting \[#{12} {12}\]  50% 101\/200  blob 100\x1b\[K$/);
  progress.done('imported 200 blobs');
  assert.equal(writes.at(-1), '\rimporting: imported 200 blobs in 0.2 s\x1b[K\n');
  assert.ok(writes.every((w) => !w.slice(1).includes('\n') || w === writes.at(-1)), 'one line until done');
});

test('elsewhere: a plain line per tenth, no carriage returns or escapes; bytes shown in binary units', () => {
  const { out, writes } = sink(false);
  const progress = createProgress({ label: 'copying', total: 10 * 1024 * 1024, unit: 'bytes', out, now: () => 0 });
  for (let i = 0; i < 100; i++) progress.advance(100 * 1024 + 40);
  progress.done();
  assert.equal(writes.length, 10, '9 tenths and the final line');
  assert.equal(writes[0], 'copying: 1.1 MiB/10.0 MiB (10%)\n');
  assert.equal(writes.at(-1), 'copying: 9.8 MiB/10.0 MiB done in 0.0 s\n');
  assert.ok(writes.every((w) => !/[\r\x1b]/.test(w)));
});

test('without a total: a running count every interval', () => {
  let clock = 0;
  const { out, writes } = sink(false);
  const progress = createProgress({ label: 'scanning', out, now: () => clock, lineEveryMs: 1000 });
  for (let i = 0; i < 25; i++) {
    clock += 100;
    progress.advance();
  }
  assert.deepEqual(writes, ['scanning: 10\n', 'scanning: 20\n']);
});
