/**
 * Cloudflare Workers entry (wrangler.toml `main`). It only translates: the registry core (config,
 * store, authorizer, app) is built once per isolate on first use and every request goes to the
 * shared Hono app (one app, every runtime: see app.ts).
 *
 * Storage, from the environment:
 * - default: the R2 binding `BUCKET`, streaming blob pulls through the Worker;
 * - plus R2's S3 API keys (R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY, R2_BUCKET_NAME and
 *   R2_S3_ENDPOINT or R2_ACCOUNT_ID): the binding still carries Berth's own reads and writes, but
 *   blob GETs answer 307 to URLs presigned for `<account>.r2.cloudflarestorage.com` (presigning
 *   only works on that endpoint, not on custom domains, per Cloudflare's R2 presigned URL docs),
 *   and `berth push` PUTs layer parts to presigned URLs there (direct uploads);
 * - BERTH_STORAGE=s3: the S3 driver for everything (the R2 keys above, or BERTH_S3_*).
 *
 * Body size: Workers refuse request bodies over 100/200/500 MB by plan before the code runs;
 * BERTH_MAX_BODY_MB (wrangler.toml [vars], default 100) lets the app answer an OCI 413 first.
 */
import type { ExecutionContext } from 'hono';
import { createRegistry } from '../app.ts';
import { bootstrapAdmin, createAuthorizer } from '../auth/index.ts';
import { WORKERD_MAX_PBKDF2_ITERATIONS } from '../auth/password.ts';
import type { AuthRuntime } from '../auth/settings.ts';
import { ConfigError, readBool, readInt, registryConfigFromEnv, type EnvLike, type RegistryConfig } from '../config.ts';
import { RegistryError, renderError } from '../oci/errors.ts';
import { runScheduledJob } from '../registry/scheduled.ts';
import { checkedStore } from '../storage/checked.ts';
import { createR2Store } from '../storage/r2.ts';
import type { R2Bucket } from '../storage/r2-types.ts';
import { s3OptionsFromEnv, type S3StoreOptions } from '../storage/s3-config.ts';
import type { ObjectStore } from '../storage/types.ts';
import { once } from './once.ts';
import { relayFixedLength } from './fixed-length-relay.ts';
import { createLogger, lineSink, logLevelFromEnv } from '../observe/logger.ts';
import { createAnalyticsEngineMetrics, type AnalyticsEngineDataset } from '../observe/analytics-engine.ts';
import { noMetrics, type Metrics } from '../observe/metrics.ts';
import type { Platform } from '../platform.ts';

/** The Worker's bindings: the R2 bucket plus string vars and secrets. */
export interface CloudflareEnv {
  BUCKET?: R2Bucket;
  /** Optional Workers Analytics Engine dataset for request metrics. */
  BERTH_METRICS?: AnalyticsEngineDataset;
  [name: string]: unknown;
}

/** Cloudflare's edge sets CF-Connecting-IP and drops any copy the client sent; waitUntil keeps work alive. */
const workersPlatform: Platform = {
  name: 'workers',
  clientAddress: (c) => c.req.header('cf-connecting-ip') ?? undefined,
  // workerd (and Cloudflare's edge before it) resolves `.` and `..` segments while parsing the
  // request line and keeps no raw form: the Worker only ever sees, authorizes and acts on the
  // normalized path.
  requestTarget: () => undefined,
  waitUntil: (c, task) => c.executionCtx.waitUntil(task.catch(() => undefined)),
  relayBody: (c, body, length) => {
    const relayed = relayFixedLength(body, length);
    c.executionCtx.waitUntil(relayed.ended);
    return relayed;
  },
};

/** Workers' ScheduledController, reduced to what the cleanup job reads. */
export interface ScheduledEventLike {
  scheduledTime: number;
  cron: string;
}

interface Core {
  vars: EnvLike;
  config: RegistryConfig;
  store: ObjectStore;
  metrics: Metrics;
}

type RegistryApp = ReturnType<typeof createRegistry>;

/**
 * Time budget of a scheduled GC run. A cron invocation may run for minutes of wall time but only
 * 30 s of CPU by default (Workers limits); GC is mostly waiting on R2, and stopping at
 * 25 s of wall time keeps it inside the CPU limit whatever the mix. The next run starts over.
 */
const GC_BUDGET_MS = 25_000;

/** Vars and secrets are strings; bindings (BUCKET, …) are objects and stay out of the config. */
export function stringVars(env: CloudflareEnv): EnvLike {
  const vars: EnvLike = {};
  for (const [name, value] of Object.entries(env)) if (typeof value === 'string') vars[name] = value;
  return vars;
}

/** R2's S3-compatible endpoint settings, or undefined when the R2 API token is not configured. */
export function r2S3OptionsFromEnv(vars: EnvLike): S3StoreOptions | undefined {
  const accessKeyId = vars.R2_ACCESS_KEY_ID?.trim();
  const secretAccessKey = vars.R2_SECRET_ACCESS_KEY?.trim();
  const bucket = vars.R2_BUCKET_NAME?.trim();
  const accountId = vars.R2_ACCOUNT_ID?.trim();
  const endpoint = vars.R2_S3_ENDPOINT?.trim() || (accountId ? `https://${accountId}.r2.cloudflarestorage.com` : undefined);
  const given = [accessKeyId, secretAccessKey, bucket, endpoint].filter(Boolean).length;
  if (given === 0) return undefined;
  if (given < 4) {
    throw new ConfigError(
      'R2 presigning needs R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY, R2_BUCKET_NAME and R2_S3_ENDPOINT (or R2_ACCOUNT_ID) together',
    );
  }
  return {
    endpoint: endpoint!.replace(/\/+$/, ''),
    region: 'auto', // the only region R2 accepts
    bucket: bucket!,
    prefix: '',
    forcePathStyle: false,
    credentials: { accessKeyId: accessKeyId!, secretAccessKey: secretAccessKey! },
    conditionalWrite: true,
  };
}

