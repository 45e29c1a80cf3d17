/**
 * What the load cells read: in `bench/load`, one 4 KiB layer, a config, a Docker schema 2
 * manifest tagged `latest`, and 500 more tags on it (t000 … t499) for `tags/list`.
 */
import { createHash } from 'node:crypto';
import { bytesPayload, smallPayload } from './data.ts';
import { ask, expectStatus } from './http.ts';
import type { RegistrySystem } from './systems.ts';
import { pushBlob } from './transfers.ts';

export const LOAD_REPO = 'bench/load';
export const TAG_COUNT = 500;
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const MANIFEST_ACCEPT = `${DOCKER_MANIFEST}, application/vnd.oci.image.manifest.v1+json`;

export interface LoadFixture {
  manifestDigest: string;
  layerDigest: string;
}

export async function prepareLoad(sys: RegistrySystem): Promise<LoadFixture> {
  const layer = smallPayload(4096);
  await pushBlob(sys, LOAD_REPO, layer, 'length');
  const configText = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } });
  const config = bytesPayload(Buffer.from(configText));
  await pushBlob(sys, LOAD_REPO, config, 'length');
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.size, digest: config.digest },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.size, digest: layer.digest }],
  });
  const tags = ['latest', ...Array.from({ length: TAG_COUNT }, (_, i) => `t${String(i).padStart(3, '0')}`)];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tags.length) {
      const tag = tags[next++]!;
      expectStatus(
        await ask({
          url: `${sys.url}/v2/${LOAD_REPO}/manifests/${tag}`,
          method: 'PUT',
          headers: { ...sys.headers, 'Content-Type': DOCKER_MANIFEST },
          body: manifest,
          timeoutMs: 30_000,
        }),
        [201],
        `${sys.id} PUT manifest ${tag}`,
      );
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const list = expectStatus(
    await ask({ url: `${sys.url}/v2/${LOAD_REPO}/tags/list`, method: 'GET', headers: sys.headers, timeoutMs: 30_000 }),
    [200],
    `${sys.id} tags/list`,
  );
  // 501 tags of 4+ characters in JSON: anything shorter is a partial page.
  if (list.bytes < TAG_COUNT * 7) throw new Error(`${sys.id} tags/list returned only ${list.bytes} bytes`);
  return { manifestDigest: `sha256:${createHash('sha256').update(manifest).digest('hex')}`, layerDigest: layer.digest };
}
