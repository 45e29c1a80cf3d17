/**
 * The mirror's fill (worker/registry/mirror/blob-fill.ts) on the real filesystem store: an
 * upstream answer (an in-memory Response, the only stand-in here) streams to a client while it
 * is stored; only verified bytes are ever published, and a client never gets a complete copy of
 * bytes that did not verify.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { parseDigest, type ParsedDigest } from '../../worker/oci/digest.ts';
import { Blobs } from '../../worker/registry/blobs.ts';
import { fillBlob, HOLD_BACK_BYTES, type Fill } from '../../worker/registry/mirror/blob-fill.ts';
import { UpstreamError } from '../../worker/registry/mirror/upstream-error.ts';
import { checkedStore } from '../../worker/storage/checked.ts';
import { createFsStore } from '../../worker/storage/fs.ts';
import type { ObjectStore } from '../../worker/storage/types.ts';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const roots: string[] = [];
let store: ObjectStore;
let blobs: Blobs;

beforeEach(async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-fill-'));
  roots.push(root);
  store = checkedStore(createFsStore({ root }));
  blobs = new Blobs(store);
});
after(async () => {
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

const digestOf = (bytes: Uint8Array): ParsedDigest => parseDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);

/** An upstream answer that sends `bytes` in `chunk`-sized pieces, announcing `length`. */
function answer(bytes: Uint8Array, length: number | null = bytes.byteLength, chunk = 64 * 1024): { response: Response; abort(): void } {
  let offset = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
  const headers: Record<string, string> = length === null ? {} : { 'content-length': String(length) };
  return { response: new Response(body, { headers }), abort: () => undefined };
}

function fill(bytes: Uint8Array, digest: ParsedDigest, length?: number | null): Fill {
  return fillBlob({
    store,
    blobs,
    repo: 'hub/library/alpine',
    digest,
    partSize: PART,
    concurrency: 2,
    upstream: answer(bytes, length),
    upstreamUrl: 'http://upstream.test',
    what: `blob library/alpine@${digest.digest}`,
  });
}

/** Reads the client's side; answers the bytes received and the error it ended with, if any. */
async function drain(body: ReadableStream<Uint8Array>): Promise<{ bytes: number; hash: string; error?: unknown }> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of body) {
      bytes += chunk.byteLength;
      hash.update(chunk);
    }
    return { bytes, hash: hash.digest('hex') };
  } catch (error) {
    return { bytes, hash: '', error };
  }
}

async function dataObjects(): Promise<string[]> {
  return (await store.list({ prefix: 'data/' })).objects.map((o) => o.key);
}

describe('mirror fill: stream to the client while storing', () => {
  it('a blob smaller than a part: the client gets it all, the store one object, verified', async () => {
    const bytes = new Uint8Array(randomBytes(300 * 1024));
    const digest = digestOf(bytes);
    const f = fill(bytes, digest);
    const [client, location] = await Promise.all([drain(f.body), f.done]);
    assert.equal(client.error, undefined);
    assert.equal(`sha256:${client.hash}`, digest.digest);
    assert.equal(f.size, bytes.byteLength);
    assert.equal(location.size, bytes.byteLength);
    assert.deepEqual(await blobs.stat('hub/library/alpine', digest), location);
    const stored = await store.get(location.data);
    assert.equal(digestOf(new Uint8Array(await new Response(stored!.body).arrayBuffer())).digest, digest.digest);
  });

  it('a blob of several parts goes into a multipart upload and comes out whole', async () => {
    const bytes = new Uint8Array(randomBytes(2 * PART + 12345));
    const digest = digestOf(bytes);
    const f = fill(bytes, digest);
    const [client, location] = await Promise.all([drain(f.body), f.done]);
    assert.equal(client.bytes, bytes.byteLength);
    assert.equal(`sha256:${client.hash}`, digest.digest);
    const stored = await store.get(location.data);
    assert.equal(digestOf(new Uint8Array(await new Response(stored!.body).arrayBuffer())).digest, digest.digest);
    assert.deepEqual(await dataObjects(), [location.data]);
  });

  it('bytes that do not match the digest are never kept, and the client copy ends short with an error', async () => {
    const bytes = new Uint8Array(randomBytes(PART + 777));
    const digest = digestOf(bytes);
    const altered = bytes.slice();
    altered[100] = (altered[100] ?? 0) ^ 0xff;
    const f = fill(altered, digest);
    const [client, outcome] = await Promise.all([drain(f.body), f.done.then(() => null, (e: unknown) => e)]);
    assert.ok(outcome instanceof UpstreamError, `fill must fail, got ${String(outcome)}`);
    assert.match(outcome.message, /digest is sha256:[0-9a-f]{64}; nothing was kept/);
    assert.ok(client.error, 'the client stream must end in an error');
    assert.ok(client.bytes <= bytes.byteLength - HOLD_BACK_BYTES, `client got ${client.bytes} of ${bytes.byteLength} bytes`);
    assert.equal(await blobs.find(digest), null, 'no blob record');
    assert.equal(await blobs.stat('hub/library/alpine', digest), null, 'no link');
    assert.deepEqual(await dataObjects(), [], 'no data object');
  });

  it('an upstream that sends more than it announced is refused and nothing kept', async () => {
    const bytes = new Uint8Array(randomBytes(200 * 1024));
    const digest = digestOf(bytes);
    const f = fill(bytes, digest, 150 * 1024);
    const [client, outcome] = await Promise.all([drain(f.body), f.done.then(() => null, (e: unknown) => e)]);
    assert.ok(outcome instanceof UpstreamError);
    assert.match(outcome.message, /sent more than the 153600 bytes it announced/);
    assert.ok(client.error);
    assert.equal(await blobs.find(digest), null);
  });

  it('an upstream that sends less than it announced is refused and nothing kept', async () => {
    const bytes = new Uint8Array(randomBytes(200 * 1024));
    const f = fill(bytes.subarray(0, 100 * 1024), digestOf(bytes), bytes.byteLength);
    const [client, outcome] = await Promise.all([drain(f.body), f.done.then(() => null, (e: unknown) => e)]);
    assert.ok(outcome instanceof UpstreamError);
    assert.ok(client.error);
    assert.equal(await blobs.find(digestOf(bytes)), null);
  });

  it('a client that hangs up does not stop the fill: the blob is still published', async () => {
    const bytes = new Uint8Array(randomBytes(PART + 4096));
    const digest = digestOf(bytes);
    const f = fill(bytes, digest);
    const reader = f.body.getReader();
    await reader.read();
    await reader.cancel();
    const location = await f.done;
    assert.equal(location.size, bytes.byteLength);
    assert.deepEqual(await blobs.stat('hub/library/alpine', digest), location);
  });

  it('a slow client holds the fill back instead of growing a queue', async () => {
    const bytes = new Uint8Array(randomBytes(2 * MiB));
    const digest = digestOf(bytes);
    const f = fill(bytes, digest);
    let settled = false;
    void f.done.then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(settled, false, 'the fill waited for the client to read');
    const client = await drain(f.body);
    await f.done;
    assert.equal(`sha256:${client.hash}`, digest.digest);
  });
});
