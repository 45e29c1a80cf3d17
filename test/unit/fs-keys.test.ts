import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeName, encodeSegment } from '../../worker/storage/fs-keys.ts';

describe('fs driver names', () => {
  it('decodes what encodeSegment wrote, plain names and escaped ones alike', () => {
    for (const segment of ['latest', 'v1.2.3-rc_1', 'sha256:abc', 'Latest', 'ünïcödé', 'a b', '%', '_tags']) {
      assert.deepEqual(decodeName(`${encodeSegment(segment)}%`), { segment, isFile: true }, segment);
      assert.deepEqual(decodeName(encodeSegment(segment)), { segment, isFile: false }, segment);
    }
  });

  it('refuses names the driver never writes', () => {
    for (const name of ['', '.', '..', '%', 'Upper%', 'a b', '%zz', '%4', 'x%c3%', '%ff%']) {
      assert.equal(decodeName(name), null, JSON.stringify(name));
    }
  });
});
