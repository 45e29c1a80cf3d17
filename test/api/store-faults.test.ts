/**
 * Berth on the S3 driver with a fault-injecting proxy (test/support/fault-proxy-child.ts, its own
 * process) between the driver and a real local S3 server. Each test reproduces one sequence a
 * store and its network produce under stress, checks in the proxy's log that the sequence really
 * happened, and then checks what clients and the bucket see: the same session's retry succeeds,
 * a cut small read is no 500, no tail outlives its session once the cleanup job runs, a dead
 * store is answered within the configured budget, nothing is published unverified, and every
 * blob pushed here reads back intact at the end.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startS3Target, type S3Target } from '../support/target-s3.ts';
import type { FaultProxy, LogEntry } from '../support/fault-proxy.ts';
import { describe as explain, errorCode, OCI_MANIFEST, sha256, withDigest, type Bytes } from '../support/registry-client.ts';
import { testPort } from '../support/ports.ts';
import { createS3Store } from '../../worker/storage/s3.ts';
import { s3OptionsFromEnv } from '../../worker/storage/s3-config.ts';
import { checkedStore } from '../../worker/storage/checked.ts';
import { listKeys, type ObjectStore } from '../../worker/storage/types.ts';
import { expireUploads } from '../../worker/registry/cleanup.ts';
import { registryConfigFromEnv } from '../../worker/config.ts';

const PORT = testPort(15970);
const MiB = 1024 * 1024;
const PART = 5 * MiB;
/** BERTH_S3_TIMEOUT_MS for this suite: the dead-store test waits about this long per request. */
const BUDGET_MS = 6000;

let target: S3Target;
let faults: FaultProxy;
/** The bucket itself, bypassing the proxy, to see what is (not) stored. */
let bucket: ObjectStore;
/** Every blob a test pushed successfully: all must read back intact at the end. */
const pushed: { repo: string; digest: string; bytes: Bytes }[] = [];

before(async () => {
  target = await startS3Target({
    port: PORT,
    faults: true,
    env: { BERTH_AUTH: 'none', BERTH_PART_SIZE_MB: String(PART / MiB), BERTH_S3_TIMEOUT_MS: String(BUDGET_MS) },
  });
  assert.ok(target.faults);
  faults = target.faults;
  bucket = checkedStore(createS3Store(s3OptionsFromEnv(target.storeEnv)));
});

after(async () => {
  await target?.stop();
});

const url = (path: string): string => new URL(path, target.url).toString();

function blob(size: number): Bytes {
  return new Uint8Array(randomBytes(size));
}

function concat(...parts: Bytes[]): Bytes {
  return new Uint8Array(Buffer.concat(parts));
}

interface Started {
  location: string;
  uploadId: string;
}

async function startUpload(repo: string): Promise<Started> {
  const res = await fetch(url(`/v2/${repo}/blobs/uploads/`), { method: 'POST' });
  assert.equal(res.status, 202, await explain(res));
  const location = res.headers.get('location') ?? '';
  return { location, uploadId: location.split('/').pop() ?? '' };
}

async function patch(location: string, bytes: Bytes, range?: { start: number }): Promise<string> {
  const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
  if (range) headers['Content-Range'] = `${range.start}-${range.start + bytes.byteLength - 1}`;
  const res = await fetch(url(location), { method: 'PATCH', body: bytes, headers });
  assert.equal(res.status, 202, await explain(res));
  return res.headers.get('location') ?? location;
}

/** POST + one PATCH (as skopeo sends a layer); the caller finishes with `finish`. */
async function uploaded(repo: string, bytes: Bytes): Promise<Started> {
  const started = await startUpload(repo);
  return { ...started, location: await patch(started.location, bytes) };
}

function finish(location: string, digest: string): Promise<Response> {
  return fetch(url(withDigest(location, digest)), { method: 'PUT' });
}

async function expectFinished(res: Response, repo: string, bytes: Bytes): Promise<void> {
  assert.equal(res.status, 201, await explain(res));
  pushed.push({ repo, digest: sha256(bytes), bytes });
  await expectReadable(repo, sha256(bytes), bytes);
}

async function expectReadable(repo: string, digest: string, bytes: Bytes): Promise<void> {
  const res = await fetch(url(`/v2/${repo}/blobs/${digest}`));
  assert.equal(res.status, 200, await explain(res));
  assert.equal(sha256(new Uint8Array(await res.arrayBuffer())), sha256(bytes));
}

async function headStatus(repo: string, digest: string): Promise<number> {
  return (await fetch(url(`/v2/${repo}/blobs/${digest}`), { method: 'HEAD' })).status;
}

