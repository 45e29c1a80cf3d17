/**
 * Starts the store bridge Worker in workerd through Miniflare, with a real (simulated) R2
 * bucket persisted to a directory, and returns a Node-side ObjectStore proxy to it.
 */
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import type { ObjectStore } from '../../worker/storage/types.ts';
import { bundleWorker } from '../support/worker-bundle.ts';
import { connectBridgeStore } from './store-proxy.ts';

/** Same settings as wrangler.toml so the driver runs under production flags. */
export const COMPATIBILITY_DATE = '2026-04-26';
export const COMPATIBILITY_FLAGS = ['nodejs_compat'];

export interface StoreBridge {
  url: string;
  store: ObjectStore;
  /** Removes every object from the bucket (between contract tests). */
  clear(): Promise<void>;
  stop(): Promise<void>;
}

export async function startStoreBridge(options: { port: number; persistDir: string; bindings?: Record<string, string> }): Promise<StoreBridge> {
  const entry = fileURLToPath(new URL('./store-bridge.worker.ts', import.meta.url));
  const { code } = await bundleWorker(entry);
  const mf = new Miniflare({
    modules: [{ type: 'ESModule', path: 'store-bridge.js', contents: code }],
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: COMPATIBILITY_FLAGS,
    r2Buckets: ['BUCKET'],
    r2Persist: options.persistDir,
    bindings: options.bindings ?? {},
    host: '127.0.0.1',
    port: options.port,
  });
  const ready = await mf.ready;
  const url = ready.origin;
  const store = await connectBridgeStore(url);
  return {
    url,
    store,
    async clear() {
      const response = await fetch(`${url}/clear`);
      if (!response.ok) throw new Error(`store bridge: clear failed with ${response.status} ${await response.text()}`);
    },
    stop: () => mf.dispose(),
  };
}
