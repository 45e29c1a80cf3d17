import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matchV2Route, ROUTE_METHODS } from '../../worker/oci/routes.ts';

const digest = 'sha256:' + 'a'.repeat(64);

describe('matchV2Route', () => {
  const cases: [string, ReturnType<typeof matchV2Route>][] = [
    ['/v2/', { kind: 'base' }],
    ['/v2', { kind: 'base' }],
    ['/v2/_catalog', { kind: 'catalog' }],
    ['/v2/library/ubuntu/tags/list', { kind: 'tags', name: 'library/ubuntu' }],
    ['/v2/a/manifests/latest', { kind: 'manifest', name: 'a', reference: 'latest' }],
    [`/v2/a/b/c/manifests/${digest}`, { kind: 'manifest', name: 'a/b/c', reference: digest }],
    [`/v2/a/manifests/sha256%3A${'a'.repeat(64)}`, { kind: 'manifest', name: 'a', reference: digest }],
    ['/v2/a/blobs/uploads/', { kind: 'uploads', name: 'a' }],
    ['/v2/a/blobs/uploads', { kind: 'uploads', name: 'a' }],
    ['/v2/a/blobs/uploads/abc', { kind: 'upload', name: 'a', uploadId: 'abc' }],
    [`/v2/team/x/blobs/${digest}`, { kind: 'blob', name: 'team/x', digest }],
    [`/v2/x/referrers/${digest}`, { kind: 'referrers', name: 'x', digest }],
    // Berth's direct upload extension (`_berth` can never be a repository name component).
    ['/v2/team/x/_berth/uploads/', { kind: 'directUploads', name: 'team/x' }],
    ['/v2/team/x/_berth/uploads', { kind: 'directUploads', name: 'team/x' }],
    ['/v2/a/_berth/uploads/abc', { kind: 'directUpload', name: 'a', uploadId: 'abc' }],
    ['/v2/a/_berth/uploads/abc/parts', { kind: 'directUploadParts', name: 'a', uploadId: 'abc' }],
    ['/v2/a/_berth/uploads/abc/other', null],
    ['/v2/a/_berth/manifests', null],
    // A repository may itself be called "blobs" or "manifests": matching from the end keeps it whole.
    ['/v2/blobs/manifests/v1', { kind: 'manifest', name: 'blobs', reference: 'v1' }],
    ['/v2/a/manifests/b/manifests/v1', { kind: 'manifest', name: 'a/manifests/b', reference: 'v1' }],
    ['/v2/a/tags', null],
    ['/v2/a/blobs/', null],
    ['/v3/a/tags/list', null],
    ['/token', null],
    ['/v2/' + 'a/'.repeat(2000) + 'tags/list', null],
  ];
  for (const [path, expected] of cases) {
    it(`${path.slice(0, 60)} → ${expected?.kind ?? 'no route'}`, () => {
      assert.deepEqual(matchV2Route(path), expected);
    });
  }

  it('a malformed percent escape does not throw', () => {
    assert.deepEqual(matchV2Route('/v2/a/manifests/%E0%A4%A'), { kind: 'manifest', name: 'a', reference: '%E0%A4%A' });
  });

  it('every route kind lists its methods', () => {
    assert.deepEqual(ROUTE_METHODS.manifest, ['GET', 'HEAD', 'PUT', 'DELETE']);
    assert.deepEqual(ROUTE_METHODS.uploads, ['POST']);
  });
});
