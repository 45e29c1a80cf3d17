/**
 * The catalog: `GET /v2/_catalog[?n=&last=]` (Docker registry API; listed, not required, by the
 * OCI spec). Callers with `registry:catalog:*` see every repository; others (app.ts decides who
 * gets this far) see the repositories they may pull, and always get a Link while more may follow.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../types.ts';
import type { AccessRequest } from '../auth/types.ts';
import { nextLink, parsePage } from '../oci/pagination.ts';
import { json, nextPageHeaders } from './respond.ts';

export const CATALOG_SCOPE: AccessRequest = { type: 'registry', name: 'catalog', actions: ['*'] };
/** Page size of a filtered catalog asked without `n`. */
const FILTERED_PAGE = 1000;

export async function catalog(c: Context<AppEnv>): Promise<Response> {
  const page = parsePage(new URL(c.req.url).searchParams);
  const listings = c.get('registry').listings;
  const authorizer = c.get('authorizer');
  const principal = c.get('principal');
  if (authorizer.allows(principal, CATALOG_SCOPE)) {
    const result = await listings.repositories(page);
    return json({ repositories: result.names }, 200, nextPageHeaders('/v2/_catalog', page.n, result));
  }
  const n = page.n ?? FILTERED_PAGE;
  const result = await listings.repositoriesWhere({ ...page, n }, (name) =>
    authorizer.allows(principal, { type: 'repository', name, actions: ['pull'] }),
  );
  const headers: Record<string, string> = result.more && result.next !== undefined ? { Link: nextLink('/v2/_catalog', n, result.next) } : {};
  return json({ repositories: result.names }, 200, headers);
}
