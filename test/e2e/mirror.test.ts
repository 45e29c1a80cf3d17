/**
 * The pull-through mirror with the real clients: docker, podman and skopeo each pull an image
 * through Berth (node-fs) from an upstream Debian docker-registry (htpasswd), and pull it again:
 * the first pull fetches every blob from the upstream once, the second none (a recording proxy
 * in front of the upstream counts them). With the upstream stopped, docker still pulls the
 * cached image (its tag served stale, and logged). A Docker daemon of the test's own, set up as
 * a daemon-wide mirror (`--registry-mirror`), pulls `e2e-dockerd:v1` as dockerd pulls from
 * Docker Hub, and Berth answers from the mirror (BERTH_MIRROR_DEFAULT).
 *
 * Each client pulls its own image (a variant per client and port), so every first pull is cold
 * and removing the images from the shared Docker daemon never touches another checkout's.
 * BERTH_E2E_REQUIRE=1 turns a missing client into a failure, as in clients.test.ts.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Clients, clientsReady, credsArg, hasBinary, missingClients, pulledDigest } from '../support/clients.ts';
import { ensureTestImage, type TestImage } from '../support/images.ts';
import { startNodeTarget, type NodeTarget } from '../support/target-node.ts';
import { startDistribution, type Distribution } from '../support/target-reference.ts';
import { RecordingProxy } from '../support/recording-proxy.ts';
import { mirrorEvents } from '../support/mirror-fixtures.ts';
import { startPrivateDockerd } from '../support/private-dockerd.ts';
import { testPort } from '../support/ports.ts';

const PORT = testPort(15380);
const WORK = resolve('.tmp', 'e2e-mirror');
/** Larger than the 5 MiB part size: the fill goes through a multipart upload. */
const LAYER_MB = 8;
const TTL_SECONDS = 1;

