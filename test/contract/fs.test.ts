/**
 * The store contract on the filesystem driver, plus what only a filesystem can get wrong:
 * temp files, directory layout, pruning and keys that try to leave the root.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkedStore } from '../../worker/storage/checked.ts';
import { createFsStore } from '../../worker/storage/fs.ts';
import { StoreError } from '../../worker/storage/types.ts';
import { patternBytes, readAll, runStoreContract } from './store-contract.ts';

runStoreContract('fs', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-fs-contract-'));
  return { store: checkedStore(createFsStore({ root })), cleanup: () => rm(root, { recursive: true, force: true }) };
});

/** Every file below `dir`, as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath ?? entry.path, entry.name).slice(dir.length + 1));
}

describe('fs store extras', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-fs-extras-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('puts beside deletes that prune their shared parent directory never fail', async () => {
    // Upload sessions come and go under one `uploads/` directory: a delete that empties it prunes
    // it while another put is creating it again. Before the fix 8 writers × 3000 puts measured 47
    // failures (ENOTDIR from mkdir) on a quiet machine, 8 writers × 1500 here 15-30.
    const store = createFsStore({ root: join(root, 'prune-race') });
    const failures: string[] = [];
    let n = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let i = 0; i < 1500; i++) {
        const key = `uploads/${(n++).toString(16).padStart(8, '0')}/session`;
        try {
          await store.put(key, '{}');
          await store.delete(key);
        } catch (error) {
          failures.push(String(error));
        }
      }
    }));
    assert.deepEqual(failures.slice(0, 3), []);
    assert.deepEqual(await filesUnder(join(root, 'prune-race', 'objects')), [], 'every key was deleted again');
  });

  it('creates files 0600 and directories 0700 (puts, multipart uploads), whatever the umask', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-fs-modes-'));
    const previous = process.umask(0o022);
    try {
      const store = createFsStore({ root: dir });
      await store.put('auth/signing-key', 'secret');
      await store.put('deep/a/b/c', 'x', { ifNoneMatch: true });
      const id = await store.createMultipart('data/u', 4);
      const part = await store.uploadPart('data/u', id, 1, new Uint8Array(4));
      const open = await store.createMultipart('data/open', 4);
      await store.uploadPart('data/open', open, 1, new Uint8Array(4));
      await store.completeMultipart('data/u', id, [part]);
      const entries = await readdir(dir, { recursive: true, withFileTypes: true });
      assert.ok(entries.length > 8, 'the store wrote files and directories');
      for (const entry of entries) {
        const path = join(entry.parentPath ?? entry.path, entry.name);
        const mode = (await stat(path)).mode & 0o777;
        assert.equal(mode, entry.isDirectory() ? 0o700 : 0o600, `${path} is ${mode.toString(8)}`);
      }
      assert.equal((await stat(dir)).mode & 0o777, 0o700);
    } finally {
      process.umask(previous);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('leaves no temp files behind and lists only objects', async () => {
    const store = createFsStore({ root });
    await store.put('t/a', 'a');
    await store.put('t/a', 'b');
    await store.put('t/a', 'c', { ifNoneMatch: true });
    await store.put('t/b', 'd', { ifNoneMatch: true });
    assert.deepEqual(await filesUnder(join(root, 'tmp')), []);
    assert.deepEqual((await store.list({ prefix: '' })).objects.map((o) => o.key), ['t/a', 't/b']);
  });

  it('a put that fails keeps the previous object whole and publishes nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-fs-fail-'));
    try {
      const store = checkedStore(createFsStore({ root: dir }));
      await store.put('k/existing', 'old bytes');
      // Make the temp area unusable: a file where the tmp directory should be.
      await rm(join(dir, 'tmp'), { recursive: true, force: true });
      await writeFile(join(dir, 'tmp'), 'not a directory');
      await assert.rejects(store.put('k/existing', 'new bytes'), StoreError);
      await assert.rejects(store.put('k/fresh', 'new bytes'), StoreError);
      const old = await store.get('k/existing');
      assert.ok(old);
      assert.equal(new TextDecoder().decode(await readAll(old.body)), 'old bytes');
      assert.equal(await store.head('k/fresh'), null);
      assert.deepEqual((await store.list({ prefix: 'k/' })).objects.map((o) => o.key), ['k/existing']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps multipart data out of objects/ until complete, then removes the upload', async () => {
    const store = createFsStore({ root });
    const uploadId = await store.createMultipart('mp/blob', 4);
    const one = await store.uploadPart('mp/blob', uploadId, 1, new Uint8Array([1, 2, 3, 4]));
    const two = await store.uploadPart('mp/blob', uploadId, 2, new Uint8Array([5]));
    assert.equal((await filesUnder(join(root, 'objects'))).some((path) => path.startsWith('mp')), false);
    await assert.rejects(store.completeMultipart('mp/blob', uploadId, [two]), /numbered/);
    await assert.rejects(store.completeMultipart('mp/blob', uploadId, [{ ...one, etag: 'stale' }, two]), /etag/);
    await store.completeMultipart('mp/blob', uploadId, [one, two]);
    assert.deepEqual(await readdir(join(root, 'multipart')), []);
    const object = await store.get('mp/blob');
    assert.ok(object);
    assert.deepEqual(await readAll(object.body), new Uint8Array([1, 2, 3, 4, 5]));
  });

  it('rejects multipart parts of the wrong size', async () => {
    const store = createFsStore({ root });
    const uploadId = await store.createMultipart('mp/sizes', 4);
    await assert.rejects(store.uploadPart('mp/sizes', uploadId, 1, new Uint8Array(5)), /part size/);
    const short = await store.uploadPart('mp/sizes', uploadId, 1, new Uint8Array(3));
    const last = await store.uploadPart('mp/sizes', uploadId, 2, new Uint8Array(3));
    await assert.rejects(store.completeMultipart('mp/sizes', uploadId, [short, last]), /non-final parts/);
    await store.abortMultipart('mp/sizes', uploadId);
    assert.equal(await store.head('mp/sizes'), null);
  });

  it('prunes directories emptied by delete', async () => {
    const store = createFsStore({ root });
    await store.put('prune/a/b/c/d', 'x');
    await store.put('prune/keep', 'y');
    await store.delete('prune/a/b/c/d');
    assert.deepEqual(await filesUnder(join(root, 'objects', 'prune')), ['keep%']);
    assert.deepEqual(await readdir(join(root, 'objects', 'prune')), ['keep%']);
  });

  it('stores a key and keys below it side by side, case-sensitively, with % in keys', async () => {
    const store = createFsStore({ root });
    const keys = ['both/a', 'both/a/b', 'both/A', 'both/a%', 'both/%61', 'both/a%2f'];
    for (const key of keys) await store.put(key, key);
    for (const key of keys) {
      const object = await store.get(key);
      assert.ok(object, key);
      assert.equal(new TextDecoder().decode(await readAll(object.body)), key);
    }
    const listed = (await store.list({ prefix: 'both/' })).objects.map((o) => o.key);
    assert.deepEqual(listed, [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  });

  it('refuses keys that would leave the root, even without the checked wrapper', async () => {
    const store = createFsStore({ root });
    for (const key of ['../escape', 'a/../../escape', '/etc/passwd', 'a//b', 'a/./b', '', 'a/']) {
      await assert.rejects(store.put(key, 'x'), /invalid store key/, JSON.stringify(key));
      await assert.rejects(store.get(key), /invalid store key/, JSON.stringify(key));
    }
    await assert.rejects(store.list({ prefix: '../' }), /invalid store key/);
    await assert.rejects(store.uploadPart('a', '../../objects', 1, new Uint8Array(1)), /no multipart upload/);
  });

  it('gives a stable etag that changes on overwrite', async () => {
    const store = createFsStore({ root });
    await store.put('etag/x', 'same');
    const first = await store.head('etag/x');
    assert.equal((await store.head('etag/x'))?.etag, first?.etag);
    await store.put('etag/x', 'same');
    assert.notEqual((await store.head('etag/x'))?.etag, first?.etag);
  });

  it('lists size, lastModified and etag exactly as head reports them (from one stat)', async () => {
    const store = createFsStore({ root });
    const sizes = [0, 1, 4095, 4096, 4097, 16 * 1024, 40_000];
    for (const size of sizes) {
      await store.put(`sized/${String(size).padStart(6, '0')}`, patternBytes(size, size), { contentType: 'application/json', metadata: { n: String(size) } });
    }
    const listed = (await store.list({ prefix: 'sized/' })).objects;
    assert.deepEqual(listed.map((o) => o.size), sizes);
    for (const object of listed) {
      const head = await store.head(object.key);
      assert.ok(head);
      assert.equal(object.size, head.size, object.key);
      assert.equal(object.etag, head.etag, object.key);
      assert.equal(object.lastModified?.getTime(), head.lastModified?.getTime(), object.key);
      // Listings carry no content type or metadata (as S3's ListObjectsV2).
      assert.equal(object.contentType, undefined);
    }
  });

  it('keeps data at a fixed page offset whatever the metadata, so stat gives the size', async () => {
    const store = createFsStore({ root });
    await store.put('fixed/plain', 'abc');
    await store.put('fixed/typed', 'abc', { contentType: 'application/vnd.oci.image.manifest.v1+json', metadata: { note: 'x'.repeat(1500) } });
    for (const name of ['plain%', 'typed%']) assert.equal((await stat(join(root, 'objects', 'fixed', name))).size, 4096 + 3, name);
    const uploadId = await store.createMultipart('fixed/multi', 4);
    const part = await store.uploadPart('fixed/multi', uploadId, 1, new Uint8Array([1, 2, 3]));
    await store.completeMultipart('fixed/multi', uploadId, [part]);
    assert.equal((await stat(join(root, 'objects', 'fixed', 'multi%'))).size, 4096 + 3);
    assert.deepEqual((await store.list({ prefix: 'fixed/' })).objects.map((o) => o.size), [3, 3, 3]);
  });

  it('refuses metadata that does not fit the header, publishing nothing', async () => {
    const store = createFsStore({ root });
    await assert.rejects(store.put('big-meta/x', 'abc', { metadata: { huge: 'x'.repeat(5000) } }), /at most 4088 fit/);
    assert.equal(await store.head('big-meta/x'), null);
    assert.deepEqual(await filesUnder(join(root, 'tmp')), []);
  });

  it('serves ranges on both sides of the bytes read with the header', async () => {
    const store = createFsStore({ root });
    const bytes = patternBytes(3, 40_000);
    await store.put('ranges/x', bytes);
    const cases: Array<[number, number | undefined]> = [[0, 16_384], [0, 16_385], [16_383, 2], [16_384, 10], [100, undefined], [39_999, 1], [40_000, undefined]];
    for (const [offset, length] of cases) {
      const object = await store.get('ranges/x', length === undefined ? { offset } : { offset, length });
      assert.ok(object);
      const end = length === undefined ? bytes.byteLength : offset + length;
      assert.deepEqual(await readAll(object.body), bytes.subarray(offset, end), `range ${offset}+${length}`);
    }
  });

  it('names files of the older BRT1 format instead of misreading them', async () => {
    const store = createFsStore({ root });
    await store.put('legacy/x', 'placeholder');
    const legacy = Buffer.alloc(8 + 3);
    legacy.write('BRT1', 0, 'latin1');
    legacy.write('abc', 8, 'latin1');
    await writeFile(join(root, 'objects', 'legacy', 'x%'), legacy);
    await assert.rejects(store.head('legacy/x'), /older BRT1 format/);
    await assert.rejects(store.list({ prefix: 'legacy/' }), /not an object file/);
  });

  it('checks its options when built', () => {
    assert.throws(() => createFsStore({ root: '' }), /fs store: option "root"/);
  });
});
