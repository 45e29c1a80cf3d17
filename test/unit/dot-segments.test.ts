import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hasDotSegment } from '../../worker/http/dot-segments.ts';

describe('dot segments in a request target', () => {
  it('finds . and .. segments, plain or percent-encoded, anywhere in the path', () => {
    for (const target of [
      '/v2/x/../probe/hostile/manifests/t',
      '/v2/x/%2e%2e/probe/hostile/manifests/t',
      '/v2/x/%2E%2e/probe/manifests/t',
      '/v2/x/.%2E/probe/manifests/t',
      '/v2/probe/hostile/./tags/list',
      '/v2/probe/hostile/%2e/tags/list',
      '/v2/x\\..\\probe/tags/list',
      '/..',
      '/v2/probe/..?n=1',
    ]) {
      assert.equal(hasDotSegment(target), true, target);
    }
  });

  it('leaves names, tags and queries with dots alone', () => {
    for (const target of [
      '/v2/',
      '/v2/team/app.web/manifests/v1.2.3',
      '/v2/team/app/manifests/...',
      '/v2/team/a..b/tags/list',
      '/v2/team/app/tags/list?last=..',
      '/v2/team/app/tags/list?last=/../x',
      '/v2/team/app/blobs/sha256:abc',
      '/ui/r/team/app#..',
    ]) {
      assert.equal(hasDotSegment(target), false, target);
    }
  });
});
