/**
 * The release flow with the real clients against a real Node server: docker pushes a CI build,
 * `berth tag` promotes it to another repository and docker pulls the promoted tag; then, under an
 * immutable-tags policy, docker, podman and skopeo each push a release tag, push the same image
 * again (accepted: same digest) and try to move the tag to another image (refused, and each
 * client prints the registry's message naming the policy).
 *
 * Images are this suite's own (a variant per port), so removing them from the shared Docker
 * daemon never touches another checkout's images. BERTH_E2E_REQUIRE=1 turns a missing client
 * into a failure, as in clients.test.ts.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Clients, clientsReady, credsArg, missingClients, pulledDigest, pushedDigest, type Credentials } from '../support/clients.ts';
import { accessLines } from '../support/e2e-target.ts';
import { ensureTestImage, type TestImage } from '../support/images.ts';
import { startNodeTarget, type NodeTarget } from '../support/target-node.ts';
import { berth } from '../support/berth-cli.ts';
import { testPort } from '../support/ports.ts';

const PORT = testPort(15960);
const WORK = resolve('.tmp', 'e2e-release');
const ADMIN: Credentials = { username: 'admin', password: `release-e2e-${PORT}` };
/** skopeo prints the message inside a quoted logrus field, so its quotes arrive escaped. */
const IMMUTABLE = /immutable \(policy \\?"prod\/\*\*\\?"\)/;

const missing = missingClients();
const ready = (t: TestContext, ...needs: (keyof typeof missing)[]): boolean => clientsReady(t, missing, needs);

const hex = (digest: string): string => digest.replace(/^sha256:/, '');

