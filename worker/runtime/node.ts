/**
 * The plain Node server: `npm start`. Embedded default: filesystem store under ./data on
 * 127.0.0.1:5000. HOST, PORT, BERTH_DATA_DIR and BERTH_STORAGE (fs | s3) override it;
 * BERTH_TLS_CERT/BERTH_TLS_KEY serve HTTPS (node-tls.ts); SIGTERM drains (node-shutdown.ts).
 * A bad configuration stops startup with a one-line reason.
 */
import { serve } from '@hono/node-server';
import { createServer as createHttpsServer } from 'node:https';
import path from 'node:path';
import type { Server } from 'node:http';
import type { Server as TlsServer } from 'node:tls';
import { createRegistry } from '../app.ts';
import { ConfigError, readBool, readInt, registryConfigFromEnv, type EnvLike, type RegistryConfig } from '../config.ts';
import { checkedStore } from '../storage/checked.ts';
import { createFsStore } from '../storage/fs.ts';
import type { ObjectStore } from '../storage/types.ts';
import { authSettingsFromEnv, createAuthorizer, bootstrapAdmin } from '../auth/index.ts';
import { unnamedServiceWarning } from '../auth/challenge.ts';
import { runScheduledJob } from '../registry/scheduled.ts';
import { Webhooks } from '../registry/webhooks/dispatcher.ts';
import { createLogger, errorFields, lineSink, logLevelFromEnv, type Logger } from '../observe/logger.ts';
import { noMetrics, type Metrics } from '../observe/metrics.ts';
import type { Platform } from '../platform.ts';
import { loadTlsPair, reloadTlsOnChange, tlsFilesFromEnv } from './node-tls.ts';
import { handleShutdown } from './node-shutdown.ts';
import { applyBodyTimeouts, bodyTimeoutsFromEnv } from './node-timeouts.ts';

const CLEANUP_INTERVAL_MS = 30 * 60 * 1000;

type NodeEnv = { incoming?: { url?: string; socket?: { remoteAddress?: string } } } | undefined;

/**
 * @hono/node-server hands each request over as `env.incoming`: its socket and its raw request
 * target (`incoming.url`, as sent; the Request's URL is already normalized). Background work
 * just runs on.
 */
const nodePlatform: Platform = {
  name: 'node',
  clientAddress: (c) => (c.env as NodeEnv)?.incoming?.socket?.remoteAddress,
  requestTarget: (c) => (c.env as NodeEnv)?.incoming?.url,
  waitUntil: (_c, task) => void task.catch(() => undefined),
};

async function storeFromEnv(env: EnvLike, metrics: Metrics): Promise<{ store: ObjectStore; description: string }> {
  const kind = (env.BERTH_STORAGE ?? 'fs').trim().toLowerCase();
  const observe = metrics.storeCall.bind(metrics);
  if (kind === 'fs') {
    const root = path.resolve(env.BERTH_DATA_DIR?.trim() || 'data');
    return { store: checkedStore(createFsStore({ root }), observe), description: `filesystem at ${root}` };
  }
  if (kind === 's3') {
    const { createS3Store } = await import('../storage/s3.ts');
    const { s3OptionsFromEnv } = await import('../storage/s3-config.ts');
    const options = s3OptionsFromEnv(env);
    const where = options.endpoint ? ` at ${options.endpoint}` : '';
    return { store: checkedStore(createS3Store(options), observe), description: `S3 bucket ${options.bucket}${where}` };
  }
  throw new ConfigError(`BERTH_STORAGE must be "fs" or "s3", got "${env.BERTH_STORAGE}"`);
}

/** BERTH_METRICS_TOKEN turns on `GET /metrics`; a short token would be guessable. */
function metricsTokenFromEnv(env: EnvLike): string | undefined {
  const token = env.BERTH_METRICS_TOKEN?.trim();
  if (!token) return undefined;
  if (token.length < 16 || !/^[A-Za-z0-9._~+/-]+=*$/.test(token)) {
    throw new ConfigError('BERTH_METRICS_TOKEN must be at least 16 characters of A-Z a-z 0-9 . _ ~ + / - (openssl rand -hex 24 makes one)');
  }
  return token;
}

