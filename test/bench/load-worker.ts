/**
 * The load generator, run as its own process by load.ts (so its CPU shows apart from the
 * orchestrator's): `concurrency` keep-alive connections, each sending the same request back to
 * back for `durationMs`, then one JSON line of results on stdout. Written in Node because wrk
 * 4.1 waits for a body after HEAD responses that carry Content-Length and never completes them.
 * Config: the JSON in env BENCH_LOAD.
 */
import http from 'node:http';

interface LoadConfig {
  url: string;
  method: string;
  headers: Record<string, string>;
  concurrency: number;
  durationMs: number;
}

const config = JSON.parse(process.env.BENCH_LOAD ?? '{}') as LoadConfig;
const agent = new http.Agent({ keepAlive: true, maxSockets: config.concurrency });
const target = new URL(config.url);
/** Latencies in microseconds; bounded by the duration (one entry per completed request). */
const latencies: number[] = [];
const statuses: Record<string, number> = {};
let errors = 0;

function once(): Promise<void> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const req = http.request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: config.method, headers: config.headers, agent },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => {
          latencies.push(Number(process.hrtime.bigint() - started) / 1000);
          const key = String(res.statusCode);
          statuses[key] = (statuses[key] ?? 0) + 1;
          resolve();
        });
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end();
  });
}

async function main(): Promise<void> {
  const cpuBefore = process.cpuUsage();
  // Tells load.ts the timed window starts now (tsx start-up is not part of it).
  process.stdout.write('go\n');
  const started = performance.now();
  const deadline = started + config.durationMs;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) await once();
  };
  await Promise.all(Array.from({ length: config.concurrency }, loop));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  const ok = Object.entries(statuses).filter(([s]) => Number(s) < 400).reduce((n, [, v]) => n + v, 0);
  process.stdout.write(
    `${JSON.stringify({
      requests: latencies.length,
      ok,
      errors,
      statuses,
      rps: ok / seconds,
      p50Ms: at(0.5) / 1000,
      p99Ms: at(0.99) / 1000,
      clientCpu: (cpu.user + cpu.system) / 1e6 / seconds,
    })}\n`,
  );
  agent.destroy();
}

void main();