async function buildStore(env: CloudflareEnv, vars: EnvLike): Promise<ObjectStore> {
  const storage = vars.BERTH_STORAGE?.trim().toLowerCase() || 'r2';
  const s3Options = r2S3OptionsFromEnv(vars);
  if (storage === 's3') {
    // Loaded only when configured: the SDK's module init is the costliest part of a cold start.
    const { createS3Store } = await import('../storage/s3.ts');
    return createS3Store(s3Options ?? s3OptionsFromEnv(vars));
  }
  if (storage !== 'r2') throw new ConfigError(`BERTH_STORAGE must be r2 or s3 on Cloudflare Workers, got "${storage}"`);
  if (!env.BUCKET) throw new ConfigError('the R2 binding BUCKET is missing: add [[r2_buckets]] binding = "BUCKET" to wrangler.toml');
  // 0 (the default): one read per object. `npm run dev:worker` sets 16 for the local simulator.
  const sliceMb = readInt(vars, 'BERTH_R2_READ_SLICE_MB', 0, 0, 5 * 1024);
  const readSliceBytes = sliceMb > 0 ? sliceMb * 1024 * 1024 : undefined;
  if (!s3Options) return createR2Store(env.BUCKET, { readSliceBytes });
  const { createS3Store } = await import('../storage/s3.ts');
  const presigner = createS3Store(s3Options);
  const { presignGet, presignUploadPart, listParts } = presigner;
  if (!presignGet || !presignUploadPart || !listParts) throw new ConfigError('the S3 driver cannot presign with the R2_* settings given');
  return createR2Store(env.BUCKET, {
    readSliceBytes,
    presign: (key, options) => presignGet.call(presigner, key, options),
    // Direct uploads (berth push): parts go from the client to R2's S3 endpoint, not through the Worker.
    direct: {
      presignUploadPart: (key, uploadId, partNumber, options) => presignUploadPart.call(presigner, key, uploadId, partNumber, options),
      listParts: (key, uploadId) => listParts.call(presigner, key, uploadId),
    },
  });
}


/** workerd refuses PBKDF2 above 100,000 iterations: hash with that here (600,000 on Node). */
const WORKERD_AUTH: AuthRuntime = { maxPbkdf2Iterations: WORKERD_MAX_PBKDF2_ITERATIONS };

// Bindings do not change within an isolate, so the first request's env builds everything.
let firstEnv: CloudflareEnv | undefined;

const core = once(async (): Promise<Core> => {
  const env = firstEnv ?? {};
  const vars = stringVars(env);
  const config = registryConfigFromEnv(vars);
  const dataset = env.BERTH_METRICS;
  const metrics = dataset && typeof dataset.writeDataPoint === 'function' ? createAnalyticsEngineMetrics(dataset) : noMetrics;
  const store = checkedStore(await buildStore(env, vars), metrics.storeCall.bind(metrics));
  return { vars, config, store, metrics };
});

const app = once(async (): Promise<RegistryApp> => {
  const { vars, config, store, metrics } = await core();
  const logger = createLogger({ level: logLevelFromEnv(vars) });
  const log = lineSink(logger);
  const authorizer = createAuthorizer(store, vars, { log, runtime: WORKERD_AUTH });
  await bootstrapAdmin(store, vars, log, { runtime: WORKERD_AUTH });
  const accessLog = readBool(vars, 'BERTH_ACCESS_LOG', false);
  return createRegistry({ config, store, authorizer, logger, accessLog, metrics, platform: workersPlatform });
});

export default {
  async fetch(request: Request, env: CloudflareEnv, ctx: ExecutionContext): Promise<Response> {
    firstEnv ??= env;
    let registry: RegistryApp;
    try {
      registry = await app();
    } catch (error) {
      // Only start-up failures land here (bad vars, missing binding); the app renders its own.
      console.error('berth: start-up failed', error);
      const detail = error instanceof ConfigError ? error.message : 'registry failed to start; see the Worker logs';
      return renderError(new RegistryError('UNAVAILABLE', detail), request.method);
    }
    return registry.fetch(request, env, ctx);
  },

  /**
   * Cron trigger (wrangler.toml [triggers]): expire upload sessions older than
   * BERTH_UPLOAD_EXPIRY_SECONDS, then, with BERTH_GC_ON_SCHEDULE=true, collect garbage.
   */
  async scheduled(event: ScheduledEventLike, env: CloudflareEnv, ctx: ExecutionContext): Promise<void> {
    firstEnv ??= env;
    const job = core().then(async ({ store, config, metrics, vars }) => {
      const logger = createLogger({ level: logLevelFromEnv(vars) });
      await runScheduledJob(store, config, { logger, metrics, now: new Date(event.scheduledTime), gcBudgetMs: GC_BUDGET_MS });
    });
    ctx.waitUntil(job);
    await job;
  },
};
