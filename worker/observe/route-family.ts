/**
 * What a request was about, for logs and metrics: a small closed set of route families (bounded
 * metric labels) and, for registry endpoints, the repository (logs only).
 */
import { isValidName } from '../oci/reference.ts';
import { matchV2Route, type V2RouteKind } from '../oci/routes.ts';

export type RouteFamily = V2RouteKind | 'token' | 'admin' | 'health' | 'metrics' | 'ui' | 'other';

export interface RouteOf {
  family: RouteFamily;
  /** The repository named in the path, when it is a valid name. */
  repository?: string;
}

const PREFIX_FAMILIES: [string, RouteFamily][] = [
  ['/token', 'token'],
  ['/admin', 'admin'],
  ['/healthz', 'health'],
  ['/readyz', 'health'],
  ['/metrics', 'metrics'],
];

export function routeOf(pathname: string): RouteOf {
  const route = matchV2Route(pathname);
  if (route) {
    if ('name' in route && isValidName(route.name)) return { family: route.kind, repository: route.name };
    return { family: route.kind };
  }
  for (const [prefix, family] of PREFIX_FAMILIES) {
    if (pathname === prefix || pathname.startsWith(`${prefix}/`)) return { family };
  }
  if (pathname === '/' || pathname.startsWith('/ui')) return { family: 'ui' };
  return { family: 'other' };
}
