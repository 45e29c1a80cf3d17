/**
 * The pull-through mirror, timed: an image (config and one incompressible layer) is pushed to
 * the reference registry, then pulled three ways, each a whole client pull (manifest, config,
 * layer, bytes counted):
 *   reference            straight from the upstream, the baseline;
 *   berth_mirror_first   through Berth's mirror while it fills its cache (the upstream's bytes
 *                        stream to the client as they are stored and hashed);
 *   berth_mirror_cached  through the mirror again, from Berth's own store.
 * Every round pushes a new image, so every first pull is cold.
 */
import { bytesPayload, payload } from './data.ts';
import { ask, expectStatus } from './http.ts';
import { reclaim } from './phases.ts';
import { add, type Table } from './stats.ts';
import type { RegistrySystem } from './systems.ts';
import { pullBlob, pushBlob } from './transfers.ts';

const MiB = 1024 * 1024;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MIRROR_PREFIX = 'hub';

export function mirrorTable(sizeMb: number): Table {
  return {
    id: 'mirror_pull',
    title: `Pull a ${sizeMb} MiB image: straight from the upstream (reference), through Berth's mirror first (filling it) and cached`,
    unit: 's',
    better: 'lower',
    samples: {},
  };
}

interface Pushed {
  repo: string;
  manifest: string;
  blobs: { digest: string; size: number }[];
}

async function pushImage(upstream: RegistrySystem, repo: string, size: number): Promise<Pushed> {
  const config = bytesPayload(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, repo })));
  const layer = payload(size);
  await pushBlob(upstream, repo, config, 'length');
  await pushBlob(upstream, repo, layer, 'length');
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest, size }],
  });
  expectStatus(
    await ask({ url: `${upstream.url}/v2/${repo}/manifests/v1`, method: 'PUT', headers: { ...upstream.headers, 'Content-Type': OCI_MANIFEST }, body: manifest }),
    [201],
    `${upstream.id} PUT manifest`,
  );
  return { repo, manifest, blobs: [{ digest: config.digest, size: config.size }, { digest: layer.digest, size }] };
}

/** A whole pull, as a client does it; seconds. */
async function pullImage(sys: RegistrySystem, repo: string, image: Pushed): Promise<number> {
  const started = performance.now();
  const manifest = expectStatus(
    await ask({ url: `${sys.url}/v2/${repo}/manifests/v1`, method: 'GET', headers: { ...sys.headers, Accept: OCI_MANIFEST } }),
    [200],
    `${sys.id} GET manifest`,
  );
  if (manifest.text !== image.manifest) throw new Error(`${sys.id}: the manifest of ${repo} differs from the one pushed`);
  for (const blob of image.blobs) await pullBlob(sys, repo, blob.digest, blob.size);
  return (performance.now() - started) / 1000;
}

export async function mirrorRounds(
  ctx: { upstream: RegistrySystem; mirror: RegistrySystem; sizeMb: number; table: Table; log(line: string): void },
  rounds: number,
): Promise<void> {
  const { upstream, mirror, table } = ctx;
  for (let round = 1; round <= rounds; round++) {
    const image = await pushImage(upstream, `bench/mirror-${round}-${Date.now().toString(36)}`, ctx.sizeMb * MiB);
    const direct = await pullImage(upstream, image.repo, image);
    const first = await pullImage(mirror, `${MIRROR_PREFIX}/${image.repo}`, image);
    const cached = await pullImage(mirror, `${MIRROR_PREFIX}/${image.repo}`, image);
    add(table, 'reference', direct);
    add(table, 'berth_mirror_first', first);
    add(table, 'berth_mirror_cached', cached);
    ctx.log(`  round ${round}/${rounds}: upstream ${direct.toFixed(2)} s, mirror first ${first.toFixed(2)} s, mirror cached ${cached.toFixed(2)} s`);
    for (const dir of [...mirror.dataDirs, ...upstream.dataDirs]) await reclaim(dir);
  }
}
