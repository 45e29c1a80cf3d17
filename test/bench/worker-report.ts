/**
 * The Worker phase: runs worker-cpu.ts in its own process (Node 20 has WebSocket only behind
 * --experimental-websocket) and renders its figures against the 1 ms goal per request.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fmt } from './stats.ts';

const SCRIPT = fileURLToPath(new URL('./worker-cpu.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface WorkerCpu {
  requests: number;
  results: { op: string; cpuMs: number; processCpuMs: number; samples: number; reps: number }[];
}

export async function workerCpu(benchPort: number, log: (line: string) => void): Promise<WorkerCpu> {
  const child = spawn(process.execPath, ['--experimental-websocket', '--no-warnings', '--import', 'tsx', SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', BERTH_BENCH_PORT: String(benchPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`worker-cpu.ts exited with ${code}: ${err}`);
  const result = JSON.parse(out.trim().split('\n').pop() ?? '{}') as WorkerCpu;
  for (const r of result.results) log(`  ${r.op}: ${r.cpuMs.toFixed(3)} ms isolate CPU per request, workerd ${r.processCpuMs.toFixed(3)} ms (${r.reps} requests, ${r.samples} samples)`);
  return result;
}

const TITLES: Record<string, string> = {
  manifest_head: 'HEAD manifest by tag',
  manifest_get: 'GET manifest by tag',
  blob_head: 'HEAD blob',
  base_get: 'GET /v2/ (token check only)',
  layer_get_16m: 'GET a 16 MiB layer streamed through the Worker',
  manifest_put: 'PUT manifest by tag',
  layer_upload_1m: 'Upload a 1 MiB layer (POST, PATCH, PUT)',
  layer_upload_16m: 'Upload a 16 MiB layer (POST, PATCH, PUT)',
};
const GOAL = new Set(['manifest_head', 'manifest_get', 'blob_head']);

function rows(w: WorkerCpu): string[][] {
  return w.results.map((r) => [
    TITLES[r.op] ?? r.op,
    fmt(r.cpuMs, 3),
    fmt(r.processCpuMs, 3),
    String(r.reps),
    GOAL.has(r.op) ? (r.cpuMs < 1 ? 'met (< 1 ms)' : 'not met (< 1 ms)') : '',
  ]);
}

const HEADER = ['request', 'Worker CPU ms', 'workerd CPU ms', 'requests', 'goal'];
const NOTE =
  "CPU time of the Worker's isolate per request, one request at a time, from V8's sampling profiler (50 µs) over " +
  "wrangler's inspector: busy samples / requests. Local R2 runs in another isolate and is not counted, as Cloudflare " +
  'bills only the Worker\'s own CPU. "workerd CPU" is the whole workerd process from /proc (the Worker, local R2, ' +
  "wrangler's proxy): an upper bound that does not stretch when other work contends for the cores, as the sampler's " +
  'intervals do. Token auth on (ES256 JWT, verified once per token and cached).';

export function workerCpuMarkdown(w: WorkerCpu): string {
  return ['### The Worker in workerd: CPU per request', '', NOTE, '', `| ${HEADER.join(' | ')} |`, '|---|---:|---:|---:|---|', ...rows(w).map((r) => `| ${r.join(' | ')} |`), ''].join('\n');
}

export function workerCpuText(w: WorkerCpu): string {
  return ['\nThe Worker in workerd: CPU per request (ms: Worker isolate, whole workerd)', ...rows(w).map((r) => `  ${r[0]!.padEnd(44)} ${r[1]!.padStart(8)} ${r[2]!.padStart(8)}  ${r[3]!.padStart(5)}  ${r[4]}`)].join('\n');
}
