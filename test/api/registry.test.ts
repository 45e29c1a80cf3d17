/**
 * The HTTP API suite (distribution-spec v1.1 with Docker Registry v2 compatibility), run against
 * every deployment in test/support/targets.ts: each is a real process spoken to over HTTP.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { ADMIN, BASE_ENV, selectedTargets, type Target } from '../support/targets.ts';
import {
  DOCKER_MANIFEST,
  OCI_INDEX,
  OCI_MANIFEST,
  RegistryClient,
  describe as explain,
  errorCode,
  randomBlob,
  sha256,
  withDigest,
  bearerToken,
  type Bytes,
} from '../support/registry-client.ts';
import { testPort } from '../support/ports.ts';

const BASE_PORT = testPort(15010);
const MiB = 1024 * 1024;

selectedTargets().forEach((spec, index) => {
  describe(`registry API on ${spec.name}`, { timeout: 600_000 }, () => {
    let target: Target;
    let client: RegistryClient;
    let startError: unknown = null;

    before(async () => {
      try {
        target = await spec.start(BASE_PORT + index * 10, { ...BASE_ENV });
        client = new RegistryClient(target.url, ADMIN);
      } catch (error) {
        startError = error;
      }
    });
    after(async () => {
      await target?.stop();
    });

    const ready = (): void => {
      if (startError) throw startError;
    };

    describe('base and errors', () => {
      it('GET /v2/ answers 200 with the API version header', async () => {
        ready();
        const res = await client.fetch('/v2/');
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
      });

      it('anonymous GET /v2/ gets 401 with a Bearer challenge', async () => {
        ready();
        const res = await fetch(`${target.url}/v2/`);
        assert.equal(res.status, 401);
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="[^"]+\/token",service="[^"]+"/);
        assert.equal(await errorCode(res), 'UNAUTHORIZED');
      });

      it('unknown paths answer 404 and wrong methods 405, both as OCI error JSON', async () => {
        ready();
        const missing = await client.fetch('/v2/team/app/nothing/here');
        assert.equal(missing.status, 404);
        assert.ok(await errorCode(missing));
        const wrong = await client.fetch('/v2/team/app/tags/list', { method: 'POST' });
        assert.equal(wrong.status, 405);
        assert.equal(await errorCode(wrong), 'UNSUPPORTED');
      });

      it('invalid repository names and tags are refused before anything else', async () => {
        ready();
        for (const name of ['Upper/case', 'a//b', 'trailing-', '-lead', 'x'.repeat(300), '..%2F..%2Fetc']) {
          const res = await client.fetch(`/v2/${name}/tags/list`);
          assert.ok(res.status === 400 || res.status === 404, `${name}: ${res.status}`);
          if (res.status === 400) assert.equal(await errorCode(res), 'NAME_INVALID');
        }
        const badTag = await client.putManifest('team/app', '-bad-tag', '{}');
        assert.equal(badTag.status, 400);
        assert.equal(await errorCode(badTag), 'TAG_INVALID');
      });
    });

    describe('blob uploads', () => {
      it('monolithic POST ?digest= publishes the blob', async () => {
        ready();
        const blob = randomBlob(3000);
        const digest = sha256(blob);
        const res = await client.fetch(`/v2/mono/app/blobs/uploads/?digest=${digest}`, {
          method: 'POST',
          body: blob,
          headers: { 'Content-Type': 'application/octet-stream' },
        });
        assert.equal(res.status, 201, await explain(res));
        assert.equal(res.headers.get('docker-content-digest'), digest);
        assert.ok(res.headers.get('location')?.endsWith(`/v2/mono/app/blobs/${digest}`));
        const head = await client.fetch(`/v2/mono/app/blobs/${digest}`, { method: 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal(head.headers.get('content-length'), '3000');
        assert.equal(head.headers.get('docker-content-digest'), digest);
      });

      it('POST then PUT with the whole body', async () => {
        ready();
        const blob = randomBlob(5000);
        const location = await client.startUpload('put/app');
        const res = await client.fetch(withDigest(location, sha256(blob)), { method: 'PUT', body: blob });
        assert.equal(res.status, 201, await explain(res));
        await assertBlobBytes(client, 'put/app', blob, spec.redirects);
      });

      it('a streamed PATCH without length (docker) spanning several parts, then an empty PUT', async () => {
        ready();
        const size = spec.maxBodyBytes ? Math.floor(spec.maxBodyBytes / 2) : 21 * MiB;
        const blob = randomBlob(size);
        const location = await client.startUpload('stream/app');
        const res = await streamedPatch(client.resolve(location), blob, await authHeader(client, 'stream/app'));
        assert.equal(res.status, 202, res.body);
        assert.equal(res.headers.range, `0-${size - 1}`);
        const put = await client.fetch(withDigest(res.headers.location ?? location, sha256(blob)), { method: 'PUT' });
        assert.equal(put.status, 201, await explain(put));
        await assertBlobBytes(client, 'stream/app', blob, spec.redirects);
      });

      it('chunked PATCHes with Content-Range, status, and a final PUT with the last chunk', async () => {
        ready();
        const blob = randomBlob(7 * MiB + 123);
        const chunk = 2 * MiB;
        let location = await client.startUpload('chunked/app');
        let offset = 0;
        while (offset + chunk < blob.byteLength) {
          const part = blob.subarray(offset, offset + chunk);
          const res = await client.fetch(location, {
            method: 'PATCH',
            body: part,
            headers: { 'Content-Range': `${offset}-${offset + part.byteLength - 1}`, 'Content-Type': 'application/octet-stream' },
          });
          assert.equal(res.status, 202, await explain(res));
          assert.equal(res.headers.get('range'), `0-${offset + part.byteLength - 1}`);
          location = res.headers.get('location') ?? location;
          offset += part.byteLength;
        }
        const status = await client.fetch(location);
        assert.equal(status.status, 204);
        assert.equal(status.headers.get('range'), `0-${offset - 1}`);
        assert.ok(status.headers.get('docker-upload-uuid'));
        const last = blob.subarray(offset);
        const put = await client.fetch(withDigest(location, sha256(blob)), {
          method: 'PUT',
          body: last,
          headers: { 'Content-Range': `${offset}-${blob.byteLength - 1}`, 'Content-Type': 'application/octet-stream' },
        });
        assert.equal(put.status, 201, await explain(put));
        await assertBlobBytes(client, 'chunked/app', blob, spec.redirects);
      });

      it('an out-of-order or overlapping chunk gets 416 and leaves the session usable', async () => {
        ready();
        const blob = randomBlob(4000);
        const location = await client.startUpload('order/app');
        const first = await client.fetch(location, { method: 'PATCH', body: blob.subarray(0, 1000), headers: { 'Content-Range': '0-999' } });
        assert.equal(first.status, 202);
        const gap = await client.fetch(location, { method: 'PATCH', body: blob.subarray(2000, 3000), headers: { 'Content-Range': '2000-2999' } });
        assert.equal(gap.status, 416);
        const overlap = await client.fetch(location, { method: 'PATCH', body: blob.subarray(500, 1500), headers: { 'Content-Range': '500-1499' } });
        assert.equal(overlap.status, 416);
        const next = await client.fetch(location, { method: 'PATCH', body: blob.subarray(1000), headers: { 'Content-Range': '1000-3999' } });
        assert.equal(next.status, 202, await explain(next));
        const put = await client.fetch(withDigest(location, sha256(blob)), { method: 'PUT' });
        assert.equal(put.status, 201, await explain(put));
      });

      it('a digest mismatch answers DIGEST_INVALID and publishes nothing under either digest', async () => {
        ready();
        const blob = randomBlob(2048);
        const wrong = sha256(randomBlob(16));
        const location = await client.startUpload('mismatch/app');
        const patch = await client.fetch(location, { method: 'PATCH', body: blob });
        assert.equal(patch.status, 202);
        const put = await client.fetch(withDigest(location, wrong), { method: 'PUT' });
        assert.equal(put.status, 400);
        assert.equal(await errorCode(put), 'DIGEST_INVALID');
        for (const digest of [wrong, sha256(blob)]) {
          const head = await client.fetch(`/v2/mismatch/app/blobs/${digest}`, { method: 'HEAD' });
          assert.equal(head.status, 404, digest);
        }
      });

      it('malformed and unsupported digests are refused with 4xx', async () => {
        ready();
        const location = await client.startUpload('baddigest/app');
        for (const digest of ['sha256:xyz', 'nodigest', 'sha256:' + 'A'.repeat(64), 'md5:' + 'a'.repeat(32)]) {
          const res = await client.fetch(withDigest(location, digest), { method: 'PUT', body: 'x' });
          assert.ok(res.status >= 400 && res.status < 500, `${digest}: ${res.status}`);
        }
        const blobHead = await client.fetch('/v2/baddigest/app/blobs/sha256:short', { method: 'HEAD' });
        assert.equal(blobHead.status, 400);
      });

      it('DELETE of an upload cancels it; unknown uploads are BLOB_UPLOAD_UNKNOWN', async () => {
        ready();
        const location = await client.startUpload('cancel/app');
        const del = await client.fetch(location, { method: 'DELETE' });
        assert.equal(del.status, 204);
        const status = await client.fetch(location);
        assert.equal(status.status, 404);
        assert.equal(await errorCode(status), 'BLOB_UPLOAD_UNKNOWN');
        const unknown = await client.fetch('/v2/cancel/app/blobs/uploads/does-not-exist-at-all', { method: 'PATCH', body: 'x' });
        assert.equal(unknown.status, 404);
        assert.equal(await errorCode(unknown), 'BLOB_UPLOAD_UNKNOWN');
      });

      it('an upload session belongs to its repository', async () => {
        ready();
        const location = await client.startUpload('owner/app');
        const id = location.split('/').pop();
        const res = await client.fetch(`/v2/other/app/blobs/uploads/${id}`);
        assert.equal(res.status, 404);
      });

      it('two concurrent uploads of the same content both succeed and leave one readable blob', async () => {
        ready();
        const blob = randomBlob(Math.min(6 * MiB, (spec.maxBodyBytes ?? Infinity) - 1));
        const [a, b] = await Promise.all([client.pushBlob('race/app', blob), client.pushBlob('race/app', blob)]);
        assert.equal(a, b);
        await assertBlobBytes(client, 'race/app', blob, spec.redirects);
      });

      it('a body over the deployment\'s limit gets 413 naming the limit, and nothing is stored', async (t) => {
        ready();
        if (spec.maxBodyBytes === undefined) return t.skip('this deployment has no request body limit');
        // Over Berth's limit but under the platform's own (Lambda's 6 MB payload), so Berth answers.
        const size = spec.maxBodyBytes + Math.min(MiB, spec.maxBodyBytes / 16);
        const blob = randomBlob(size);
        for (const streamed of [true, false]) {
          const location = await client.startUpload('limit/app');
          // Raw http, like Go clients: the answer may come before the body is all sent.
          const headers = await authHeader(client, 'limit/app');
          const { status, body } = await streamedPatch(client.resolve(location), blob, streamed ? headers : { ...headers, 'Content-Length': String(size) });
          assert.equal(status, 413, body);
          const error = (JSON.parse(body) as { errors: { code: string; message: string; detail: { limit: number } }[] }).errors[0]!;
          assert.equal(error.code, 'BLOB_UPLOAD_INVALID');
          assert.equal(error.detail.limit, spec.maxBodyBytes);
          assert.match(error.message, new RegExp(String(spec.maxBodyBytes)));
          assert.match(error.message, /npm run berth -- --url http:\/\/127\.0\.0\.1:\d+ push docker-daemon:IMAGE:TAG limit\/app:TAG/, 'the 413 gives the berth push command');
          const session = await client.fetch(location);
          assert.equal(session.status, 204);
          assert.equal(session.headers.get('range'), '0-0', 'the session holds no bytes');
          assert.equal((await client.fetch(`/v2/limit/app/blobs/${sha256(blob)}`, { method: 'HEAD' })).status, 404);
        }
      });

      it('advertises the largest chunk it takes (OCI-Chunk-Max-Length) where bodies are capped', async () => {
        ready();
        const res = await client.fetch('/v2/limit/chunks/blobs/uploads/', { method: 'POST' });
        assert.equal(res.status, 202);
        const max = res.headers.get('oci-chunk-max-length');
        if (spec.maxBodyBytes === undefined) assert.equal(max, null);
        else assert.equal(max, String(spec.maxBodyBytes));
      });

      it('direct uploads: presigned part URLs where the store can presign, UNSUPPORTED (fall back to chunks) where not', async () => {
        ready();
        const blob = randomBlob(1024);
        const res = await client.fetch('/v2/direct/probe/_berth/uploads/', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ digest: sha256(blob), size: blob.byteLength }),
        });
        if (!spec.redirects) {
          // fs and the R2 binding without S3 keys cannot presign.
          assert.equal(res.status, 405, await explain(res));
          assert.equal(await errorCode(res), 'UNSUPPORTED');
          return;
        }
        assert.equal(res.status, 202, await explain(res));
        const { location } = (await res.json()) as { location: string };
        const parts = await client.fetch(`${location}/parts`, { method: 'POST', body: JSON.stringify({ parts: [1] }) });
        const [part] = ((await parts.json()) as { parts: { url: string }[] }).parts;
        assert.equal((await fetch(part!.url, { method: 'PUT', body: blob })).status, 200);
        const done = await client.fetch(`${location}?digest=${sha256(blob)}`, { method: 'PUT' });
        assert.equal(done.status, 201, await explain(done));
        assert.equal((await client.fetch(`/v2/direct/probe/blobs/${sha256(blob)}`, { method: 'HEAD' })).status, 200);
      });

      it('a body cut off mid-way leaves nothing visible and the server answers on', async () => {
        ready();
        const blob = randomBlob(2 * MiB);
        const location = await client.startUpload('cutoff/app');
        await cutOffPatch(client.resolve(location), blob.subarray(0, MiB), blob.byteLength, await authHeader(client, 'cutoff/app'));
        const put = await client.fetch(withDigest(location, sha256(blob)), { method: 'PUT' });
        assert.ok(put.status >= 400 && put.status < 500, `PUT after cut-off: ${put.status}`);
        const head = await client.fetch(`/v2/cutoff/app/blobs/${sha256(blob)}`, { method: 'HEAD' });
        assert.equal(head.status, 404);
        assert.equal((await client.fetch('/v2/')).status, 200);
      });
    });

    describe('blob reads', () => {
      it('GET answers the bytes (or 307 to the store), Range gives 206, past the end 416', async () => {
        ready();
        const blob = randomBlob(10_000);
        const digest = await client.pushBlob('reads/app', blob);
        await assertBlobBytes(client, 'reads/app', blob, spec.redirects);
        if (!spec.redirects) {
          const partial = await client.fetch(`/v2/reads/app/blobs/${digest}`, { headers: { Range: 'bytes=100-199' } });
          assert.equal(partial.status, 206);
          assert.equal(partial.headers.get('content-range'), 'bytes 100-199/10000');
          assert.deepEqual(new Uint8Array(await partial.arrayBuffer()), blob.subarray(100, 200));
          const past = await client.fetch(`/v2/reads/app/blobs/${digest}`, { headers: { Range: 'bytes=20000-' } });
          assert.equal(past.status, 416);
        }
      });

      it('unknown blobs are BLOB_UNKNOWN; a blob is visible only in repositories it was pushed or mounted into', async () => {
        ready();
        const digest = await client.pushBlob('owner-a/app', randomBlob(100));
        const other = await client.fetch(`/v2/owner-b/app/blobs/${digest}`, { method: 'GET' });
        assert.equal(other.status, 404);
        assert.equal(await errorCode(other), 'BLOB_UNKNOWN');
      });

      it('cross-repository mount: 201 from a repository holding the blob, else a normal 202 upload', async () => {
        ready();
        const digest = await client.pushBlob('mount/source', randomBlob(777));
        // A token for the target alone gets a challenge naming the source too, as docker expects.
        const narrow = await bearerToken(target.url, ADMIN, 'repository:mount/target:pull,push');
        const challenged = await fetch(`${target.url}/v2/mount/target/blobs/uploads/?mount=${digest}&from=mount/source`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${narrow}` },
        });
        assert.equal(challenged.status, 401);
        assert.match(challenged.headers.get('www-authenticate') ?? '', /repository:mount\/source:pull/);
        const res = await client.fetch(`/v2/mount/target/blobs/uploads/?mount=${digest}&from=mount/source`, { method: 'POST' });
        assert.equal(res.status, 201, await explain(res));
        assert.equal(res.headers.get('docker-content-digest'), digest);
        const head = await client.fetch(`/v2/mount/target/blobs/${digest}`, { method: 'HEAD' });
        assert.equal(head.status, 200);
        const basic = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;
        const admin = (path: string, body: unknown) =>
          fetch(`${target.url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', Authorization: basic } });
        const created = await admin('/admin/users', { account: 'mounter', password: 'mounter-password', rules: ['mount/own/**=pull,push'] });
        assert.equal(created.status, 201, await explain(created));
        const mounter = new RegistryClient(target.url, { username: 'mounter', password: 'mounter-password' });
        const fallback = await mounter.fetch(`/v2/mount/own/x/blobs/uploads/?mount=${digest}&from=mount/source`, { method: 'POST' });
        assert.equal(fallback.status, 202, 'no pull on the source: a normal upload, not a mount');
        assert.equal((await mounter.fetch(`/v2/mount/own/x/blobs/${digest}`, { method: 'HEAD' })).status, 404);
        const miss = await client.fetch(`/v2/mount/target2/blobs/uploads/?mount=${sha256('nothing')}&from=mount/source`, { method: 'POST' });
        assert.equal(miss.status, 202);
        assert.ok(miss.headers.get('location'));
      });

      it('DELETE of a blob removes it from the repository', async () => {
        ready();
        const digest = await client.pushBlob('delblob/app', randomBlob(64));
        const del = await client.fetch(`/v2/delblob/app/blobs/${digest}`, { method: 'DELETE' });
        assert.equal(del.status, 202);
        const head = await client.fetch(`/v2/delblob/app/blobs/${digest}`, { method: 'HEAD' });
        assert.equal(head.status, 404);
      });
    });

    describe('manifests', () => {
      it('PUT by tag, then GET and HEAD by tag and digest with identical headers', async () => {
        ready();
        const { digest, body } = await client.pushImage('man/app', 'v1');
        for (const reference of ['v1', digest]) {
          const get = await client.fetch(`/v2/man/app/manifests/${reference}`, { headers: { Accept: OCI_MANIFEST } });
          assert.equal(get.status, 200);
          const head = await client.fetch(`/v2/man/app/manifests/${reference}`, { method: 'HEAD', headers: { Accept: OCI_MANIFEST } });
          assert.equal(head.status, 200);
          for (const header of ['content-type', 'content-length', 'docker-content-digest']) {
            assert.equal(head.headers.get(header), get.headers.get(header), header);
          }
          assert.equal(get.headers.get('docker-content-digest'), digest);
          assert.equal(get.headers.get('content-type'), OCI_MANIFEST);
          assert.equal(await get.text(), body);
        }
      });

      it('Docker schema 2 manifests and manifest lists round-trip; schema 1 is refused', async () => {
        ready();
        const config = '{"architecture":"amd64","os":"linux"}';
        const configDigest = await client.pushBlob('docker/app', config);
        const layer = randomBlob(200);
        const layerDigest = await client.pushBlob('docker/app', layer);
        const manifest = JSON.stringify({
          schemaVersion: 2,
          mediaType: DOCKER_MANIFEST,
          config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: configDigest },
          layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 200, digest: layerDigest }],
        });
        const put = await client.putManifest('docker/app', 'latest', manifest, DOCKER_MANIFEST);
        assert.equal(put.status, 201, await explain(put));
        const list = JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
          manifests: [{ mediaType: DOCKER_MANIFEST, size: manifest.length, digest: sha256(manifest), platform: { architecture: 'amd64', os: 'linux' } }],
        });
        const putList = await client.putManifest('docker/app', 'multi', list, 'application/vnd.docker.distribution.manifest.list.v2+json');
        assert.equal(putList.status, 201, await explain(putList));
        const get = await client.fetch('/v2/docker/app/manifests/multi');
        assert.equal(get.headers.get('content-type'), 'application/vnd.docker.distribution.manifest.list.v2+json');
        const schema1 = await client.putManifest('docker/app', 'old', JSON.stringify({ schemaVersion: 1, name: 'docker/app', tag: 'old', fsLayers: [] }), 'application/vnd.docker.distribution.manifest.v1+prettyjws');
        assert.equal(schema1.status, 400);
        assert.equal(await errorCode(schema1), 'MANIFEST_INVALID');
      });

      it('refuses manifests that are not valid or reference unknown blobs', async () => {
        ready();
        const notJson = await client.putManifest('bad/app', 't', '{not json');
        assert.equal(notJson.status, 400);
        assert.equal(await errorCode(notJson), 'MANIFEST_INVALID');
        const array = await client.putManifest('bad/app', 't', '[]');
        assert.equal(await errorCode(array), 'MANIFEST_INVALID');
        const missing = await client.putManifest('bad/app', 't', {
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('absent'), size: 6 },
          layers: [],
        });
        assert.equal(missing.status, 400);
        assert.equal(await errorCode(missing), 'MANIFEST_BLOB_UNKNOWN');
        const mismatch = await client.putManifest('bad/app', 't', { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }, OCI_MANIFEST);
        assert.equal(await errorCode(mismatch), 'MANIFEST_INVALID');
        const childMissing = await client.putManifest('bad/app', 'idx', {
          schemaVersion: 2,
          mediaType: OCI_INDEX,
          manifests: [{ mediaType: OCI_MANIFEST, digest: sha256('nope'), size: 4 }],
        }, OCI_INDEX);
        assert.equal(await errorCode(childMissing), 'MANIFEST_BLOB_UNKNOWN');
      });

      it('PUT by digest must match the body', async () => {
        ready();
        const { body } = await client.pushImage('bydigest/app', 'v1');
        const ok = await client.putManifest('bydigest/app', sha256(body), body);
        assert.equal(ok.status, 201);
        const wrong = await client.putManifest('bydigest/app', sha256('other'), body);
        assert.equal(wrong.status, 400);
        assert.equal(await errorCode(wrong), 'DIGEST_INVALID');
      });

      it('accepts a 4 MiB manifest and refuses a larger one with 413', async () => {
        ready();
        const config = '{}';
        const configDigest = await client.pushBlob('big/app', config);
        const base = {
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: 2 },
          layers: [],
          annotations: { pad: '' },
        };
        const fill = (target: number): string => {
          const empty = JSON.stringify(base).length;
          return JSON.stringify({ ...base, annotations: { pad: 'x'.repeat(target - empty) } });
        };
        const limit = 4 * MiB;
        const fits = fill(limit);
        assert.equal(Buffer.byteLength(fits), limit);
        const ok = await client.putManifest('big/app', 'fits', fits);
        assert.equal(ok.status, 201, await explain(ok));
        const tooBig = await client.putManifest('big/app', 'toobig', fill(4 * MiB + 10));
        assert.equal(tooBig.status, 413);
      });

      it('GET of unknown manifests answers MANIFEST_UNKNOWN', async () => {
        ready();
        await client.pushImage('unknown/app', 'v1');
        const tag = await client.fetch('/v2/unknown/app/manifests/nope');
        assert.equal(tag.status, 404);
        assert.equal(await errorCode(tag), 'MANIFEST_UNKNOWN');
        const digest = await client.fetch(`/v2/unknown/app/manifests/${sha256('x')}`, { method: 'HEAD' });
        assert.equal(digest.status, 404);
      });

      it('DELETE by tag removes the tag; by digest removes the manifest and its tags', async () => {
        ready();
        const { digest } = await client.pushImage('delman/app', 'one');
        const put = await client.putManifest('delman/app', 'two', (await (await client.fetch(`/v2/delman/app/manifests/${digest}`)).text()));
        assert.equal(put.status, 201);
        const delTag = await client.fetch('/v2/delman/app/manifests/one', { method: 'DELETE' });
        assert.equal(delTag.status, 202);
        assert.equal((await client.fetch('/v2/delman/app/manifests/one')).status, 404);
        assert.equal((await client.fetch('/v2/delman/app/manifests/two')).status, 200);
        const delDigest = await client.fetch(`/v2/delman/app/manifests/${digest}`, { method: 'DELETE' });
        assert.equal(delDigest.status, 202);
        assert.equal((await client.fetch(`/v2/delman/app/manifests/${digest}`)).status, 404);
        assert.equal((await client.fetch('/v2/delman/app/manifests/two')).status, 404);
        const again = await client.fetch(`/v2/delman/app/manifests/${digest}`, { method: 'DELETE' });
        assert.equal(again.status, 404);
      });
    });

    describe('tags, catalog and referrers', () => {
      it('tags list is sorted and paginates with n, last and Link', async () => {
        ready();
        const { body } = await client.pushImage('tags/app', 'b');
        for (const tag of ['a', 'c', 'd', 'B1', '0z']) {
          assert.equal((await client.putManifest('tags/app', tag, body)).status, 201);
        }
        const all = await client.fetch('/v2/tags/app/tags/list');
        assert.deepEqual(await all.json(), { name: 'tags/app', tags: ['0z', 'B1', 'a', 'b', 'c', 'd'] });
        const first = await client.fetch('/v2/tags/app/tags/list?n=2');
        assert.deepEqual(((await first.json()) as { tags: string[] }).tags, ['0z', 'B1']);
        const link = first.headers.get('link') ?? '';
        assert.match(link, /<\/v2\/tags\/app\/tags\/list\?n=2&last=B1>; rel="next"/);
        const next = await client.fetch(link.slice(1, link.indexOf('>')));
        assert.deepEqual(((await next.json()) as { tags: string[] }).tags, ['a', 'b']);
        const after = await client.fetch('/v2/tags/app/tags/list?last=c');
        assert.deepEqual(((await after.json()) as { tags: string[] }).tags, ['d']);
        const zero = await client.fetch('/v2/tags/app/tags/list?n=0');
        assert.deepEqual(((await zero.json()) as { tags: string[] }).tags, []);
        const end = await client.fetch('/v2/tags/app/tags/list?n=6');
        assert.equal(end.headers.get('link'), null);
        const bad = await client.fetch('/v2/tags/app/tags/list?n=-1');
        assert.equal(bad.status, 400);
        const unknown = await client.fetch('/v2/no/such/repo/tags/list');
        assert.equal(unknown.status, 404);
        assert.equal(await errorCode(unknown), 'NAME_UNKNOWN');
      });

      it('catalog lists repositories with n, last and Link', async () => {
        ready();
        await client.pushImage('catalog/zeta', 'v1');
        await client.pushImage('catalog/alpha', 'v1');
        const all = (await (await client.fetch('/v2/_catalog')).json()) as { repositories: string[] };
        assert.ok(all.repositories.includes('catalog/alpha') && all.repositories.includes('catalog/zeta'));
        assert.deepEqual([...all.repositories].sort(), all.repositories);
        const page = await client.fetch('/v2/_catalog?n=1&last=catalog/alpha');
        const body = (await page.json()) as { repositories: string[] };
        assert.equal(body.repositories.length, 1);
        assert.ok(body.repositories[0]! > 'catalog/alpha');
      });

      it('referrers: a subject may not exist yet; OCI-Subject is answered; artifactType filters', async () => {
        ready();
        const subject = sha256('subject-that-is-not-pushed-' + Math.random());
        const emptyDigest = await client.pushBlob('refs/app', '{}');
        const referrer = (artifactType: string) => ({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          artifactType,
          config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyDigest, size: 2 },
          layers: [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyDigest, size: 2 }],
          subject: { mediaType: OCI_MANIFEST, digest: subject, size: 123 },
          annotations: { 'org.example.kind': artifactType },
        });
        const sig = JSON.stringify(referrer('application/vnd.example.signature'));
        const sbom = JSON.stringify(referrer('application/vnd.example.sbom'));
        for (const body of [sig, sbom]) {
          const res = await client.putManifest('refs/app', sha256(body), body);
          assert.equal(res.status, 201, await explain(res));
          assert.equal(res.headers.get('oci-subject'), subject);
        }
        const list = await client.fetch(`/v2/refs/app/referrers/${subject}`);
        assert.equal(list.status, 200);
        assert.equal(list.headers.get('content-type'), OCI_INDEX);
        const index = (await list.json()) as { schemaVersion: number; mediaType: string; manifests: { digest: string; artifactType: string; annotations?: Record<string, string> }[] };
        assert.equal(index.schemaVersion, 2);
        assert.equal(index.mediaType, OCI_INDEX);
        assert.deepEqual(index.manifests.map((m) => m.digest).sort(), [sha256(sig), sha256(sbom)].sort());
        assert.ok(index.manifests.every((m) => m.annotations?.['org.example.kind'] === m.artifactType));
        const filtered = await client.fetch(`/v2/refs/app/referrers/${subject}?artifactType=application/vnd.example.sbom`);
        assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
        const only = (await filtered.json()) as { manifests: { digest: string }[] };
        assert.deepEqual(only.manifests.map((m) => m.digest), [sha256(sbom)]);
        const none = await client.fetch(`/v2/refs/app/referrers/${sha256('unknown subject')}`);
        assert.equal(none.status, 200);
        assert.deepEqual(((await none.json()) as { manifests: unknown[] }).manifests, []);
        const bad = await client.fetch('/v2/refs/app/referrers/sha256:nothex');
        assert.equal(bad.status, 400);
      });
    });

    describe('robustness', () => {
      it('a TLS ClientHello and garbage on the port do not take the server down', async () => {
        ready();
        const { port, hostname } = new URL(target.url);
        // A TLS 1.2 ClientHello record header followed by junk, as clients send before falling back to HTTP.
        const hello = Buffer.from('16030100a5010000a10303' + '00'.repeat(64), 'hex');
        for (const payload of [hello, Buffer.from('GARBAGE / NOTHTTP\r\n\r\n')]) {
          await new Promise<void>((resolve) => {
            const socket = net.connect(Number(port), hostname, () => socket.end(payload));
            socket.on('data', () => undefined);
            socket.on('close', () => resolve());
            socket.on('error', () => resolve());
            socket.setTimeout(5000, () => socket.destroy());
          });
        }
        assert.equal((await client.fetch('/v2/')).status, 200);
      });
    });
  });
});

/** Reads a blob back (following the redirect when the target redirects) and compares bytes. */
async function assertBlobBytes(client: RegistryClient, repo: string, blob: Bytes, redirects: boolean): Promise<void> {
  const digest = sha256(blob);
  const res = await client.fetch(`/v2/${repo}/blobs/${digest}`, { redirect: 'manual' });
  if (redirects) {
    assert.equal(res.status, 307, await explain(res));
    const location = res.headers.get('location');
    assert.ok(location);
    const direct = await fetch(location);
    assert.equal(direct.status, 200);
    assert.equal(sha256(new Uint8Array(await direct.arrayBuffer())), digest);
  } else {
    assert.equal(res.status, 200, await explain(res));
    assert.equal(res.headers.get('docker-content-digest'), digest);
    assert.equal(sha256(new Uint8Array(await res.arrayBuffer())), digest);
  }
}

