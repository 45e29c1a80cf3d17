/**
 * Starts the fault-injecting proxy (fault-proxy-child.ts) as its own process in front of a real
 * S3-compatible server, and drives it over its control endpoints.
 */
import { fileURLToPath } from 'node:url';
import { spawnLogged, waitForHttp } from './process.ts';
import type { FaultRule, LogEntry } from './fault-proxy-child.ts';

export type { FaultRule, LogEntry, S3Operation } from './fault-proxy-child.ts';

const CHILD = fileURLToPath(new URL('./fault-proxy-child.ts', import.meta.url));

export interface FaultProxy {
  /** The endpoint to give the S3 driver instead of the server's. */
  url: string;
  add(...rules: FaultRule[]): Promise<void>;
  /** Removes every rule (and drops connections a black hole holds). */
  clear(): Promise<void>;
  /** The S3 requests seen since the last `clearLog`. */
  log(): Promise<LogEntry[]>;
  clearLog(): Promise<void>;
  stop(): Promise<void>;
}

export async function startFaultProxy(opts: { port: number; upstream: string; bucket: string }): Promise<FaultProxy> {
  const spawned = spawnLogged(process.execPath, ['--import', 'tsx', CHILD], {
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      FAULT_PROXY_PORT: String(opts.port),
      FAULT_PROXY_UPSTREAM: opts.upstream,
      FAULT_PROXY_BUCKET: opts.bucket,
    },
  });
  const url = `http://127.0.0.1:${opts.port}`;
  try {
    await waitForHttp(`${url}/__faults/log`, spawned.child, spawned.output);
  } catch (error) {
    await spawned.stop();
    throw error;
  }
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${url}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`fault proxy ${method} ${path}: ${res.status} ${text}`);
    return text ? (JSON.parse(text) as unknown) : undefined;
  };
  return {
    url,
    add: async (...rules) => void (await call('POST', '/__faults/rules', rules)),
    clear: async () => void (await call('DELETE', '/__faults/rules')),
    log: async () => (await call('GET', '/__faults/log')) as LogEntry[],
    clearLog: async () => void (await call('DELETE', '/__faults/log')),
    stop: () => spawned.stop(),
  };
}
