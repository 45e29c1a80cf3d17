/**
 * One load cell: runs load-worker.ts in a child process against one URL at a fixed concurrency
 * for a fixed time, and samples the server's CPU over the same window, so the table can show
 * whether the server (one Node thread: at most 1.0 core) or the generator ran out of CPU.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, machineBusySeconds } from './rss.ts';

const WORKER = fileURLToPath(new URL('./load-worker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface LoadCell {
  url: string;
  method: 'GET' | 'HEAD';
  headers: Record<string, string>;
  concurrency: number;
  durationMs: number;
}

export interface LoadResult {
  requests: number;
  ok: number;
  errors: number;
  statuses: Record<string, number>;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Cores used by the generator, the server and the whole machine during the cell. */
  clientCpu: number;
  serverCpu: number;
  machineCpu: number;
}

export async function runLoad(cell: LoadCell, serverPid: number): Promise<LoadResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', BENCH_LOAD: JSON.stringify(cell) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let go: () => void = () => {};
  const started = new Promise<void>((resolve) => (go = resolve));
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    if (out.includes('go\n')) go();
  });
  child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-2000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const killer = setTimeout(() => child.kill('SIGKILL'), cell.durationMs + 30_000);
  // The worker's own start-up (tsx) stays out of the CPU window: sample once it says "go".
  await Promise.race([started, exited]);
  const server0 = cpuSeconds(serverPid);
  const machine0 = machineBusySeconds();
  const t0 = performance.now();
  const code = await exited;
  clearTimeout(killer);
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`load worker exited with ${code}: ${err}`);
  const result = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Omit<LoadResult, 'serverCpu' | 'machineCpu'>;
  return {
    ...result,
    serverCpu: (cpuSeconds(serverPid) - server0) / seconds,
    machineCpu: (machineBusySeconds() - machine0) / seconds,
  };
}
