/**
 * The S3 driver against the store contract, over HTTP to a real local S3 server
 * (test/support/s3-server.ts): once with the driver's HEAD-then-PUT emulation of conditional
 * writes (a server that ignores If-None-Match), once with the server enforcing If-None-Match as
 * AWS and R2 do. Then what only S3 has: presigned URLs, key prefixes, timeouts. With
 * BERTH_TEST_S3_BUCKET (and _ENDPOINT, _REGION, _ACCESS_KEY_ID, _SECRET_ACCESS_KEY) set, the
 * contract also runs against that real bucket.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ConfigError } from '../../worker/config.ts';
import { NoSuchUploadError } from '../../worker/storage/errors.ts';
import { s3OptionsFromEnv, type S3StoreOptions } from '../../worker/storage/s3-config.ts';
import { createS3Store, normalizePrefix } from '../../worker/storage/s3.ts';
import { StoreError, type ObjectStore } from '../../worker/storage/types.ts';
import { startS3Server, type S3Server } from '../support/s3-server.ts';
import { runStoreContract } from './store-contract.ts';
import { testPort } from '../support/ports.ts';

const PLAIN_PORT = testPort(15120);
const CONDITIONAL_PORT = testPort(15121);
const SILENT_PORT = testPort(15129);
const MiB = 1024 * 1024;

let plain: Promise<S3Server> | undefined;
let conditional: Promise<S3Server> | undefined;
const plainServer = () => (plain ??= startS3Server({ port: PLAIN_PORT }));
const conditionalServer = () => (conditional ??= startS3Server({ port: CONDITIONAL_PORT, conditionalWrites: true }));

after(async () => {
  for (const pending of [plain, conditional]) if (pending) await (await pending).stop();
});

function optionsFor(server: S3Server, extra: Partial<S3StoreOptions> = {}): S3StoreOptions {
  return {
    endpoint: server.endpoint,
    region: server.region,
    bucket: server.bucket,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    requestTimeoutMs: 10_000,
    ...extra,
  };
}

/** Removes every object under the store's own prefix (the store only sees its prefix). */
async function emptyStore(store: ObjectStore): Promise<void> {
  for (;;) {
    const page = await store.list({ prefix: '' });
    await Promise.all(page.objects.map((object) => store.delete(object.key)));
    if (!page.truncated || page.objects.length === 0) return;
  }
}

/** Each contract case gets its own key prefix, so cases never see each other's objects. */
function contractFactory(options: () => Promise<S3StoreOptions>) {
  return async () => {
    const store = createS3Store({ ...(await options()), prefix: `contract-${randomBytes(6).toString('hex')}` });
    return { store, cleanup: () => emptyStore(store) };
  };
}

runStoreContract(
  's3 (local server ignoring If-None-Match, driver emulates)',
  contractFactory(async () => optionsFor(await plainServer(), { conditionalWrite: false })),
);

runStoreContract(
  's3 (local server enforcing If-None-Match)',
  contractFactory(async () => optionsFor(await conditionalServer(), { conditionalWrite: true })),
);

const realBucket = process.env.BERTH_TEST_S3_BUCKET;
if (realBucket) {
  runStoreContract(
    `s3 (real bucket ${realBucket})`,
    contractFactory(async () => ({
      ...s3OptionsFromEnv({
        BERTH_S3_BUCKET: realBucket,
        BERTH_S3_ENDPOINT: process.env.BERTH_TEST_S3_ENDPOINT,
        BERTH_S3_REGION: process.env.BERTH_TEST_S3_REGION,
        BERTH_S3_ACCESS_KEY_ID: process.env.BERTH_TEST_S3_ACCESS_KEY_ID,
        BERTH_S3_SECRET_ACCESS_KEY: process.env.BERTH_TEST_S3_SECRET_ACCESS_KEY,
        BERTH_S3_SESSION_TOKEN: process.env.BERTH_TEST_S3_SESSION_TOKEN,
        BERTH_S3_FORCE_PATH_STYLE: process.env.BERTH_TEST_S3_FORCE_PATH_STYLE,
        BERTH_S3_CONDITIONAL_WRITES: process.env.BERTH_TEST_S3_CONDITIONAL_WRITES,
      }),
      prefix: `berth-contract-${Date.now()}`,
    })),
  );
} else {
  describe('s3 (real bucket)', () => {
    it.skip('skipped: set BERTH_TEST_S3_BUCKET (+ BERTH_TEST_S3_ENDPOINT, _REGION, _ACCESS_KEY_ID, _SECRET_ACCESS_KEY) to run the contract against a real S3/R2 bucket');
  });
}

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

