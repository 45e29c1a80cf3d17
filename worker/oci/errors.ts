/**
 * Error codes as data: the OCI distribution-spec "Error Codes" table, the Docker registry's
 * extra codes that clients know, and Berth's own codes for its admin API (never answered on
 * `/v2/` routes). The `{errors:[…]}` body is rendered in exactly one place: `renderError` below,
 * used by the app's error handler.
 */

const REGISTRY_CODES = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  TAG_INVALID: { status: 400, message: 'manifest tag did not match URI' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  // Not in the OCI table but used by Docker's registry and understood by clients.
  RANGE_INVALID: { status: 416, message: 'invalid content range' },
  // Bodies over the cap on /token, /admin and the UI's forms (http/capped-body.ts). On /v2 a 413
  // carries the spec's code for what was refused: MANIFEST_INVALID, BLOB_UPLOAD_INVALID.
  PAYLOAD_TOO_LARGE: { status: 413, message: 'request body too large' },
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested' },
  NOT_FOUND: { status: 404, message: 'not found' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed' },
  UNAVAILABLE: { status: 503, message: 'service unavailable' },
  INTERNAL_ERROR: { status: 500, message: 'internal server error' },
} as const satisfies Record<string, { status: number; message: string }>;

/** Berth's admin API (`/admin/…`): client mistakes the registry table has no word for. */
const ADMIN_CODES = {
  INVALID_REQUEST: { status: 400, message: 'invalid request' },
  CONFLICT: { status: 409, message: 'the request conflicts with the current state' },
  USER_UNKNOWN: { status: 404, message: 'no such user' },
  USER_EXISTS: { status: 409, message: 'user exists' },
  TOKEN_UNKNOWN: { status: 404, message: 'no such token' },
  POLICY_UNKNOWN: { status: 404, message: 'no policy for this pattern' },
  WEBHOOK_UNKNOWN: { status: 404, message: 'no such webhook' },
} as const satisfies Record<string, { status: number; message: string }>;

export const ERROR_CODES = { ...REGISTRY_CODES, ...ADMIN_CODES };

export type ErrorCode = keyof typeof ERROR_CODES;

/** A protocol error: carries the OCI code, an optional detail and any headers it needs. */
export class RegistryError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly detail?: unknown,
    options?: { status?: number; headers?: Record<string, string> },
  ) {
    super(message ?? ERROR_CODES[code].message);
    this.name = 'RegistryError';
    this.status = options?.status ?? ERROR_CODES[code].status;
    this.headers = options?.headers ?? {};
  }
}

export interface ErrorBody {
  errors: { code: ErrorCode; message: string; detail?: unknown }[];
}

export function errorBody(error: RegistryError): ErrorBody {
  const entry: ErrorBody['errors'][number] = { code: error.code, message: error.message };
  if (error.detail !== undefined) entry.detail = error.detail;
  return { errors: [entry] };
}

/** The only place an error response is built. HEAD responses carry no body (RFC 9110 §9.3.2). */
export function renderError(error: RegistryError, method: string): Response {
  const headers = new Headers(error.headers);
  headers.set('Content-Type', 'application/json; charset=utf-8');
  headers.set('Docker-Distribution-API-Version', 'registry/2.0');
  const body = JSON.stringify(errorBody(error));
  if (method === 'HEAD') {
    headers.set('Content-Length', String(new TextEncoder().encode(body).byteLength));
    return new Response(null, { status: error.status, headers });
  }
  return new Response(body, { status: error.status, headers });
}
