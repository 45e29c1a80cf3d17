/**
 * docker, podman and skopeo on one machine: one DOCKER_CONFIG that all three read (podman and
 * skopeo also keep their own auth file beside it, as they do by default), logging in, pushing
 * and pulling in every order of the three, against the Node server with token auth.
 *
 * The trap this guards against: a registry that answers docker's `offline_token=true` login
 * with a refresh token makes docker store an `identitytoken` in config.json, and containers/common
 * then refuses `podman login` and `skopeo login` to that registry ("currently logged in, auth
 * file contains an Identity token"). Berth does not (worker/routes/token.ts).
 *
 * Every push and pull runs without credentials on its command line: each client must find the
 * login in the files the three share. Each client pulls what the next one in the order pushed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Clients, clientsReady, missingClients, type Credentials } from '../support/clients.ts';
import { ensureTestImage, type TestImage } from '../support/images.ts';
import { startNodeTarget, type NodeTarget } from '../support/target-node.ts';
import { ADMIN, BASE_ENV } from '../support/targets.ts';
import { testPort } from '../support/ports.ts';

const PORT = testPort(15440);
const WORK = resolve('.tmp', 'e2e-shared');
const CLIENTS = ['docker', 'podman', 'skopeo'] as const;
type Client = (typeof CLIENTS)[number];
const TLS = '--tls-verify=false';

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

const missing = missingClients();
const clients = new Clients(join(WORK, 'c'));
let target: NodeTarget | undefined;
let host = '';
let image: TestImage;

before(async () => {
  rmSync(join(WORK, 'orders'), { recursive: true, force: true });
  // Its own image ID, so removing it from the shared Docker daemon touches no other suite's.
  image = await ensureTestImage({ dir: join(WORK, 'images'), layerMb: 1, variant: 'shared-config' });
  target = await startNodeTarget({ port: PORT, env: { ...BASE_ENV } });
  host = new URL(target.url).host;
});

after(async () => {
  if (!missing.docker) await clients.dockerTry(['rmi', '-f', image.imageId]);
  await target?.stop();
});

/** The files one machine's three clients share: docker's config and containers' own auth file. */
function sharedEnv(dir: string): Record<string, string> {
  mkdirSync(join(dir, 'docker-config'), { recursive: true });
  return { DOCKER_CONFIG: join(dir, 'docker-config'), REGISTRY_AUTH_FILE: join(dir, 'containers-auth.json') };
}

async function login(client: Client, env: Record<string, string>, creds: Credentials): Promise<void> {
  const options = { env, input: creds.password };
  const args = ['--username', creds.username, '--password-stdin'];
  if (client === 'docker') await clients.docker(['login', host, ...args], options);
  if (client === 'podman') await clients.podman(['login', TLS, ...args, host], options);
  if (client === 'skopeo') await clients.skopeo(['login', TLS, ...args, host], options);
}

async function push(client: Client, env: Record<string, string>, ref: string): Promise<void> {
  if (client === 'docker') {
    if ((await clients.dockerTry(['image', 'inspect', image.localTag])).code !== 0) await clients.docker(['load', '-i', image.dockerArchive]);
    await clients.docker(['tag', image.localTag, ref]);
    await clients.docker(['push', ref], { env });
  }
  if (client === 'podman') {
    if ((await clients.podmanTry(['image', 'exists', image.localTag])).code !== 0) await clients.podman(['load', '-i', image.dockerArchive]);
    await clients.podman(['tag', image.localTag, ref]);
    await clients.podman(['push', TLS, ref], { env });
  }
  if (client === 'skopeo') {
    await clients.skopeo(['copy', '--dest-tls-verify=false', `oci:${image.ociLayout}:${image.ociTag}`, `docker://${ref}`], { env });
  }
}

/** The uncompressed layer digests (config `rootfs.diff_ids`) of the one image in an OCI layout. */
function layerIdsOf(layout: string): string[] {
  const blob = (digest: string): string => readFileSync(join(layout, 'blobs', ...digest.split(':')), 'utf8');
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(blob(index.manifests[0]?.digest ?? '')) as { config: { digest: string } };
  return (JSON.parse(blob(manifest.config.digest)) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
}

/** Pulls `ref` from scratch and checks the client got the pushed image. */
async function pull(client: Client, env: Record<string, string>, ref: string, dir: string): Promise<void> {
  if (client === 'docker') {
    await clients.dockerTry(['rmi', '-f', image.imageId]);
    await clients.docker(['pull', ref], { env });
    assert.equal((await clients.docker(['image', 'inspect', '--format', '{{.Id}}', ref])).stdout.trim(), image.imageId);
  }
  if (client === 'podman') {
    await clients.podmanTry(['rmi', '-f', image.imageId.replace(/^sha256:/, '')]);
    await clients.podman(['pull', TLS, ref], { env });
    const id = (await clients.podman(['image', 'inspect', '--format', '{{.Id}}', ref])).stdout.trim();
    assert.equal(`sha256:${id}`, image.imageId);
  }
  if (client === 'skopeo') {
    const layout = join(dir, 'skopeo-pulled');
    await clients.skopeo(['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${layout}:v1`], { env });
    // Converting a docker manifest to OCI may re-serialize the config, so compare the layers.
    assert.deepEqual(layerIdsOf(layout), layerIdsOf(image.ociLayout), 'skopeo pulled the pushed image');
  }
}

describe('docker, podman and skopeo sharing one DOCKER_CONFIG log in, push and pull in every order', { timeout: 900_000 }, () => {
  permutations(CLIENTS).forEach((order, index) => {
    it(order.join(' → '), async (t) => {
      if (!clientsReady(t, missing, CLIENTS)) return;
      const dir = join(WORK, 'orders', String(index));
      const env = sharedEnv(dir);
      for (const client of order) {
        await login(client, env, ADMIN);
        if (client === 'docker') {
          const config = JSON.parse(readFileSync(join(env.DOCKER_CONFIG ?? '', 'config.json'), 'utf8')) as { auths?: Record<string, { auth?: string; identitytoken?: string }> };
          const entry = config.auths?.[host];
          assert.ok(entry?.auth, `docker stored its login as auth: ${JSON.stringify(config.auths)}`);
          assert.equal(entry?.identitytoken, undefined, 'docker stored an identity token');
        }
      }
      const refs = Object.fromEntries(order.map((client) => [client, `${host}/shared/order${index}/${client}:v1`])) as Record<Client, string>;
      for (const client of order) await push(client, env, refs[client]);
      for (const [position, client] of order.entries()) {
        const next = order[(position + 1) % order.length] as Client;
        await pull(client, env, refs[next], dir);
      }
      t.diagnostic(`${order.join(', ')}: logged in, pushed and pulled each other's images`);
    });
  });
});
