/**
 * Berth's direct upload extension (registry/direct-uploads.ts), under `/v2/<name>/_berth/uploads/`
 * in the distribution-spec's extension style (an `_`-prefixed path component, which no repository
 * name component can start with), so proxies that route `/v2/*` pass it:
 *
 *   POST   /v2/<name>/_berth/uploads/             {digest, size} → 202 {id, location, partSize, partCount}
 *                                                 (201 when the repository already holds the blob)
 *   POST   /v2/<name>/_berth/uploads/<id>/parts   {parts:[n…]}   → 200 {parts:[{partNumber, url}]}
 *   GET    /v2/<name>/_berth/uploads/<id>                        → 200 {…, parts:[{partNumber, size}], missing}
 *   PUT    /v2/<name>/_berth/uploads/<id>?digest=                → 201 published | 202 still verifying
 *   DELETE /v2/<name>/_berth/uploads/<id>                        → 204, the multipart upload aborted
 *
 * Every body here is small JSON: the layer bytes go to the presigned URLs, never to Berth.
 * Stores that cannot presign (fs, the R2 binding without S3 keys) answer UNSUPPORTED, and
 * clients use the standard chunked upload instead.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../types.ts';
import { parseDigest, type ParsedDigest } from '../oci/digest.ts';
import { RegistryError } from '../oci/errors.ts';
import type { DirectUploadSession } from '../registry/direct-uploads.ts';
import { readCappedBytes } from '../http/capped-body.ts';
import { empty, json } from './respond.ts';

/** Largest JSON body accepted: 100 part numbers and a digest fit many times over. */
const MAX_JSON_BYTES = 16 * 1024;

export async function startDirectUpload(c: Context<AppEnv>, name: string): Promise<Response> {
  const registry = c.get('registry');
  const body = await readJsonBody(c);
  const digest = parseDigest(String(body.digest ?? ''));
  if (digest.algorithm !== 'sha256') throw new RegistryError('UNSUPPORTED', 'direct uploads take sha256 digests');
  const size = body.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) {
    throw new RegistryError('SIZE_INVALID', 'size must be a whole number of bytes, at least 1', { size });
  }
  const existing = await registry.blobs.stat(name, digest);
  if (existing) {
    if (existing.size !== size) throw new RegistryError('SIZE_INVALID', `the repository holds ${digest.digest} with ${existing.size} bytes`);
    return json({ state: 'exists', digest: digest.digest, size }, 201, blobHeaders(name, digest));
  }
  const session = await registry.directUploads.start(name, digest, size);
  return json(describe(session), 202, { Location: sessionLocation(session) });
}

export async function directUploadParts(c: Context<AppEnv>, name: string, id: string): Promise<Response> {
  const uploads = c.get('registry').directUploads;
  const session = await uploads.get(name, id);
  const body = await readJsonBody(c);
  if (!Array.isArray(body.parts)) throw new RegistryError('BLOB_UPLOAD_INVALID', 'parts must be a list of part numbers');
  const parts = await uploads.partUrls(session, body.parts as number[]);
  return json({ parts, expiresInSeconds: c.get('config').presignExpirySeconds });
}

export async function directUploadStatus(c: Context<AppEnv>, name: string, id: string): Promise<Response> {
  const uploads = c.get('registry').directUploads;
  const session = await uploads.get(name, id);
  const { parts, check } = await uploads.status(session);
  return json({ ...describe(session), parts, missing: check?.missing.length ?? 0 });
}

export async function finishDirectUpload(c: Context<AppEnv>, name: string, id: string): Promise<Response> {
  const uploads = c.get('registry').directUploads;
  const session = await uploads.get(name, id);
  const digestParam = c.req.query('digest');
  if (digestParam === undefined) throw new RegistryError('DIGEST_INVALID', 'the digest query parameter is required');
  const digest = parseDigest(digestParam);
  const result = await uploads.finish(session, digest);
  if (result.state === 'verifying') {
    // Not done: the client repeats this request (same URL) until it answers 201.
    return json(result, 202, { Location: `${sessionLocation(session)}?digest=${digest.digest}`, 'Retry-After': '0' });
  }
  return empty(201, blobHeaders(name, digest));
}

export async function cancelDirectUpload(c: Context<AppEnv>, name: string, id: string): Promise<Response> {
  const uploads = c.get('registry').directUploads;
  await uploads.discard(await uploads.get(name, id));
  return empty(204);
}

function describe(session: DirectUploadSession): Record<string, unknown> {
  return {
    id: session.id,
    location: sessionLocation(session),
    digest: session.digest,
    size: session.size,
    partSize: session.partSize,
    partCount: session.partCount,
    state: session.verify ? 'verifying' : session.assembled ? 'assembled' : 'uploading',
    ...(session.verify ? { verified: session.verify.offset } : {}),
  };
}

function sessionLocation(session: Pick<DirectUploadSession, 'repo' | 'id'>): string {
  return `/v2/${session.repo}/_berth/uploads/${session.id}`;
}

function blobHeaders(name: string, digest: ParsedDigest): Record<string, string> {
  return { Location: `/v2/${name}/blobs/${digest.digest}`, 'Docker-Content-Digest': digest.digest };
}

async function readJsonBody(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  const bytes = await readCappedBytes(c.req.raw, {
    limit: MAX_JSON_BYTES,
    tooLarge: (limit) => new RegistryError('BLOB_UPLOAD_INVALID', `the request body exceeds ${limit} bytes`, { limit }, { status: 413 }),
  });
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new RegistryError('BLOB_UPLOAD_INVALID', 'the body must be a JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RegistryError('BLOB_UPLOAD_INVALID', 'the body must be a JSON object');
  return value as Record<string, unknown>;
}
