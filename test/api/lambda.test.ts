/**
 * Berth through its Lambda entry: requests pass the Function URL bridge (payload 2.0 events,
 * base64 bodies, the 6 MB invocation limit, streamed responses) into worker/runtime/lambda.ts,
 * which stores in a real local S3 server. Auth is on (BERTH_ADMIN_PASSWORD), so every request
 * carries a registry token obtained as docker does.
 *
 * What Lambda makes special, and is checked here: a layer larger than one request pushes in
 * Content-Range chunks of at most the advertised 4 MiB; a body over Berth's limit but under
 * Lambda's gets Berth's OCI 413 naming the limit; a body over Lambda's 6 MB payload never
 * reaches Berth (Lambda answers 413 itself) and changes nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildLambda } from '../../infra/aws/build.ts';
import { startLambdaTarget, type LambdaTarget } from '../support/target-lambda.ts';
import { requestPath } from '../support/raw-http.ts';
import { errorCodeOf } from '../support/registry-client.ts';
import { testPort } from '../support/ports.ts';

// This suite's ports: 15520/15521 (source, streaming), 15524/15525 (bundle), 15528/15529 (buffered).
const PORT = testPort(15520);
const ADMIN = 'admin';
const PASSWORD = 'lambda-suite-password';
const REPO = 'team/lambda-app';
const MiB = 1024 * 1024;
const CHUNK = 4 * MiB;

let target: LambdaTarget;
let token = '';

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The Docker token dance: challenge → realm with Basic credentials → Bearer token. */
async function login(scope: string): Promise<string> {
  const challenge = await fetch(`${target.url}/v2/`);
  await challenge.arrayBuffer();
  assert.equal(challenge.status, 401);
  const header = challenge.headers.get('www-authenticate') ?? '';
  const params = Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  assert.ok(params.realm, `no realm in ${header}`);
  const url = new URL(params.realm!);
  if (params.service) url.searchParams.set('service', params.service);
  url.searchParams.set('scope', scope);
  const res = await fetch(url, { headers: { Authorization: `Basic ${Buffer.from(`${ADMIN}:${PASSWORD}`).toString('base64')}` } });
  const body = (await res.json()) as { token?: string; access_token?: string };
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.token ?? body.access_token ?? '';
}

function call(path: string, init: RequestInit & { redirect?: RequestRedirect } = {}): Promise<Response> {
  const url = path.startsWith('http') ? path : `${target.url}${path}`;
  const headers = new Headers(init.headers);
  headers.set('Authorization', `Bearer ${token}`);
  return fetch(url, { redirect: 'manual', ...init, headers });
}

function absolute(location: string | null): string {
  assert.ok(location, 'missing Location');
  return new URL(location, target.url).toString();
}

function withDigest(location: string, digest: string): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.toString();
}

async function startUpload(): Promise<{ location: string; chunkMin: string | null }> {
  const res = await call(`/v2/${REPO}/blobs/uploads/`, { method: 'POST' });
  await res.arrayBuffer();
  assert.equal(res.status, 202);
  return { location: absolute(res.headers.get('location')), chunkMin: res.headers.get('oci-chunk-min-length') };
}

async function patch(location: string, bytes: Uint8Array<ArrayBuffer>, start: number): Promise<Response> {
  return call(location, {
    method: 'PATCH',
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Range': `${start}-${start + bytes.length - 1}`,
      'Content-Length': String(bytes.length),
    },
    body: bytes,
  });
}

/** Pushes `bytes` in chunks of `CHUNK`, then finishes; returns per-request timings. */
async function pushChunked(bytes: Uint8Array<ArrayBuffer>): Promise<{ digest: string; patchMs: number[]; putMs: number }> {
  const digest = sha256(bytes);
  let { location } = await startUpload();
  const patchMs: number[] = [];
  for (let start = 0; start < bytes.length; start += CHUNK) {
    const chunk = bytes.subarray(start, Math.min(start + CHUNK, bytes.length));
    const t0 = performance.now();
    const res = await patch(location, chunk, start);
    const text = await res.text();
    patchMs.push(performance.now() - t0);
    assert.equal(res.status, 202, text);
    assert.equal(res.headers.get('range'), `0-${start + chunk.length - 1}`);
    location = absolute(res.headers.get('location'));
  }
  const t0 = performance.now();
  const done = await call(withDigest(location, digest), { method: 'PUT' });
  const text = await done.text();
  const putMs = performance.now() - t0;
  assert.equal(done.status, 201, text);
  assert.equal(done.headers.get('docker-content-digest'), digest);
  return { digest, patchMs, putMs };
}

