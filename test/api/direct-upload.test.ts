/**
 * Berth's direct upload extension (worker/routes/direct-uploads.ts) over HTTP, against real
 * processes: the Node server on a real local S3 server, and the Lambda handler behind the
 * Function URL bridge (6 MB payload limit) on its own S3 server. The client PUTs parts to the
 * presigned URLs itself; these tests then check what only the registry can guarantee: the digest
 * is checked against the stored bytes (a part altered in the bucket is caught), a large blob is
 * verified step by step, and an abandoned upload is aborted by the cleanup job.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { registryConfigFromEnv } from '../../worker/config.ts';
import { expireUploads } from '../../worker/registry/cleanup.ts';
import { checkedStore } from '../../worker/storage/checked.ts';
import { s3OptionsFromEnv } from '../../worker/storage/s3-config.ts';
import { createS3Store } from '../../worker/storage/s3.ts';
import { testPort } from '../support/ports.ts';
import { RegistryClient, describe as explain, errorCode, randomBlob, sha256, type Bytes } from '../support/registry-client.ts';
import { startLambdaTarget } from '../support/target-lambda.ts';
import { startS3Target } from '../support/target-s3.ts';
import { ADMIN, BASE_ENV } from '../support/targets.ts';

const PORT = testPort(15250);
const MiB = 1024 * 1024;

interface Started {
  id: string;
  location: string;
  partSize: number;
  partCount: number;
}

interface Deployment {
  url: string;
  /** Directory of the S3 server's data, to alter a stored part the way a faulty bucket would. */
  s3Dir: string;
  /** Environment that points the S3 driver at this deployment's bucket. */
  storeEnv: Record<string, string>;
  logs(): string;
  stop(): Promise<void>;
}

const DEPLOYMENTS: { name: string; start(port: number): Promise<Deployment> }[] = [
  {
    name: 'node-s3',
    async start(port) {
      // 5 MiB steps make a 12 MiB blob take three finishing requests.
      const target = await startS3Target({ port, env: { ...BASE_ENV, BERTH_PART_SIZE_MB: '5', BERTH_VERIFY_STEP_MB: '5' } });
      return { url: target.url, s3Dir: target.s3.dir, storeEnv: target.storeEnv, logs: target.logs, stop: () => target.stop() };
    },
  },
  {
    name: 'lambda-s3',
    async start(port) {
      const target = await startLambdaTarget({ port, env: { ...BASE_ENV, BERTH_PART_SIZE_MB: '5', BRIDGE_LOG_INVOCATIONS: '1' } });
      return { url: target.url, s3Dir: target.s3Dir, storeEnv: target.env, logs: () => target.logs(), stop: () => target.stop() };
    },
  },
];

async function json<T>(res: Response): Promise<T> {
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`not JSON (${res.status}): ${text.slice(0, 300)}`);
  }
}

