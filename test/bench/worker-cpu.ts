/**
 * The Worker's CPU per request in workerd: Berth's Worker under `wrangler dev` (local R2, token
 * auth), one small image pushed, then for each request kind the V8 CPU profiler of the Worker's
 * isolate runs (Chrome DevTools protocol through wrangler's inspector port) while N requests are
 * made one at a time. CPU per request = non-idle profile time / N. Cloudflare bills CPU time of the
 * isolate, not time waiting on R2, and so does this count; R2 itself runs in another isolate here.
 *
 * Run as its own process (WebSocket needs `node --experimental-websocket` on Node 20):
 *   node --experimental-websocket --import tsx test/bench/worker-cpu.ts
 * Env: BERTH_BENCH_PORT (+14 Worker, +15 inspector), BERTH_BENCH_WORKER_REQUESTS (300),
 * BERTH_BENCH_PROFILE=<dir> (also write each profile there, for DevTools or profile.ts).
 * Prints one JSON line: { requests, results: [{ op, cpuMs, processCpuMs, samples, reps }] }.
 * The profile's figure is exact on an idle machine; when the cores are contended the sampler is
 * scheduled late and its intervals stretch, so processCpuMs (workerd's CPU time from /proc, every
 * isolate of the process included) is printed beside it as a bound that load cannot inflate.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startWorkerTarget } from '../support/target-worker.ts';
import { bearerToken } from '../support/registry-client.ts';
import { bytesPayload, payload } from './data.ts';
import { ask, expectStatus } from './http.ts';
import { manifestOf } from './operations.ts';
import type { RegistrySystem } from './systems.ts';
import { pushBlob } from './transfers.ts';
import { cpuSeconds, descendantsNamed } from './rss.ts';

const ADMIN = { username: 'admin', password: 'bench-admin-password-1' };
const REPO = 'bench/worker';
const ACCEPT = 'application/vnd.docker.distribution.manifest.v2+json';
const MiB = 1024 * 1024;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A minimal DevTools protocol client: one WebSocket, numbered calls. */
async function devtools(inspectorPort: number): Promise<{ call<T>(method: string, params?: object): Promise<T>; close(): void }> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { webSocketDebuggerUrl?: string }[];
  const url = targets.find((t) => t.webSocketDebuggerUrl)?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspectable Worker on port ${inspectorPort}: ${JSON.stringify(targets)}`);
  // wrangler's inspector proxy wants an Origin it trusts (its own localhost); undici takes headers here.
  const socket = new WebSocket(url, { headers: { Origin: 'http://localhost' } } as unknown as string[]);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)), { once: true });
  });
  let next = 1;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
    const pending = message.id === undefined ? undefined : waiting.get(message.id);
    if (!pending) return;
    waiting.delete(message.id!);
    if (message.error) pending.reject(new Error(message.error.message));
    else pending.resolve(message.result);
  });
  return {
    call<T>(method: string, params: object = {}): Promise<T> {
      const id = next++;
      socket.send(JSON.stringify({ id, method, params }));
      return new Promise<T>((resolve, reject) => waiting.set(id, { resolve: resolve as (v: unknown) => void, reject }));
    },
    close: () => socket.close(),
  };
}

/** Milliseconds the isolate spent on anything but waiting, from a sampled profile. */
function busyMs(profile: Profile): number {
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  let busy = 0;
  profile.samples.forEach((id, i) => {
    if (!idle.has(id)) busy += profile.timeDeltas[i] ?? 0;
  });
  return busy / 1000;
}

async function main(): Promise<void> {
  const base = Number(process.env.BERTH_BENCH_PORT ?? 15600);
  const requests = Number(process.env.BERTH_BENCH_WORKER_REQUESTS ?? 300);
  const profileDir = process.env.BERTH_BENCH_PROFILE ? path.resolve(process.env.BERTH_BENCH_PROFILE) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const port = base + 14;
  // BERTH_R2_READ_SLICE_MB=0: blobs read as a deployed Worker reads them (dev:worker slices them).
  const target = await startWorkerTarget({ port, inspectorPort: port + 1, env: { BERTH_ADMIN_PASSWORD: ADMIN.password, BERTH_TOKEN_TTL_SECONDS: '7200', BERTH_R2_READ_SLICE_MB: '0' } });
  try {
    const token = await bearerToken(target.url, ADMIN, [`repository:${REPO}:push,pull`]);
    const sys: RegistrySystem = { id: 'worker', url: target.url, pid: 0, headers: { Authorization: `Bearer ${token}` }, dataDirs: [], logs: target.logs, stop: target.stop };
    const layer = bytesPayload(randomBytes(4096));
    const config = bytesPayload(Buffer.from('{"os":"linux","architecture":"amd64"}'));
    await pushBlob(sys, REPO, layer, 'length');
    await pushBlob(sys, REPO, config, 'length');
    // A layer pulled through the Worker (an R2 binding without S3 keys cannot redirect).
    const big = payload(16 * MiB);
    await pushBlob(sys, REPO, big, 'chunked');
    const manifest = manifestOf({ digest: config.digest, size: config.size }, [{ digest: layer.digest, size: layer.size }]);
    expectStatus(await ask({ url: `${sys.url}/v2/${REPO}/manifests/latest`, method: 'PUT', headers: { ...sys.headers, 'Content-Type': ACCEPT }, body: manifest }), [201], 'PUT manifest');
    const get = (path: string, method: 'GET' | 'HEAD') => async (): Promise<void> => {
      expectStatus(await ask({ url: `${sys.url}${path}`, method, headers: { ...sys.headers, Accept: ACCEPT } }), [200], `${method} ${path}`);
    };
    let tag = 0;
    const ops: { op: string; reps: number; run(): Promise<void> }[] = [
      { op: 'manifest_head', reps: requests, run: get(`/v2/${REPO}/manifests/latest`, 'HEAD') },
      { op: 'manifest_get', reps: requests, run: get(`/v2/${REPO}/manifests/latest`, 'GET') },
      { op: 'blob_head', reps: requests, run: get(`/v2/${REPO}/blobs/${layer.digest}`, 'HEAD') },
      { op: 'base_get', reps: requests, run: get('/v2/', 'GET') },
      { op: 'layer_get_16m', reps: 10, run: get(`/v2/${REPO}/blobs/${big.digest}`, 'GET') },
      {
        op: 'manifest_put',
        reps: Math.ceil(requests / 3),
        run: async () => {
          const put = await ask({ url: `${sys.url}/v2/${REPO}/manifests/t${tag++}`, method: 'PUT', headers: { ...sys.headers, 'Content-Type': ACCEPT }, body: manifest });
          expectStatus(put, [201], 'PUT manifest');
        },
      },
      // A whole docker-style upload (POST, one PATCH, PUT ?digest=); per MiB from the two sizes.
      { op: 'layer_upload_1m', reps: 10, run: () => pushBlob(sys, REPO, payload(MiB), 'chunked').then(() => {}) },
      { op: 'layer_upload_16m', reps: 4, run: () => pushBlob(sys, REPO, payload(16 * MiB), 'chunked').then(() => {}) },
    ];
    const inspector = await devtools(port + 1);
    // workerd's own CPU (every isolate: the Worker, local R2, wrangler's proxy) as an upper bound.
    const workerd = target.pid === undefined ? [] : descendantsNamed(target.pid, 'workerd');
    const workerdCpu = (): number => workerd.reduce((n, pid) => n + cpuSeconds(pid), 0);
    const results: { op: string; cpuMs: number; processCpuMs: number; samples: number; reps: number }[] = [];
    try {
      await inspector.call('Profiler.enable');
      await inspector.call('Profiler.setSamplingInterval', { interval: 50 });
      for (const { op, reps, run } of ops) {
        for (let i = 0; i < Math.min(20, reps); i++) await run(); // warm-up: JIT, caches
        await inspector.call('Profiler.start');
        const cpu0 = workerdCpu();
        for (let i = 0; i < reps; i++) await run();
        const processCpuMs = ((workerdCpu() - cpu0) * 1000) / reps;
        const { profile } = await inspector.call<{ profile: Profile }>('Profiler.stop');
        results.push({ op, cpuMs: busyMs(profile) / reps, processCpuMs, samples: profile.samples.length, reps });
        if (profileDir) writeFileSync(path.join(profileDir, `worker-${op}.cpuprofile`), JSON.stringify(profile));
      }
    } finally {
      inspector.close();
    }
    process.stdout.write(`${JSON.stringify({ requests, results })}\n`);
  } finally {
    await target.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
