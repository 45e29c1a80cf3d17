/**
 * End-to-end: the real docker, skopeo and podman clients push to and pull from each registry
 * target, and the bytes come back identical (same image ID, same manifest digests).
 *
 * Environment:
 *   BERTH_E2E_TARGETS   comma list of targets (default "node,s3,worker"; "reference" runs
 *                       Debian's docker-registry, the baseline)
 *   BERTH_E2E_LAYER_MB  size of the incompressible layer (default 100)
 *   BERTH_E2E_REQUIRE=1 a missing client binary or Docker daemon fails instead of skipping
 *                       (.ci/run sets it: CI installs them, so their absence is a bug there)
 * A target module that does not exist yet is skipped with its reason printed.
 *
 * Images are built once (test/support/images.ts) under .tmp/e2e and reused across targets.
 * podman runs before skopeo on purpose: both share root's blob-info cache
 * (/var/lib/containers/cache), and a podman push after skopeo's upload of the same layer would
 * only mount it across repositories instead of uploading it.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Clients, clientsReady, credsArg, missingClients, pulledDigest, pushedDigest, Timings, type Credentials } from '../support/clients.ts';
import { accessLines, BerthAdmin, isBlobGet, loadTarget, type E2eTarget } from '../support/e2e-target.ts';
import { ensureTestImage, MiB, type TestImage } from '../support/images.ts';

const LAYER_MB = Number(process.env.BERTH_E2E_LAYER_MB ?? '100');
const TARGETS = (process.env.BERTH_E2E_TARGETS ?? 'node,s3,worker').split(',').map((s) => s.trim()).filter(Boolean);
const WORK = resolve('.tmp', 'e2e');
/**
 * Request body limits of deployments whose target does not report `maxBodyBytes`: clients upload
 * a layer in one request, so a layer must fit (the Worker's is set in TARGET_ENV below).
 */
const KNOWN_BODY_LIMITS: Record<string, number> = { worker: 200 * MiB };
/**
 * Per-target settings. The Worker runs with a Business plan's 200 MB request limit so that the
 * full 100 MiB layer goes through in one request, as clients send it; the 413 a smaller plan's
 * limit gives is covered by the API suite (test/api/registry.test.ts).
 */
const TARGET_ENV: Record<string, Record<string, string>> = { worker: { BERTH_MAX_BODY_MB: '200' } };
/** A blob GET answered by Berth itself may carry at most this much (an error body, say). */
const MAX_SERVED_BLOB_BYTES = 64 * 1024;
/**
 * Berth's bootstrap admin (BERTH_ADMIN_PASSWORD creates account `admin`): the account the
 * clients log in with unless the target reports its own `credentials`.
 */
const ADMIN: Credentials = { username: 'admin', password: `e2e-${createHash('sha256').update(String(process.pid)).digest('hex').slice(0, 20)}` };

const clients = new Clients(join(WORK, 'clients'));
const missing = missingClients();

let big: TestImage;
let small: TestImage;
const timing = new Timings();
const timings = timing.lines;
const timed = timing.timed.bind(timing);

before(async () => {
  const started = performance.now();
  big = await ensureTestImage({ dir: join(WORK, 'images'), layerMb: LAYER_MB });
  small = await ensureTestImage({ dir: join(WORK, 'images'), layerMb: 1 });
  timings.push(`images ready (${LAYER_MB} MiB layer): ${Math.round(performance.now() - started)} ms`);
});

after(() => {
  process.stderr.write(`\ne2e client timings:\n${timings.map((line) => `  ${line}`).join('\n')}\n`);
});


