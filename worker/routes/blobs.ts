/** end-2 (GET/HEAD blob) and end-10 (DELETE blob). */
import type { Context } from 'hono';
import type { AppEnv } from '../types.ts';
import { parseDigestToRead } from '../oci/digest.ts';
import { RegistryError } from '../oci/errors.ts';
import { contentRangeHeader, parseRangeHeader, unsatisfiedRangeHeader } from '../oci/range.ts';
import { redirectKeepsCredentials } from '../oci/redirect-credentials.ts';
import { empty } from './respond.ts';

export async function getBlob(c: Context<AppEnv>, name: string, digestText: string): Promise<Response> {
  const registry = c.get('registry');
  const config = c.get('config');
  const digest = parseDigestToRead(digestText, 'BLOB_UNKNOWN');
  const headers: Record<string, string> = {
    'Docker-Content-Digest': digest.digest,
    'Content-Type': 'application/octet-stream',
    'Accept-Ranges': 'bytes',
  };
  // A mirrored blob not cached yet comes from the upstream as it is stored (registry/mirror/).
  const method = c.req.method === 'HEAD' ? 'HEAD' : 'GET';
  const mirrored = await registry.mirror.blob(name, digest, method, { background: c.get('background') });
  if (mirrored?.kind === 'upstream') {
    const length: Record<string, string> = mirrored.size === undefined ? {} : { 'Content-Length': String(mirrored.size) };
    return new Response(mirrored.body, { status: 200, headers: { ...headers, ...length } });
  }
  const location = mirrored ? mirrored.location : await registry.blobs.stat(name, digest);
  if (!location) throw new RegistryError('BLOB_UNKNOWN', undefined, { digest: digest.digest });
  if (c.req.method === 'HEAD') {
    return new Response(null, { status: 200, headers: { ...headers, 'Content-Length': String(location.size) } });
  }

  // Principle 4: pull bytes skip Berth when the store can presign, unless clients would send
  // their credentials along to the store, which then refuses the request (redirect-credentials.ts).
  if (config.redirectBlobs) {
    const url = await registry.blobs.presignedUrl(location, {
      expiresInSeconds: config.presignExpirySeconds,
      contentType: 'application/octet-stream',
    });
    if (url !== null && !registryHosts(c.req.url, config.publicUrl).some((host) => redirectKeepsCredentials(host, url))) {
      return empty(307, { Location: url, 'Docker-Content-Digest': digest.digest });
    }
  }

  const range = parseRangeHeader(c.req.header('Range'), location.size);
  if (range.kind === 'unsatisfiable') {
    throw new RegistryError('RANGE_INVALID', 'requested range not satisfiable', undefined, {
      status: 416,
      headers: { 'Content-Range': unsatisfiedRangeHeader(location.size) },
    });
  }
  const slice = range.kind === 'partial' ? { offset: range.offset, length: range.length } : undefined;
  const object = await registry.blobs.open(location, slice);
  if (!object) throw new RegistryError('BLOB_UNKNOWN', 'blob data is missing', { digest: digest.digest });
  if (slice) {
    return new Response(object.body, {
      status: 206,
      headers: {
        ...headers,
        'Content-Length': String(slice.length),
        'Content-Range': contentRangeHeader(slice.offset, slice.length, location.size),
      },
    });
  }
  return new Response(object.body, { status: 200, headers: { ...headers, 'Content-Length': String(location.size) } });
}

/** The host names clients may have reached Berth at: the request's, and BERTH_PUBLIC_URL's. */
function registryHosts(requestUrl: string, publicUrl: string | undefined): string[] {
  const hosts = [new URL(requestUrl).hostname];
  if (publicUrl) hosts.push(new URL(publicUrl).hostname);
  return hosts;
}

export async function deleteBlob(c: Context<AppEnv>, name: string, digestText: string): Promise<Response> {
  const digest = parseDigestToRead(digestText, 'BLOB_UNKNOWN');
  const removed = await c.get('registry').blobs.unlink(name, digest);
  if (!removed) throw new RegistryError('BLOB_UNKNOWN', undefined, { digest: digest.digest });
  return empty(202, { 'Docker-Content-Digest': digest.digest });
}