async function pullBlob(digest: string): Promise<Uint8Array> {
  const res = await call(`/v2/${REPO}/blobs/${digest}`);
  if (res.status === 307) {
    await res.arrayBuffer();
    // Presigned URL: no registry token goes to the store (as Go clients drop it on redirect).
    const direct = await fetch(absolute(res.headers.get('location')));
    assert.equal(direct.status, 200);
    return new Uint8Array(await direct.arrayBuffer());
  }
  assert.equal(res.status, 200);
  return new Uint8Array(await res.arrayBuffer());
}

async function pushSmallBlob(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = sha256(bytes);
  const { location } = await startUpload();
  const res = await call(withDigest(location, digest), {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length) },
    body: bytes,
  });
  assert.equal(res.status, 201, await res.text());
  return digest;
}

describe('Berth on Lambda (Function URL bridge, S3)', { timeout: 240_000 }, () => {
  const layer = new Uint8Array(randomBytes(20 * MiB));
  let layerDigest = '';

  before(async () => {
    target = await startLambdaTarget({ port: PORT, env: { BERTH_ADMIN_PASSWORD: PASSWORD } });
    token = await login(`repository:${REPO}:push,pull`);
  });
  after(async () => {
    await target?.stop();
  });

  it('advertises 4 MiB chunks and pushes a 20 MiB blob in 4 MiB PATCHes, pulled back byte-identical', async () => {
    const { chunkMin } = await startUpload();
    assert.equal(chunkMin, String(CHUNK));
    const t0 = performance.now();
    const pushed = await pushChunked(layer);
    const pushMs = performance.now() - t0;
    layerDigest = pushed.digest;
    const t1 = performance.now();
    const back = await pullBlob(layerDigest);
    const pullMs = performance.now() - t1;
    assert.equal(back.length, layer.length);
    assert.ok(Buffer.from(back).equals(Buffer.from(layer)), 'pulled bytes differ');
    const mibps = (ms: number): string => ((layer.length / MiB) / (ms / 1000)).toFixed(1);
    console.log(
      `lambda bridge: 20 MiB in ${pushed.patchMs.length} PATCHes of 4 MiB: ` +
        `PATCH ms ${pushed.patchMs.map((m) => m.toFixed(0)).join('/')}, PUT ?digest ${pushed.putMs.toFixed(0)} ms, ` +
        `push ${pushMs.toFixed(0)} ms (${mibps(pushMs)} MiB/s), pull via 307 ${pullMs.toFixed(0)} ms (${mibps(pullMs)} MiB/s)`,
    );
  });

  it("answers Berth's OCI 413 for a body over 4 MiB, and Lambda's for one over 6 MB, keeping the session", async () => {
    const { location: first } = await startUpload();
    const head = new Uint8Array(randomBytes(MiB));
    const ok = await patch(first, head, 0);
    await ok.arrayBuffer();
    assert.equal(ok.status, 202);
    const location = absolute(ok.headers.get('location'));

    // Over Berth's limit, inside Lambda's payload: the registry itself refuses, naming the limit.
    const over = new Uint8Array(randomBytes(CHUNK + 256 * 1024));
    const refused = await patch(location, over, head.length);
    assert.equal(refused.status, 413);
    assert.match(refused.headers.get('content-type') ?? '', /application\/json/);
    const body = (await refused.json()) as { errors: { code: string; message: string; detail?: { limit?: number } }[] };
    assert.equal(body.errors[0]?.code, 'BLOB_UPLOAD_INVALID');
    assert.match(body.errors[0]!.message, new RegExp(String(CHUNK)));
    assert.equal(body.errors[0]?.detail?.limit, CHUNK);

    // 10 MB: the invocation payload would exceed 6 MB, so the Function URL answers 413 and the
    // function never runs (no OCI body is possible here on real Lambda either).
    const huge = new Uint8Array(randomBytes(10 * 1000 * 1000));
    const tooBig = await patch(location, huge, head.length);
    const text = await tooBig.text();
    assert.equal(tooBig.status, 413);
    assert.match(text, /6291456 bytes/);

    // Nothing was stored: the session still holds exactly the first MiB…
    const status = await call(location);
    await status.arrayBuffer();
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), `0-${head.length - 1}`);
    // …and neither oversized body became a blob.
    for (const bytes of [over, huge]) {
      const res = await call(`/v2/${REPO}/blobs/${sha256(bytes)}`, { method: 'HEAD' });
      assert.equal(res.status, 404);
    }
    // The session goes on where it was.
    const next = await patch(location, over.subarray(0, MiB), head.length);
    await next.arrayBuffer();
    assert.equal(next.status, 202);
    assert.equal(next.headers.get('range'), `0-${2 * MiB - 1}`);
  });

  it('pushes a manifest by tag and pulls it back by tag and digest', async () => {
    assert.ok(layerDigest, 'the chunked push must have run first');
    const config = new TextEncoder().encode(JSON.stringify({ architecture: 'arm64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const configDigest = await pushSmallBlob(config);
    const manifest = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
      }),
    );
    const digest = sha256(manifest);
    const put = await call(`/v2/${REPO}/manifests/v1`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
      body: manifest,
    });
    assert.equal(put.status, 201, await put.text());
    assert.equal(put.headers.get('docker-content-digest'), digest);

    for (const ref of ['v1', digest]) {
      const got = await call(`/v2/${REPO}/manifests/${ref}`, {
        headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      const bytes = new Uint8Array(await got.arrayBuffer());
      assert.equal(got.status, 200);
      assert.equal(got.headers.get('docker-content-digest'), digest);
      assert.equal(got.headers.get('content-type'), 'application/vnd.oci.image.manifest.v1+json');
      assert.ok(Buffer.from(bytes).equals(Buffer.from(manifest)));
    }
    const headRes = await call(`/v2/${REPO}/manifests/v1`, { method: 'HEAD' });
    assert.equal(headRes.status, 200);
    assert.equal(headRes.headers.get('content-length'), String(manifest.length));

    const tags = await call(`/v2/${REPO}/tags/list`);
    assert.deepEqual(await tags.json(), { name: REPO, tags: ['v1'] });
  });

  it('refuses a path with dot segments (from the event\'s rawPath) with NAME_INVALID, acting on nothing', async () => {
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' };
    for (const path of [`/v2/x/../${REPO}/manifests/dots`, `/v2/x/%2e%2e/${REPO}/manifests/dots`, `/v2/${REPO}/./manifests/dots`]) {
      const res = await requestPath(target.url, { method: 'PUT', path, headers, body: '{}' });
      assert.equal(res.status, 400, `${path}: ${res.text}`);
      assert.equal(errorCodeOf(res.text), 'NAME_INVALID');
    }
    const tags = await call(`/v2/${REPO}/tags/list`);
    assert.deepEqual(await tags.json(), { name: REPO, tags: ['v1'] });
  });
});

