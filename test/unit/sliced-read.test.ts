/**
 * slicedRead: one object read as bounded ranged reads and answered as one stream. The reads
 * come from an in-memory object here (pure logic); the R2 driver runs it against workerd's
 * local R2 in the e2e and contract suites through `npm run dev:worker`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { slicedRead, type ReadSlice } from '../../worker/storage/sliced-read.ts';

function objectOf(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes;
}

/** Serves ranged reads of `bytes` and records each (offset, length, etag asked for). */
function reader(bytes: Uint8Array, state: { etag: string; vanishAfter?: number } = { etag: 'e1' }) {
  const calls: [number, number, string | undefined][] = [];
  const read: ReadSlice = async (offset, length, etag) => {
    calls.push([offset, length, etag]);
    if (etag !== undefined && etag !== state.etag) return null;
    if (state.vanishAfter !== undefined && calls.length > state.vanishAfter) return null;
    const end = Math.min(bytes.length, offset + length);
    return { size: bytes.length, etag: state.etag, body: new Blob([bytes.slice(offset, end)]).stream() };
  };
  return { read, calls, state };
}

const all = async (body: ReadableStream<Uint8Array>): Promise<Uint8Array> => new Uint8Array(await new Response(body).arrayBuffer());

describe('slicedRead', () => {
  it('reads a whole object slice by slice, each after the first bound to its etag', async () => {
    const bytes = objectOf(10_000);
    const { read, calls } = reader(bytes);
    const sliced = await slicedRead(read, { offset: 0 }, 4096);
    assert.ok(sliced);
    assert.equal(sliced.first.size, 10_000);
    assert.deepEqual(await all(sliced.body), bytes);
    assert.deepEqual(calls, [[0, 4096, undefined], [4096, 4096, 'e1'], [8192, 1808, 'e1']]);
  });

  it('reads a range that starts and ends inside slices', async () => {
    const bytes = objectOf(10_000);
    const { read, calls } = reader(bytes);
    const sliced = await slicedRead(read, { offset: 1000, length: 5000 }, 2048);
    assert.ok(sliced);
    assert.deepEqual(await all(sliced.body), bytes.slice(1000, 6000));
    assert.deepEqual(calls.map(([o, l]) => [o, l]), [[1000, 2048], [3048, 2048], [5096, 904]]);
  });

  it('answers a small object with its one read, and null for a missing one', async () => {
    const bytes = objectOf(100);
    const { read, calls } = reader(bytes);
    const sliced = await slicedRead(read, { offset: 0 }, 4096);
    assert.ok(sliced);
    assert.deepEqual(await all(sliced.body), bytes);
    assert.equal(calls.length, 1);
    assert.equal(await slicedRead(async () => null, { offset: 0 }, 4096), null);
  });

  it('errors the stream when the object is replaced or removed mid-read, never splicing', async () => {
    const bytes = objectOf(10_000);
    const replaced = reader(bytes);
    const sliced = await slicedRead(replaced.read, { offset: 0 }, 4096);
    replaced.state.etag = 'e2';
    await assert.rejects(all(sliced!.body), /changed or vanished after 4096 of 10000 bytes/);

    const removed = reader(bytes, { etag: 'e1', vanishAfter: 2 });
    const cut = await slicedRead(removed.read, { offset: 0 }, 4096);
    await assert.rejects(all(cut!.body), /after 8192 of 10000 bytes/);
  });

  it('stops reading slices when its reader cancels', async () => {
    const bytes = objectOf(100_000);
    const { read, calls } = reader(bytes);
    const sliced = await slicedRead(read, { offset: 0 }, 1024);
    const stream = sliced!.body.getReader();
    await stream.read();
    await stream.cancel();
    await new Promise((done) => setTimeout(done, 20));
    assert.ok(calls.length <= 3, `${calls.length} reads after a cancel at the first chunk`);
  });
});