async function sessionStatus(location: string): Promise<{ status: number; range: string | null }> {
  const res = await fetch(url(location));
  await res.body?.cancel();
  return { status: res.status, range: res.headers.get('range') };
}

async function sessionKeys(uploadId: string): Promise<string[]> {
  return (await listKeys(bucket, { prefix: `uploads/${uploadId}/` })).keys;
}

/** Log entries of one operation on keys matching `key`. */
async function seen(op: LogEntry['op'], key: RegExp): Promise<LogEntry[]> {
  return (await faults.log()).filter((entry) => entry.op === op && key.test(entry.key));
}

async function withFaults(rules: Parameters<FaultProxy['add']>, run: () => Promise<void>): Promise<void> {
  await faults.clear();
  await faults.clearLog();
  await faults.add(...rules);
  try {
    await run();
  } finally {
    await faults.clear();
  }
}

describe('store faults on the S3 driver, through a fault-injecting proxy', { timeout: 300_000 }, () => {
  it('a lost answer to CompleteMultipartUpload: the same request completes', async () => {
    const repo = 'faults/lost-complete';
    const bytes = blob(PART + 1234);
    const { location, uploadId } = await uploaded(repo, bytes);
    await withFaults([{ op: 'CompleteMultipartUpload', fault: 'lose-answer', times: 1 }], async () => {
      const res = await finish(location, sha256(bytes));
      const completes = await seen('CompleteMultipartUpload', /^data\//);
      assert.equal(completes[0]?.fault, 'lose-answer');
      assert.equal(completes[0]?.status, 200, 'the first completion landed in the store');
      assert.ok(completes.slice(1).some((e) => e.status === 404), `the SDK's retry got NoSuchUpload: ${JSON.stringify(completes)}`);
      await expectFinished(res, repo, bytes);
    });
    assert.deepEqual(await sessionKeys(uploadId), []);
  });

  it('every answer to the completion lost: 500, the session stays, and its retry completes', async () => {
    const repo = 'faults/lost-completes';
    const bytes = blob(PART + 999);
    const { location, uploadId } = await uploaded(repo, bytes);
    await withFaults([{ op: 'CompleteMultipartUpload', fault: 'lose-answer' }], async () => {
      const res = await finish(location, sha256(bytes));
      assert.equal(res.status, 500, await explain(res));
      assert.equal(await errorCode(res), 'INTERNAL_ERROR');
    });
    assert.deepEqual(await sessionStatus(location), { status: 204, range: `0-${bytes.byteLength - 1}` });
    assert.equal(await headStatus(repo, sha256(bytes)), 404, 'nothing is published before a finish succeeds');
    assert.ok(await bucket.head(`data/${uploadId}`), 'the store did assemble the data');
    await expectFinished(await finish(location, sha256(bytes)), repo, bytes);
    assert.deepEqual(await sessionKeys(uploadId), []);
  });

  it('a retry with another digest after the data was assembled publishes nothing', async () => {
    const repo = 'faults/wrong-retry';
    const bytes = blob(PART + 77);
    const { location } = await uploaded(repo, bytes);
    await withFaults([{ op: 'CompleteMultipartUpload', fault: 'lose-answer' }], async () => {
      assert.equal((await finish(location, sha256(bytes))).status, 500);
    });
    const wrong = sha256(blob(16));
    const res = await finish(location, wrong);
    assert.equal(res.status, 400, await explain(res));
    assert.equal(await errorCode(res), 'DIGEST_INVALID');
    assert.equal(await headStatus(repo, wrong), 404);
    assert.equal(await headStatus(repo, sha256(bytes)), 404);
    assert.equal((await sessionStatus(location)).status, 404, 'a digest mismatch discards the session');
  });

  it('the blob record write fails on every attempt: 500 and nothing published; the retry publishes', async () => {
    const repo = 'faults/record';
    // Smaller than a part (assembled with one plain write), and a part plus a tail (multipart).
    for (const bytes of [blob(300_000), blob(PART + 5)]) {
      const { location } = await uploaded(repo, bytes);
      await withFaults([{ op: 'PutObject', key: '^blobs/', fault: 'status', status: 503 }], async () => {
        const res = await finish(location, sha256(bytes));
        assert.equal(res.status, 500, await explain(res));
        assert.equal((await seen('PutObject', /^blobs\//)).length, 3, 'the SDK tried three times');
      });
      assert.equal(await headStatus(repo, sha256(bytes)), 404);
      assert.equal((await sessionStatus(location)).status, 204);
      await expectFinished(await finish(location, sha256(bytes)), repo, bytes);
    }
  });

  it('a lost answer to the record write: the SDK retry meets the record and the request completes', async () => {
    const repo = 'faults/record-lost';
    const bytes = blob(PART + 4321);
    const { location } = await uploaded(repo, bytes);
    await withFaults([{ op: 'PutObject', key: '^blobs/', fault: 'lose-answer', times: 1 }], async () => {
      const res = await finish(location, sha256(bytes));
      const writes = await seen('PutObject', /^blobs\//);
      assert.equal(writes[0]?.fault, 'lose-answer');
      assert.ok(writes.slice(1).some((e) => e.status === 412), `the retry found the record created: ${JSON.stringify(writes)}`);
      await expectFinished(res, repo, bytes);
    });
  });

  it('a PUT carrying the last chunk whose finish fails: the retry does not append the chunk again', async () => {
    const repo = 'faults/last-chunk';
    const first = blob(PART + 10);
    const last = blob(50_000);
    const bytes = concat(first, last);
    const { location } = await uploaded(repo, first);
    const put = (): Promise<Response> => fetch(url(withDigest(location, sha256(bytes))), {
      method: 'PUT',
      body: last,
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${first.byteLength}-${bytes.byteLength - 1}` },
    });
    await withFaults([{ op: 'PutObject', key: '^blobs/', fault: 'status', status: 503 }], async () => {
      assert.equal((await put()).status, 500);
    });
    assert.deepEqual(await sessionStatus(location), { status: 204, range: `0-${bytes.byteLength - 1}` });
    await expectFinished(await put(), repo, bytes);
  });

  it('a cut re-read for a deferred digest resumes; cut every time it fails, and the retry completes', async () => {
    const repo = 'faults/deferred';
    // A first PATCH without Content-Range seals a native digest; a chunk after it defers the
    // check to a read of the assembled object.
    const deferredUpload = async (): Promise<{ location: string; bytes: Bytes }> => {
      const head = blob(PART + 100);
      const tail = blob(70_000);
      const { location } = await startUpload(repo);
      const next = await patch(location, head);
      return { location: await patch(next, tail, { start: head.byteLength }), bytes: concat(head, tail) };
    };

    const once = await deferredUpload();
    await withFaults([{ op: 'GetObject', key: '^data/', fault: 'cut-body', afterBytes: MiB, times: 1 }], async () => {
      const res = await finish(once.location, sha256(once.bytes));
      const reads = await seen('GetObject', /^data\//);
      assert.equal(reads[0]?.fault, 'cut-body');
      assert.equal(reads[1]?.range, `bytes=${MiB}-`, `the read resumed where it was cut: ${JSON.stringify(reads)}`);
      await expectFinished(res, repo, once.bytes);
    });

    const always = await deferredUpload();
    await withFaults([{ op: 'GetObject', key: '^data/', fault: 'cut-body', afterBytes: MiB }], async () => {
      const res = await finish(always.location, sha256(always.bytes));
      assert.equal(res.status, 500, await explain(res));
    });
    assert.equal((await sessionStatus(always.location)).status, 204);
    await expectFinished(await finish(always.location, sha256(always.bytes)), repo, always.bytes);
  });

  it('a cut small read (session, link, tag, record) is read again, never a 500; one cut every time names its key', async () => {
    const repo = 'faults/small-reads';
    await withFaults([{ op: 'GetObject', key: '(/session|/tail\\.|_layers/|_tags/|^blobs/)', fault: 'cut-body', afterBytes: 2, times: 1, perKey: true }], async () => {
      const config = new TextEncoder().encode(JSON.stringify({ architecture: 'amd64', os: 'linux' }));
      const layer = blob(PART + 20_000);
      for (const bytes of [config, layer]) {
        const { location } = await uploaded(repo, bytes);
        await expectFinished(await finish(location, sha256(bytes)), repo, bytes);
      }
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.byteLength },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.byteLength }],
      });
      const put = await fetch(url(`/v2/${repo}/manifests/v1`), { method: 'PUT', body: manifest, headers: { 'Content-Type': OCI_MANIFEST } });
      assert.equal(put.status, 201, await explain(put));
      const got = await fetch(url(`/v2/${repo}/manifests/v1`), { headers: { Accept: OCI_MANIFEST } });
      assert.equal(got.status, 200, await explain(got));
      assert.equal(await got.text(), manifest);
      const cuts = (await faults.log()).filter((e) => e.fault === 'cut-body');
      assert.ok(cuts.some((e) => e.key.endsWith('/session')), 'a session read was cut');
      assert.ok(cuts.some((e) => e.key.includes('/_layers/')), 'a link read was cut');
      assert.ok(cuts.some((e) => e.key.includes('/_tags/')), 'a tag read was cut');
    });

    const tagKey = `repositories/${repo}/_tags/v1`;
    await withFaults([{ op: 'GetObject', key: `^${tagKey}$`, fault: 'cut-body', afterBytes: 2 }], async () => {
      const res = await fetch(url(`/v2/${repo}/manifests/v1`), { headers: { Accept: OCI_MANIFEST } });
      assert.equal(res.status, 500, await explain(res));
      assert.equal((await seen('GetObject', new RegExp(`^${tagKey}$`))).length, 3, 'read three times');
    });
    const errorLine = target.logs().split('\n').find((line) => line.includes('StoreError') && line.includes(`read ${tagKey} failed`));
    assert.ok(errorLine, `the error line names the key ${tagKey}:\n${target.logs().slice(-2000)}`);
  });

  it('a finish that fails while deleting its tails leaves its session, and the cleanup job leaves nothing', async () => {
    const repo = 'faults/tails';
    const bytes = blob(PART + 3000); // a full part and a tail
    const { location, uploadId } = await uploaded(repo, bytes);
    await withFaults([{ op: 'DeleteObject', key: '/tail\\.', fault: 'status', status: 503 }], async () => {
      assert.equal((await finish(location, sha256(bytes))).status, 500);
    });
    const left = await sessionKeys(uploadId);
    assert.ok(left.includes(`uploads/${uploadId}/session`), `the session outlives its tails: ${left.join(', ')}`);
    // Tails from before, whose session is gone (older versions deleted the session first).
    const orphan = `uploads/${'o'.repeat(24)}/tail.${PART + 1}`;
    await bucket.put(orphan, blob(1));

    const config = registryConfigFromEnv({});
    const later = new Date(Date.now() + (config.uploadExpirySeconds + 60) * 1000);
    const result = await expireUploads(bucket, config, later);
    assert.ok(result.expired >= 1, JSON.stringify(result));
    assert.ok(result.orphanedTails >= 1, JSON.stringify(result));
    assert.deepEqual((await listKeys(bucket, { prefix: 'uploads/' })).keys, []);
    // The blob was published before the failure and stays readable after the cleanup.
    pushed.push({ repo, digest: sha256(bytes), bytes });
    await expectReadable(repo, sha256(bytes), bytes);
  });

  it('a dead store is answered within BERTH_S3_TIMEOUT_MS, retries included', async () => {
    const repo = 'faults/dead';
    await withFaults([{ op: '*', fault: 'blackhole' }], async () => {
      for (const request of [
        () => fetch(url(`/v2/${repo}/manifests/latest`)),
        () => fetch(url(`/v2/${repo}/blobs/uploads/`), { method: 'POST' }),
      ]) {
        const started = performance.now();
        const res = await request();
        const elapsed = performance.now() - started;
        assert.equal(res.status, 500, await explain(res));
        assert.equal(await errorCode(res), 'INTERNAL_ERROR');
        // A bound, not a speed: three attempts of the whole timeout each would take 3 × BUDGET_MS.
        assert.ok(elapsed < BUDGET_MS * 1.5, `answered after ${Math.round(elapsed)} ms; the budget is ${BUDGET_MS} ms`);
      }
      const attempts = (await faults.log()).filter((e) => e.fault === 'blackhole');
      assert.ok(attempts.length >= 2 && attempts.length <= 6, `each operation made at most 3 attempts: ${attempts.length}`);
    });
    const res = await fetch(url(`/v2/${repo}/manifests/latest`));
    assert.equal(res.status, 404, 'the store is back');
  });

  it('a manifest naming 10,000 unknown layers is refused after a bounded number of reads', async () => {
    const repo = 'faults/many-layers';
    const config = new TextEncoder().encode('{}');
    const { location } = await uploaded(repo, config);
    await expectFinished(await finish(location, sha256(config)), repo, config);
    const layers = Array.from({ length: 10_000 }, () => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar',
      digest: sha256(randomBytes(16)),
      size: 16,
    }));
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.byteLength },
      layers,
    });
    await faults.clearLog();
    const res = await fetch(url(`/v2/${repo}/manifests/v1`), { method: 'PUT', body: manifest, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(res.status, 400, await explain(res));
    const body = (await res.json()) as { errors: { code: string; detail: { digests: string[] } }[] };
    assert.equal(body.errors[0]?.code, 'MANIFEST_BLOB_UNKNOWN');
    assert.equal(body.errors[0]?.detail.digests.length, 20);
    const reads = (await faults.log()).filter((e) => e.key.includes('/_layers/'));
    assert.ok(reads.length < 200, `${reads.length} link reads for 10,000 layers`);
  });

  it('nothing pushed under faults is lost: every blob reads back intact', async () => {
    assert.ok(pushed.length >= 10, `${pushed.length} blobs pushed`);
    for (const { repo, digest, bytes } of pushed) await expectReadable(repo, digest, bytes);
  });
});