DEPLOYMENTS.forEach((deployment, index) => {
  describe(`direct uploads on ${deployment.name}`, { timeout: 300_000 }, () => {
    let target: Deployment;
    let client: RegistryClient;

    before(async () => {
      target = await deployment.start(PORT + index * 10);
      client = new RegistryClient(target.url, ADMIN);
    });
    after(async () => {
      await target?.stop();
    });

    async function start(repo: string, blob: Bytes): Promise<Started> {
      const res = await client.fetch(`/v2/${repo}/_berth/uploads/`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ digest: sha256(blob), size: blob.byteLength }),
      });
      assert.equal(res.status, 202, await explain(res));
      return json<Started>(res);
    }

    /** PUTs every part straight to the store, as `berth push` does. */
    async function uploadParts(repo: string, upload: Started, blob: Bytes, only?: number[]): Promise<void> {
      const numbers = only ?? Array.from({ length: upload.partCount }, (_, i) => i + 1);
      const res = await client.fetch(`${upload.location}/parts`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ parts: numbers }),
      });
      assert.equal(res.status, 200, await explain(res));
      const { parts } = await json<{ parts: { partNumber: number; url: string }[] }>(res);
      assert.deepEqual(parts.map((p) => p.partNumber), numbers);
      await Promise.all(parts.map(async ({ partNumber, url }) => {
        assert.notEqual(new URL(url).origin, new URL(target.url).origin, 'part URLs point at the store, not at Berth');
        const body = blob.subarray((partNumber - 1) * upload.partSize, partNumber * upload.partSize);
        const put = await fetch(url, { method: 'PUT', body });
        assert.equal(put.status, 200, `part ${partNumber} of ${repo}: ${await put.text()}`);
      }));
    }

    /** PUT ?digest= until it stops answering 202; returns every answer. */
    async function finish(upload: Started, digest: string): Promise<Response[]> {
      const answers: Response[] = [];
      for (let i = 0; i < 50; i++) {
        const res = await client.fetch(`${upload.location}?digest=${digest}`, { method: 'PUT' });
        answers.push(res);
        if (res.status !== 202) return answers;
        await res.body?.cancel();
      }
      assert.fail('finishing never stopped answering 202');
    }

    async function blobBytes(repo: string, digest: string): Promise<Uint8Array> {
      let res = await client.fetch(`/v2/${repo}/blobs/${digest}`);
      // S3 deployments redirect pulls to the store too.
      if (res.status === 307) res = await fetch(res.headers.get('location')!);
      assert.equal(res.status, 200, await explain(res));
      return new Uint8Array(await res.arrayBuffer());
    }

    it('a blob whose parts went straight to the bucket is verified, published and pulls byte for byte', async () => {
      const blob = randomBlob(12 * MiB + 123);
      const upload = await start('direct/app', blob);
      assert.equal(upload.partSize, 5 * MiB);
      assert.equal(upload.partCount, 3);
      await uploadParts('direct/app', upload, blob);
      const answers = await finish(upload, sha256(blob));
      const last = answers.at(-1)!;
      assert.equal(last.status, 201, await explain(last));
      assert.equal(last.headers.get('docker-content-digest'), sha256(blob));
      if (deployment.name === 'node-s3') {
        // BERTH_VERIFY_STEP_MB=5: 5 + 5 MiB verified in two 202 answers, the rest in the third request.
        assert.deepEqual(answers.map((a) => a.status), [202, 202, 201]);
      }
      assert.equal(sha256(await blobBytes('direct/app', sha256(blob))), sha256(blob));
      const again = await client.fetch(`/v2/direct/app/_berth/uploads/`, {
        method: 'POST',
        body: JSON.stringify({ digest: sha256(blob), size: blob.byteLength }),
      });
      assert.equal(again.status, 201, 'a blob the repository holds is not uploaded again');
      assert.equal((await json<{ state: string }>(again)).state, 'exists');
    });

    it('status lists the parts the bucket holds, so an interrupted client uploads only the rest', async () => {
      const blob = randomBlob(11 * MiB);
      const upload = await start('direct/resume', blob);
      await uploadParts('direct/resume', upload, blob, [2]);
      const early = await finish(upload, sha256(blob));
      assert.equal(early.at(-1)!.status, 400);
      assert.equal(await errorCode(early.at(-1)!), 'BLOB_UPLOAD_INVALID', 'finishing with parts missing is refused');
      const status = await json<{ parts: { partNumber: number; size: number }[]; missing: number }>(await client.fetch(upload.location));
      assert.deepEqual(status.parts, [{ partNumber: 2, size: 5 * MiB }]);
      assert.equal(status.missing, 2);
      await uploadParts('direct/resume', upload, blob, [1, 3]);
      assert.equal((await finish(upload, sha256(blob))).at(-1)!.status, 201);
      assert.equal(sha256(await blobBytes('direct/resume', sha256(blob))), sha256(blob));
    });

    it('a part altered in the bucket before finishing is caught: DIGEST_INVALID, nothing published', async () => {
      const blob = randomBlob(6 * MiB);
      const upload = await start('direct/tampered', blob);
      await uploadParts('direct/tampered', upload, blob);
      // Flip one byte of part 1 where the S3 server keeps it (same size, so only the digest can tell).
      const partFile = await findPartFile(target.s3Dir, upload.id, 1);
      const bytes = await readFile(partFile);
      bytes[1000] = (bytes[1000] ?? 0) ^ 0xff;
      await writeFile(partFile, bytes);
      const answers = await finish(upload, sha256(blob));
      const last = answers.at(-1)!;
      assert.equal(last.status, 400, await explain(last));
      assert.equal(await errorCode(last), 'DIGEST_INVALID');
      assert.equal((await client.fetch(`/v2/direct/tampered/blobs/${sha256(blob)}`, { method: 'HEAD' })).status, 404);
      const store = checkedStore(createS3Store(s3OptionsFromEnv(target.storeEnv)));
      assert.equal(await store.head(`data/${upload.id}`), null, 'the altered object was deleted');
      assert.equal(await store.head(`blobs/sha256/${sha256(blob).slice(7)}`), null, 'no blob record');
      assert.equal((await client.fetch(upload.location)).status, 404, 'the session is gone');
    });

    it('refuses bad requests with OCI errors, never a 5xx', async () => {
      const post = (body: string) => client.fetch('/v2/direct/bad/_berth/uploads/', { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
      const cases: [string, number, string][] = [
        ['not json', 400, 'BLOB_UPLOAD_INVALID'],
        ['[]', 400, 'BLOB_UPLOAD_INVALID'],
        [JSON.stringify({ digest: 'sha256:nothex', size: 5 }), 400, 'DIGEST_INVALID'],
        [JSON.stringify({ digest: sha256('x'), size: 0 }), 400, 'SIZE_INVALID'],
        [JSON.stringify({ digest: sha256('x'), size: 1.5 }), 400, 'SIZE_INVALID'],
        [JSON.stringify({ digest: sha256('x'), size: 5 * 1024 * 1024 * MiB + 1 }), 400, 'SIZE_INVALID'],
        [JSON.stringify({ digest: sha256('x'), size: 5 }).padEnd(20_000, ' '), 413, 'BLOB_UPLOAD_INVALID'],
      ];
      for (const [body, status, code] of cases) {
        const res = await post(body);
        assert.equal(res.status, status, `${body.slice(0, 60)}: ${await explain(res)}`);
        assert.equal(await errorCode(res), code, body.slice(0, 60));
      }
      const blob = randomBlob(1024);
      const upload = await start('direct/bad', blob);
      const parts = (numbers: unknown) => client.fetch(`${upload.location}/parts`, { method: 'POST', body: JSON.stringify({ parts: numbers }) });
      for (const numbers of [[0], [2], ['1'], Array.from({ length: 101 }, () => 1), 'x']) {
        const res = await parts(numbers);
        assert.equal(res.status, 400, `${JSON.stringify(numbers).slice(0, 40)}: ${await explain(res)}`);
      }
      const wrongDigest = await client.fetch(`${upload.location}?digest=${sha256('other')}`, { method: 'PUT' });
      assert.equal(await errorCode(wrongDigest), 'DIGEST_INVALID', 'a digest other than the announced one');
      assert.equal((await client.fetch('/v2/direct/bad/_berth/uploads/AAAAAAAAAAAAAAAAAAAAAAAA')).status, 404);
      assert.equal((await client.fetch(upload.location.replace('direct/bad', 'direct/other'))).status, 404, 'a session belongs to its repository');
      const cancel = await client.fetch(upload.location, { method: 'DELETE' });
      assert.equal(cancel.status, 204);
      assert.equal((await client.fetch(upload.location)).status, 404);
      const anonymous = await fetch(`${target.url}/v2/direct/bad/_berth/uploads/`, { method: 'POST', body: '{}' });
      assert.equal(anonymous.status, 401, 'direct uploads need push access like any upload');
    });

    it('an abandoned direct upload is aborted by the cleanup job, parts and all', async () => {
      const blob = randomBlob(6 * MiB);
      const upload = await start('direct/abandoned', blob);
      await uploadParts('direct/abandoned', upload, blob, [1]);
      const store = checkedStore(createS3Store(s3OptionsFromEnv(target.storeEnv)));
      const config = registryConfigFromEnv({});
      const { expired } = await expireUploads(store, config, new Date(Date.now() + (config.uploadExpirySeconds + 60) * 1000));
      assert.ok(expired >= 1, `expired ${expired}`);
      assert.equal((await client.fetch(upload.location)).status, 404, 'the session is gone');
      await assert.rejects(findPartFile(target.s3Dir, upload.id, 1), /no multipart upload/, 'the parts are gone from the bucket');
    });

    if (deployment.name === 'lambda-s3') {
      it('the function never received a request body over its limit', () => {
        const invocations = target.logs().split('\n').filter((line) => line.startsWith('{"t":"invoke"')).map((line) => JSON.parse(line) as { bodyBytes: number; path: string });
        const paths = new Set(invocations.map((i) => i.path.replace(/\/[A-Za-z0-9_-]{16,}(\/parts)?$/, '/<id>$1')));
        assert.ok(paths.has('/v2/direct/app/_berth/uploads/<id>/parts') && paths.has('/v2/direct/app/_berth/uploads/<id>'), `invocations logged: ${[...paths].join(' ')}`);
        // `direct/bad` sends a 20 kB body on purpose (refused with 413); every other request is the flow's own.
        const largest = Math.max(...invocations.filter((i) => !i.path.startsWith('/v2/direct/bad/')).map((i) => i.bodyBytes));
        assert.ok(largest <= 16 * 1024, `the largest body the function received was ${largest} bytes`);
      });
    }
  });
});

/** Where @20minutes/s3rver keeps part `n` of the multipart upload behind `data/<uploadId>`. */
async function findPartFile(dir: string, uploadId: string, n: number): Promise<string> {
  for (const bucket of await readdir(dir)) {
    const uploads = join(dir, bucket, '._S3rver_uploads');
    const ids = await readdir(uploads).catch(() => [] as string[]);
    for (const id of ids) {
      const key = await readFile(join(uploads, id, 'key'), 'utf8').catch(() => '');
      if (key.endsWith(`data/${uploadId}`)) {
        const file = join(uploads, id, String(n));
        await stat(file);
        return file;
      }
    }
  }
  throw new Error(`no multipart upload for data/${uploadId} under ${dir}`);
}