describe('s3 driver specifics (local server)', () => {
  let server: S3Server;
  let store: ObjectStore;
  before(async () => {
    server = await plainServer();
    store = createS3Store(optionsFor(server, { prefix: 'specifics', conditionalWrite: false }));
  });

  it('reports its name and capabilities', () => {
    assert.equal(store.name, 's3');
    assert.deepEqual(store.capabilities, { presign: true, conditionalWrite: false, minPartSize: 5 * MiB, maxParts: 10_000 });
    assert.equal(createS3Store(optionsFor(server)).capabilities.conditionalWrite, true, 'defaults to true (AWS, R2)');
  });

  it('serves a presigned URL with the bytes, the asked Content-Type and byte ranges', async () => {
    await store.put('blobs/presigned', 'hello presigned world', { contentType: 'text/plain' });
    const url = await store.presignGet!('blobs/presigned', { expiresInSeconds: 60, contentType: 'application/octet-stream' });
    assert.ok(url.startsWith(`${server.endpoint}/${server.bucket}/specifics/blobs/presigned?`), url);
    const whole = await fetch(url);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-type'), 'application/octet-stream');
    assert.equal(await whole.text(), 'hello presigned world');
    const ranged = await fetch(url, { headers: { range: 'bytes=6-14' } });
    assert.equal(ranged.status, 206);
    assert.equal(await ranged.text(), 'presigned');
  });

  it('a presigned URL with a tampered signature or key is refused', async () => {
    await store.put('blobs/secret', 'secret');
    await store.put('blobs/other', 'other');
    const url = new URL(await store.presignGet!('blobs/secret', { expiresInSeconds: 60 }));
    const signature = url.searchParams.get('X-Amz-Signature')!;
    const badSignature = new URL(url);
    badSignature.searchParams.set('X-Amz-Signature', (signature[0] === '0' ? '1' : '0') + signature.slice(1));
    assert.equal((await fetch(badSignature)).status, 403);
    const otherKey = new URL(url);
    otherKey.pathname = otherKey.pathname.replace('blobs/secret', 'blobs/other');
    assert.equal((await fetch(otherKey)).status, 403);
  });

  it('publicBaseUrl: presigned URLs use that origin and are signed for it', async () => {
    const port = new URL(server.endpoint).port;
    const publicBaseUrl = `http://localhost:${port}`;
    const publicStore = createS3Store(optionsFor(server, { prefix: 'specifics', publicBaseUrl }));
    const url = await publicStore.presignGet!('blobs/presigned', { expiresInSeconds: 60 });
    assert.ok(url.startsWith(`${publicBaseUrl}/${server.bucket}/specifics/blobs/presigned?`), url);
    // The server (bound to 127.0.0.1) sees Host: localhost:<port>, which is what was signed.
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello presigned world');
    // Presenting it under the internal name instead breaks the signature: it really is signed
    // for the public origin, not merely rewritten.
    assert.equal((await fetch(url.replace('//localhost:', '//127.0.0.1:'))).status, 403);
  });

  it('keeps stores with different prefixes apart and strips the prefix from listed keys', async () => {
    const a = createS3Store(optionsFor(server, { prefix: '/tenant-a/' }));
    const b = createS3Store(optionsFor(server, { prefix: 'tenant-b' }));
    await a.put('k/1', 'a1');
    await b.put('k/1', 'b1');
    assert.deepEqual((await a.list({ prefix: 'k/' })).objects.map((o) => o.key), ['k/1']);
    assert.equal(await text((await b.get('k/1'))!.body), 'b1');
    const raw = new S3Client({ ...optionsFor(server), requestChecksumCalculation: 'WHEN_REQUIRED' });
    const listed = await raw.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: 'tenant-' }));
    assert.deepEqual(listed.Contents?.map((c) => c.Key), ['tenant-a/k/1', 'tenant-b/k/1']);
    assert.equal(normalizePrefix(''), '');
    assert.equal(normalizePrefix('//x/y//'), 'x/y/');
  });

  it('multipart with 5 MiB parts; finished and aborted uploads are NoSuchUpload', async () => {
    const key = 'mp/object';
    const first = new Uint8Array(5 * MiB).fill(7);
    const uploadId = await store.createMultipart(key, 5 * MiB);
    const parts = await Promise.all([
      store.uploadPart(key, uploadId, 2, new TextEncoder().encode('tail')),
      store.uploadPart(key, uploadId, 1, first),
    ]);
    assert.equal(await store.head(key), null, 'nothing visible before complete');
    await store.completeMultipart(key, uploadId, parts);
    assert.equal((await store.head(key))?.size, 5 * MiB + 4);
    const ranged = await store.get(key, { offset: 5 * MiB - 2, length: 6 });
    assert.ok(ranged);
    assert.deepEqual([...new Uint8Array(await new Response(ranged.body).arrayBuffer())], [7, 7, 116, 97, 105, 108]);
    assert.equal(ranged.info.size, 5 * MiB + 4, 'a ranged get reports the whole object size');
    await assert.rejects(store.completeMultipart(key, uploadId, parts), NoSuchUploadError);
    await assert.rejects(store.uploadPart(key, uploadId, 3, new Uint8Array(1)), NoSuchUploadError);
    await store.abortMultipart(key, uploadId);

    const aborted = await store.createMultipart('mp/aborted', 5 * MiB);
    await store.abortMultipart('mp/aborted', aborted);
    await assert.rejects(store.uploadPart('mp/aborted', aborted, 1, new Uint8Array(1)), NoSuchUploadError);
    await store.abortMultipart('mp/aborted', aborted);
  });

  it('a missing bucket is a StoreError, not a missing object', async () => {
    const wrong = createS3Store(optionsFor(server, { bucket: 'no-such-bucket' }));
    await assert.rejects(wrong.get('x'), StoreError);
  });

  it('gives up on a store that never answers (requestTimeoutMs) with a StoreError', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket);
      socket.resume(); // read the request, never answer
    });
    await new Promise<void>((resolve) => silent.listen(SILENT_PORT, '127.0.0.1', resolve));
    try {
      const hung = createS3Store({ ...optionsFor(server), endpoint: `http://127.0.0.1:${SILENT_PORT}`, requestTimeoutMs: 300 });
      const started = Date.now();
      await assert.rejects(hung.put('k', 'v'), StoreError);
      assert.ok(Date.now() - started < 8_000, `took ${Date.now() - started} ms`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('local S3 server fixes (test/support/s3rver-child.cjs)', () => {
  it('accepts bucket-level requests signed with a trailing slash (CreateBucket, ListObjectsV2)', async () => {
    const server = await plainServer();
    const client = new S3Client({ ...optionsFor(server), requestChecksumCalculation: 'WHEN_REQUIRED' });
    await client.send(new CreateBucketCommand({ Bucket: 'second-bucket' }));
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'second-bucket' }));
    assert.equal(listed.KeyCount ?? 0, 0);
  });

  it('continues a listing with a continuation token (DES, needs --openssl-legacy-provider)', async () => {
    const server = await plainServer();
    const s = createS3Store(optionsFor(server, { prefix: 'paging' }));
    await Promise.all(['a', 'b', 'c'].map((k) => s.put(k, k)));
    const client = new S3Client({ ...optionsFor(server), requestChecksumCalculation: 'WHEN_REQUIRED' });
    const page1 = await client.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: 'paging/', MaxKeys: 2 }));
    assert.ok(page1.NextContinuationToken);
    const page2 = await client.send(
      new ListObjectsV2Command({ Bucket: server.bucket, Prefix: 'paging/', ContinuationToken: page1.NextContinuationToken }),
    );
    assert.deepEqual(page2.Contents?.map((c) => c.Key), ['paging/c']);
  });

  it('a PUT cut off mid-body publishes nothing and leaves the previous object whole', async () => {
    const server = await plainServer();
    const s = createS3Store(optionsFor(server, { prefix: 'cutoff' }));
    await s.put('object', 'the previous, complete object');
    const { hostname, port } = new URL(server.endpoint);
    // Unsigned requests are anonymous to s3rver, which has no bucket policies: it accepts them.
    await new Promise<void>((resolve) => {
      const req = request({ host: hostname, port, method: 'PUT', path: `/${server.bucket}/cutoff/object`, headers: { 'content-length': '100000' } });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(1000, 120), () => setTimeout(() => req.destroy(), 100));
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const got = await s.get('object');
    assert.equal(await text(got!.body), 'the previous, complete object');
    await new Promise<void>((resolve) => {
      const req = request({ host: hostname, port, method: 'PUT', path: `/${server.bucket}/cutoff/new`, headers: { 'content-length': '100000' } });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(1000, 120), () => setTimeout(() => req.destroy(), 100));
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await s.head('new'), null);
  });

  it('with conditional writes on, If-None-Match: * answers 412 and the first object stays', async () => {
    const s = createS3Store(optionsFor(await conditionalServer(), { prefix: 'cond', conditionalWrite: true }));
    const results = await Promise.all(['one', 'two', 'three', 'four'].map((v) => s.put('same', v, { ifNoneMatch: true })));
    assert.equal(results.filter(Boolean).length, 1, 'exactly one concurrent create wins');
    const winner = ['one', 'two', 'three', 'four'][results.indexOf(true)];
    assert.equal(await text((await s.get('same'))!.body), winner);
  });
});

