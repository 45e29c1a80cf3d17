/**
 * What went wrong with an upstream registry, and how the mirror answers it.
 *
 * The client made no mistake when an upstream fails, so those answers are 502/503 (the
 * upstream's own status named in the message); only "the upstream does not have it" is a 404,
 * with the code the client would get from any registry (MANIFEST_UNKNOWN, BLOB_UNKNOWN).
 */
import { RegistryError, type ErrorCode } from '../../oci/errors.ts';

export class UpstreamError extends Error {
  constructor(
    /** Origin of the upstream (`https://registry-1.docker.io`). */
    readonly upstream: string,
    /** The upstream's HTTP status, or null when it gave no answer (unreachable, timed out, bad content). */
    readonly status: number | null,
    /** What was asked or what went wrong, for the message: `manifest library/alpine:3`. */
    readonly what: string,
    options?: { cause?: unknown; retryAfter?: string; problem?: string },
  ) {
    super(describe(upstream, status, what, options?.problem, options?.cause), { cause: options?.cause });
    this.name = 'UpstreamError';
    this.retryAfter = options?.retryAfter;
  }

  readonly retryAfter?: string;

  /**
   * True when the upstream could not answer (unreachable, rate-limited, failing): cached content
   * is then served even when stale. A 404 or a refusal is an answer, not an outage.
   */
  get unavailable(): boolean {
    return this.status === null || this.status === 429 || this.status >= 500;
  }
}

function describe(upstream: string, status: number | null, what: string, problem?: string, cause?: unknown): string {
  if (problem) return `upstream ${upstream}: ${problem} (${what})`;
  if (status === null) {
    const reason = cause instanceof Error ? `: ${cause.name === 'AbortError' || cause.name === 'TimeoutError' ? 'timed out' : cause.message}` : '';
    return `upstream ${upstream} is unreachable${reason} (${what})`;
  }
  if (status === 429) return `upstream ${upstream} answered 429 Too Many Requests: it is rate-limiting Berth (${what})`;
  if (status === 401 || status === 403) {
    return `upstream ${upstream} answered ${status} for ${what}: it does not exist there, or the upstream needs other credentials`;
  }
  if (status === 404) return `upstream ${upstream} answered 404: ${what} is unknown there`;
  return `upstream ${upstream} answered ${status} for ${what}`;
}

/**
 * The registry error a client gets when the upstream fails and nothing cached can stand in.
 * `unknown` is the code for "the upstream does not have it" (MANIFEST_UNKNOWN or BLOB_UNKNOWN).
 */
export function upstreamFailure(error: UpstreamError, unknown: ErrorCode): RegistryError {
  const detail = { upstream: error.upstream, upstreamStatus: error.status };
  const status = error.status;
  if (status === 404 || status === 401 || status === 403) return new RegistryError(unknown, error.message, detail);
  if (status === 429 || status === 503) {
    return new RegistryError('UNAVAILABLE', error.message, detail, {
      status: 503,
      headers: error.retryAfter ? { 'Retry-After': error.retryAfter } : {},
    });
  }
  return new RegistryError('UNAVAILABLE', error.message, detail, { status: 502 });
}
