/**
 * Test-only Worker: builds the real R2 driver on the Miniflare R2 binding and exposes every
 * ObjectStore method over HTTP, so the node:test contract suite can exercise the driver while
 * it executes inside workerd (see bridge-protocol.ts and store-proxy.ts).
 *
 * Also answers `GET /_check/crypto`: facts about hashing in workerd that the upload path
 * relies on (node:crypto under nodejs_compat, @noble/hashes).
 */
import { createHash } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { relayFixedLength } from '../../worker/runtime/fixed-length-relay.ts';
import { createR2Store } from '../../worker/storage/r2.ts';
import type { R2Bucket } from '../../worker/storage/r2-types.ts';
import { StoreError, type ByteRange, type ListOptions, type MultipartPart, type ObjectStore, type PresignOptions, type PutOptions } from '../../worker/storage/types.ts';
import {
  ARGS_HEADER, BODY_KIND_HEADER, INFO_HEADER, METHODS, RESULT_HEADER,
  decodeHeaderJson, encodeHeaderJson, infoToWire, type BridgeMethod, type WireError,
} from './bridge-protocol.ts';

interface Env {
  BUCKET: R2Bucket;
  /** "1" builds the store with a fake presigner, to check capability wiring. */
  PRESIGN?: string;
  /** Bytes per ranged read (the R2 driver's readSliceBytes); unset reads objects whole. */
  READ_SLICE_BYTES?: string;
}

let cached: { bucket: R2Bucket; store: ObjectStore } | undefined;

function storeFor(env: Env): ObjectStore {
  if (cached?.bucket !== env.BUCKET) {
    const presign = env.PRESIGN === '1'
      ? async (key: string, options: PresignOptions) => `https://presigned.invalid/${encodeURIComponent(key)}?expires=${options.expiresInSeconds}`
      : undefined;
    const readSliceBytes = env.READ_SLICE_BYTES ? Number(env.READ_SLICE_BYTES) : undefined;
    cached = { bucket: env.BUCKET, store: createR2Store(env.BUCKET, { presign, readSliceBytes }) };
  }
  return cached.store;
}

function json(result: unknown): Response {
  return new Response(JSON.stringify({ result: result ?? null }), {
    headers: { 'content-type': 'application/json', [RESULT_HEADER]: 'json' },
  });
}

function failure(error: unknown): Response {
  const wire: WireError = error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'Error', message: String(error) };
  if (error instanceof StoreError) {
    wire.driver = error.driver;
    wire.operation = error.operation;
    wire.key = error.key;
    wire.cause = error.cause instanceof Error ? error.cause.message : String(error.cause);
  }
  return new Response(JSON.stringify({ error: wire }), {
    status: 500,
    headers: { 'content-type': 'application/json', [RESULT_HEADER]: 'error' },
  });
}

async function call(store: ObjectStore, method: BridgeMethod, request: Request): Promise<Response> {
  const args = decodeHeaderJson<unknown[]>(request.headers.get(ARGS_HEADER));
  const key = String(args[0]);
  switch (method) {
    case 'head':
      return json(await store.head(key).then((info) => info && infoToWire(info)));
    case 'get': {
      const range = args[1] as ByteRange | undefined;
      const found = await store.get(key, range);
      if (!found) return json(null);
      // A fixed length, so a body the store cuts short reaches the suite as an error, not as
      // a shorter object (a chunked answer would end cleanly).
      const start = range?.offset ?? 0;
      const length = Math.max(0, Math.min(range?.length ?? Infinity, found.info.size - start));
      return new Response(relayFixedLength(found.body, length).body, {
        headers: {
          'content-type': 'application/octet-stream',
          [RESULT_HEADER]: 'stream',
          [INFO_HEADER]: encodeHeaderJson(infoToWire(found.info)),
        },
      });
    }
    case 'put': {
      const bytes = new Uint8Array(await request.arrayBuffer());
      const body = request.headers.get(BODY_KIND_HEADER) === 'string' ? new TextDecoder().decode(bytes) : bytes;
      return json(await store.put(key, body, args[1] as PutOptions | undefined));
    }
    case 'delete':
      await store.delete(key);
      return json(null);
    case 'list':
      return json(await store.list(args[0] as ListOptions).then((r) => ({ ...r, objects: r.objects.map(infoToWire) })));
    case 'createMultipart':
      return json(await store.createMultipart(key, Number(args[1])));
    case 'uploadPart':
      return json(await store.uploadPart(key, String(args[1]), Number(args[2]), new Uint8Array(await request.arrayBuffer())));
    case 'completeMultipart':
      await store.completeMultipart(key, String(args[1]), args[2] as MultipartPart[]);
      return json(null);
    case 'abortMultipart':
      await store.abortMultipart(key, String(args[1]));
      return json(null);
    case 'presignGet':
      if (!store.presignGet) throw new Error('store bridge: presignGet is not available');
      return json(await store.presignGet(key, args[1] as PresignOptions));
  }
}

/** node:crypto and @noble/hashes agree with WebCrypto on 3 MiB fed in uneven pieces. */
async function cryptoCheck(): Promise<Response> {
  const data = new Uint8Array(3 * 1024 * 1024 + 7);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
  const node = createHash('sha256');
  const noble = sha256.create();
  for (let at = 0; at < data.length; at += 65_537) {
    node.update(data.subarray(at, at + 65_537));
    noble.update(data.subarray(at, at + 65_537));
  }
  const web = bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', data)));
  // The upload path resumes a hash across requests from @noble's saved state: clone mid-way.
  const half = sha256.create().update(data.subarray(0, 1_000_003));
  const resumed = half.clone().update(data.subarray(1_000_003)).digest();
  return Response.json({
    webcrypto: web,
    nodeCrypto: node.digest('hex'),
    noble: bytesToHex(noble.digest()),
    nobleResumed: bytesToHex(resumed),
    nodeCopy: typeof createHash('sha256').copy === 'function',
  });
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    try {
      if (url.pathname === '/_check/crypto') return await cryptoCheck();
      if (url.pathname === '/describe') {
        const store = storeFor(env);
        return json({ name: store.name, capabilities: store.capabilities, presignGet: typeof store.presignGet === 'function' });
      }
      if (url.pathname === '/clear') {
        // Empties the bucket between contract tests (the R2 binding has no bulk delete-by-prefix).
        let deleted = 0;
        for (;;) {
          const page = await env.BUCKET.list({ limit: 1000 });
          if (page.objects.length === 0) break;
          await env.BUCKET.delete(page.objects.map((o) => o.key));
          deleted += page.objects.length;
        }
        return json(deleted);
      }
      const method = url.pathname.startsWith('/call/') ? url.pathname.slice('/call/'.length) : '';
      if (!(METHODS as readonly string[]).includes(method)) return new Response('not found', { status: 404 });
      return await call(storeFor(env), method as BridgeMethod, request);
    } catch (error) {
      return failure(error);
    }
  },
};
