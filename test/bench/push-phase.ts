/**
 * The `push` phase of `npm run bench`: `berth push` (the CLI process: direct uploads, parts
 * straight to the bucket, 4 in flight) against `skopeo copy --preserve-digests` of the same OCI
 * layout to the same Berth on S3, and the direct path's throughput against a raw multipart
 * upload of as many bytes to the same S3 server with the same part size and concurrency.
 * Goals (issue): berth push ≥ 1.5× skopeo, ≥ 0.9× raw multipart. Rounds are interleaved; each
 * push goes to a new repository with an empty cache, and its blobs are unlinked from that
 * repository afterwards: skopeo remembers where it pushed a blob (its blob-info cache) and would
 * otherwise mount it from last round's repository instead of uploading it.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTestImage } from '../support/images.ts';
import { payload } from './data.ts';
import { reclaim } from './phases.ts';
import type { RawS3 } from './raw-s3.ts';
import { add, type Table } from './stats.ts';
import type { RegistrySystem } from './systems.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MiB = 1024 * 1024;

export interface PushTables {
  vsSkopeo: Table;
  vsRaw: Table;
}

export function newPushTables(sizeMb: number): PushTables {
  return {
    vsSkopeo: {
      id: 'push_cli', title: `Push an image with a ${sizeMb} MiB layer to Berth on S3: berth push vs skopeo copy`, unit: 'MiB/s', better: 'higher',
      samples: {}, raw: { berth_push: 'skopeo_copy' }, note: 'skopeo copy --preserve-digests of the same OCI layout; whole command, start to exit',
    },
    vsRaw: {
      id: 'push_direct', title: `Direct upload of ${sizeMb} MiB (berth push) vs raw S3 multipart to the same server`, unit: 'MiB/s', better: 'higher',
      samples: {}, raw: { berth_push: 'raw_s3_multipart' }, note: 'raw: 8 MiB parts, 4 in flight, CreateMultipartUpload to CompleteMultipartUpload',
    },
  };
}

function run(command: string, args: string[], env: Record<string, string>): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr}`))));
  });
}

/** The config and layer digests of the OCI layout's manifest `manifestDigest`. */
function blobsOf(layout: string, manifestDigest: string): string[] {
  const read = (digest: string): string => readFileSync(path.join(layout, 'blobs', ...digest.split(':')), 'utf8');
  const manifest = JSON.parse(read(manifestDigest)) as { config: { digest: string }; layers: { digest: string }[] };
  return [manifest.config.digest, ...manifest.layers.map((layer) => layer.digest)];
}

/** DELETE each blob's link from `repo`, so no later push can mount it from there. */
async function unlinkBlobs(base: string, repo: string, digests: string[], credentials: { username: string; password: string }): Promise<void> {
  const authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  for (const digest of digests) {
    const res = await fetch(`${base}/v2/${repo}/blobs/${digest}`, { method: 'DELETE', headers: { Authorization: authorization } });
    await res.arrayBuffer();
    if (res.status !== 202) throw new Error(`bench: unlinking ${digest} from ${repo} answered ${res.status}`);
  }
}

export async function pushRounds(opts: {
  berthS3: RegistrySystem;
  raw: RawS3;
  credentials: { username: string; password: string };
  sizeMb: number;
  rounds: number;
  tables: PushTables;
  log: (line: string) => void;
}): Promise<void> {
  const work = path.join(ROOT, '.tmp', 'bench-push');
  const image = await ensureTestImage({ dir: path.join(work, 'images'), layerMb: opts.sizeMb });
  const host = new URL(opts.berthS3.url).host;
  const source = `oci:${image.ociLayout}:${image.ociTag}`;
  const mib = image.bigLayerBytes / MiB;
  const pushers: [string, (round: number) => Promise<number>][] = [
    ['berth_push', (round) => {
      const cache = path.join(work, `cache-${round}`);
      rmSync(cache, { recursive: true, force: true });
      return run(process.execPath, ['--import', 'tsx', 'worker/cli/berth.ts', '--url', opts.berthS3.url, 'push', source, `bench/push-${round}:v1`], {
        BERTH_USER: opts.credentials.username, BERTH_PASSWORD: opts.credentials.password, BERTH_CACHE_DIR: cache,
      });
    }],
    ['skopeo_copy', (round) => run('skopeo', [
      'copy', '--preserve-digests', '--dest-tls-verify=false', '--dest-creds', `${opts.credentials.username}:${opts.credentials.password}`,
      source, `docker://${host}/bench/skopeo-${round}:v1`,
    ], {})],
    ['raw_s3_multipart', async (round) => (await opts.raw.multipart(`bench-raw/push-${round}`, payload(image.bigLayerBytes))).ms],
  ];
  const blobs = blobsOf(image.ociLayout, image.ociManifestDigest);
  const repoOf: Record<string, (round: number) => string> = { berth_push: (r) => `bench/push-${r}`, skopeo_copy: (r) => `bench/skopeo-${r}` };
  for (let round = 1; round <= opts.rounds; round++) {
    const order = [...pushers.slice(round % pushers.length), ...pushers.slice(0, round % pushers.length)];
    for (const [system, pushOnce] of order) {
      const ms = await pushOnce(round);
      const repo = repoOf[system]?.(round);
      if (repo) await unlinkBlobs(opts.berthS3.url, repo, blobs, opts.credentials);
      const rate = mib / (ms / 1000);
      if (system !== 'raw_s3_multipart') add(opts.tables.vsSkopeo, system, rate);
      if (system !== 'skopeo_copy') add(opts.tables.vsRaw, system, rate);
      opts.log(`  round ${round} ${system}: ${(ms / 1000).toFixed(1)} s (${rate.toFixed(0)} MiB/s)`);
      if (system === 'raw_s3_multipart') await opts.raw.remove(`bench-raw/push-${round}`);
      await Promise.all(opts.berthS3.dataDirs.map(reclaim));
    }
  }
}
