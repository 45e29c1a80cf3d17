/**
 * The one ObjectStore contract suite: every driver's test file calls
 * `runStoreContract` with a factory, plus its own extras. It assumes only `types.ts` and
 * `errors.ts`, so it runs unchanged against fs, S3 (s3rver, MinIO, AWS) and R2 (Miniflare).
 *
 * All keys live under a fresh random prefix, so a shared bucket can be reused across runs.
 * Large bodies are generated from a seed and compared by SHA-256, never held whole.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { NoSuchUploadError } from '../../worker/storage/errors.ts';
import { supportsDirectUpload, type MultipartPart, type ObjectStore } from '../../worker/storage/types.ts';

export interface StoreUnderTest {
  store: ObjectStore;
  cleanup(): Promise<void>;
}

const MiB = 1024 * 1024;
const encoder = new TextEncoder();

/** Deterministic pseudo-random bytes (xorshift32), fast enough for tens of MiB. */
export function patternBytes(seed: number, length: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(length / 4));
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  return new Uint8Array(words.buffer, 0, length);
}

export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Hashes a stream chunk by chunk; reports the largest chunk to catch drivers that buffer. */
export async function hashStream(stream: ReadableStream<Uint8Array>): Promise<{ sha256: string; size: number; maxChunk: number }> {
  const hash = createHash('sha256');
  let size = 0;
  let maxChunk = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hash.update(value);
    size += value.byteLength;
    maxChunk = Math.max(maxChunk, value.byteLength);
  }
  return { sha256: hash.digest('hex'), size, maxChunk };
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** S3's list order: UTF-8 bytes. */
export function byteSorted(keys: string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

export interface ContractOptions {
  /**
   * The driver reads large objects in several requests, so a read that an overwrite replaces
   * mid-way ends in an error (still never a mix): the overwrite race counts such errors as
   * allowed instead of failing on them.
   */
  readsMayFailDuringOverwrite?: boolean;
}

export function runStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>, options: ContractOptions = {}): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let store: ObjectStore;
    let cleanup: (() => Promise<void>) | undefined;
    const base = `contract/${Date.now().toString(36)}-${randomBytes(4).toString('hex')}/`;
    const k = (suffix: string) => base + suffix;

    before(async () => {
      ({ store, cleanup } = await makeStore());
    });
    after(async () => {
      await cleanup?.();
    });

    async function get(key: string, range?: { offset: number; length?: number }): Promise<Uint8Array | null> {
      const object = await store.get(key, range);
      return object ? readAll(object.body) : null;
    }

    async function listKeys(prefix: string, startAfter?: string, limit?: number) {
      const result = await store.list({ prefix, ...(startAfter !== undefined && { startAfter }), ...(limit !== undefined && { limit }) });
      return { keys: result.objects.map((o) => o.key), truncated: result.truncated, objects: result.objects };
    }

    async function listAll(prefix: string, limit: number): Promise<string[]> {
      const keys: string[] = [];
      let startAfter: string | undefined;
      for (let page = 0; page < 1000; page++) {
        const result = await listKeys(prefix, startAfter, limit);
        assert.ok(result.keys.length <= limit, `page of ${result.keys.length} keys exceeds limit ${limit}`);
        keys.push(...result.keys);
        if (!result.truncated) return keys;
        assert.ok(result.keys.length > 0, 'a truncated page must make progress');
        startAfter = result.keys.at(-1);
      }
      assert.fail('pagination did not end');
    }

    it('describes itself', () => {
      assert.equal(typeof store.name, 'string');
      assert.ok(store.name.length > 0);
      const caps = store.capabilities;
      assert.ok(Number.isSafeInteger(caps.minPartSize) && caps.minPartSize >= 0);
      assert.ok(Number.isSafeInteger(caps.maxParts) && caps.maxParts >= 1);
      if (caps.presign) assert.equal(typeof store.presignGet, 'function', 'presign capability without presignGet');
    });

    describe('objects', () => {
      it('round-trips binary bytes, content type and metadata through put/head/get', async () => {
        const key = k('obj/binary');
        const bytes = new Uint8Array(2048).map((_, i) => i % 256);
        const metadata = { digest: 'sha256:' + '0'.repeat(64), 'x-note': 'hello' };
        assert.equal(await store.put(key, bytes, { contentType: 'application/vnd.oci.image.manifest.v1+json', metadata }), true);
        const head = await store.head(key);
        assert.ok(head);
        assert.equal(head.key, key);
        assert.equal(head.size, bytes.byteLength);
        assert.equal(head.contentType, 'application/vnd.oci.image.manifest.v1+json');
        for (const [name, value] of Object.entries(metadata)) assert.equal(head.metadata?.[name], value, `metadata ${name}`);
        if (head.etag !== undefined) assert.ok(head.etag.length > 0);
        if (head.lastModified !== undefined) assert.ok(head.lastModified instanceof Date && !Number.isNaN(head.lastModified.getTime()));
        const object = await store.get(key);
        assert.ok(object);
        assert.equal(object.info.size, bytes.byteLength);
        assert.equal(object.info.contentType, 'application/vnd.oci.image.manifest.v1+json');
        assert.deepEqual(await readAll(object.body), bytes);
      });

      it('stores strings as UTF-8 and empty objects', async () => {
        await store.put(k('obj/text'), 'héllo ✓');
        assert.deepEqual(await get(k('obj/text')), encoder.encode('héllo ✓'));
        await store.put(k('obj/empty'), new Uint8Array(0));
        assert.equal((await store.head(k('obj/empty')))?.size, 0);
        assert.deepEqual(await get(k('obj/empty')), new Uint8Array(0));
      });

      it('answers null for missing keys', async () => {
        assert.equal(await store.head(k('obj/missing')), null);
        assert.equal(await store.get(k('obj/missing')), null);
        assert.equal(await store.get(k('obj/missing'), { offset: 0, length: 1 }), null);
      });

      it('serves byte ranges and reports the whole object size', async () => {
        const key = k('obj/ranged');
        const bytes = patternBytes(7, 1000);
        await store.put(key, bytes);
        const cases: Array<[number, number | undefined]> = [
          [0, 1000],
          [10, undefined],
          [10, 20],
          [999, 1],
          [999, undefined],
          [0, 1],
        ];
        for (const [offset, length] of cases) {
          const object = await store.get(key, length === undefined ? { offset } : { offset, length });
          assert.ok(object, `range ${offset}+${length}`);
          assert.equal(object.info.size, 1000, `info.size is the object's size for range ${offset}+${length}`);
          const end = length === undefined ? 1000 : offset + length;
          assert.deepEqual(await readAll(object.body), bytes.subarray(offset, end), `range ${offset}+${length}`);
        }
      });

      it('replaces an object on overwrite', async () => {
        const key = k('obj/overwrite');
        await store.put(key, patternBytes(1, 5000), { contentType: 'text/plain' });
        const first = await store.head(key);
        await store.put(key, 'short', { contentType: 'application/json' });
        const second = await store.head(key);
        assert.equal(second?.size, 5);
        assert.equal(second?.contentType, 'application/json');
        if (first?.etag !== undefined && second?.etag !== undefined) assert.notEqual(first.etag, second.etag);
        assert.deepEqual(await get(key), encoder.encode('short'));
      });

      it('deletes, and deleting a missing key is not an error', async () => {
        const key = k('obj/deleted/deep/key');
        await store.put(key, 'x');
        await store.delete(key);
        assert.equal(await store.head(key), null);
        assert.equal(await store.get(key), null);
        assert.deepEqual((await listKeys(k('obj/deleted/'))).keys, []);
        await store.delete(key);
        await store.delete(k('obj/never-existed'));
        assert.equal(await store.put(key, 'again', { ifNoneMatch: true }), true, 'a deleted key can be created again');
      });

      it('keeps keys made of registry characters distinct (case, ":", dots, "+", "=", "~")', async () => {
        const keys = [
          'keys/blobs/sha256:' + 'ab'.repeat(32),
          'keys/tags/Latest',
          'keys/tags/latest',
          'keys/tags/v1.0.0-rc_1',
          'keys/.hidden',
          'keys/..dots',
          'keys/a+b=c,d~e',
          'keys/d1/d2/d3/d4/d5/d6/leaf',
        ].map(k);
        for (const key of keys) await store.put(key, `content of ${key}`);
        for (const key of keys) assert.deepEqual(await get(key), encoder.encode(`content of ${key}`), key);
        assert.deepEqual((await listKeys(k('keys/'))).keys, byteSorted(keys));
      });
    });

    describe('list', () => {
      const tricky = ['a', 'a/b', 'a-b', 'a.b', 'a0', 'a/b/c', 'a/c', 'b', 'ab'];
      before(async () => {
        await Promise.all(tricky.map((name, i) => store.put(k(`list/${name}`), patternBytes(i, i + 1))));
      });

      it('returns keys in byte order with sizes', async () => {
        const result = await listKeys(k('list/'));
        assert.deepEqual(result.keys, byteSorted(tricky.map((name) => k(`list/${name}`))));
        assert.equal(result.truncated, false);
        for (const object of result.objects) {
          const name = object.key.slice(k('list/').length);
          assert.equal(object.size, tricky.indexOf(name) + 1, `size of ${name}`);
        }
      });

      it('filters by prefix, including prefixes that end mid-segment', async () => {
        const names = async (prefix: string) => (await listKeys(k(prefix))).keys.map((key) => key.slice(k('list/').length));
        assert.deepEqual(await names('list/a/'), ['a/b', 'a/b/c', 'a/c']);
        assert.deepEqual(await names('list/a/b'), ['a/b', 'a/b/c']);
        assert.deepEqual(await names('list/a/b/'), ['a/b/c']);
        assert.deepEqual(await names('list/a'), ['a', 'a-b', 'a.b', 'a/b', 'a/b/c', 'a/c', 'a0', 'ab']);
        assert.deepEqual(await names('list/zz'), []);
        assert.deepEqual(await names('list/a/b/c/'), []);
        assert.deepEqual((await listKeys(k('no-such-prefix/'))).keys, []);
      });

      it('starts strictly after startAfter, present or not', async () => {
        const all = byteSorted(tricky.map((name) => k(`list/${name}`)));
        for (const after of ['a-b', 'a/b', 'a/b/', 'a/b/c', 'a/bz', 'a/d', '', 'zzz']) {
          const startAfter = k(`list/${after}`);
          const expected = all.filter((key) => Buffer.compare(Buffer.from(key), Buffer.from(startAfter)) > 0);
          assert.deepEqual((await listKeys(k('list/'), startAfter)).keys, expected, `startAfter ${after}`);
        }
      });

      it('honours limit and reports truncation', async () => {
        const all = byteSorted(tricky.map((name) => k(`list/${name}`)));
        const page = await listKeys(k('list/'), undefined, 2);
        assert.ok(page.keys.length >= 1 && page.keys.length <= 2);
        assert.deepEqual(page.keys, all.slice(0, page.keys.length));
        assert.equal(page.truncated, true);
        const rest = await listKeys(k('list/'), all.at(-2), 5);
        assert.deepEqual(rest.keys, [all.at(-1)]);
        assert.equal(rest.truncated, false);
      });

      it('paginates 25 keys with limit 7', async () => {
        const keys = Array.from({ length: 25 }, (_, i) => k(`page/${i % 4 === 0 ? 'sub/' : ''}k${String(i).padStart(2, '0')}`));
        await Promise.all(keys.map((key) => store.put(key, key)));
        assert.deepEqual(await listAll(k('page/'), 7), byteSorted(keys));
      });

      it('listKeys, where the driver has it, lists exactly what list does', async (t) => {
        if (!store.listKeys) return t.skip(`${store.name} has no listKeys: callers fall back to list`);
        const keys = Array.from({ length: 12 }, (_, i) => k(`keysonly/${i % 3 === 0 ? 'd/' : ''}x${i}`));
        await Promise.all(keys.map((key) => store.put(key, 'v')));
        for (const [startAfter, limit] of [[undefined, 100], [undefined, 5], [keys[4], 3]] as const) {
          const listed = await store.list({ prefix: k('keysonly/'), startAfter, limit });
          const only = await store.listKeys({ prefix: k('keysonly/'), startAfter, limit });
          assert.deepEqual(only.keys, listed.objects.map((o) => o.key));
          assert.equal(only.truncated, listed.truncated);
        }
      });
    });

    describe('conditional writes', () => {
      it('put with ifNoneMatch creates once, then reports false and keeps the first object', async () => {
        const key = k('cond/once');
        assert.equal(await store.put(key, 'first', { ifNoneMatch: true }), true);
        const second = await store.put(key, 'second', { ifNoneMatch: true });
        if (!store.capabilities.conditionalWrite) return;
        assert.equal(second, false);
        assert.deepEqual(await get(key), encoder.encode('first'));
      });

      it('exactly one of 8 concurrent ifNoneMatch puts wins', async (t) => {
        const key = k('cond/race');
        const bodies = Array.from({ length: 8 }, (_, i) => `writer-${i}-`.repeat(1000 + i));
        const results = await Promise.all(bodies.map((body) => store.put(key, body, { ifNoneMatch: true })));
        const stored = new TextDecoder().decode((await get(key)) ?? new Uint8Array());
        if (!store.capabilities.conditionalWrite) {
          t.diagnostic(`${name}: conditionalWrite is false; only checking the object is whole`);
          assert.ok(bodies.includes(stored), 'the stored object is one writer’s whole body');
          return;
        }
        assert.equal(results.filter(Boolean).length, 1, `winners: ${results.join(',')}`);
        assert.equal(stored, bodies[results.indexOf(true)]);
      });
    });

    describe('multipart', () => {
      let partSize = MiB;
      before(() => {
        partSize = Math.max(store.capabilities.minPartSize, MiB);
      });

      it('completes parts uploaded concurrently out of order; invisible until complete', async () => {
        const key = k('mp/out-of-order');
        const sizes = [partSize, partSize, partSize, 12_345];
        const parts = sizes.map((size, i) => patternBytes(100 + i, size));
        const uploadId = await store.createMultipart(key, partSize);
        const uploaded = await Promise.all([3, 1, 0, 2].map((i) => store.uploadPart(key, uploadId, i + 1, parts[i] as Uint8Array)));
        assert.equal(await store.head(key), null, 'not visible before complete');
        assert.deepEqual((await listKeys(k('mp/'))).keys, [], 'not listed before complete');
        const ordered = [...uploaded].sort((a, b) => a.partNumber - b.partNumber);
        await store.completeMultipart(key, uploadId, ordered);

        const expected = createHash('sha256');
        for (const part of parts) expected.update(part);
        const total = sizes.reduce((a, b) => a + b, 0);
        assert.equal((await store.head(key))?.size, total);
        const object = await store.get(key);
        assert.ok(object);
        const read = await hashStream(object.body);
        assert.equal(read.size, total);
        assert.equal(read.sha256, expected.digest('hex'));
        // A range across the boundary of parts 1 and 2.
        const across = await get(key, { offset: partSize - 5, length: 10 });
        assert.deepEqual(across, new Uint8Array([...(parts[0] as Uint8Array).subarray(-5), ...(parts[1] as Uint8Array).subarray(0, 5)]));
        await store.delete(key);
      });

      it('completes a single short part, replacing an existing object', async () => {
        const key = k('mp/single');
        await store.put(key, 'old object');
        const uploadId = await store.createMultipart(key, partSize);
        const part = await store.uploadPart(key, uploadId, 1, encoder.encode('new bytes'));
        assert.deepEqual(await get(key), encoder.encode('old object'));
        await store.completeMultipart(key, uploadId, [part]);
        assert.deepEqual(await get(key), encoder.encode('new bytes'));
      });

      it('abort leaves nothing; the aborted id is then unknown', async () => {
        const key = k('mp/aborted');
        const uploadId = await store.createMultipart(key, partSize);
        const part = await store.uploadPart(key, uploadId, 1, patternBytes(5, partSize));
        await store.abortMultipart(key, uploadId);
        assert.equal(await store.head(key), null);
        assert.deepEqual((await listKeys(k('mp/aborted'))).keys, []);
        await assert.rejects(store.completeMultipart(key, uploadId, [part]), NoSuchUploadError);
        await assert.rejects(store.uploadPart(key, uploadId, 2, encoder.encode('late')), NoSuchUploadError);
        await store.abortMultipart(key, uploadId);
        assert.equal(await store.head(key), null);
      });

      it('rejects unknown upload ids with NoSuchUploadError; aborting one is fine', async () => {
        const key = k('mp/unknown');
        await assert.rejects(store.uploadPart(key, 'no-such-upload-id', 1, encoder.encode('x')), NoSuchUploadError);
        await assert.rejects(store.completeMultipart(key, 'no-such-upload-id', [{ partNumber: 1, etag: 'x' }]), NoSuchUploadError);
        await store.abortMultipart(key, 'no-such-upload-id');
        const done = await store.createMultipart(key, partSize);
        const part = await store.uploadPart(key, done, 1, encoder.encode('x'));
        await store.completeMultipart(key, done, [part]);
        await assert.rejects(store.uploadPart(key, done, 2, encoder.encode('y')), NoSuchUploadError);
        await store.delete(key);
      });

      // What finishing an upload relies on when it repeats work (registry/upload-assembly.ts):
      // AWS answers a repeated complete with 200, MinIO and others with NoSuchUpload.
      it('completing a completed upload again succeeds or raises NoSuchUploadError, and the object stays whole', async () => {
        const key = k('mp/repeated');
        const bytes = [patternBytes(7, partSize), patternBytes(8, 777)];
        const uploadId = await store.createMultipart(key, partSize);
        const parts = [
          await store.uploadPart(key, uploadId, 1, bytes[0] as Uint8Array),
          await store.uploadPart(key, uploadId, 2, bytes[1] as Uint8Array),
        ];
        await store.completeMultipart(key, uploadId, parts);
        await store.completeMultipart(key, uploadId, parts).catch((error: unknown) => {
          assert.ok(error instanceof NoSuchUploadError, `a repeated complete failed with ${String(error)}`);
        });
        await assert.rejects(store.uploadPart(key, uploadId, 2, bytes[1] as Uint8Array), NoSuchUploadError);
        assert.equal((await store.head(key))?.size, partSize + 777);
        const object = await store.get(key);
        assert.ok(object);
        const expected = createHash('sha256').update(bytes[0] as Uint8Array).update(bytes[1] as Uint8Array).digest('hex');
        assert.equal((await hashStream(object.body)).sha256, expected);
        await store.delete(key);
      });
    });

    describe('streaming and concurrency', () => {
      it('streams a 64 MiB object written by multipart without buffering it', { timeout: 300_000 }, async () => {
        const key = k('big/64mib');
        const total = 64 * MiB;
        const partSize = Math.max(store.capabilities.minPartSize, 8 * MiB);
        const count = Math.ceil(total / partSize);
        const expected = createHash('sha256');
        const uploadId = await store.createMultipart(key, partSize);
        const parts: MultipartPart[] = [];
        let inFlight: Promise<void>[] = [];
        for (let n = 1; n <= count; n++) {
          const body = patternBytes(1000 + n, Math.min(partSize, total - (n - 1) * partSize));
          expected.update(body);
          inFlight.push(store.uploadPart(key, uploadId, n, body).then((part) => void parts.push(part)));
          if (inFlight.length >= 2) {
            await Promise.all(inFlight);
            inFlight = [];
          }
        }
        await Promise.all(inFlight);
        parts.sort((a, b) => a.partNumber - b.partNumber);
        await store.completeMultipart(key, uploadId, parts);

        const object = await store.get(key);
        assert.ok(object);
        assert.equal(object.info.size, total);
        const read = await hashStream(object.body);
        assert.equal(read.size, total);
        assert.equal(read.sha256, expected.digest('hex'));
        assert.ok(read.maxChunk <= 16 * MiB, `largest chunk ${read.maxChunk} bytes: the body looks buffered`);

        // A range in the middle of a later part.
        const offset = 5 * partSize + 12_345;
        const part = patternBytes(1000 + 6, partSize);
        const ranged = await store.get(key, { offset, length: MiB });
        assert.ok(ranged);
        assert.equal((await hashStream(ranged.body)).sha256, sha256(part.subarray(12_345, 12_345 + MiB)));
        await store.delete(key);
      });

      it('concurrent writers to one key never produce a mixed or partial object', async (t) => {
        const key = k('race/same-key');
        const lengthOf = (fill: number) => 64 * 1024 + fill * 4099;
        const body = (fill: number) => new Uint8Array(lengthOf(fill)).fill(fill);
        await store.put(key, body(1));
        let writing = true;
        const problems: string[] = [];
        let failedReads = 0;
        const reader = (async () => {
          let reads = 0;
          while (writing || reads < 3) {
            let bytes: Uint8Array | null;
            try {
              bytes = await get(key);
            } catch (error) {
              if (!options.readsMayFailDuringOverwrite) throw error;
              failedReads++;
              continue;
            }
            reads++;
            if (!bytes) {
              problems.push('object vanished during overwrite');
              continue;
            }
            const fill = bytes[0] ?? 0;
            if (bytes.byteLength !== lengthOf(fill) || bytes.some((b) => b !== fill)) {
              problems.push(`mixed or partial object: ${bytes.byteLength} bytes starting with ${fill}`);
            }
          }
        })();
        for (let round = 0; round < 3; round++) {
          await Promise.all(Array.from({ length: 6 }, (_, i) => store.put(key, body(i + 2))));
        }
        writing = false;
        await reader;
        assert.deepEqual(problems, []);
        if (options.readsMayFailDuringOverwrite) t.diagnostic(`${failedReads} read(s) ended in an error when an overwrite replaced the object mid-read`);
        const final = await get(key);
        assert.ok(final && final.byteLength === lengthOf(final[0] ?? 0) && final.every((b) => b === final[0]));
      });
    });

    describe('direct uploads (presignUploadPart + listParts)', () => {
      it('has both methods or neither', () => {
        assert.equal(typeof store.presignUploadPart === 'function', typeof store.listParts === 'function');
      });

      it('parts PUT to presigned URLs are listed with their sizes and complete into the object', async (t) => {
        if (!supportsDirectUpload(store)) return t.skip(`${name} cannot presign part uploads: berth push uses chunked uploads`);
        const key = k('direct/object');
        const partSize = Math.max(store.capabilities.minPartSize, MiB);
        const parts = [patternBytes(900, partSize), patternBytes(901, 4321)];
        const uploadId = await store.createMultipart(key, partSize);
        assert.deepEqual(await store.listParts(key, uploadId), []);
        // Out of order, the way parallel clients finish.
        for (const n of [2, 1]) {
          const url: string = await store.presignUploadPart(key, uploadId, n, { expiresInSeconds: 60 });
          const response: Response = await fetch(url, { method: 'PUT', body: parts[n - 1] as Uint8Array<ArrayBuffer> });
          assert.equal(response.status, 200, await response.text());
        }
        const listed = await store.listParts(key, uploadId);
        assert.deepEqual(listed.map((p) => [p.partNumber, p.size]), [[1, partSize], [2, 4321]]);
        assert.ok(listed.every((p) => p.etag.length > 0));
        assert.equal(await store.head(key), null, 'nothing is visible before complete');
        await store.completeMultipart(key, uploadId, listed.map(({ partNumber, etag }) => ({ partNumber, etag })));
        const object = await store.get(key);
        assert.ok(object);
        const expected = createHash('sha256').update(parts[0]!).update(parts[1]!).digest('hex');
        assert.equal((await hashStream(object.body)).sha256, expected);
        await assert.rejects(store.listParts(key, uploadId), NoSuchUploadError, 'a completed upload has no parts to list');
        await store.delete(key);
      });

      it('a presigned part URL cannot be turned into another part, and an aborted upload lists nothing', async (t) => {
        if (!supportsDirectUpload(store)) return t.skip(`${name} cannot presign part uploads`);
        const key = k('direct/aborted');
        const uploadId = await store.createMultipart(key, Math.max(store.capabilities.minPartSize, MiB));
        const url = await store.presignUploadPart(key, uploadId, 1, { expiresInSeconds: 60 });
        const forged = await fetch(url.replace('partNumber=1', 'partNumber=2'), { method: 'PUT', body: 'x' });
        assert.ok(forged.status === 403 || forged.status === 400, `a changed part number was accepted (${forged.status})`);
        await forged.body?.cancel();
        assert.deepEqual(await store.listParts(key, uploadId), []);
        await store.abortMultipart(key, uploadId);
        await assert.rejects(store.listParts(key, uploadId), NoSuchUploadError);
        await assert.rejects(store.listParts(key, 'no-such-upload-id'), NoSuchUploadError);
        const late = await fetch(url, { method: 'PUT', body: 'late' });
        assert.equal(late.status, 404, 'a part PUT to an aborted upload must fail');
        await late.body?.cancel();
      });
    });

    describe('presign', () => {
      it('presignGet returns a URL a plain fetch can read', async (t) => {
        if (!store.capabilities.presign || !store.presignGet) {
          t.skip(`${name} cannot presign (capabilities.presign is false)`);
          return;
        }
        const key = k('presign/blob');
        const bytes = patternBytes(42, 4096);
        await store.put(key, bytes);
        const url = await store.presignGet(key, { expiresInSeconds: 60, contentType: 'application/octet-stream' });
        const response = await fetch(url);
        assert.equal(response.status, 200);
        assert.equal(response.headers.get('content-type'), 'application/octet-stream');
        assert.deepEqual(new Uint8Array(await response.arrayBuffer()), bytes);
      });
    });
  });
}