const missing = {
  ...missingClients(),
  registry: hasBinary('docker-registry') ? null : 'docker-registry not installed (apt-get install docker-registry)',
  dockerd: hasBinary('dockerd') ? null : 'dockerd not installed (apt-get install docker.io)',
};
type Client = 'docker' | 'podman' | 'skopeo' | 'dockerd';
const ready = (t: TestContext, ...needs: (keyof typeof missing)[]): boolean => clientsReady(t, missing, ['registry', ...needs]);
const hex = (digest: string): string => digest.replace(/^sha256:/, '');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('docker, podman and skopeo pull through the mirror (node-fs)', { timeout: 300_000 }, () => {
  let upstream: Distribution | undefined;
  let proxy: RecordingProxy | undefined;
  let mirror: NodeTarget | undefined;
  let host = '';
  const images: Partial<Record<Client, TestImage>> = {};
  const clients = new Clients(join(WORK, 'clients'));

  before(async () => {
    if (missing.registry) return;
    rmSync(join(WORK, 'upstream'), { recursive: true, force: true });
    upstream = await startDistribution({ port: PORT, dir: join(WORK, 'upstream') });
    proxy = await RecordingProxy.start(PORT + 1, upstream.url);
    mirror = await startNodeTarget({
      port: PORT + 2,
      env: {
        BERTH_ADMIN_PASSWORD: `mirror-e2e-${PORT}`,
        BERTH_MIRRORS: `hub=${proxy.url}`,
        BERTH_MIRROR_HUB_USERNAME: upstream.credentials.username,
        BERTH_MIRROR_HUB_PASSWORD: upstream.credentials.password,
        BERTH_MIRROR_TTL_SECONDS: String(TTL_SECONDS),
        BERTH_MIRROR_DEFAULT: 'hub',
        BERTH_PUBLIC_REPOS: 'hub/**',
        BERTH_PART_SIZE_MB: '5',
      },
    });
    host = new URL(mirror.url).host;
    // podman and skopeo want their auth file to exist; nobody logs in to the public mirror.
    writeFileSync(clients.authFile, '{"auths":{}}\n');
    if (missing.skopeo) return;
    // Seed the upstream directly, one image per client.
    for (const client of ['docker', 'podman', 'skopeo', 'dockerd'] as const) {
      const image = await ensureTestImage({ dir: join(WORK, 'images'), layerMb: LAYER_MB, variant: `mirror-${client}-${PORT}` });
      images[client] = image;
      await clients.skopeo([
        'copy', '--preserve-digests', '--dest-tls-verify=false', '--dest-creds', credsArg(upstream.credentials),
        `oci:${image.ociLayout}:${image.ociTag}`, `docker://${new URL(upstream.url).host}/library/e2e-${client}:v1`,
      ]);
    }
  });

  after(async () => {
    if (!missing.docker && images.docker) await clients.dockerTry(['rmi', '-f', images.docker.imageId]);
    if (!missing.podman && images.podman) await clients.podmanTry(['rmi', '-f', hex(images.podman.imageId)]);
    await mirror?.stop();
    await proxy?.stop();
    await upstream?.stop();
    rmSync(WORK, { recursive: true, force: true });
  });

  /** The blobs of the image's OCI manifest (config and layers). */
  function blobCount(image: TestImage): number {
    const manifest = JSON.parse(readFileSync(join(image.ociLayout, 'blobs', 'sha256', hex(image.ociManifestDigest)), 'utf8')) as { layers: unknown[] };
    return manifest.layers.length + 1;
  }

  it('docker pulls through the mirror; the second pull makes no upstream blob request', async (t) => {
    if (!ready(t, 'docker', 'skopeo')) return;
    const image = images.docker!;
    const ref = `${host}/hub/library/e2e-docker:v1`;
    proxy!.reset();
    const first = await clients.docker(['pull', ref]);
    assert.equal(pulledDigest(first.stdout), image.ociManifestDigest);
    assert.equal((await clients.docker(['image', 'inspect', '--format', '{{.Id}}', ref])).stdout.trim(), image.imageId);
    assert.equal(proxy!.blobGets('library/e2e-docker').length, blobCount(image), 'every blob fetched upstream once');

    await clients.docker(['rmi', '-f', image.imageId]);
    proxy!.reset();
    const second = await clients.docker(['pull', ref]);
    assert.equal(pulledDigest(second.stdout), image.ociManifestDigest);
    assert.deepEqual(proxy!.blobGets(), [], 'the second pull came from the bucket');
  });

  it('podman pulls through the mirror; the second pull makes no upstream blob request', async (t) => {
    if (!ready(t, 'podman', 'skopeo')) return;
    const image = images.podman!;
    const ref = `${host}/hub/library/e2e-podman:v1`;
    proxy!.reset();
    await clients.podman(['pull', '--tls-verify=false', ref]);
    const inspect = await clients.podman(['image', 'inspect', '--format', '{{.Id}} {{.Digest}}', ref]);
    assert.equal(inspect.stdout.trim(), `${hex(image.imageId)} ${image.ociManifestDigest}`);
    assert.equal(proxy!.blobGets('library/e2e-podman').length, blobCount(image));

    await clients.podman(['rmi', '-f', hex(image.imageId)]);
    proxy!.reset();
    await clients.podman(['pull', '--tls-verify=false', ref]);
    assert.deepEqual(proxy!.blobGets(), []);
  });

  it('skopeo copies through the mirror; the second copy makes no upstream blob request', async (t) => {
    if (!ready(t, 'skopeo')) return;
    const image = images.skopeo!;
    const remote = `docker://${host}/hub/library/e2e-skopeo:v1`;
    for (const round of [1, 2]) {
      const out = join(WORK, `skopeo-${round}`);
      rmSync(out, { recursive: true, force: true });
      proxy!.reset();
      await clients.skopeo(['copy', '--preserve-digests', '--src-tls-verify=false', remote, `oci:${out}:v1`]);
      const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
      assert.equal(index.manifests[0]?.digest, image.ociManifestDigest);
      if (round === 1) assert.equal(proxy!.blobGets('library/e2e-skopeo').length, blobCount(image));
      else assert.deepEqual(proxy!.blobGets(), []);
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("a daemon-wide mirror: dockerd with registry-mirrors pulls e2e-dockerd:v1 through Berth", async (t) => {
    if (!ready(t, 'docker', 'skopeo', 'dockerd')) return;
    const image = images.dockerd!;
    const daemon = await startPrivateDockerd({ dir: join(WORK, 'dockerd'), shortDir: `/tmp/berth-dockerd-${PORT}`, mirror: mirror!.url });
    try {
      proxy!.reset();
      // What `docker pull e2e-dockerd:v1` does against Docker Hub; only the mirror can answer here.
      const pull = await daemon.docker(['pull', 'e2e-dockerd:v1']);
      assert.equal(pull.code, 0, `${pull.stderr}\n${daemon.logs().slice(-1500)}`);
      assert.equal(pulledDigest(pull.stdout), image.ociManifestDigest);
      const id = await daemon.docker(['image', 'inspect', '--format', '{{.Id}}', 'e2e-dockerd:v1']);
      assert.equal(id.stdout.trim(), image.imageId);
      assert.equal(proxy!.blobGets('library/e2e-dockerd').length, blobCount(image), 'fetched from the upstream through the mirror');
    } finally {
      await daemon.stop();
    }
  });

  it('with the upstream stopped, docker still pulls the cached image', async (t) => {
    if (!ready(t, 'docker', 'skopeo')) return;
    const image = images.docker!;
    const ref = `${host}/hub/library/e2e-docker:v1`;
    await clients.docker(['rmi', '-f', image.imageId]);
    await upstream!.stop();
    await sleep(TTL_SECONDS * 1000 + 200);
    const pull = await clients.docker(['pull', ref]);
    assert.equal(pulledDigest(pull.stdout), image.ociManifestDigest);
    const stale = mirrorEvents(mirror!.logs()).filter((e) => e.event === 'stale-tag' && e.repository === 'hub/library/e2e-docker');
    assert.ok(stale.length >= 1, 'the stale tag was logged');
    // Something never pulled fails cleanly. docker and skopeo print only the status of a 5xx
    // (the message naming the upstream is in the body: test/api/mirror.test.ts reads it).
    const never = await clients.dockerTry(['pull', `${host}/hub/library/never-pulled:v1`]);
    assert.notEqual(never.code, 0);
    assert.match(`${never.stderr}${never.stdout}`, /502 Bad Gateway/);
  });
});
