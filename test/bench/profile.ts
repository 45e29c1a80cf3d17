/**
 * Profiles one Berth process under one workload and prints its hottest frames:
 *   tsx test/bench/profile.ts <tags|manifest|blob-head|push|small> [fs|s3]
 * Berth runs with `node --cpu-prof`; the profile (.tmp/bench-prof/<workload>-<store>/) is
 * written when it exits. Ports BERTH_BENCH_PORT+20 … +21 (default 15620). BERTH_BENCH_SIZE_MB
 * sets the push size (1024).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { payload } from './data.ts';
import { runLoad } from './load.ts';
import { LOAD_REPO, MANIFEST_ACCEPT, prepareLoad } from './load-setup.ts';
import { startBerth, startBerthS3, startS3 } from './systems.ts';
import { pushBlob, smallUploads } from './transfers.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url ? url.replace(/^file:\/\//, '').replace(ROOT, '') : '';
  return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
}

/** Top frames by self time, and by inclusive time among the project's own (worker/) frames. */
export function summarise(profile: CpuProfile, top = 15): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const msPerSample = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length);
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const walk = (id: number, onPath: Set<string>): number => {
    const node = byId.get(id)!;
    const name = frameName(node);
    let total = hits.get(id) ?? 0;
    self.set(name, (self.get(name) ?? 0) + total);
    const fresh = !onPath.has(name);
    if (fresh) onPath.add(name);
    for (const child of node.children ?? []) total += walk(child, onPath);
    if (fresh) {
      onPath.delete(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + total);
    }
    return total;
  };
  walk(profile.nodes[0]!.id, new Set());
  const total = profile.samples.length;
  const list = (m: Map<string, number>, filter: (k: string) => boolean): string[] =>
    [...m.entries()]
      .filter(([k]) => filter(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${(v * msPerSample).toFixed(0).padStart(6)} ms  ${k}`);
  return [
    `samples ${total}, ${(total * msPerSample / 1000).toFixed(1)} s`,
    'self time:',
    ...list(self, (k) => !k.startsWith('(idle)')),
    'inclusive, project frames (worker/):',
    ...list(inclusive, (k) => k.includes(' worker/')),
  ].join('\n');
}

async function main(): Promise<void> {
  const [workload = 'tags', store = 'fs'] = process.argv.slice(2);
  const port = Number(process.env.BERTH_BENCH_PORT ?? 15600) + 20;
  const sizeMb = Number(process.env.BERTH_BENCH_SIZE_MB ?? 1024);
  const dir = path.join(ROOT, '.tmp', 'bench-prof', `${workload}-${store}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const s3 = store === 's3' ? await startS3(port + 1) : undefined;
  const sys = await (s3
    ? startBerthS3({ id: 'berth_s3', port, s3, auth: true, cpuProfDir: dir })
    : startBerth({ id: 'berth_fs', port, auth: true, cpuProfDir: dir })
  ).catch(async (error: unknown) => {
    await s3?.stop();
    throw error;
  });
  try {
    const load = async (url: string, method: 'GET' | 'HEAD'): Promise<void> => {
      const r = await runLoad({ url, method, headers: { ...sys.headers, Accept: MANIFEST_ACCEPT }, concurrency: 16, durationMs: 3000 }, sys.pid);
      console.log(`${workload}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, server ${r.serverCpu.toFixed(2)} cores`);
    };
    if (workload === 'push') {
      const push = await pushBlob(sys, 'bench/big', payload(sizeMb * 1024 * 1024), 'chunked');
      console.log(`push ${sizeMb} MiB: ${(push.totalMs / 1000).toFixed(2)} s, finishing PUT ${push.putMs.toFixed(0)} ms`);
    } else if (workload === 'small') {
      console.log(`200 small uploads: ${((await smallUploads(sys, 'bench/small', 200, 4096, 1)) / 1000).toFixed(2)} s`);
    } else {
      const fx = await prepareLoad(sys);
      const base = `${sys.url}/v2/${LOAD_REPO}`;
      if (workload === 'tags') await load(`${base}/tags/list`, 'GET');
      else if (workload === 'manifest') await load(`${base}/manifests/latest`, 'HEAD');
      else if (workload === 'blob-head') await load(`${base}/blobs/${fx.layerDigest}`, 'HEAD');
      else throw new Error(`unknown workload ${workload}`);
    }
  } finally {
    await sys.stop();
    await s3?.stop();
  }
  // tsx's loader thread writes a profile too: the server's is the biggest.
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort((a, b) => statSync(path.join(dir, b)).size - statSync(path.join(dir, a)).size)[0];
  if (!file) throw new Error(`no profile written in ${dir}`);
  console.log(`profile: ${path.join(dir, file)}`);
  console.log(summarise(JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
