/**
 * The per-operation costs: server CPU per operation (CPU seconds of the server process, from
 * /proc, over as many repetitions as it takes to gather a measurable amount) and store calls per
 * operation (from the counting twin, counted-server.ts, which runs the same operation once on
 * the same store). Neither depends much on how busy the machine is, unlike throughput.
 *
 * Fixtures, seeded once per store before anything is measured: a repository with `listSize`
 * tags, `listSize` repositories for the catalog, `manifestLayers` small blobs for one manifest
 * naming them all, and a small image for the read operations.
 */
import { randomBytes } from 'node:crypto';
import { payload } from './data.ts';
import {
  getManifest,
  getPath,
  headBlob,
  inParallel,
  manifestOf,
  putBlob,
  pullImage,
  pushImage,
  putManifest,
  repoName,
  tagName,
  uploadLayer,
  type Blob,
  type PushedImage,
} from './operations.ts';
import { ask, expectStatus } from './http.ts';
import { cpuSeconds } from './rss.ts';
import type { CountedTwin, RegistrySystem } from './systems.ts';
import { pullBlob } from './transfers.ts';

const MiB = 1024 * 1024;
const OPS_REPO = 'bench/ops';
const TAGS_REPO = 'bench/tags';
const LAYERS_REPO = 'bench/layers';
const CATALOG_PREFIX = 'bench/cat';
const SEED_CONCURRENCY = 8;

export interface CostSettings {
  /** Tags in one repository and repositories in the catalog (10,000). */
  listSize: number;
  /** Layers named by the big manifest (10,000). */
  manifestLayers: number;
  /** Layers of the pushed and pulled image (8) and their size. */
  imageLayers: number;
  imageLayerBytes: number;
  /** Part size Berth uploads with (for the multipart upload case: 3 parts and a tail). */
  partBytes: number;
  /** Server CPU seconds to gather per operation before dividing (resolution: 10 ms ticks). */
  minCpuSeconds: number;
  /** Wall-clock cap per operation and system. */
  maxSeconds: number;
  /** Measure only these operations (ids); all when empty. */
  only: string[];
}

interface Fixture {
  image: PushedImage;
  small: Blob;
  layers: Blob[];
  lateTag: string;
  lateRepo: string;
}

interface Operation {
  id: string;
  title: string;
  /** At most this many repetitions (expensive operations). */
  maxReps: number;
  /** Not on the reference registry (it has no such operation, or answers it differently). */
  berthOnly?: boolean;
  run(sys: RegistrySystem, fx: Fixture, rep: number): Promise<void>;
}

export interface OpCost {
  op: string;
  title: string;
  system: string;
  reps: number;
  /** Server CPU milliseconds per operation. */
  cpuMs: number;
  /** Wall-clock milliseconds per operation, one at a time (load-dependent: shown for scale). */
  wallMs: number;
}

export interface OpCalls {
  op: string;
  system: string;
  calls: Record<string, number>;
}

