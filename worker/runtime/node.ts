/**
 * The plain Node server: `npm start`. Embedded default: filesystem store under ./data on
 * 127.0.0.1:5000. HOST, PORT, BERTH_DATA_DIR and BERTH_STORAGE (fs | s3) override it.
 * A bad configuration stops startup with a one-line reason.
 */
import { serve } from '@hono/node-server';
import path from 'node:path';
import type { Server } from 'node:http';
import { createRegistry } from '../app.ts';
import type { Platform } from '../platform.ts';
import { ConfigError, readBool, readInt, registryConfigFromEnv, type EnvLike } from '../config.ts';
import { checkedStore } from '../storage/checked.ts';
import { createFsStore } from '../storage/fs.ts';
import type { ObjectStore } from '../storage/types.ts';
import { createAuthorizer, bootstrapAdmin } from '../auth/index.ts';
import { expireUploads } from '../registry/cleanup.ts';
import { collectGarbage } from '../registry/gc.ts';

const CLEANUP_INTERVAL_MS = 30 * 60 * 1000;

/** @hono/node-server hands each request's socket over as `env.incoming`; background work just runs on. */
const nodePlatform: Platform = {
  name: 'node',
  clientAddress: (c) => (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress,
  waitUntil: (_c, task) => void task.catch(() => undefined),
};

async function storeFromEnv(env: EnvLike): Promise<{ store: ObjectStore; description: string }> {
  const kind = (env.BERTH_STORAGE ?? 'fs').trim().toLowerCase();
  if (kind === 'fs') {
    const root = path.resolve(env.BERTH_DATA_DIR?.trim() || 'data');
    return { store: checkedStore(createFsStore({ root })), description: `filesystem at ${root}` };
  }
  if (kind === 's3') {
    const { createS3Store } = await import('../storage/s3.ts');
    const { s3OptionsFromEnv } = await import('../storage/s3-config.ts');
    const options = s3OptionsFromEnv(env);
    const where = options.endpoint ? ` at ${options.endpoint}` : '';
    return { store: checkedStore(createS3Store(options)), description: `S3 bucket ${options.bucket}${where}` };
  }
  throw new ConfigError(`BERTH_STORAGE must be "fs" or "s3", got "${env.BERTH_STORAGE}"`);
}

async function main(): Promise<void> {
  const env: EnvLike = process.env;
  const host = env.HOST?.trim() || '127.0.0.1';
  const port = readInt(env, 'PORT', 5000, 0, 65535);
  const config = registryConfigFromEnv(env);
  const { store, description } = await storeFromEnv(env);
  const log = (line: string): void => console.log(line);
  const authorizer = createAuthorizer(store, env, { log });
  await bootstrapAdmin(store, env, log);
  const app = createRegistry({ config, store, authorizer, platform: nodePlatform, log, accessLog: readBool(env, 'BERTH_ACCESS_LOG', false) });

  const server = serve({ fetch: app.fetch, hostname: host, port }) as Server;
  // Layers stream for as long as they take; only idle header phases are cut short.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.on('error', (error: NodeJS.ErrnoException) => {
    console.error(`berth: cannot listen on ${host}:${port}: ${error.code ?? error.message}`);
    process.exit(1);
  });
  // A TLS ClientHello or garbage on the plain HTTP port gets 400 and a closed socket, nothing more.
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  server.on('listening', () => {
    const address = server.address();
    const actualPort = typeof address === 'object' && address ? address.port : port;
    const shown = `${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
    log(`Berth registry listening on http://${shown} (storage: ${description})`);
    log(`  docker login ${shown} -u admin`);
    log(`  docker tag alpine ${shown}/team/alpine:latest && docker push ${shown}/team/alpine:latest`);
    log(`  docker pull ${shown}/team/alpine:latest`);
  });

  let cleaning = false;
  const timer = setInterval(() => {
    if (cleaning) return; // a long GC is still running: skip this tick
    cleaning = true;
    (async () => {
      await expireUploads(store, config);
      // Opt-in (BERTH_GC_ON_SCHEDULE): deleted images free their storage without an admin call.
      if (config.gcOnSchedule) {
        await collectGarbage(store, {
          dryRun: false,
          graceSeconds: config.gcGraceSeconds,
          keepUnreferencedLayers: config.gcKeepUnreferencedLayers,
          log,
        });
      }
    })()
      .catch((error: unknown) => log(JSON.stringify({ t: 'error', job: 'cleanup', error: String(error) })))
      .finally(() => (cleaning = false));
  }, CLEANUP_INTERVAL_MS);
  timer.unref();

  const stop = (): void => {
    clearInterval(timer);
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`berth: configuration error: ${error.message}`);
  } else {
    console.error(`berth: failed to start: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
});