/**
 * The same path through what is actually deployed (the esbuild bundle from `build:aws`, ESM with
 * lazily loaded chunks) and through `bufferedHandler` (InvokeMode BUFFERED): a push in two
 * chunks (4 MiB + 2 MiB, so one S3 part plus a carried tail), a pull, a manifest round trip.
 */
for (const variant of ['bundle', 'buffered'] as const) {
  describe(`Berth on Lambda: ${variant === 'bundle' ? 'built bundle (dist layout)' : 'buffered handler'}`, { timeout: 120_000 }, () => {
    let buildDir = '';

    before(async () => {
      let entry: string | undefined;
      if (variant === 'bundle') {
        buildDir = mkdtempSync(join(tmpdir(), 'berth-lambda-build-'));
        entry = (await buildLambda(buildDir)).entry;
      }
      const port = variant === 'bundle' ? PORT + 4 : PORT + 8;
      target = await startLambdaTarget({
        port,
        env: { BERTH_ADMIN_PASSWORD: PASSWORD },
        mode: variant === 'buffered' ? 'buffered' : 'streaming',
        ...(entry ? { entry } : {}),
      });
      token = await login(`repository:${REPO}:push,pull`);
    });
    after(async () => {
      await target?.stop();
      if (buildDir) rmSync(buildDir, { recursive: true, force: true });
    });

    it('pushes in chunks, pulls back, and round-trips a manifest', async () => {
      const blob = new Uint8Array(randomBytes(6 * MiB));
      const { digest } = await pushChunked(blob);
      const back = await pullBlob(digest);
      assert.ok(Buffer.from(back).equals(Buffer.from(blob)));
      const config = new TextEncoder().encode('{"architecture":"amd64","os":"linux"}');
      const configDigest = await pushSmallBlob(config);
      const manifest = new TextEncoder().encode(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: blob.length }],
        }),
      );
      const put = await call(`/v2/${REPO}/manifests/${variant}`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
        body: manifest,
      });
      assert.equal(put.status, 201, await put.text());
      const got = await call(`/v2/${REPO}/manifests/${variant}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
      assert.equal(got.status, 200);
      assert.ok(Buffer.from(await got.arrayBuffer()).equals(Buffer.from(manifest)));
    });

    if (variant === 'bundle') {
      it('runs the scheduled cleanup entry (index.scheduled) against the same bucket', async () => {
        // What the EventBridge rule invokes: a fresh process importing the bundle.
        const run = spawnSync(
          process.execPath,
          ['--input-type=module', '-e', 'const m = await import(process.env.ENTRY); console.log(JSON.stringify(await m.scheduled()));'],
          { encoding: 'utf8', env: { ...target.env, ENTRY: pathToFileURL(join(buildDir, 'index.mjs')).href } },
        );
        assert.equal(run.status, 0, run.stderr);
        const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as { expired: number };
        assert.equal(typeof result.expired, 'number');
      });
    }
  });
}