describe('release flow with docker, podman and skopeo (node-fs)', () => {
  let target: NodeTarget;
  let host = '';
  let release: TestImage;
  let other: TestImage;
  const clients = new Clients(join(WORK, 'clients'));
  const cli = (args: string[]) => berth(target.url, ADMIN, args);

  before(async () => {
    release = await ensureTestImage({ dir: join(WORK, 'images'), layerMb: 1, variant: `release-${PORT}` });
    other = await ensureTestImage({ dir: join(WORK, 'images'), layerMb: 1, variant: `other-${PORT}` });
    target = await startNodeTarget({ port: PORT, env: { BERTH_ADMIN_PASSWORD: ADMIN.password, BERTH_ACCESS_LOG: 'true' } });
    host = new URL(target.url).host;
  });

  after(async () => {
    if (!missing.docker) {
      for (const image of [release, other]) if (image) await clients.dockerTry(['rmi', '-f', image.imageId]);
      await clients.dockerTry(['logout', host]);
    }
    if (!missing.podman) for (const image of [release, other]) if (image) await clients.podmanTry(['rmi', '-f', hex(image.imageId)]);
    await target?.stop();
  });

  async function dockerLoad(image: TestImage): Promise<void> {
    if ((await clients.dockerTry(['image', 'inspect', image.localTag])).code !== 0) await clients.docker(['load', '-i', image.dockerArchive]);
  }

  it('docker push, berth tag to another repository, docker pull of the promoted tag', async (t) => {
    if (!ready(t, 'docker')) return;
    await clients.dockerLogin(host, ADMIN);
    await dockerLoad(release);
    const ci = `${host}/ci/e2e-app:build-1`;
    await clients.docker(['tag', release.localTag, ci]);
    const pushed = pushedDigest((await clients.docker(['push', ci])).stdout);

    const promoted = await cli(['tag', 'ci/e2e-app:build-1', 'prod/e2e-app:1.0.0']);
    assert.equal(promoted.status, 0, promoted.stderr);
    assert.match(promoted.stdout, /3 blob\(s\) mounted, no layer copied/);

    // Forget the image entirely, so the pull fetches every blob from the promoted repository.
    await clients.dockerTry(['rmi', '-f', release.imageId]);
    const prod = `${host}/prod/e2e-app:1.0.0`;
    const pull = await clients.docker(['pull', prod]);
    assert.equal(pulledDigest(pull.stdout), pushed);
    const id = (await clients.docker(['image', 'inspect', '--format', '{{.Id}}', prod])).stdout.trim();
    assert.equal(id, release.imageId);
    const blobGets = accessLines(target.logs()).filter((l) => l.method === 'GET' && l.path.startsWith('/v2/prod/e2e-app/blobs/'));
    assert.equal(blobGets.filter((l) => l.status === 200).length, 3, 'config and both layers came from prod/e2e-app');
  });

  it('policy: release tags under prod/** are immutable', async () => {
    const set = await cli(['policy', 'set', 'prod/**', '--immutable-tags', '1.*']);
    assert.equal(set.status, 0, set.stderr);
  });

  it('docker: same image again is accepted, another image under the tag is refused with the message', async (t) => {
    if (!ready(t, 'docker')) return;
    const ref = `${host}/prod/e2e-app:1.0.0`;
    await dockerLoad(release);
    await clients.docker(['tag', release.localTag, ref]);
    const again = await clients.dockerTry(['push', ref]);
    assert.equal(again.code, 0, `same-digest re-push: ${again.stderr}`);

    await dockerLoad(other);
    await clients.docker(['tag', other.localTag, ref]);
    const moved = await clients.dockerTry(['push', ref]);
    t.diagnostic(`docker says: ${moved.stderr.trim().split('\n').at(-1)}`);
    assert.notEqual(moved.code, 0, 'docker moved an immutable tag');
    assert.match(`${moved.stdout}${moved.stderr}`, IMMUTABLE);
  });

  it('podman: first push, same image again, another image refused with the message', async (t) => {
    if (!ready(t, 'podman')) return;
    const tls = '--tls-verify=false';
    await clients.podman(['login', tls, '--username', ADMIN.username, '--password-stdin', host], { input: ADMIN.password });
    for (const image of [release, other]) {
      if ((await clients.podmanTry(['image', 'exists', image.localTag])).code !== 0) await clients.podman(['load', '-i', image.dockerArchive]);
    }
    const ref = `${host}/prod/e2e-podman:1.2.0`;
    await clients.podman(['tag', release.localTag, ref]);
    const digestFile = join(WORK, 'podman-digest');
    await clients.podman(['push', tls, '--digestfile', digestFile, ref]);
    const first = readFileSync(digestFile, 'utf8').trim();
    await clients.podman(['push', tls, '--digestfile', digestFile, ref]);
    assert.equal(readFileSync(digestFile, 'utf8').trim(), first, 'podman pushed another manifest the second time');

    await clients.podman(['tag', other.localTag, ref]);
    const moved = await clients.podmanTry(['push', tls, ref]);
    t.diagnostic(`podman says: ${moved.stderr.trim().split('\n').at(-1)}`);
    assert.notEqual(moved.code, 0, 'podman moved an immutable tag');
    assert.match(moved.stderr, IMMUTABLE);
  });

  it('skopeo: first copy, same layout again, another image refused with the message', async (t) => {
    if (!ready(t, 'skopeo')) return;
    const remote = `docker://${host}/prod/e2e-skopeo:1.3.0`;
    const copy = (image: TestImage) => clients.skopeo([
      'copy', '--preserve-digests', '--dest-tls-verify=false', '--dest-creds', credsArg(ADMIN), `oci:${image.ociLayout}:${image.ociTag}`, remote,
    ]);
    await copy(release);
    await copy(release);
    const moved = await copy(other).then(() => null, (error: Error) => error.message);
    t.diagnostic(`skopeo says: ${moved?.split('\n').find((l) => IMMUTABLE.test(l))}`);
    assert.ok(moved, 'skopeo moved an immutable tag');
    assert.match(moved, IMMUTABLE);
    const raw = await clients.skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', credsArg(ADMIN), remote]);
    const digest = `sha256:${(await import('node:crypto')).createHash('sha256').update(raw.stdout).digest('hex')}`;
    assert.equal(digest, release.ociManifestDigest, 'the tag still names the first image');
  });
});
