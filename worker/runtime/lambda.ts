/**
 * AWS Lambda entry, behind a Function URL (payload format 2.0) in RESPONSE_STREAM mode.
 *
 * It only translates: Hono's adapter turns the event into a `Request` and the `Response` back,
 * and everything else (config, S3 store, authorizer, app) is built once per container on the
 * first invocation, so a cold start that only answers `GET /v2/` pays for nothing else.
 *
 * Exports:
 * - `handler`: the streaming Function URL handler (infra/aws/template.yaml, InvokeMode
 *   RESPONSE_STREAM). Streaming lifts the 6 MB buffered response limit and sends binary bodies
 *   without base64, so the blob-streaming fallback (`BERTH_REDIRECT_BLOBS=false`) still works.
 * - `bufferedHandler`: the same app for BUFFERED Function URLs, API Gateway or ALB.
 * - `scheduled`: the EventBridge cleanup job (expires stale upload sessions).
 *
 * Lambda's request limit shapes two defaults (AWS Lambda quotas): an invocation
 * payload is at most 6 MB (6,291,456 bytes) and binary bodies arrive base64-encoded, so about
 * 4.5 MiB of raw bytes fit. Berth answers 413 itself below that line, with an OCI error, instead
 * of letting Lambda's bare 413 through: `maxBodyBytes` defaults to 4 MiB (base64 5.34 MiB plus
 * headers). `OCI-Chunk-Min-Length` defaults to the same 4 MiB: a chunking client that honours it
 * (distribution-spec v1.1, "Pushing a blob in chunks") then sends the largest chunks that fit,
 * which means the fewest requests; the upload engine carries bytes short of a 5 MiB S3 part to
 * the next request in a tail object, so chunks smaller than a part are fine.
 *
 * Secrets: `BERTH_<NAME>_PARAM` names an SSM Parameter Store parameter (SecureString) whose
 * decrypted value becomes `BERTH_<NAME>` (e.g. BERTH_JWT_PRIVATE_KEY_PARAM → BERTH_JWT_PRIVATE_KEY,
 * BERTH_ADMIN_PASSWORD_PARAM → BERTH_ADMIN_PASSWORD), read once at cold start so the values never
 * sit in the function's configuration. A value set directly wins over its parameter.
 */
import { Hono } from 'hono';
import { handle, streamHandle } from 'hono/aws-lambda';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { createRegistry } from '../app.ts';
import { createAuthorizer, bootstrapAdmin } from '../auth/index.ts';
import { MiB, readBool, registryConfigFromEnv, type EnvLike, type RegistryConfig } from '../config.ts';
import { createLogger, lineSink, logLevelFromEnv } from '../observe/logger.ts';
import { createEmfMetrics } from '../observe/cloudwatch-emf.ts';
import type { Metrics } from '../observe/metrics.ts';
import type { Platform } from '../platform.ts';
import { RegistryError, renderError } from '../oci/errors.ts';
import { runScheduledJob, type ScheduledJobResult } from '../registry/scheduled.ts';
import { checkedStore } from '../storage/checked.ts';
import { createS3Store } from '../storage/s3.ts';
import { s3OptionsFromEnv } from '../storage/s3-config.ts';
import type { ObjectStore } from '../storage/types.ts';
import type { AppEnv } from '../types.ts';
import { once } from './once.ts';

/** Largest raw body whose base64 form, with headers, fits Lambda's 6 MB invocation payload. */
export const LAMBDA_MAX_BODY_BYTES = 4 * MiB;

/** Bytes of a direct upload one invocation reads back and hashes (BERTH_VERIFY_STEP_MB). */
export const LAMBDA_VERIFY_STEP_BYTES = 2048 * MiB;

const PARAM_SUFFIX = '_PARAM';

interface Core {
  env: EnvLike;
  config: RegistryConfig;
  store: ObjectStore;
  metrics: Metrics;
}

/** What Hono's adapter passes as `c.env`: the event, and its requestContext beside it. */
type LambdaEnv = { event?: { rawPath?: string }; requestContext?: { http?: { sourceIp?: string } } } | undefined;

/**
 * A Function URL event names the caller in requestContext.http.sourceIp (set by AWS, not the
 * client) and carries the path as `rawPath` (Hono's adapter parses it into a URL, which resolves
 * dot segments). Lambda may freeze the process once the response ends, so background work is
 * best effort: it runs on while the instance is warm.
 */
const lambdaPlatform: Platform = {
  name: 'lambda',
  clientAddress: (c) => (c.env as LambdaEnv)?.requestContext?.http?.sourceIp,
  requestTarget: (c) => (c.env as LambdaEnv)?.event?.rawPath,
  waitUntil: (_c, task) => void task.catch(() => undefined),
};

