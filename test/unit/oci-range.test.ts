import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryError } from '../../worker/oci/errors.ts';
import {
  contentRangeHeader,
  parseContentRange,
  parseRangeHeader,
  unsatisfiedRangeHeader,
  type RangeResult,
} from '../../worker/oci/range.ts';

describe('parseContentRange', () => {
  const valid: [string, number, number][] = [
    ['0-0', 0, 0],
    ['0-1023', 0, 1023],
    ['1024-2047', 1024, 2047],
    ['bytes 0-99', 0, 99],
    ['bytes=0-99', 0, 99],
    ['BYTES 5-9', 5, 9],
    ['bytes 0-99/100', 0, 99],
    ['bytes 0-99/*', 0, 99],
    ['10-19/*', 10, 19],
    ['  0-9  ', 0, 9],
    ['0-9\n', 0, 9], // surrounding whitespace is trimmed, as HTTP parsers do
    ['007-009', 7, 9],
    [`0-${Number.MAX_SAFE_INTEGER}`, 0, Number.MAX_SAFE_INTEGER],
  ];
  for (const [header, start, end] of valid) {
    it(`parses ${JSON.stringify(header)}`, () => assert.deepEqual(parseContentRange(header), { start, end }));
  }

  const invalid = [
    '',
    '-',
    '5-',
    '-5',
    '10-5',
    'a-b',
    '0 - 9',
    '0-9,10-19',
    'bytes */100',
    'bytes 0-99/50',
    'bytes 0-99/99',
    'items 0-9',
    '+1-2',
    '1.5-2',
    '0x0-0x9',
    '١-٢',
    `0-${'9'.repeat(20)}`,
    `${'9'.repeat(100_000)}-1`,
    '0-9/abc',
  ];
  for (const header of invalid) {
    it(`rejects ${JSON.stringify(header.slice(0, 30))} with 416 RANGE_INVALID`, () => {
      assert.throws(
        () => parseContentRange(header),
        (error: unknown) => error instanceof RegistryError && error.code === 'RANGE_INVALID' && error.status === 416,
      );
    });
  }
});

describe('parseRangeHeader', () => {
  const full: RangeResult = { kind: 'full' };
  const none: RangeResult = { kind: 'unsatisfiable' };
  const part = (offset: number, length: number): RangeResult => ({ kind: 'partial', offset, length });

  const cases: [string | undefined, number, RangeResult][] = [
    [undefined, 100, full],
    ['', 100, full],
    ['bytes=0-9', 100, part(0, 10)],
    ['bytes=10-19', 100, part(10, 10)],
    ['bytes=0-0', 100, part(0, 1)],
    ['bytes=99-99', 100, part(99, 1)],
    ['bytes=90-', 100, part(90, 10)],
    ['bytes=0-', 100, part(0, 100)],
    ['bytes=50-500', 100, part(50, 50)],
    [`bytes=0-${'9'.repeat(40)}`, 100, part(0, 100)],
    ['bytes=-10', 100, part(90, 10)],
    ['bytes=-100', 100, part(0, 100)],
    ['bytes=-1000', 100, part(0, 100)],
    [`bytes=-${'9'.repeat(40)}`, 100, part(0, 100)],
    ['Bytes=0-9', 100, part(0, 10)],
    [' bytes=0-9 ', 100, part(0, 10)],
    ['bytes=100-', 100, none],
    ['bytes=100-200', 100, none],
    [`bytes=${'9'.repeat(40)}-`, 100, none],
    ['bytes=-0', 100, none],
    ['bytes=0-', 0, none],
    ['bytes=-5', 0, none],
    ['bytes=9-5', 100, none],
    ['bytes=-', 100, full],
    ['bytes=0-9,20-29', 100, full],
    ['bytes=a-b', 100, full],
    ['bytes=-5-', 100, full],
    ['items=0-9', 100, full],
    ['bytes 0-9', 100, full],
    ['0-9', 100, full],
    ['bytes=٠-٩', 100, full],
    [`bytes=${'0-'.repeat(50_000)}`, 100, full],
  ];
  for (const [header, size, expected] of cases) {
    it(`${JSON.stringify(header?.slice(0, 30))} of ${size} bytes → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(parseRangeHeader(header, size), expected);
    });
  }
});

describe('range response headers', () => {
  it('formats Content-Range', () => assert.equal(contentRangeHeader(10, 10, 100), 'bytes 10-19/100'));
  it('formats a one-byte range', () => assert.equal(contentRangeHeader(0, 1, 1), 'bytes 0-0/1'));
  it('formats the 416 Content-Range', () => assert.equal(unsatisfiedRangeHeader(100), 'bytes */100'));
});
