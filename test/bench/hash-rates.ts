/**
 * Hashing and read-back rates behind the direct-upload verification limits in README ("How
 * large a layer each runtime verifies"): SHA-256 native and resumable (@noble/hashes) in Node
 * and in workerd (Miniflare, the Workers runtime), and reading an object back from the local S3
 * server through the S3 driver while hashing it, as `PUT ?digest=` of a direct upload does.
 *
 * Standalone: `npx tsx test/bench/hash-rates.ts [MiB]` (256 by default); also a phase of `npm run bench`.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { sha256 } from '@noble/hashes/sha2.js';
import { Miniflare } from 'miniflare';
import { bundleWorker } from '../support/worker-bundle.ts';
import { startS3Server } from '../support/s3-server.ts';
import { createS3Store } from '../../worker/storage/s3.ts';
import { checkedStore } from '../../worker/storage/checked.ts';
import { hashStoredObject } from '../../worker/registry/upload-assembly.ts';

const MiB = 1024 * 1024;

export interface HashRates {
  sizeMb: number;
  nodeNativeMiBps: number;
  nodeNobleMiBps: number;
  workerdNativeMiBps: number;
  workerdNobleMiBps: number;
  s3ReadAndHashMiBps: number;
}

function nodeRate(mb: number, make: () => { update(b: Uint8Array): unknown }): number {
  const chunk = new Uint8Array(MiB).map((_, i) => (i * 131) & 0xff);
  const hasher = make();
  const started = performance.now();
  for (let i = 0; i < mb; i++) hasher.update(chunk);
  return mb / ((performance.now() - started) / 1000);
}

async function workerdRates(mb: number, port: number): Promise<{ native: number; noble: number }> {
  const { code } = await bundleWorker(fileURLToPath(new URL('./hash-worker.ts', import.meta.url)));
  const mf = new Miniflare({
    modules: [{ type: 'ESModule', path: 'hash.js', contents: code }],
    compatibilityDate: '2026-04-26',
    compatibilityFlags: ['nodejs_compat'],
    host: '127.0.0.1',
    port,
  });
  try {
    const origin = (await mf.ready).origin;
    const time = async (mode: string): Promise<number> => {
      const started = performance.now();
      await (await fetch(`${origin}/${mode}?mb=${mb}`)).text();
      return performance.now() - started;
    };
    await time('baseline');
    const baseline = await time('baseline');
    const native = await time('native');
    const noble = await time('noble');
    return { native: mb / (Math.max(native - baseline, 1) / 1000), noble: mb / (Math.max(noble - baseline, 1) / 1000) };
  } finally {
    await mf.dispose();
  }
}

async function s3ReadRate(mb: number, port: number): Promise<number> {
  const s3 = await startS3Server({ port });
  try {
    const store = checkedStore(createS3Store({
      endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    }));
    const part = 16 * MiB;
    const id = await store.createMultipart('bench/object', part);
    const parts = [];
    const body = new Uint8Array(part).map((_, i) => (i * 7) & 0xff);
    for (let n = 1; n * part <= mb * MiB; n++) parts.push(await store.uploadPart('bench/object', id, n, body));
    await store.completeMultipart('bench/object', id, parts);
    const started = performance.now();
    await hashStoredObject(store, 'bench/object', 'sha256');
    return (parts.length * part) / MiB / ((performance.now() - started) / 1000);
  } finally {
    await s3.stop();
  }
}

export async function measureHashRates(mb: number, port: number): Promise<HashRates> {
  const workerd = await workerdRates(mb, port);
  return {
    sizeMb: mb,
    nodeNativeMiBps: nodeRate(mb, () => createHash('sha256')),
    nodeNobleMiBps: nodeRate(Math.min(mb, 256), () => sha256.create()),
    workerdNativeMiBps: workerd.native,
    workerdNobleMiBps: workerd.noble,
    s3ReadAndHashMiBps: await s3ReadRate(mb, port + 1),
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const mb = Number(process.argv[2] ?? '256');
  const rates = await measureHashRates(mb, Number(process.env.BERTH_BENCH_PORT ?? 15600) + 20);
  console.log(JSON.stringify(rates, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v) : v), 2));
}
