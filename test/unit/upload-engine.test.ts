/** Pure logic of the upload path: resumable hashing and fixed-size part splitting. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { finalHex, hasherFor, type UploadHashState } from '../../worker/registry/upload-hash.ts';
import { writeParts } from '../../worker/registry/part-writer.ts';
import type { MultipartPart } from '../../worker/storage/types.ts';
import { RegistryError } from '../../worker/oci/errors.ts';

const hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function streamOf(bytes: Uint8Array, piece: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + piece));
      offset += piece;
    },
  });
}

describe('upload hashing', () => {
  it('a single unchunked request is hashed natively and sealed', () => {
    const data = randomBytes(100_000);
    const hasher = hasherFor(undefined, 0, false);
    hasher.update(data);
    const state = hasher.finish();
    assert.equal(state.kind, 'sealed');
    assert.equal(finalHex(state, data.byteLength), hex(data));
  });

  it('chunks hashed across requests through saved state equal the digest of the whole', () => {
    const data = randomBytes(1_000_003);
    let state: UploadHashState | undefined;
    let uploaded = 0;
    for (const size of [1, 63, 64, 65, 4096, 333_333, 1_000_003]) {
      if (uploaded >= data.byteLength) break;
      const chunk = data.subarray(uploaded, Math.min(uploaded + size, data.byteLength));
      const hasher = hasherFor(state, uploaded, true);
      hasher.update(chunk);
      // The state goes through JSON, as it does in the session object.
      state = JSON.parse(JSON.stringify(hasher.finish())) as UploadHashState;
      uploaded += chunk.byteLength;
    }
    const rest = data.subarray(uploaded);
    const last = hasherFor(state, uploaded, true);
    last.update(rest);
    assert.equal(finalHex(last.finish(), data.byteLength), hex(data));
  });

  it('bytes after a sealed digest defer verification to the stored object', () => {
    const first = hasherFor(undefined, 0, false);
    first.update(new Uint8Array([1, 2, 3]));
    const next = hasherFor(first.finish(), 3, true);
    next.update(new Uint8Array([4]));
    const state = next.finish();
    assert.equal(state.kind, 'deferred');
    assert.equal(finalHex(state, 4), null);
  });

  it('an empty upload has the digest of no bytes', () => {
    assert.equal(finalHex(undefined, 0), hex(new Uint8Array(0)));
  });
});

describe('writeParts', () => {
  const collect = () => {
    const uploaded = new Map<number, Uint8Array>();
    return {
      uploaded,
      uploadPart: async (partNumber: number, bytes: Uint8Array): Promise<MultipartPart> => {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
        uploaded.set(partNumber, bytes.slice());
        return { partNumber, etag: `e${partNumber}` };
      },
    };
  };

  it('splits a body into equal parts plus a tail, in order, whatever the chunking', async () => {
    const data = randomBytes(10_000);
    const sink = collect();
    let seen = 0;
    const result = await writeParts({
      body: streamOf(data, 777),
      carry: new Uint8Array(0),
      partSize: 1024,
      concurrency: 3,
      firstPartNumber: 1,
      onBytes: (chunk) => (seen += chunk.byteLength),
      uploadPart: sink.uploadPart,
    });
    assert.equal(result.received, 10_000);
    assert.equal(seen, 10_000);
    assert.deepEqual(result.parts.map((p) => p.partNumber), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(result.tail.byteLength, 10_000 - 9 * 1024);
    const joined = Buffer.concat([...[...sink.uploaded.keys()].sort((a, b) => a - b).map((n) => sink.uploaded.get(n)!), result.tail]);
    assert.equal(hex(joined), hex(data));
    assert.ok([...sink.uploaded.values()].every((part) => part.byteLength === 1024));
  });

  it('carried bytes come first and part numbers continue', async () => {
    const carry = randomBytes(500);
    const data = randomBytes(600);
    const sink = collect();
    const result = await writeParts({
      body: streamOf(data, 100),
      carry,
      partSize: 1000,
      concurrency: 2,
      firstPartNumber: 4,
      onBytes: () => undefined,
      uploadPart: sink.uploadPart,
    });
    assert.deepEqual(result.parts.map((p) => p.partNumber), [4]);
    assert.equal(hex(Buffer.concat([sink.uploaded.get(4)!, result.tail])), hex(Buffer.concat([carry, data])));
  });

  it('a body over the limit is refused with 413 and reading stops', async () => {
    const sink = collect();
    await assert.rejects(
      writeParts({
        body: streamOf(randomBytes(5000), 1000),
        carry: new Uint8Array(0),
        partSize: 1024,
        concurrency: 2,
        firstPartNumber: 1,
        maxBytes: 2500,
        onBytes: () => undefined,
        uploadPart: sink.uploadPart,
      }),
      (error: unknown) => error instanceof RegistryError && error.status === 413 && error.code === 'BLOB_UPLOAD_INVALID',
    );
  });

  it('an endless body over the limit is drained only up to one more limit, then cancelled', async () => {
    let pulled = 0;
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1000;
        controller.enqueue(new Uint8Array(1000));
      },
      cancel() {
        cancelled = true;
      },
    });
    await assert.rejects(
      writeParts({ body: endless, carry: new Uint8Array(0), partSize: 1024, concurrency: 2, firstPartNumber: 1, maxBytes: 2500, onBytes: () => undefined, uploadPart: collect().uploadPart }),
      (error: unknown) => error instanceof RegistryError && error.status === 413,
    );
    assert.ok(cancelled, 'the body was cancelled');
    assert.ok(pulled <= 2500 * 2 + 3000, `read ${pulled} bytes`);
  });

  it('a failing part upload fails the request after in-flight parts settle', async () => {
    let calls = 0;
    await assert.rejects(
      writeParts({
        body: streamOf(randomBytes(10_000), 512),
        carry: new Uint8Array(0),
        partSize: 1024,
        concurrency: 2,
        firstPartNumber: 1,
        onBytes: () => undefined,
        uploadPart: async (partNumber) => {
          calls++;
          if (partNumber === 2) throw new Error('store down');
          return { partNumber, etag: 'x' };
        },
      }),
      /store down/,
    );
    assert.ok(calls < 10, `stopped early (${calls} part uploads)`);
  });

  it('a body that errors mid-way rejects', async () => {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ > 2) controller.error(new Error('connection reset'));
        else controller.enqueue(new Uint8Array(100));
      },
    });
    await assert.rejects(
      writeParts({ body, carry: new Uint8Array(0), partSize: 64, concurrency: 1, firstPartNumber: 1, onBytes: () => undefined, uploadPart: collect().uploadPart }),
      /connection reset/,
    );
  });
});