const sha256 = (data: string | Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const hex = (digest: string): string => digest.replace(/^sha256:/, '');

async function dockerEnsureLoaded(image: TestImage): Promise<void> {
  const present = await clients.dockerTry(['image', 'inspect', image.localTag]);
  if (present.code !== 0) await clients.docker(['load', '-i', image.dockerArchive]);
}

/** Removes every tag of the image so the next pull must download all of it. */
async function dockerForget(image: TestImage): Promise<void> {
  await clients.dockerTry(['rmi', '-f', image.imageId]);
  const still = await clients.dockerTry(['image', 'inspect', image.imageId]);
  assert.notEqual(still.code, 0, `image ${image.imageId} still present after docker rmi`);
}

async function dockerImageId(ref: string): Promise<string> {
  return (await clients.docker(['image', 'inspect', '--format', '{{.Id}}', ref])).stdout.trim();
}

async function podmanEnsureLoaded(image: TestImage): Promise<void> {
  const present = await clients.podmanTry(['image', 'exists', image.localTag]);
  if (present.code !== 0) await clients.podman(['load', '-i', image.dockerArchive]);
}

for (const name of TARGETS) {
  describe(`real clients against the ${name} target`, () => {
    let target: E2eTarget | undefined;
    let skipReason: string | undefined;
    let host = '';
    let dockerDigest: string | undefined;
    let creds: Credentials = ADMIN;
    /** The large image for this target: smaller than asked when the deployment caps bodies. */
    let image: TestImage;

    before(async () => {
      const loaded = await loadTarget(name);
      if ('skip' in loaded) {
        skipReason = loaded.skip;
        return;
      }
      // A target that exists but fails to start is a failure, not a skip: let it throw.
      image = big;
      target = await loaded.start({
        port: loaded.port,
        env: { BERTH_ACCESS_LOG: '1', BERTH_ADMIN_PASSWORD: ADMIN.password, ...TARGET_ENV[name] },
      });
      host = new URL(target.url).host;
      creds = target.credentials ?? ADMIN;
      const limit = target.maxBodyBytes ?? KNOWN_BODY_LIMITS[name];
      // gzip adds ~0.1% to random data; 95% of the limit leaves room for it and the tar framing.
      const fits = limit === undefined ? LAYER_MB : Math.floor((limit * 0.95) / MiB);
      if (fits < LAYER_MB) {
        image = await ensureTestImage({ dir: join(WORK, 'images'), layerMb: fits });
        timings.push(`${name}: body limit ${limit} bytes, large layer reduced to ${fits} MiB`);
      }
    });

    after(async () => {
      if (!target) return;
      try {
        // Leave no image behind: the next target's pulls must download everything again.
        if (!missing.docker) {
          await clients.dockerTry(['rmi', '-f', image.imageId]);
          await clients.dockerTry(['rmi', '-f', small.imageId]);
          await clients.dockerTry(['logout', host]);
        }
        if (!missing.podman) await clients.podmanTry(['rmi', '-f', hex(image.imageId)]);
      } finally {
        await target.stop();
        // Kept for post-mortems: the registry's own account of every request.
        if (target.logs) {
          const file = join(WORK, `target-${name}.log`);
          writeFileSync(file, target.logs());
          process.stderr.write(`${name} target output saved to ${file}\n`);
        }
      }
    });

    /** False (after recording a skip) when this target or one of `needs` cannot run. */
    function ready(t: TestContext, ...needs: (keyof typeof missing)[]): boolean {
      if (skipReason) {
        t.skip(skipReason);
        return false;
      }
      return clientsReady(t, missing, needs);
    }

    /** The target's own hook, else Berth's admin API, else a skip reason. */
    async function accountMaker(): Promise<Pick<Required<E2eTarget>, 'createPullOnlyUser' | 'createRobotToken'> | string> {
      if (!target) return 'no target';
      if (target.createPullOnlyUser && target.createRobotToken) {
        return { createPullOnlyUser: target.createPullOnlyUser.bind(target), createRobotToken: target.createRobotToken.bind(target) };
      }
      const admin = new BerthAdmin(target.url, creds);
      const why = await admin.unavailable();
      if (why) return `${name} target: ${why}`;
      return { createPullOnlyUser: (repo) => admin.createPullOnlyUser(repo), createRobotToken: (repo) => admin.createRobotToken(repo) };
    }

    /**
     * On a redirecting target, the blob GETs of `repository` must all be 307s that carried no
     * bytes: the store served the layers, not Berth. Each client uses its own repository and
     * only pulls GET blobs (pushes HEAD them), so filtering by repository isolates one pull.
     */
    function assertBlobsRedirected(t: TestContext, repository: string, label: string): void {
      if (!target || !(target.redirectsBlobs ?? name === 's3')) return;
      assert.ok(target.logs, `${name} target redirects blobs but has no logs() to prove it`);
      const lines = accessLines(target.logs());
      assert.ok(lines.length > 0, `${label}: no access-log lines in ${name}'s stdout; is BERTH_ACCESS_LOG=1 honoured?`);
      const blobGets = lines.filter((line) => isBlobGet(line) && line.path.startsWith(`/v2/${repository}/blobs/`));
      const served = blobGets.reduce((sum, line) => sum + line.bytes, 0);
      const redirects = blobGets.filter((line) => line.status === 307).length;
      t.diagnostic(`${label}: ${blobGets.length} blob GETs, ${redirects} redirected, ${served} bytes served by Berth`);
      assert.ok(redirects >= 1, `${label}: no blob GET was redirected: ${JSON.stringify(blobGets)}`);
      // A streamed body without Content-Length logs bytes 0: a 2xx blob GET with 0 bytes is
      // therefore as suspect as a large one (no blob in these images is empty).
      const streamed = blobGets.filter((l) => l.status >= 200 && l.status < 300 && (l.bytes === 0 || l.bytes > MAX_SERVED_BLOB_BYTES));
      assert.deepEqual(streamed, [], `${label}: Berth served blob bodies itself instead of redirecting to the store`);
      assert.ok(
        served <= MAX_SERVED_BLOB_BYTES,
        `${label}: Berth served ${served} bytes of blob GETs itself (the ${LAYER_MB} MiB layer must come from the store)`,
      );
    }

    it('docker login', async (t) => {
      if (!ready(t, 'docker')) return;
      // Against a registry without auth, docker login also succeeds (GET /v2/ answers 200).
      await timed(t, `${name}: docker login`, () => clients.dockerLogin(host, creds));
    });

    it('docker push of a 2-layer image with a large incompressible layer, rmi, pull: same image ID and digest', async (t) => {
      if (!ready(t, 'docker')) return;
      t.diagnostic(`large layer: ${image.bigLayerBytes} bytes`);
      const repo = 'e2e/docker-app';
      const ref = `${host}/${repo}:v1`;
      await timed(t, `${name}: docker load (if needed)`, () => dockerEnsureLoaded(image));
      await clients.docker(['tag', image.localTag, ref]);
      const push = await timed(t, `${name}: docker push`, () => clients.docker(['push', ref]));
      const digest = pushedDigest(push.stdout);
      dockerDigest = digest;
      await dockerForget(image);
      const pull = await timed(t, `${name}: docker pull`, () => clients.docker(['pull', ref]));
      assert.equal(pulledDigest(pull.stdout), digest, 'pulled manifest digest differs from the pushed one');
      assert.equal(await dockerImageId(ref), image.imageId, 'pulled image ID differs from the pushed image');
      assertBlobsRedirected(t, repo, `${name}: docker pull`);
    });

    it('docker pull by digest', async (t) => {
      if (!ready(t, 'docker')) return;
      assert.ok(dockerDigest, 'the docker push step did not succeed, nothing to pull by digest');
      await dockerForget(image);
      const ref = `${host}/e2e/docker-app@${dockerDigest}`;
      const pull = await timed(t, `${name}: docker pull by digest`, () => clients.docker(['pull', ref]));
      assert.equal(pulledDigest(pull.stdout), dockerDigest);
      assert.equal(await dockerImageId(ref), image.imageId);
    });

    it('podman login, push, rmi, pull: same image ID and digest', async (t) => {
      if (!ready(t, 'podman')) return;
      const tls = '--tls-verify=false';
      await timed(t, `${name}: podman login`, () =>
        clients.podman(['login', tls, '--username', creds.username, '--password-stdin', host], { input: creds.password }),
      );
      const repo = 'e2e/podman-app';
      const ref = `${host}/${repo}:v1`;
      await timed(t, `${name}: podman load (if needed)`, () => podmanEnsureLoaded(image));
      await clients.podman(['tag', image.localTag, ref]);
      const digestFile = join(WORK, `podman-digest-${name}`);
      await timed(t, `${name}: podman push`, () => clients.podman(['push', tls, '--digestfile', digestFile, ref]));
      const digest = readFileSync(digestFile, 'utf8').trim();
      assert.match(digest, /^sha256:[0-9a-f]{64}$/);
      await clients.podman(['rmi', '-f', hex(image.imageId)]);
      await timed(t, `${name}: podman pull`, () => clients.podman(['pull', tls, ref]));
      const inspect = await clients.podman(['image', 'inspect', '--format', '{{.Id}} {{.Digest}}', ref]);
      assert.equal(inspect.stdout.trim(), `${hex(image.imageId)} ${digest}`);
      assertBlobsRedirected(t, repo, `${name}: podman pull`);
    });

    it('skopeo copies an OCI layout to the registry and back with the same manifest digest', async (t) => {
      if (!ready(t, 'skopeo')) return;
      const repo = 'e2e/skopeo-app';
      const remote = `docker://${host}/${repo}:v1`;
      await timed(t, `${name}: skopeo copy oci → registry`, () =>
        clients.skopeo([
          'copy', '--preserve-digests', '--dest-tls-verify=false',
          '--dest-creds', credsArg(creds),
          `oci:${image.ociLayout}:${image.ociTag}`, remote,
        ]),
      );
      const raw = await clients.skopeo([
        'inspect', '--raw', '--tls-verify=false', '--creds', credsArg(creds), remote,
      ]);
      assert.equal(sha256(raw.stdout), image.ociManifestDigest, 'registry serves a different manifest than was pushed');

      const back = join(WORK, `skopeo-back-${name}`);
      rmSync(back, { recursive: true, force: true });
      await timed(t, `${name}: skopeo copy registry → oci`, () =>
        clients.skopeo([
          'copy', '--preserve-digests', '--src-tls-verify=false',
          '--src-creds', credsArg(creds),
          remote, `oci:${back}:${image.ociTag}`,
        ]),
      );
      const index = JSON.parse(readFileSync(join(back, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
      assert.equal(index.manifests[0]?.digest, image.ociManifestDigest, 'manifest digest changed on the round trip');
      const layers = (JSON.parse(readFileSync(join(back, 'blobs', 'sha256', hex(image.ociManifestDigest)), 'utf8')) as {
        layers: { digest: string; size: number }[];
      }).layers;
      for (const layer of layers) {
        const file = join(back, 'blobs', 'sha256', hex(layer.digest));
        assert.ok(existsSync(file), `layer ${layer.digest} missing after copy back`);
        assert.equal(statSync(file).size, layer.size);
      }
      assertBlobsRedirected(t, repo, `${name}: skopeo copy back`);
      rmSync(back, { recursive: true, force: true });
    });

    it('a pull-only user can pull but is refused a push', async (t) => {
      if (!ready(t, 'docker')) return;
      const maker = await accountMaker();
      if (typeof maker === 'string') return t.skip(maker);
      assert.ok(dockerDigest, 'the docker push step did not succeed, nothing to pull');
      const repo = 'e2e/docker-app';
      const reader = await maker.createPullOnlyUser(repo);
      const own = new Clients(join(WORK, `clients-reader-${name}`));
      await own.dockerLogin(host, reader);
      await own.docker(['pull', `${host}/${repo}:v1`]);
      await dockerEnsureLoaded(small);
      const ref = `${host}/${repo}:reader-push`;
      await own.docker(['tag', small.localTag, ref]);
      const push = await own.dockerTry(['push', ref]);
      assert.notEqual(push.code, 0, 'push by a pull-only user succeeded');
      assert.match(`${push.stderr}${push.stdout}`, /denied|unauthorized|forbidden/i);
    });

    it('a robot token works as a password for push and pull', async (t) => {
      if (!ready(t, 'docker')) return;
      const maker = await accountMaker();
      if (typeof maker === 'string') return t.skip(maker);
      const repo = 'e2e/robot-app';
      const robot: Credentials = await maker.createRobotToken(repo);
      const own = new Clients(join(WORK, `clients-robot-${name}`));
      await own.dockerLogin(host, robot);
      await dockerEnsureLoaded(small);
      const ref = `${host}/${repo}:v1`;
      await own.docker(['tag', small.localTag, ref]);
      const digest = pushedDigest((await own.docker(['push', ref])).stdout);
      await dockerForget(small);
      assert.equal(pulledDigest((await own.docker(['pull', ref])).stdout), digest);
      assert.equal(await dockerImageId(ref), small.imageId);
    });

    it('the test image is as large as asked', (t) => {
      if (skipReason) return t.skip(skipReason);
      const limit = target?.maxBodyBytes ?? KNOWN_BODY_LIMITS[name];
      assert.ok(image.bigLayerBytes >= (limit === undefined ? LAYER_MB * MiB : Math.min(LAYER_MB * MiB, limit * 0.9)));
    });
  });
}