/** Lambda's defaults for the body limit and the advertised chunk size, unless the env says otherwise. */
export function lambdaConfigFromEnv(env: EnvLike): RegistryConfig {
  const overrides: Partial<RegistryConfig> = {};
  if (!env.BERTH_MAX_BODY_MB?.trim()) overrides.maxBodyBytes = LAMBDA_MAX_BODY_BYTES;
  // A direct upload's read-back and hash must end within the function's timeout (README,
  // "How large a layer each runtime verifies"): larger blobs are verified in steps.
  if (!env.BERTH_VERIFY_STEP_MB?.trim()) overrides.verifyStepBytes = LAMBDA_VERIFY_STEP_BYTES;
  const config = registryConfigFromEnv(env, overrides);
  if (!env.BERTH_CHUNK_MIN_LENGTH?.trim()) {
    config.chunkMinLength = Math.min(config.maxBodyBytes ?? LAMBDA_MAX_BODY_BYTES, LAMBDA_MAX_BODY_BYTES);
  }
  if ((config.maxBodyBytes ?? Infinity) > LAMBDA_MAX_BODY_BYTES) {
    console.warn(
      `berth: BERTH_MAX_BODY_MB allows bodies over ${LAMBDA_MAX_BODY_BYTES} bytes; Lambda refuses ` +
        'invocations over 6 MB (base64 included) with its own 413 before Berth sees them',
    );
  }
  return config;
}

/**
 * Resolves every `BERTH_<NAME>_PARAM` in one GetParameters call (decrypting SecureStrings).
 * A missing parameter is a deployment mistake: fail the cold start loudly rather than run
 * without the secret (e.g. with auth silently off).
 */
export async function resolveParameters(env: EnvLike, client?: SSMClient): Promise<EnvLike> {
  const wanted = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('BERTH_') || !name.endsWith(PARAM_SUFFIX) || !value?.trim()) continue;
    const target = name.slice(0, -PARAM_SUFFIX.length);
    if (env[target]) continue;
    wanted.set(value.trim(), target);
  }
  if (wanted.size === 0) return env;
  // Loaded only when a parameter is named: most deployments never pay for parsing the client.
  const { GetParametersCommand, SSMClient: Client } = await import('@aws-sdk/client-ssm');
  const ssm = client ?? new Client({});
  const names = [...wanted.keys()];
  const resolved: EnvLike = { ...env };
  // GetParameters takes at most 10 names per call.
  for (let i = 0; i < names.length; i += 10) {
    const batch = names.slice(i, i + 10);
    const out = await ssm.send(new GetParametersCommand({ Names: batch, WithDecryption: true }));
    if (out.InvalidParameters?.length) {
      throw new Error(`berth: SSM parameters not found: ${out.InvalidParameters.join(', ')}`);
    }
    for (const param of out.Parameters ?? []) {
      const target = param.Name ? wanted.get(param.Name) : undefined;
      if (target && param.Value !== undefined) resolved[target] = param.Value;
    }
  }
  return resolved;
}

async function buildCore(): Promise<Core> {
  const env = await resolveParameters(process.env);
  const config = lambdaConfigFromEnv(env);
  // BERTH_METRICS=false turns the embedded-metric lines off (they cost as CloudWatch metrics).
  const metrics = createEmfMetrics({ write: readBool(env, 'BERTH_METRICS', true) ? undefined : () => {} });
  const store = checkedStore(createS3Store(s3OptionsFromEnv(env)), metrics.storeCall.bind(metrics));
  return { env, config, store, metrics };
}

async function buildApp(): Promise<Hono<AppEnv>> {
  const { env, config, store, metrics } = await core();
  const logger = createLogger({ level: logLevelFromEnv(env) });
  const log = lineSink(logger);
  const authorizer = createAuthorizer(store, env, { log });
  await bootstrapAdmin(store, env, log);
  const accessLog = readBool(env, 'BERTH_ACCESS_LOG', false);
  return createRegistry({ config, store, authorizer, logger, accessLog, metrics, platform: lambdaPlatform });
}


const core = once(buildCore);
const app = once(buildApp);

/**
 * The adapters need a Hono app at module load, before the async cold start; this shell forwards
 * every request to the real app once it exists.
 */
const shell = new Hono();
shell.all('*', async (c) => (await app()).fetch(c.req.raw, c.env));
shell.onError((error, c) => {
  // Only cold-start failures land here (the registry app renders its own errors).
  console.error('berth: cold start failed', error);
  return renderError(new RegistryError('UNAVAILABLE', 'registry failed to start; see the function logs'), c.req.method);
});

declare global {
  // Provided by the Node.js Lambda runtime (and by test/support/lambda-bridge.ts locally).
  // eslint-disable-next-line no-var
  var awslambda: unknown;
}

/** Streaming Function URL handler; needs the runtime's `awslambda` global at import time. */
export const handler = typeof globalThis.awslambda === 'undefined' ? missingRuntime : streamHandle(shell);
export const bufferedHandler = handle(shell);

function missingRuntime(): never {
  throw new Error('berth: `handler` streams responses and needs the Lambda runtime; use `bufferedHandler`');
}

/** Budget of a scheduled GC run: the scheduled function may run 900 s (infra/aws template). */
const GC_BUDGET_MS = 12 * 60 * 1000;

/**
 * EventBridge schedule: expire upload sessions older than BERTH_UPLOAD_EXPIRY_SECONDS, then, with
 * BERTH_GC_ON_SCHEDULE=true, collect garbage (registry/gc.ts).
 */
export async function scheduled(): Promise<ScheduledJobResult> {
  const { env, config, store, metrics } = await core();
  return runScheduledJob(store, config, { logger: createLogger({ level: logLevelFromEnv(env) }), metrics, gcBudgetMs: GC_BUDGET_MS });
}