describe('s3OptionsFromEnv', () => {
  it('needs a bucket', () => {
    assert.throws(() => s3OptionsFromEnv({}), (error: unknown) => error instanceof ConfigError && /BERTH_S3_BUCKET/.test(error.message));
  });

  it('defaults for AWS, path-style for custom endpoints, region auto for R2', () => {
    assert.deepEqual(s3OptionsFromEnv({ BERTH_S3_BUCKET: 'b' }), {
      endpoint: undefined,
      region: 'us-east-1',
      bucket: 'b',
      prefix: '',
      forcePathStyle: false,
      credentials: undefined,
      publicBaseUrl: undefined,
      conditionalWrite: true,
      requestTimeoutMs: 30_000,
    });
    const minio = s3OptionsFromEnv({ BERTH_S3_BUCKET: 'b', BERTH_S3_ENDPOINT: 'http://minio:9000/', BERTH_S3_CONDITIONAL_WRITES: 'false' });
    assert.equal(minio.endpoint, 'http://minio:9000');
    assert.equal(minio.forcePathStyle, true);
    assert.equal(minio.conditionalWrite, false);
    const r2 = s3OptionsFromEnv({ BERTH_S3_BUCKET: 'b', BERTH_S3_ENDPOINT: 'https://acc.r2.cloudflarestorage.com' });
    assert.equal(r2.region, 'auto');
    assert.equal(r2.forcePathStyle, false);
  });

  it('reads keys, prefix and public URL, and refuses half a key pair', () => {
    const options = s3OptionsFromEnv({
      BERTH_S3_BUCKET: 'b',
      BERTH_S3_PREFIX: 'registry',
      BERTH_S3_ACCESS_KEY_ID: 'id',
      BERTH_S3_SECRET_ACCESS_KEY: 'secret',
      BERTH_S3_SESSION_TOKEN: 'token',
      BERTH_S3_PUBLIC_URL: 'https://cdn.example.com',
      BERTH_S3_REGION: 'eu-west-3',
    });
    assert.deepEqual(options.credentials, { accessKeyId: 'id', secretAccessKey: 'secret', sessionToken: 'token' });
    assert.equal(options.prefix, 'registry');
    assert.equal(options.publicBaseUrl, 'https://cdn.example.com');
    assert.equal(options.region, 'eu-west-3');
    assert.throws(() => s3OptionsFromEnv({ BERTH_S3_BUCKET: 'b', BERTH_S3_ACCESS_KEY_ID: 'id' }), ConfigError);
    assert.throws(() => s3OptionsFromEnv({ BERTH_S3_BUCKET: 'b', BERTH_S3_FORCE_PATH_STYLE: 'maybe' }), ConfigError);
  });
});
