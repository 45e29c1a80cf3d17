/**
 * Typed configuration. `RegistryConfig` is what the app needs whatever the runtime; each runtime
 * entry builds it (from process.env, a Worker's env, Lambda's env) with `registryConfigFromEnv`.
 * A bad value throws `ConfigError` with a one-line reason naming the variable.
 */

import { credentialVariables, isDockerHub, parseMirrorList } from './oci/mirror-names.ts';

export const MiB = 1024 * 1024;
/** The largest manifest limit BERTH_MAX_MANIFEST_MB may set: no stored manifest is larger. */
export const LARGEST_MANIFEST_BYTES = 64 * MiB;

export interface RegistryConfig {
  /** Base URL clients reach Berth at (for token realms); derived from each request when unset. */
  publicUrl?: string;
  /** Size of every non-final part an upload writes (S3 and R2 need at least 5 MiB). */
  partSize: number;
  /** Parts uploaded at once while the next one is read: memory is about partSize × (this + 1). */
  partConcurrency: number;
  /** Largest request body accepted (Workers and Lambda cap bodies); larger gets 413. */
  maxBodyBytes?: number;
  /** Manifests up to this size are accepted (spec: at least 4 MiB SHOULD be). */
  maxManifestBytes: number;
  /** Answer blob GETs with 307 to a presigned store URL when the store can presign. */
  redirectBlobs: boolean;
  /** Lifetime of presigned URLs. */
  presignExpirySeconds: number;
  /** Upload sessions untouched for longer than this are expired by the cleanup job. */
  uploadExpirySeconds: number;
  /** Value advertised in `OCI-Chunk-Min-Length` (bytes); unset advertises nothing. */
  chunkMinLength?: number;
  /**
   * Most bytes of a direct upload one request reads back and hashes (registry/direct-uploads.ts);
   * a larger blob is verified over several requests (202, poll). Unset: one request, any size.
   */
  verifyStepBytes?: number;
  /** Garbage collection spares blobs and data younger than this (registry/gc.ts explains why). */
  gcGraceSeconds: number;
  /** The scheduled cleanup also runs garbage collection (BERTH_GC_ON_SCHEDULE). */
  gcOnSchedule: boolean;
  /** Scheduled GC keeps layer links no manifest references (BERTH_GC_KEEP_UNREFERENCED_LAYERS). */
  gcKeepUnreferencedLayers: boolean;
  /** Honour X-Forwarded-* from a proxy in front (BERTH_TRUST_PROXY). */
  trustProxy: boolean;
  /** Pull-through mirrors of other registries (BERTH_MIRRORS…, registry/mirror/). */
  mirrors: MirrorConfig;
}

/** One upstream registry Berth mirrors under `<prefix>/`. */
export interface MirrorUpstream {
  prefix: string;
  /** Origin of the upstream (`https://registry-1.docker.io`). */
  url: string;
  /** Docker Hub: one-component names get `library/` (oci/mirror-names.ts). */
  dockerHub: boolean;
  /** BERTH_MIRROR_<PREFIX>_USERNAME and _PASSWORD: sent to the upstream's token realm or as Basic. */
  credentials?: { username: string; password: string };
}

