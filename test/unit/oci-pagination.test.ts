import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryError } from '../../worker/oci/errors.ts';
import { MAX_PAGE, nextLink, parsePage, type Page } from '../../worker/oci/pagination.ts';

describe('parsePage', () => {
  const valid: [string, Page][] = [
    ['', {}],
    ['n=10', { n: 10 }],
    ['n=0', { n: 0 }],
    ['n=007', { n: 7 }],
    [`n=${MAX_PAGE}`, { n: MAX_PAGE }],
    [`n=${MAX_PAGE + 1}`, { n: MAX_PAGE }],
    [`n=${'9'.repeat(400)}`, { n: MAX_PAGE }],
    ['last=v1.0', { last: 'v1.0' }],
    ['n=2&last=b', { n: 2, last: 'b' }],
    ['last=', { last: '' }],
    ['last=a%2Fb%20c', { last: 'a/b c' }],
    ['last=..%2F..%2Fetc', { last: '../../etc' }],
    ['last=%E2%9C%93', { last: '✓' }],
    ['n=3&n=5', { n: 3 }],
  ];
  for (const [query, expected] of valid) {
    it(`parses ${JSON.stringify(query.slice(0, 30))}`, () => assert.deepEqual(parsePage(new URLSearchParams(query)), expected));
  }

  const invalid = ['n=', 'n=-1', 'n=1.5', 'n=1e3', 'n=abc', 'n=+5', 'n=%205', 'n=0x10', 'n=Infinity', 'n=NaN', 'n=%D9%A3', 'n=5%0A'];
  for (const query of invalid) {
    it(`rejects ${query} with PAGINATION_NUMBER_INVALID`, () => {
      assert.throws(
        () => parsePage(new URLSearchParams(query)),
        (error: unknown) => error instanceof RegistryError && error.code === 'PAGINATION_NUMBER_INVALID' && error.status === 400,
      );
    });
  }
});

describe('nextLink', () => {
  const cases: [string, number, string, string][] = [
    ['/v2/alpine/tags/list', 2, 'b', '</v2/alpine/tags/list?n=2&last=b>; rel="next"'],
    ['/v2/_catalog', 100, 'library/alpine', '</v2/_catalog?n=100&last=library%2Falpine>; rel="next"'],
    ['/v2/x/tags/list', 1, 'a b&c=d>', '</v2/x/tags/list?n=1&last=a%20b%26c%3Dd%3E>; rel="next"'],
    ['/v2/x/tags/list', 1, '✓', '</v2/x/tags/list?n=1&last=%E2%9C%93>; rel="next"'],
  ];
  for (const [path, n, last, expected] of cases) {
    it(`links ${JSON.stringify(last)}`, () => assert.equal(nextLink(path, n, last), expected));
  }

  it('round-trips last through URLSearchParams', () => {
    const last = 'weird/&=?#%<>"tag';
    const link = nextLink('/v2/x/tags/list', 5, last);
    const url = new URL(link.slice(1, link.indexOf('>')), 'http://registry.test');
    assert.deepEqual(parsePage(url.searchParams), { n: 5, last });
  });
});