/** The Authorization header for a push to `repo`, for raw http requests. */
async function authHeader(client: RegistryClient, repo: string): Promise<Record<string, string>> {
  return { Authorization: `Bearer ${await bearerToken(client.base, ADMIN, `repository:${repo}:pull,push`)}` };
}

/** PATCH as docker sends layers: Transfer-Encoding chunked unless `headers` give a Content-Length. */
function streamedPatch(url: string, blob: Uint8Array, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'PATCH', headers: { ...headers, 'Content-Type': 'application/octet-stream', Connection: 'close' } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        // Like Go's transport after an early answer: drop the connection rather than keep
        // pushing a body nobody reads.
        req.destroy();
      });
    });
    // A server may answer (413, say) and close before the whole body is sent: keep its answer.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    const piece = 256 * 1024;
    for (let offset = 0; offset < blob.byteLength; offset += piece) req.write(blob.subarray(offset, offset + piece));
    req.end();
  });
}

/** Sends part of a PATCH body that promises more, then drops the connection. */
function cutOffPatch(url: string, partial: Uint8Array, promised: number, headers: Record<string, string>): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'PATCH', headers: { ...headers, 'Content-Length': String(promised), 'Content-Type': 'application/octet-stream' } });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.write(partial, () => setTimeout(() => req.destroy(), 300));
  });
}
