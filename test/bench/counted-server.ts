/**
 * The bench's store-call counter: Berth's own app (createRegistry), on the same store the
 * environment names (BERTH_STORAGE fs | s3, as `npm start` reads it), with every ObjectStore call
 * counted on its way in. Store calls per operation do not depend on machine load, so the bench
 * takes them from this twin, and CPU and memory from the bundled server users run.
 *
 * Env: PORT (the registry), BERTH_BENCH_CONTROL_PORT (GET /calls answers the counts as JSON and
 * resets them), plus the BERTH_* settings of the registry itself.
 */
import http from 'node:http';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { createRegistry } from '../../worker/app.ts';
import { readInt, registryConfigFromEnv } from '../../worker/config.ts';
import { createLogger, lineSink } from '../../worker/observe/logger.ts';
import { createAuthorizer, bootstrapAdmin } from '../../worker/auth/index.ts';
import { checkedStore } from '../../worker/storage/checked.ts';
import { createFsStore } from '../../worker/storage/fs.ts';
import { createS3Store } from '../../worker/storage/s3.ts';
import { s3OptionsFromEnv } from '../../worker/storage/s3-config.ts';
import type { ObjectStore } from '../../worker/storage/types.ts';

export type CallCounts = Record<string, number>;

/** Wraps `inner` so every call of its methods adds one to `counts[method]`. */
export function countingStore(inner: ObjectStore, counts: CallCounts): ObjectStore {
  const counted: Record<string, unknown> = { name: inner.name, capabilities: inner.capabilities };
  for (const [name, value] of Object.entries(inner)) {
    if (typeof value !== 'function') continue;
    counted[name] = (...args: unknown[]) => {
      counts[name] = (counts[name] ?? 0) + 1;
      return (value as (...a: unknown[]) => unknown).apply(inner, args);
    };
  }
  return counted as unknown as ObjectStore;
}

function storeFromEnv(env: NodeJS.ProcessEnv): ObjectStore {
  if ((env.BERTH_STORAGE ?? 'fs') === 's3') return checkedStore(createS3Store(s3OptionsFromEnv(env)));
  return checkedStore(createFsStore({ root: path.resolve(env.BERTH_DATA_DIR ?? 'data') }));
}

async function main(): Promise<void> {
  const env = process.env;
  const counts: CallCounts = {};
  const store = countingStore(storeFromEnv(env), counts);
  const logger = createLogger({ level: 'warn' });
  const log = lineSink(logger);
  const config = registryConfigFromEnv(env);
  const authorizer = createAuthorizer(store, env, { log });
  await bootstrapAdmin(store, env, log);
  const app = createRegistry({ config, store, authorizer, logger });
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: readInt(env, 'PORT', 5000) }) as http.Server;
  server.requestTimeout = 0;
  const control = http.createServer((req, res) => {
    const body = JSON.stringify(counts);
    for (const name of Object.keys(counts)) delete counts[name];
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  control.listen(readInt(env, 'BERTH_BENCH_CONTROL_PORT', 5001), '127.0.0.1');
  process.on('SIGTERM', () => {
    control.close();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
