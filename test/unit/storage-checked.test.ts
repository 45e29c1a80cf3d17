import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkedStore, invalidKeyReason, invalidPrefixReason } from '../../worker/storage/checked.ts';
import { NoSuchUploadError } from '../../worker/storage/errors.ts';
import { StoreError, type ObjectStore } from '../../worker/storage/types.ts';

/** A stand-in driver that records calls and fails on demand. */
function fakeStore(fail?: () => unknown, presign = false) {
  const calls: string[] = [];
  const run = async <T>(operation: string, value: T): Promise<T> => {
    calls.push(operation);
    if (fail) throw fail();
    return value;
  };
  const store: ObjectStore = {
    name: 'fake',
    capabilities: { presign, conditionalWrite: true, minPartSize: 5, maxParts: 100 },
    head: () => run('head', null),
    get: () => run('get', null),
    put: () => run('put', true),
    delete: () => run('delete', undefined),
    list: () => run('list', { objects: [], truncated: false }),
    createMultipart: () => run('createMultipart', 'id'),
    uploadPart: (_key, _id, partNumber) => run('uploadPart', { partNumber, etag: 'e' }),
    completeMultipart: () => run('completeMultipart', undefined),
    abortMultipart: () => run('abortMultipart', undefined),
  };
  if (presign) {
    store.presignGet = () => run('presignGet', 'https://example.test/signed');
    store.presignUploadPart = (_key, _id, partNumber) => run('presignUploadPart', `https://example.test/part/${partNumber}`);
    store.listParts = () => run('listParts', [{ partNumber: 1, etag: 'e', size: 5 }]);
  }
  return { store, calls };
}

const BAD_KEYS = [
  '',
  '/leading',
  'a//b',
  'trailing/',
  '.',
  '..',
  'a/./b',
  'a/../b',
  'a/..',
  'nul\u0000byte',
  'tab\tkey',
  'del\u007f',
  'back\\slash',
  'lone\ud800surrogate',
  'x'.repeat(1025),
  'é'.repeat(513),
];
const GOOD_KEYS = [
  'a',
  'repositories/library/ubuntu/_manifests/tags/latest/current',
  'blobs/sha256:' + 'a'.repeat(64),
  '.hidden/..dots/...',
  'Tag_1.0-rc+build~x',
  'x'.repeat(1024),
  'é'.repeat(512),
  '😀/emoji',
];

describe('store key rules', () => {
  for (const key of BAD_KEYS) {
    it(`rejects ${JSON.stringify(key.slice(0, 30))}`, () => assert.notEqual(invalidKeyReason(key), null));
  }
  it('accepts keys the registry makes', () => {
    for (const key of GOOD_KEYS) assert.equal(invalidKeyReason(key), null, key);
  });
  it('accepts prefixes that are empty, end in "/" or end mid-segment', () => {
    for (const prefix of ['', 'a/', 'a/b', 'a/.', 'a/..', 'repositories/']) assert.equal(invalidPrefixReason(prefix), null, prefix);
    for (const prefix of ['/a', 'a//', '../a', 'a/../b', 'a\\b', 'a\u0001']) assert.notEqual(invalidPrefixReason(prefix), null, prefix);
  });
});