function operations(s: CostSettings): Operation[] {
  const multipartBytes = 3 * s.partBytes + 4 * MiB;
  const page = 100;
  return [
    { id: 'manifest_head', title: 'HEAD manifest by tag', maxReps: 5000, run: (sys) => getManifest(sys, OPS_REPO, 'latest', 'HEAD').then(() => {}) },
    { id: 'manifest_get', title: 'GET manifest by tag', maxReps: 5000, run: (sys) => getManifest(sys, OPS_REPO, 'latest').then(() => {}) },
    { id: 'blob_head', title: 'HEAD blob', maxReps: 5000, run: (sys, fx) => headBlob(sys, OPS_REPO, fx.small.digest).then(() => {}) },
    { id: 'blob_get', title: 'GET 4 KiB blob (S3: the 307, then the store)', maxReps: 5000, run: (sys, fx) => pullBlob(sys, OPS_REPO, fx.small.digest, fx.small.size).then(() => {}) },
    { id: 'layer_upload_1m', title: 'Upload a 1 MiB layer (HEAD, POST, PATCH, PUT, HEAD)', maxReps: 300, run: (sys) => uploadLayer(sys, OPS_REPO, payload(MiB)).then(() => {}) },
    {
      id: 'layer_upload_parts',
      title: `Upload a ${multipartBytes / MiB} MiB layer (3 parts and a tail)`,
      maxReps: 6,
      run: (sys) => uploadLayer(sys, OPS_REPO, payload(multipartBytes)).then(() => {}),
    },
    {
      id: 'manifest_put',
      title: `PUT manifest by tag (${s.imageLayers} layers)`,
      maxReps: 1000,
      run: (sys, fx, rep) => putManifest(sys, OPS_REPO, `put-${rep}`, fx.image.manifest).then(() => {}),
    },
    {
      id: 'image_push',
      title: `Push an image: config, ${s.imageLayers} new layers of ${s.imageLayerBytes / 1024} KiB, manifest`,
      maxReps: 100,
      run: (sys, _fx, rep) => pushImage(sys, OPS_REPO, `push-${rep}`, s.imageLayers, s.imageLayerBytes).then(() => {}),
    },
    {
      id: 'image_repush',
      title: `Push an image whose ${s.imageLayers} layers and config exist (HEADs, manifest)`,
      maxReps: 1000,
      run: async (sys, fx, rep) => {
        for (const blob of [fx.image.config, ...fx.image.layers]) await headBlob(sys, OPS_REPO, blob.digest);
        await putManifest(sys, OPS_REPO, `repush-${rep}`, fx.image.manifest);
      },
    },
    { id: 'image_pull', title: `Pull that image (manifest, config, ${s.imageLayers} layers)`, maxReps: 1000, run: (sys, fx) => pullImage(sys, OPS_REPO, 'latest', fx.image) },
    {
      id: 'tags_first',
      title: `tags/list of ${s.listSize} tags, first page (n=${page})`,
      maxReps: 2000,
      run: (sys) => getPath(sys, `/v2/${TAGS_REPO}/tags/list?n=${page}`).then(() => {}),
    },
    {
      id: 'tags_late',
      title: `tags/list of ${s.listSize} tags, a late page (n=${page}&last=…90 %)`,
      maxReps: 2000,
      run: (sys, fx) => getPath(sys, `/v2/${TAGS_REPO}/tags/list?n=${page}&last=${fx.lateTag}`).then(() => {}),
    },
    { id: 'tags_all', title: `tags/list of ${s.listSize} tags, all in one answer`, maxReps: 200, run: (sys) => getPath(sys, `/v2/${TAGS_REPO}/tags/list`).then(() => {}) },
    { id: 'catalog_first', title: `_catalog of ${s.listSize}+ repositories, first page (n=${page})`, maxReps: 2000, run: (sys) => getPath(sys, `/v2/_catalog?n=${page}`).then(() => {}) },
    {
      id: 'catalog_late',
      title: `_catalog of ${s.listSize}+ repositories, a late page (n=${page}&last=…90 %)`,
      maxReps: 2000,
      run: (sys, fx) => getPath(sys, `/v2/_catalog?n=${page}&last=${encodeURIComponent(fx.lateRepo)}`).then(() => {}),
    },
    {
      id: 'manifest_put_many',
      title: `PUT a manifest naming ${s.manifestLayers} layers (all present)`,
      maxReps: 5,
      run: (sys, fx, rep) => putManifest(sys, LAYERS_REPO, `many-${rep}`, manifestOf(fx.layers[0]!, fx.layers)).then(() => {}),
    },
    {
      id: 'manifest_put_missing',
      title: `PUT a manifest naming ${s.manifestLayers} layers (none present: 400)`,
      maxReps: 5,
      run: async (sys, fx) => {
        const absent = fx.layers.map((l, i) => ({ size: l.size, digest: `sha256:${randomBytes(31).toString('hex')}${i.toString(16).padStart(2, '0').slice(-2)}` }));
        await putManifest(sys, LAYERS_REPO, 'missing', manifestOf(fx.layers[0]!, absent), [400]);
      },
    },
  ];
}

