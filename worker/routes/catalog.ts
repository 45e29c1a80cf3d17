/** The catalog: `GET /v2/_catalog[?n=&last=]` (Docker registry API; listed, not required, by the OCI spec). */
import type { Context } from 'hono';
import type { AppEnv } from '../types.ts';
import { parsePage } from '../oci/pagination.ts';
import { json, nextPageHeaders } from './respond.ts';

export async function catalog(c: Context<AppEnv>): Promise<Response> {
  const page = parsePage(new URL(c.req.url).searchParams);
  const result = await c.get('registry').listings.repositories(page);
  return json({ repositories: result.names }, 200, nextPageHeaders('/v2/_catalog', page.n, result));
}