describe('checkedStore', () => {
  it('rejects invalid keys before calling the driver, for every operation', async () => {
    const { store, calls } = fakeStore(undefined, true);
    const checked = checkedStore(store);
    for (const key of ['', '../x', 'a//b']) {
      const invalid = { message: /invalid store key/ };
      await assert.rejects(checked.head(key), invalid);
      await assert.rejects(checked.get(key), invalid);
      await assert.rejects(checked.put(key, 'x'), invalid);
      await assert.rejects(checked.delete(key), invalid);
      await assert.rejects(checked.createMultipart(key, 5), invalid);
      await assert.rejects(checked.uploadPart(key, 'id', 1, new Uint8Array()), invalid);
      await assert.rejects(checked.completeMultipart(key, 'id', []), invalid);
      await assert.rejects(checked.abortMultipart(key, 'id'), invalid);
      await assert.rejects(checked.presignGet!(key, { expiresInSeconds: 60 }), invalid);
    }
    await assert.rejects(checked.list({ prefix: '/x' }), /invalid store key prefix/);
    assert.deepEqual(calls, []);
  });

  it('rejects bad part numbers, part sizes, limits and ranges', async () => {
    const { store, calls } = fakeStore();
    const checked = checkedStore(store);
    await assert.rejects(checked.createMultipart('k', 4), /part size/);
    await assert.rejects(checked.createMultipart('k', 5.5), /part size/);
    await assert.rejects(checked.uploadPart('k', 'id', 0, new Uint8Array()), /part number/);
    await assert.rejects(checked.uploadPart('k', 'id', 101, new Uint8Array()), /part number/);
    await assert.rejects(checked.completeMultipart('k', 'id', [{ partNumber: -1, etag: 'e' }]), /part number/);
    await assert.rejects(checked.list({ prefix: '', limit: 0 }), /list limit/);
    await assert.rejects(checked.get('k', { offset: -1 }), /range offset/);
    await assert.rejects(checked.get('k', { offset: 0, length: 1.5 }), /range length/);
    assert.deepEqual(calls, []);
  });

  it('passes valid calls through with their results', async () => {
    const { store, calls } = fakeStore();
    const checked = checkedStore(store);
    assert.equal(checked.name, 'fake');
    assert.equal(checked.capabilities, store.capabilities);
    assert.equal(await checked.put('a/b', 'x'), true);
    assert.equal(await checked.head('a/b'), null);
    assert.deepEqual(await checked.list({ prefix: 'a/', startAfter: 'anything at all', limit: 10 }), { objects: [], truncated: false });
    assert.equal(await checked.createMultipart('a/b', 5), 'id');
    assert.deepEqual(await checked.uploadPart('a/b', 'id', 100, new Uint8Array(1)), { partNumber: 100, etag: 'e' });
    assert.deepEqual(calls, ['put', 'head', 'list', 'createMultipart', 'uploadPart']);
  });

  it('wraps backend failures in StoreError with driver, operation, key and cause', async () => {
    const cause = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    const checked = checkedStore(fakeStore(() => cause).store);
    const error = await checked.put('a/b', 'x').then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof StoreError);
    assert.equal(error.driver, 'fake');
    assert.equal(error.operation, 'put');
    assert.equal(error.key, 'a/b');
    assert.equal(error.cause, cause);
    await assert.rejects(checked.list({ prefix: 'p/' }), { name: 'StoreError', operation: 'list', key: 'p/' });
  });

  it('lets StoreError and NoSuchUploadError through untouched', async () => {
    const storeError = new StoreError('fake', 'get', 'k');
    await assert.rejects(checkedStore(fakeStore(() => storeError).store).get('k'), (e) => e === storeError);
    const noUpload = new NoSuchUploadError('gone');
    const checked = checkedStore(fakeStore(() => noUpload).store);
    await assert.rejects(checked.uploadPart('k', 'id', 1, new Uint8Array()), (e) => e === noUpload);
    await assert.rejects(checked.completeMultipart('k', 'id', [{ partNumber: 1, etag: 'e' }]), (e) => e === noUpload);
  });

  it('offers presignGet only when the driver has it', async () => {
    assert.equal(checkedStore(fakeStore().store).presignGet, undefined);
    const withPresign = checkedStore(fakeStore(undefined, true).store);
    assert.equal(await withPresign.presignGet?.('k', { expiresInSeconds: 60 }), 'https://example.test/signed');
  });

  it('offers the direct-upload methods only when the driver has them, and checks their arguments', async () => {
    const plain = checkedStore(fakeStore().store);
    assert.equal(plain.presignUploadPart, undefined);
    assert.equal(plain.listParts, undefined);
    const { store, calls } = fakeStore(undefined, true);
    const checked = checkedStore(store);
    assert.equal(await checked.presignUploadPart?.('k', 'id', 3, { expiresInSeconds: 60 }), 'https://example.test/part/3');
    assert.deepEqual(await checked.listParts?.('k', 'id'), [{ partNumber: 1, etag: 'e', size: 5 }]);
    await assert.rejects(checked.presignUploadPart!('k', 'id', 0, { expiresInSeconds: 60 }), /part number/);
    await assert.rejects(checked.presignUploadPart!('k', 'id', 101, { expiresInSeconds: 60 }), /part number/);
    await assert.rejects(checked.presignUploadPart!('k', 'id', 1, { expiresInSeconds: 0 }), /presign expiry/);
    await assert.rejects(checked.listParts!('../k', 'id'), /invalid store key/);
    assert.deepEqual(calls, ['presignUploadPart', 'listParts']);
  });
});