/** Seeds the fixtures through `seeder` (the twin for Berth: same store, no auth). */
async function seed(seeder: RegistrySystem, s: CostSettings, log: (l: string) => void): Promise<Fixture> {
  const started = performance.now();
  const image = await pushImage(seeder, OPS_REPO, 'latest', s.imageLayers, s.imageLayerBytes);
  const small = await uploadLayer(seeder, OPS_REPO, payload(4096));
  // Tags: one manifest under listSize tags.
  const tagged = await uploadLayer(seeder, TAGS_REPO, payload(1024));
  const tagManifest = manifestOf(tagged, [tagged]);
  await inParallel(s.listSize, SEED_CONCURRENCY, (i) => putManifest(seeder, TAGS_REPO, tagName(i), tagManifest));
  // Catalog: listSize repositories, each holding one layer (mounted) and a manifest.
  const base = await uploadLayer(seeder, `${CATALOG_PREFIX}/base`, payload(1024));
  const repoManifest = manifestOf(base, [base]);
  await inParallel(s.listSize, SEED_CONCURRENCY, async (i) => {
    const repo = repoName(CATALOG_PREFIX, i);
    const mount = await ask({
      url: `${seeder.url}/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(base.digest)}&from=${CATALOG_PREFIX}/base`,
      method: 'POST',
      headers: seeder.headers,
      timeoutMs: 60_000,
    });
    expectStatus(mount, [201], `${seeder.id} mount into ${repo}`);
    await putManifest(seeder, repo, 'latest', repoManifest);
  });
  // Layers for the big manifest: tiny distinct blobs, one request each.
  const layers: Blob[] = new Array(s.manifestLayers);
  await inParallel(s.manifestLayers, SEED_CONCURRENCY, async (i) => {
    layers[i] = await putBlob(seeder, LAYERS_REPO, Buffer.from(`layer ${i} ${randomBytes(8).toString('hex')}`));
  });
  log(`  ${seeder.id}: seeded ${s.listSize} tags, ${s.listSize} repositories, ${s.manifestLayers} layers in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  const late = Math.floor(s.listSize * 0.9);
  return { image, small, layers, lateTag: tagName(late), lateRepo: repoName(CATALOG_PREFIX, late) };
}

/** Repeats `op` until the server used `minCpuSeconds` (or a cap was reached); CPU and wall per op. */
async function measure(sys: RegistrySystem, op: Operation, fx: Fixture, s: CostSettings, counter: { rep: number }): Promise<OpCost> {
  await op.run(sys, fx, counter.rep++); // warm-up: first-use costs (JIT, caches) stay out
  const cpu0 = cpuSeconds(sys.pid);
  const t0 = performance.now();
  let reps = 0;
  while (reps < op.maxReps && cpuSeconds(sys.pid) - cpu0 < s.minCpuSeconds && performance.now() - t0 < s.maxSeconds * 1000) {
    await op.run(sys, fx, counter.rep++);
    reps++;
  }
  const wallMs = (performance.now() - t0) / reps;
  return { op: op.id, title: op.title, system: sys.id, reps, cpuMs: ((cpuSeconds(sys.pid) - cpu0) * 1000) / reps, wallMs };
}

export interface CostResult {
  costs: OpCost[];
  calls: OpCalls[];
  titles: Record<string, string>;
}

/**
 * Seeds every system, then measures each operation on each system (CPU) and on each twin
 * (store calls). `twins` maps a Berth system's id to its counting twin.
 */
export async function operationCosts(systems: RegistrySystem[], twins: Map<string, CountedTwin>, s: CostSettings, log: (l: string) => void): Promise<CostResult> {
  const fixtures = new Map<string, Fixture>();
  for (const sys of systems) fixtures.set(sys.id, await seed(twins.get(sys.id) ?? sys, s, log));
  const ops = operations(s).filter((op) => s.only.length === 0 || s.only.includes(op.id));
  const costs: OpCost[] = [];
  const calls: OpCalls[] = [];
  for (const op of ops) {
    for (const sys of systems) {
      if (op.berthOnly && !twins.has(sys.id)) continue;
      const fx = fixtures.get(sys.id)!;
      const counter = { rep: 0 };
      const cost = await measure(sys, op, fx, s, counter);
      costs.push(cost);
      let line = `  ${op.id} ${sys.id}: ${cost.cpuMs.toFixed(2)} ms CPU per op over ${cost.reps} (wall ${cost.wallMs.toFixed(1)} ms)`;
      const twin = twins.get(sys.id);
      if (twin) {
        await twin.calls(); // reset
        await op.run(twin, fx, 1_000_000 + counter.rep);
        const counted = await twin.calls();
        calls.push({ op: op.id, system: sys.id, calls: counted });
        line += `, store calls ${JSON.stringify(counted)}`;
      }
      log(line);
    }
  }
  return { costs, calls, titles: Object.fromEntries(ops.map((o) => [o.id, o.title])) };
}
