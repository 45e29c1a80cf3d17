/**
 * The R2 driver against the store contract, executing inside workerd: Miniflare runs the store
 * bridge Worker (test/workerd/) over a simulated R2 bucket persisted to a temp directory, and
 * the suite talks to it through an ObjectStore proxy. Miniflare enforces R2's rules (5 MiB
 * minimum parts, equal non-final parts), so multipart cases use real 5 MiB parts.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NoSuchUploadError } from '../../worker/storage/errors.ts';
import { startStoreBridge, type StoreBridge } from '../workerd/miniflare-bridge.ts';
import { runStoreContract } from './store-contract.ts';
import { testPort } from '../support/ports.ts';

const PORT = testPort(15310);
const PRESIGN_PORT = testPort(15311);
const SLICED_PORT = testPort(15312);
const MiB = 1024 * 1024;

const persistRoot = mkdtempSync(join(tmpdir(), 'berth-r2-'));
let bridge: Promise<StoreBridge> | undefined;
let presignBridge: Promise<StoreBridge> | undefined;
let slicedBridge: Promise<StoreBridge> | undefined;

function plainBridge(): Promise<StoreBridge> {
  bridge ??= startStoreBridge({ port: PORT, persistDir: join(persistRoot, 'plain') });
  return bridge;
}

after(async () => {
  for (const pending of [bridge, presignBridge, slicedBridge]) if (pending) await (await pending).stop();
  rmSync(persistRoot, { recursive: true, force: true });
});

runStoreContract('r2 (workerd)', async () => {
  const b = await plainBridge();
  await b.clear();
  return { store: b.store, cleanup: () => b.clear() };
});

// The same driver reading in 64 KiB slices, as `npm run dev:worker` has it read (in 16 MiB ones).
runStoreContract('r2 reading in slices (workerd)', async () => {
  slicedBridge ??= startStoreBridge({ port: SLICED_PORT, persistDir: join(persistRoot, 'sliced'), bindings: { READ_SLICE_BYTES: String(64 * 1024) } });
  const b = await slicedBridge;
  await b.clear();
  return { store: b.store, cleanup: () => b.clear() };
}, { readsMayFailDuringOverwrite: true });

function patterned(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 131 + seed) & 0xff;
  return bytes;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe('r2 driver specifics (workerd)', () => {
  it('reports R2 capabilities, without presign when no presigner is given', async () => {
    const { store } = await plainBridge();
    assert.equal(store.name, 'r2');
    assert.deepEqual(store.capabilities, { presign: false, conditionalWrite: true, minPartSize: 5 * MiB, maxParts: 10_000 });
    assert.equal(store.presignGet, undefined);
  });

  it('delegates presignGet to the presigner it is given', async () => {
    presignBridge ??= startStoreBridge({ port: PRESIGN_PORT, persistDir: join(persistRoot, 'presign'), bindings: { PRESIGN: '1' } });
    const { store } = await presignBridge;
    assert.equal(store.capabilities.presign, true);
    assert.equal(await store.presignGet?.('blobs/a b', { expiresInSeconds: 60 }), 'https://presigned.invalid/blobs%2Fa%20b?expires=60');
  });

  it('maps ifNoneMatch to onlyIf etagDoesNotMatch "*" (R2 answers null, the first write stays)', async () => {
    const b = await plainBridge();
    await b.clear();
    assert.equal(await b.store.put('cond/key', 'first', { ifNoneMatch: true }), true);
    assert.equal(await b.store.put('cond/key', 'second', { ifNoneMatch: true }), false);
    const got = await b.store.get('cond/key');
    assert.ok(got);
    assert.equal(new TextDecoder().decode(await readAll(got.body)), 'first');
    assert.equal(await b.store.put('cond/key', 'third'), true);
  });

  it('publishes a 2 × 5 MiB + tail multipart object and serves ranges across part boundaries', async () => {
    const b = await plainBridge();
    await b.clear();
    const key = 'mp/object';
    const parts = [patterned(5 * MiB, 1), patterned(5 * MiB, 2), patterned(12_345, 3)];
    const uploadId = await b.store.createMultipart(key, 5 * MiB);
    // Out of order and concurrently, as the part writer does.
    const uploaded = await Promise.all([3, 1, 2].map((n) => b.store.uploadPart(key, uploadId, n, parts[n - 1]!)));
    assert.equal(await b.store.head(key), null, 'nothing is visible before complete');
    await b.store.completeMultipart(key, uploadId, uploaded.sort((x, y) => x.partNumber - y.partNumber));

    const whole = Buffer.concat(parts);
    const info = await b.store.head(key);
    assert.equal(info?.size, whole.length);
    const got = await b.store.get(key);
    assert.ok(got);
    const digest = createHash('sha256').update(await readAll(got.body)).digest('hex');
    assert.equal(digest, createHash('sha256').update(whole).digest('hex'));

    const ranged = await b.store.get(key, { offset: 5 * MiB - 10, length: 20 });
    assert.ok(ranged);
    assert.deepEqual(Buffer.from(await readAll(ranged.body)), whole.subarray(5 * MiB - 10, 5 * MiB + 10));

    await assert.rejects(b.store.uploadPart(key, uploadId, 4, patterned(10, 4)), NoSuchUploadError);
    await assert.rejects(b.store.completeMultipart(key, uploadId, uploaded), NoSuchUploadError);
    await b.store.abortMultipart(key, uploadId); // finished upload: not an error
  });

  it('a failed completion of a live upload stays a StoreError (the unknown-id probe says it exists)', async () => {
    const b = await plainBridge();
    const key = 'mp/bad-etag';
    const uploadId = await b.store.createMultipart(key, 5 * MiB);
    const part = await b.store.uploadPart(key, uploadId, 1, patterned(100, 1));
    await assert.rejects(b.store.completeMultipart(key, uploadId, [{ partNumber: 1, etag: 'not-the-etag' }]), { name: 'StoreError' });
    await b.store.completeMultipart(key, uploadId, [part]);
    assert.equal((await b.store.head(key))?.size, 100);
  });

  it('an aborted upload is unknown afterwards', async () => {
    const b = await plainBridge();
    const uploadId = await b.store.createMultipart('mp/aborted', 5 * MiB);
    await b.store.abortMultipart('mp/aborted', uploadId);
    await assert.rejects(b.store.uploadPart('mp/aborted', uploadId, 1, patterned(10, 1)), NoSuchUploadError);
    await b.store.abortMultipart('mp/aborted', uploadId);
  });

  it('node:crypto createHash and @noble/hashes (with clone) hash correctly in workerd under nodejs_compat', async () => {
    const { url } = await plainBridge();
    const facts = (await (await fetch(`${url}/_check/crypto`)).json()) as Record<string, string | boolean>;
    assert.equal(facts.nodeCrypto, facts.webcrypto);
    assert.equal(facts.noble, facts.webcrypto);
    assert.equal(facts.nobleResumed, facts.webcrypto);
    assert.equal(facts.nodeCopy, true);
  });
});
