// Download Range decisions (RFC 9110) and upload Content-Range parsing, as tables plus a
// property: a partial answer always lies inside the blob.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decideByteRange, parseUploadContentRange, type RangeDecision } from '../../../services/registry/routes/byte-range.js';

const full: RangeDecision = { kind: 'full' };
const unsatisfiable: RangeDecision = { kind: 'unsatisfiable' };
const partial = (start: number, end: number): RangeDecision => ({ kind: 'partial', start, end });

const DOWNLOADS: Array<[string | undefined, number, RangeDecision]> = [
  [undefined, 100, full],
  ['', 100, full],
  ['bytes=0-0', 100, partial(0, 0)],
  ['bytes=0-99', 100, partial(0, 99)],
  ['bytes=10-', 100, partial(10, 99)],
  ['bytes=50-500', 100, partial(50, 99)],
  ['bytes=-1', 100, partial(99, 99)],
  ['bytes=-100', 100, partial(0, 99)],
  ['bytes=-1000', 100, partial(0, 99)],
  ['Bytes = 1-2', 100, partial(1, 2)],
  ['bytes=99-99', 100, partial(99, 99)],
  ['bytes=100-', 100, unsatisfiable],
  ['bytes=100-200', 100, unsatisfiable],
  ['bytes=-0', 100, unsatisfiable],
  [`bytes=${'9'.repeat(30)}-`, 100, unsatisfiable],
  [`bytes=0-${'9'.repeat(30)}`, 100, partial(0, 99)],
  ['bytes=0-', 0, unsatisfiable],
  ['bytes=-5', 0, full],
  ['bytes=5-1', 100, full],
  ['bytes=0-1,3-4', 100, full],
  ['bytes=-', 100, full],
  ['bytes=a-b', 100, full],
  ['bytes 0-5', 100, full],
  ['lines=0-5', 100, full],
  ['bytes=0x10-20', 100, full],
];

const UPLOADS: Array<[string, { start: number; end: number } | null]> = [
  ['0-99', { start: 0, end: 99 }],
  ['bytes 100-199', { start: 100, end: 199 }],
  ['bytes=100-199', { start: 100, end: 199 }],
  ['bytes 0-9/10', { start: 0, end: 9 }],
  ['0-9/*', { start: 0, end: 9 }],
  [' 5-5 ', { start: 5, end: 5 }],
  ['9-0', null],
  ['0-', null],
  ['-5', null],
  ['a-b', null],
  ['bytes', null],
  ['1-2-3', null],
  [`0-${'9'.repeat(17)}`, null],
];

describe('decideByteRange', () => {
  for (const [header, size, expected] of DOWNLOADS) {
    it(`${header ?? '(none)'} of ${size} bytes → ${expected.kind}`, () => {
      assert.deepEqual(decideByteRange(header, size), expected);
    });
  }

  it('a partial range always lies inside the blob', () => {
    const header = fc.oneof(
      fc.tuple(fc.nat(), fc.option(fc.nat())).map(([a, b]) => `bytes=${a}-${b ?? ''}`),
      fc.nat().map((n) => `bytes=-${n}`),
      fc.string(),
    );
    fc.assert(
      fc.property(header, fc.nat({ max: 1 << 30 }), (h, size) => {
        const decision = decideByteRange(h, size);
        if (decision.kind !== 'partial') return;
        assert.ok(decision.start >= 0 && decision.start <= decision.end && decision.end < size, `${h} of ${size}`);
      }),
    );
  });
});

describe('parseUploadContentRange', () => {
  for (const [header, expected] of UPLOADS) {
    it(`"${header}" → ${expected ? `${expected.start}-${expected.end}` : 'malformed'}`, () => {
      assert.deepEqual(parseUploadContentRange(header), expected);
    });
  }
});
