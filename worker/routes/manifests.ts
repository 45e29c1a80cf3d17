/** end-3 (GET/HEAD manifest), end-7 (PUT manifest), end-9 (DELETE manifest or tag). */
import type { Context } from 'hono';
import type { AppEnv } from '../types.ts';
import { RegistryError } from '../oci/errors.ts';
import { normalizeContentType } from '../oci/media-types.ts';
import { assertTag, isValidTag, parseReference, type Reference } from '../oci/reference.ts';
import { readCappedBytes } from '../http/capped-body.ts';
import { empty } from './respond.ts';
import { announce } from './events.ts';

export async function getManifest(c: Context<AppEnv>, name: string, referenceText: string): Promise<Response> {
  const { manifests, mirror } = c.get('registry');
  const reference = readableReference(referenceText);
  const head = c.req.method === 'HEAD';
  // Under a mirror prefix the mirror answers, from its cache or the upstream (registry/mirror/).
  const mirrored = await mirror.manifest(name, reference, !head);
  // GET and HEAD answer identical headers; HEAD skips reading the body.
  if (head) {
    const record = mirrored ?? (await manifests.stat(name, reference));
    return new Response(null, { status: 200, headers: manifestHeaders(record.digest.digest, record.mediaType, record.size) });
  }
  const manifest = mirrored && 'body' in mirrored ? mirrored : await manifests.get(name, reference);
  announce(c, 'pull', {
    repository: name, digest: manifest.digest.digest, mediaType: manifest.mediaType, size: manifest.size,
    ...(reference.kind === 'tag' ? { tag: reference.tag } : {}),
  });
  return new Response(manifest.body, {
    status: 200,
    headers: manifestHeaders(manifest.digest.digest, manifest.mediaType, manifest.size),
  });
}

export async function putManifest(c: Context<AppEnv>, name: string, referenceText: string): Promise<Response> {
  const reference = parseReference(referenceText);
  const tags = tagParameters(c, reference);
  const body = await readManifestBody(c, c.get('config').maxManifestBytes);
  const result = await c.get('registry').manifests.put(name, reference, body, normalizeContentType(c.req.header('Content-Type')), tags);
  const headers = new Headers({
    Location: `/v2/${name}/manifests/${result.digest.digest}`,
    'Docker-Content-Digest': result.digest.digest,
    'Content-Length': '0',
  });
  if (result.subject) headers.set('OCI-Subject', result.subject.digest);
  for (const tag of tags) headers.append('OCI-Tag', tag);
  const pushed = { repository: name, digest: result.digest.digest, mediaType: result.mediaType, size: result.size };
  const named = reference.kind === 'tag' ? [reference.tag] : tags;
  if (named.length === 0) announce(c, 'push', pushed);
  for (const tag of named) announce(c, 'push', { ...pushed, tag });
  return new Response(null, { status: 201, headers });
}

/**
 * `?tag=` parameters of a push by digest (distribution-spec 1.1+dev "Pushing manifests with
 * tags"): every tag is checked before anything is stored, and each one applied is answered in
 * an `OCI-Tag` header. On a push by tag they are ignored, as a registry without the feature does.
 */
function tagParameters(c: Context<AppEnv>, reference: Reference): string[] {
  if (reference.kind !== 'digest') return [];
  const tags = c.req.queries('tag') ?? [];
  return [...new Set(tags.map((tag) => assertTag(tag)))];
}

export async function deleteManifest(c: Context<AppEnv>, name: string, referenceText: string): Promise<Response> {
  const principal = c.get('principal');
  // Only tags an immutable policy covers need an admin; the lookup happens only for those.
  const isAdmin = async (): Promise<boolean> => principal.admin || (await principal.confirmAdmin?.()) === true;
  const reference = parseReference(referenceText, 'MANIFEST_UNKNOWN');
  const deleted = await c.get('registry').manifests.delete(name, reference, isAdmin);
  announce(c, 'delete', { repository: name, digest: deleted.digest, ...(reference.kind === 'tag' ? { tag: reference.tag } : {}) });
  return empty(202);
}

/**
 * A pull names something that exists or not: a string that cannot be a tag (no `:`, outside the
 * spec's tag grammar) names no manifest, so it is MANIFEST_UNKNOWN (404), as in Distribution. The
 * conformance suite pulls `.INVALID_MANIFEST_NAME` and wants 404. Pushing such a tag stays
 * TAG_INVALID (400); a malformed digest stays DIGEST_INVALID (400), which the suite also accepts.
 * A digest of an algorithm Berth does not store (`md5:…`) names nothing here either: 404.
 */
function readableReference(referenceText: string): Reference {
  if (!referenceText.includes(':') && !isValidTag(referenceText)) {
    throw new RegistryError('MANIFEST_UNKNOWN', undefined, { tag: referenceText });
  }
  return parseReference(referenceText, 'MANIFEST_UNKNOWN');
}

function manifestHeaders(digest: string, mediaType: string, size: number): Record<string, string> {
  return { 'Content-Type': mediaType, 'Content-Length': String(size), 'Docker-Content-Digest': digest };
}

/**
 * A manifest body, never more than `limit` bytes (http/capped-body.ts). Over the limit: 413
 * (spec "Pushing Manifests": registries may limit manifest size and SHOULD accept 4 MiB) with
 * MANIFEST_INVALID, the spec's code for a manifest the registry will not take.
 */
function readManifestBody(c: Context<AppEnv>, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  return readCappedBytes(c.req.raw, {
    limit,
    tooLarge: () => new RegistryError('MANIFEST_INVALID', `manifest exceeds the limit of ${limit} bytes`, { limit }, { status: 413 }),
    broken: () => new RegistryError('MANIFEST_INVALID', 'the manifest body ended early'),
  });
}
