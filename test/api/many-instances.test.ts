/**
 * Several Berth instances on one bucket are one registry: two Node server processes on the same
 * real S3 server, started at the same moment on an empty bucket. An upload started on one
 * finishes on the other, a token issued by one verifies on the other (the signing key is in the
 * bucket), an image pushed through one pulls through the other, and GC run on one while the
 * other takes a push keeps everything the push wrote.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type BerthProcess } from '../support/berth-process.ts';
import { startS3Server, type S3Server } from '../support/s3-server.ts';
import { berthS3Env } from '../support/target-s3.ts';
import { testPort } from '../support/ports.ts';
import { ADMIN } from '../support/targets.ts';
import { RegistryClient, bearerToken, describe as show, randomBlob, sha256, withDigest, type Bytes } from '../support/registry-client.ts';

const PORT = testPort(15170);
const MiB = 1024 * 1024;
// Short enough for the test to outwait, long enough for a small push to finish inside it.
const GRACE_SECONDS = 5;
const basic = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;

/** Manifest and every blob of `repo:tag` through `client`, checked against their digests. */
async function pullImage(client: RegistryClient, repo: string, tag: string): Promise<number> {
  const res = await client.fetch(`/v2/${repo}/manifests/${tag}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(res.status, 200, await show(res));
  const manifest = (await res.json()) as { config: { digest: string }; layers: { digest: string }[] };
  let bytes = 0;
  for (const { digest } of [manifest.config, ...manifest.layers]) {
    const blob = await client.fetch(`/v2/${repo}/blobs/${digest}`, { redirect: 'follow' });
    assert.equal(blob.status, 200, await show(blob));
    const body = new Uint8Array(await blob.arrayBuffer());
    assert.equal(sha256(body), digest);
    bytes += body.byteLength;
  }
  return bytes;
}

describe('two instances on one bucket', () => {
  let s3: S3Server;
  let a: BerthProcess;
  let b: BerthProcess;
  let viaA: RegistryClient;
  let viaB: RegistryClient;

  before(async () => {
    s3 = await startS3Server({ port: PORT + 2, conditionalWrites: true });
    // Behind a load balancer every instance sees the same host; here each has its own port, so
    // the token audience (BERTH_SERVICE) is set the same on both, as a deployment would.
    const env = {
      ...berthS3Env(s3, true),
      BERTH_ADMIN_PASSWORD: ADMIN.password,
      BERTH_GC_GRACE_SECONDS: String(GRACE_SECONDS),
      BERTH_SERVICE: 'registry.multi.test',
    };
    // Both start at once on an empty bucket: they race to create the admin and the signing key.
    [a, b] = await Promise.all([startBerth({ port: PORT, env }), startBerth({ port: PORT + 1, env })]);
    viaA = new RegistryClient(a.url, ADMIN);
    viaB = new RegistryClient(b.url, ADMIN);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await s3?.stop();
  });

  it('a token issued by one instance verifies on the other', async () => {
    const token = await bearerToken(a.url, ADMIN, 'repository:multi/token:pull,push');
    const onB = await fetch(`${b.url}/v2/`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(onB.status, 200, await show(onB));
    const start = await fetch(`${b.url}/v2/multi/token/blobs/uploads/`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    assert.equal(start.status, 202, 'the scope granted by A is honoured by B');
    const tampered = await fetch(`${b.url}/v2/`, { headers: { Authorization: `Bearer ${token.slice(0, -4)}AAAA` } });
    assert.equal(tampered.status, 401);
  });

  it('an upload started on one instance finishes on the other', async () => {
    const blob = randomBlob(12 * MiB + 12345);
    const digest = sha256(blob);
    const location = await viaA.startUpload('multi/upload');
    const half = 6 * MiB;
    const first = await viaB.fetch(location, { method: 'PATCH', body: blob.subarray(0, half), headers: { 'Content-Range': `0-${half - 1}`, 'Content-Type': 'application/octet-stream' } });
    assert.equal(first.status, 202, await show(first));
    const status = await viaA.fetch(location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), `0-${half - 1}`, 'A sees what B received');
    const rest = blob.subarray(half);
    const put = await viaA.fetch(withDigest(first.headers.get('location') ?? location, digest), {
      method: 'PUT',
      body: rest,
      headers: { 'Content-Range': `${half}-${blob.byteLength - 1}`, 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(put.status, 201, await show(put));
    const got = await viaB.fetch(`/v2/multi/upload/blobs/${digest}`, { redirect: 'follow' });
    assert.equal(got.status, 200);
    assert.equal(sha256(new Uint8Array(await got.arrayBuffer())), digest);
  });

  it('an image pushed through one instance pulls through the other', async () => {
    const layers = [randomBlob(3 * MiB), randomBlob(64 * 1024)];
    const started = performance.now();
    await viaA.pushImage('multi/image', 'v1', layers);
    const pushed = performance.now();
    const bytes = await pullImage(viaB, 'multi/image', 'v1');
    const pulled = performance.now();
    assert.ok(bytes >= 3 * MiB + 64 * 1024);
    console.log(`push through A ${Math.round(pushed - started)} ms, pull through B ${Math.round(pulled - pushed)} ms (${bytes} bytes)`);
    const tags = await viaB.fetch('/v2/multi/image/tags/list');
    assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, ['v1']);
  });

  it('GC on one instance while the other takes a push keeps the push whole and frees what was deleted', async () => {
    const repo = 'multi/gc';
    const old: Bytes[] = [randomBlob(512 * 1024)];
    const gone = await viaB.pushImage(repo, 'old', old);
    const del = await viaB.fetch(`/v2/${repo}/manifests/${gone.digest}`, { method: 'DELETE' });
    assert.equal(del.status, 202, await show(del));
    // Let what was deleted age past the grace period, so GC has something to free.
    await new Promise((resolve) => setTimeout(resolve, (GRACE_SECONDS + 1) * 1000));

    const fresh = [randomBlob(MiB), randomBlob(200 * 1024)];
    const [gc] = await Promise.all([
      fetch(`${a.url}/admin/gc?dryRun=false`, { method: 'POST', headers: { Authorization: basic, 'Content-Type': 'application/json' } }).then(async (res) => {
        assert.equal(res.status, 200, await show(res));
        return (await res.json()) as { complete: boolean; dataObjects: { deleted: number } };
      }),
      viaB.pushImage(repo, 'new', fresh),
    ]);
    assert.equal(gc.complete, true);
    assert.ok(gc.dataObjects.deleted >= 1, `GC freed ${gc.dataObjects.deleted} data objects`);
    assert.equal(await pullImage(viaA, repo, 'new') >= MiB + 200 * 1024, true, 'the concurrent push pulls whole from the GC instance');
    assert.equal(await pullImage(viaB, repo, 'new') >= MiB + 200 * 1024, true);
    const oldLayer = sha256(old[0]!);
    assert.equal((await viaA.fetch(`/v2/${repo}/blobs/${oldLayer}`, { method: 'HEAD' })).status, 404, 'the deleted image’s layer is gone');
  });
});