export interface MirrorConfig {
  upstreams: MirrorUpstream[];
  /** A cached tag is served without asking the upstream for this long, then revalidated with a HEAD. */
  tagTtlSeconds: number;
  /** BERTH_MIRROR_DEFAULT: unprefixed pulls of names Berth does not hold go to this mirror (dockerd's registry-mirrors). */
  defaultPrefix?: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export type EnvLike = Record<string, string | undefined>;

export function readInt(env: EnvLike, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

export function readBool(env: EnvLike, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

export function readUrl(env: EnvLike, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
    return raw.replace(/\/+$/, '');
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got "${raw}"`);
  }
}

export function registryConfigFromEnv(env: EnvLike, overrides: Partial<RegistryConfig> = {}): RegistryConfig {
  const partSize = readInt(env, 'BERTH_PART_SIZE_MB', 8, 5, 5 * 1024) * MiB;
  const maxBodyMb = readInt(env, 'BERTH_MAX_BODY_MB', 0, 0);
  const chunkMin = readInt(env, 'BERTH_CHUNK_MIN_LENGTH', 0, 0);
  const verifyStepMb = readInt(env, 'BERTH_VERIFY_STEP_MB', 0, 0);
  const config: RegistryConfig = {
    publicUrl: readUrl(env, 'BERTH_PUBLIC_URL'),
    partSize,
    partConcurrency: readInt(env, 'BERTH_PART_CONCURRENCY', 4, 1, 32),
    maxBodyBytes: maxBodyMb > 0 ? maxBodyMb * MiB : undefined,
    maxManifestBytes: readInt(env, 'BERTH_MAX_MANIFEST_MB', 4, 1, LARGEST_MANIFEST_BYTES / MiB) * MiB,
    redirectBlobs: readBool(env, 'BERTH_REDIRECT_BLOBS', true),
    presignExpirySeconds: readInt(env, 'BERTH_PRESIGN_EXPIRY_SECONDS', 300, 1, 7 * 24 * 3600),
    uploadExpirySeconds: readInt(env, 'BERTH_UPLOAD_EXPIRY_SECONDS', 24 * 3600, 60),
    chunkMinLength: chunkMin > 0 ? chunkMin : undefined,
    verifyStepBytes: verifyStepMb > 0 ? verifyStepMb * MiB : undefined,
    gcGraceSeconds: readInt(env, 'BERTH_GC_GRACE_SECONDS', 3600, 0),
    gcOnSchedule: readBool(env, 'BERTH_GC_ON_SCHEDULE', false),
    gcKeepUnreferencedLayers: readBool(env, 'BERTH_GC_KEEP_UNREFERENCED_LAYERS', false),
    trustProxy: readBool(env, 'BERTH_TRUST_PROXY', false),
    mirrors: readMirrors(env),
    ...overrides,
  };
  return config;
}

/**
 * BERTH_MIRRORS (`prefix=upstream,…`), each mirror's BERTH_MIRROR_<PREFIX>_USERNAME/_PASSWORD,
 * BERTH_MIRROR_TTL_SECONDS and BERTH_MIRROR_DEFAULT. Credentials naming no configured mirror are
 * refused: a typo there would otherwise pull anonymously without a word.
 */
export function readMirrors(env: EnvLike): MirrorConfig {
  const parsed = parseMirrorList(env.BERTH_MIRRORS ?? '');
  if (!parsed.ok) throw new ConfigError(`BERTH_MIRRORS: ${parsed.reason}`);
  const upstreams = parsed.mirrors.map(({ prefix, upstream }): MirrorUpstream => {
    const names = credentialVariables(prefix);
    const username = env[names.username]?.trim();
    const password = env[names.password];
    if (Boolean(username) !== Boolean(password)) {
      throw new ConfigError(`${names.username} and ${names.password} must be set together`);
    }
    const mirror: MirrorUpstream = { prefix, url: upstream, dockerHub: isDockerHub(upstream) };
    if (username && password) mirror.credentials = { username, password };
    return mirror;
  });
  const known = new Set(upstreams.flatMap((m) => Object.values(credentialVariables(m.prefix))));
  for (const name of Object.keys(env)) {
    if (/^BERTH_MIRROR_.+_(USERNAME|PASSWORD)$/.test(name) && env[name] && !known.has(name)) {
      throw new ConfigError(`${name} names no mirror of BERTH_MIRRORS`);
    }
  }
  const defaultPrefix = env.BERTH_MIRROR_DEFAULT?.trim() || undefined;
  if (defaultPrefix !== undefined && !upstreams.some((m) => m.prefix === defaultPrefix)) {
    throw new ConfigError(`BERTH_MIRROR_DEFAULT is "${defaultPrefix}", which BERTH_MIRRORS does not define`);
  }
  return {
    upstreams,
    tagTtlSeconds: readInt(env, 'BERTH_MIRROR_TTL_SECONDS', 300, 0, 365 * 24 * 3600),
    defaultPrefix,
  };
}
