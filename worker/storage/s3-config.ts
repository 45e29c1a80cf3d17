/**
 * Options of the S3-compatible store driver, and how to read them from the environment
 * (BERTH_S3_*). Kept apart from `s3.ts` so configuration can be checked without loading the SDK.
 */
import { ConfigError, readBool, readUrl, type EnvLike } from '../config.ts';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3StoreOptions {
  /** S3 API endpoint (MinIO, R2, a local server); AWS's regional endpoint when unset. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Prefix put before every key, so several registries can share a bucket ('' = none). */
  prefix?: string;
  /** Address buckets as `endpoint/bucket/key` (needed by most self-hosted servers). */
  forcePathStyle: boolean;
  /** Static keys; when unset the SDK's default provider chain (env, profile, IAM role) is used. */
  credentials?: S3Credentials;
  /**
   * Origin clients should use for presigned URLs when it differs from `endpoint` (a server
   * reached under another name, or a proxy that keeps the Host header). URLs are signed for it.
   */
  publicBaseUrl?: string;
  /**
   * The backend honours `If-None-Match: *` on PutObject (AWS S3 since 2024, R2). Set false for
   * servers that ignore it; the driver then checks with HEAD first (best effort).
   */
  conditionalWrite?: boolean;
  /**
   * The time one operation may wait for the store's answer, all its attempts together (ms);
   * also the longest silence of a streamed body (s3-budget.ts).
   */
  requestTimeoutMs?: number;
}

export const DEFAULT_S3_REQUEST_TIMEOUT_MS = 30_000;

export function s3OptionsFromEnv(env: EnvLike): S3StoreOptions {
  const endpoint = readUrl(env, 'BERTH_S3_ENDPOINT');
  const bucket = env.BERTH_S3_BUCKET?.trim();
  if (!bucket) throw new ConfigError('BERTH_S3_BUCKET is required when BERTH_STORAGE=s3');
  // R2 accepts only the region "auto"; everyone else defaults like the AWS CLI does.
  const isR2 = endpoint !== undefined && new URL(endpoint).hostname.endsWith('.r2.cloudflarestorage.com');
  const region = env.BERTH_S3_REGION?.trim() || (isR2 ? 'auto' : 'us-east-1');

  const accessKeyId = env.BERTH_S3_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.BERTH_S3_SECRET_ACCESS_KEY?.trim();
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    throw new ConfigError('BERTH_S3_ACCESS_KEY_ID and BERTH_S3_SECRET_ACCESS_KEY must be set together');
  }
  const sessionToken = env.BERTH_S3_SESSION_TOKEN?.trim();
  const credentials: S3Credentials | undefined =
    accessKeyId && secretAccessKey
      ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }
      : undefined;

  const timeoutRaw = env.BERTH_S3_TIMEOUT_MS?.trim();
  let requestTimeoutMs = DEFAULT_S3_REQUEST_TIMEOUT_MS;
  if (timeoutRaw) {
    requestTimeoutMs = Number(timeoutRaw);
    if (!Number.isSafeInteger(requestTimeoutMs) || requestTimeoutMs < 100) {
      throw new ConfigError(`BERTH_S3_TIMEOUT_MS must be a whole number of milliseconds (at least 100), got "${timeoutRaw}"`);
    }
  }

  return {
    endpoint,
    region,
    bucket,
    prefix: env.BERTH_S3_PREFIX?.trim() ?? '',
    // A custom endpoint is almost always a self-hosted server that wants path-style; R2 and
    // AWS accept both.
    forcePathStyle: readBool(env, 'BERTH_S3_FORCE_PATH_STYLE', endpoint !== undefined && !isR2),
    credentials,
    publicBaseUrl: readUrl(env, 'BERTH_S3_PUBLIC_URL'),
    conditionalWrite: readBool(env, 'BERTH_S3_CONDITIONAL_WRITES', true),
    requestTimeoutMs,
  };
}
