/**
 * The distribution-spec's endpoint table (end-1 … end-13) as a pure function from a URL path to
 * the operation's target. Repository names contain '/', so the path is matched from its end.
 *
 * Berth's own extension, direct uploads (routes/direct-uploads.ts), sits under
 * `/v2/<name>/_berth/…`: the spec reserves `_`-prefixed components for extensions
 * (distribution-spec "Extensions"), and no repository name component can start with `_`.
 */
import type { ErrorCode } from './errors.ts';

export type V2Route =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; uploadId: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'referrers'; name: string; digest: string }
  | { kind: 'directUploads'; name: string }
  | { kind: 'directUpload'; name: string; uploadId: string }
  | { kind: 'directUploadParts'; name: string; uploadId: string };

export type V2RouteKind = V2Route['kind'];

/** Methods each endpoint answers; anything else gets 405 with `Allow`. */
export const ROUTE_METHODS: Record<V2RouteKind, readonly string[]> = {
  base: ['GET', 'HEAD'],
  catalog: ['GET'],
  tags: ['GET'],
  manifest: ['GET', 'HEAD', 'PUT', 'DELETE'],
  uploads: ['POST'],
  upload: ['GET', 'PATCH', 'PUT', 'DELETE'],
  blob: ['GET', 'HEAD', 'DELETE'],
  referrers: ['GET'],
  directUploads: ['POST'],
  directUpload: ['GET', 'PUT', 'DELETE'],
  directUploadParts: ['POST'],
};

const PATTERNS: [RegExp, (m: RegExpMatchArray) => V2Route][] = [
  [/^(.+)\/_berth\/uploads\/?$/, (m) => ({ kind: 'directUploads', name: m[1] ?? '' })],
  [/^(.+)\/_berth\/uploads\/([^/]+)$/, (m) => ({ kind: 'directUpload', name: m[1] ?? '', uploadId: decode(m[2]) })],
  [/^(.+)\/_berth\/uploads\/([^/]+)\/parts$/, (m) => ({ kind: 'directUploadParts', name: m[1] ?? '', uploadId: decode(m[2]) })],
  [/^(.+)\/blobs\/uploads\/?$/, (m) => ({ kind: 'uploads', name: m[1] ?? '' })],
  [/^(.+)\/blobs\/uploads\/([^/]+)$/, (m) => ({ kind: 'upload', name: m[1] ?? '', uploadId: decode(m[2]) })],
  [/^(.+)\/blobs\/([^/]+)$/, (m) => ({ kind: 'blob', name: m[1] ?? '', digest: decode(m[2]) })],
  [/^(.+)\/manifests\/([^/]+)$/, (m) => ({ kind: 'manifest', name: m[1] ?? '', reference: decode(m[2]) })],
  [/^(.+)\/tags\/list$/, (m) => ({ kind: 'tags', name: m[1] ?? '' })],
  [/^(.+)\/referrers\/([^/]+)$/, (m) => ({ kind: 'referrers', name: m[1] ?? '' , digest: decode(m[2]) })],
];

/** Null when the path is not a registry endpoint (→ 404). Names are not validated here. */
export function matchV2Route(pathname: string): V2Route | null {
  if (pathname === '/v2' || pathname === '/v2/') return { kind: 'base' };
  if (!pathname.startsWith('/v2/') || pathname.length > 2048) return null;
  const rest = pathname.slice(4);
  if (rest === '_catalog') return { kind: 'catalog' };
  for (const [pattern, build] of PATTERNS) {
    const match = rest.match(pattern);
    if (match) return build(match);
  }
  return null;
}

/**
 * The spec's answer for a `/v2/` path that matches no endpoint but aims at one: a reference or
 * digest with a `/` in it (`…/manifests/a/b`, `…/blobs/x/y`) names no manifest or blob (404
 * MANIFEST_UNKNOWN, BLOB_UNKNOWN; pushing under such a reference is MANIFEST_INVALID, 400), an
 * upload location with more after it names no upload. Null for paths no endpoint resembles.
 */
export function nearMiss(pathname: string, method: string): { code: ErrorCode; message: string } | null {
  if (!pathname.startsWith('/v2/')) return null;
  const rest = pathname.slice(4);
  if (/\/blobs\/uploads\/./.test(rest)) return { code: 'BLOB_UPLOAD_UNKNOWN', message: 'no upload has this location' };
  if (/\/blobs\/./.test(rest)) return { code: 'BLOB_UNKNOWN', message: 'a digest cannot contain "/"' };
  if (/\/manifests\/./.test(rest)) {
    return { code: method === 'PUT' ? 'MANIFEST_INVALID' : 'MANIFEST_UNKNOWN', message: 'a tag or digest cannot contain "/"' };
  }
  return null;
}

function decode(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? '');
  } catch {
    return segment ?? '';
  }
}