async function main(): Promise<void> {
  const env: EnvLike = process.env;
  const host = env.HOST?.trim() || '127.0.0.1';
  const port = readInt(env, 'PORT', 5000, 0, 65535);
  const config = registryConfigFromEnv(env);
  const bodyTimeouts = bodyTimeoutsFromEnv(env);
  const logger = createLogger({ level: logLevelFromEnv(env) });
  const metricsToken = metricsTokenFromEnv(env);
  // Loaded only when scraped: prom-client costs start-up time and memory nobody else needs.
  const metrics = metricsToken ? (await import('../observe/prometheus.ts')).createPrometheusMetrics() : noMetrics;
  const tlsFiles = tlsFilesFromEnv(env);
  const tls = tlsFiles ? loadTlsPair(tlsFiles) : undefined;
  const shutdownTimeoutMs = readInt(env, 'BERTH_SHUTDOWN_TIMEOUT_SECONDS', 8, 0, 3600) * 1000;
  // A terminal gets the short banner only; anything collecting stdout (a container) gets the log.
  const accessLog = readBool(env, 'BERTH_ACCESS_LOG', !process.stdout.isTTY);
  const { store, description } = await storeFromEnv(env, metrics);
  const log = lineSink(logger);
  const authorizer = createAuthorizer(store, env, { log });
  const unnamed = unnamedServiceWarning(authSettingsFromEnv(env), host);
  if (unnamed) logger.warn(unnamed);
  // What the first-start message prints runs as printed from the clone: `npx berth` is this
  // repository's own CLI (package.json "bin"), and stdin takes the password it asks for.
  const localUrl = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  await bootstrapAdmin(store, env, log, { changePasswordCommand: `npx berth --url ${localUrl} --password-stdin users passwd admin` });

  let draining = (): boolean => false;
  const app = createRegistry({ config, store, authorizer, logger, accessLog, metrics, metricsToken, platform: nodePlatform, draining: () => draining(), webhookTimers: true });
  resumeWebhooks(store, logger);
  const server = serve({
    fetch: app.fetch,
    hostname: host,
    port,
    ...(tls ? { createServer: createHttpsServer, serverOptions: { cert: tls.cert, key: tls.key } } : {}),
  }) as Server;
  // Layers stream for as long as they take, so Node's whole-request timeout stays off; bodies
  // are bounded by node-timeouts.ts instead, and idle header phases are cut short.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  applyBodyTimeouts(server, bodyTimeouts);
  server.on('error', (error: NodeJS.ErrnoException) => {
    console.error(`berth: cannot listen on ${host}:${port}: ${error.code ?? error.message}`);
    process.exit(1);
  });
  // A TLS ClientHello or garbage on the plain HTTP port gets 400 and a closed socket, nothing more.
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  const stopTlsWatch = tlsFiles ? reloadTlsOnChange(server as unknown as TlsServer, tlsFiles, logger) : () => {};
  server.on('listening', () => {
    const address = server.address();
    const actualPort = typeof address === 'object' && address ? address.port : port;
    const shown = `${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
    const scheme = tls ? 'https' : 'http';
    if (!process.stdout.isTTY) {
      logger.info('listening', { url: `${scheme}://${shown}`, storage: description, tls: tls?.summary, accessLog, metrics: Boolean(metricsToken) });
    } else {
      console.log(`Berth registry listening on ${scheme}://${shown} (storage: ${description})`);
      console.log(`  web UI: ${scheme}://${shown}/ (sign in as admin)`);
      console.log(`  docker login ${shown} -u admin`);
      console.log(`  docker tag alpine ${shown}/team/alpine:latest && docker push ${shown}/team/alpine:latest`);
      console.log(`  docker pull ${shown}/team/alpine:latest`);
    }
  });

  const timer = startCleanup(store, config, logger, metrics);
  const shutdown = handleShutdown(server, {
    timeoutMs: shutdownTimeoutMs,
    logger,
    beforeExit: () => {
      clearInterval(timer);
      stopTlsWatch();
    },
  });
  draining = shutdown.draining;
}

/**
 * Deliveries still queued from before a restart (the bucket is the queue) are tried now when
 * due, and later ones get a timer in this process (registry/webhooks/dispatcher.ts).
 */
function resumeWebhooks(store: ObjectStore, logger: Logger): void {
  new Webhooks(store, { logger, timers: true })
    .sweep()
    .then((report) => {
      if (report.attempted > 0 || report.pending > 0) logger.info('webhooks resumed', { ...report });
    })
    .catch((error: unknown) => logger.error('webhook resume failed', { error: errorFields(error) }));
}

function startCleanup(store: ObjectStore, config: RegistryConfig, logger: Logger, metrics: Metrics): NodeJS.Timeout {
  let cleaning = false;
  const timer = setInterval(() => {
    if (cleaning) return; // a long GC is still running: skip this tick
    cleaning = true;
    runScheduledJob(store, config, { logger, metrics })
      .catch((error: unknown) => logger.error('cleanup job failed', { job: 'cleanup', error: errorFields(error) }))
      .finally(() => (cleaning = false));
  }, CLEANUP_INTERVAL_MS);
  timer.unref();
  return timer;
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`berth: configuration error: ${error.message}`);
  } else {
    console.error(`berth: failed to start: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
});
