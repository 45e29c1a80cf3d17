/**
 * end-4a/4b/11 (POST: start, monolithic, mount), end-5 (PATCH), end-6 (PUT), end-13 (GET status)
 * and DELETE of an upload.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../types.ts';
import { parseDigest, tryParseDigest } from '../oci/digest.ts';
import { RegistryError } from '../oci/errors.ts';
import { isBodyOverLimit } from '../registry/part-writer.ts';
import { parseContentRange } from '../oci/range.ts';
import { isValidName } from '../oci/reference.ts';
import { rangeHeaders, type AppendInput, type UploadSession } from '../registry/uploads.ts';
import { bodyOf, contentLength, empty } from './respond.ts';

export function startUpload(c: Context<AppEnv>, name: string): Promise<Response> {
  return withPushHint(c, name, () => start(c, name));
}

async function start(c: Context<AppEnv>, name: string): Promise<Response> {
  const registry = c.get('registry');
  const mounted = await tryMount(c, name);
  if (mounted) return mounted;

  const digestParam = c.req.query('digest');
  const session = await registry.uploads.start(name);
  if (digestParam !== undefined) {
    // Monolithic upload: the POST carries the whole blob.
    const digest = parseDigest(digestParam);
    await registry.uploads.finish(session, digest, appendInput(c));
    return created(name, digest.digest);
  }
  return empty(202, { ...rangeHeaders(session), ...chunkHeaders(c) });
}

/** Cross-repository mount: 201 when the caller may pull from `from` and it holds the blob. */
async function tryMount(c: Context<AppEnv>, name: string): Promise<Response | null> {
  const mount = c.req.query('mount');
  const from = c.req.query('from');
  if (mount === undefined || from === undefined) return null;
  const digest = tryParseDigest(mount);
  if (!digest || !isValidName(from)) return null;
  const allowed = c.get('authorizer').allows(c.get('principal'), { type: 'repository', name: from, actions: ['pull'] });
  if (!allowed) return null;
  const registry = c.get('registry');
  const location = await registry.blobs.stat(from, digest);
  if (!location) return null;
  await registry.blobs.link(name, digest, location);
  return created(name, digest.digest);
}

export async function uploadStatus(c: Context<AppEnv>, name: string, uploadId: string): Promise<Response> {
  const session = await c.get('registry').uploads.get(name, uploadId);
  return empty(204, rangeHeaders(session));
}

export function patchUpload(c: Context<AppEnv>, name: string, uploadId: string): Promise<Response> {
  return withPushHint(c, name, async () => {
    const uploads = c.get('registry').uploads;
    const session = await uploads.get(name, uploadId);
    const updated = await uploads.append(session, appendInput(c));
    return empty(202, { ...rangeHeaders(updated), ...chunkHeaders(c) });
  });
}

export function finishUpload(c: Context<AppEnv>, name: string, uploadId: string): Promise<Response> {
  return withPushHint(c, name, () => finish(c, name, uploadId));
}

async function finish(c: Context<AppEnv>, name: string, uploadId: string): Promise<Response> {
  const uploads = c.get('registry').uploads;
  const session: UploadSession = await uploads.get(name, uploadId);
  const digestParam = c.req.query('digest');
  if (digestParam === undefined) throw new RegistryError('DIGEST_INVALID', 'the digest query parameter is required');
  const digest = parseDigest(digestParam);
  await uploads.finish(session, digest, appendInput(c));
  return created(name, digest.digest);
}

export async function cancelUpload(c: Context<AppEnv>, name: string, uploadId: string): Promise<Response> {
  const uploads = c.get('registry').uploads;
  await uploads.discard(await uploads.get(name, uploadId));
  return empty(204);
}

/**
 * A layer over the deployment's body limit cannot be pushed in one request, which is how docker,
 * podman and skopeo send every layer. The 413 names the limit and the exact command that pushes
 * such a layer anyway (`berth push` sends the bytes straight to the bucket, or in chunks under
 * the limit), for this registry and repository.
 */
async function withPushHint(c: Context<AppEnv>, name: string, run: () => Promise<Response>): Promise<Response> {
  try {
    return await run();
  } catch (error) {
    if (!isBodyOverLimit(error)) throw error;
    const url = c.get('config').publicUrl ?? new URL(c.req.url).origin;
    const command = `npm run berth -- --url ${url} push docker-daemon:IMAGE:TAG ${name}:TAG`;
    const detail = typeof error.detail === 'object' && error.detail !== null ? error.detail : {};
    throw new RegistryError(error.code, `${error.message}; push it with Berth's CLI instead: ${command}`, { ...detail, command }, {
      status: error.status,
      headers: error.headers,
    });
  }
}

function appendInput(c: Context<AppEnv>): AppendInput {
  const rangeHeader = c.req.header('Content-Range');
  const input: AppendInput = { body: bodyOf(c) };
  const length = contentLength(c);
  if (length !== undefined) input.length = length;
  if (rangeHeader !== undefined) input.range = parseContentRange(rangeHeader);
  return input;
}

function created(name: string, digest: string): Response {
  return empty(201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
}

/**
 * `OCI-Chunk-Min-Length` (distribution-spec v1.1, "Pushing a blob in chunks") and the largest
 * chunk this deployment takes, `OCI-Chunk-Max-Length` (proposed in distribution-spec #485/#486;
 * regclient reads it, and `berth push` sizes its chunks by it where it cannot upload directly).
 */
function chunkHeaders(c: Context<AppEnv>): Record<string, string> {
  const { chunkMinLength, maxBodyBytes } = c.get('config');
  const headers: Record<string, string> = {};
  if (chunkMinLength) headers['OCI-Chunk-Min-Length'] = String(chunkMinLength);
  if (maxBodyBytes) headers['OCI-Chunk-Max-Length'] = String(maxBodyBytes);
  return headers;
}
