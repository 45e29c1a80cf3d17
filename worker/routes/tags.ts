/** end-8a/8b: `GET /v2/<name>/tags/list[?n=&last=]`. */
import type { Context } from 'hono';
import type { AppEnv } from '../types.ts';
import { RegistryError } from '../oci/errors.ts';
import { parsePage } from '../oci/pagination.ts';
import { json, nextPageHeaders } from './respond.ts';

export async function tagsList(c: Context<AppEnv>, name: string): Promise<Response> {
  const listings = c.get('registry').listings;
  const page = parsePage(new URL(c.req.url).searchParams);
  if (!(await listings.repositoryExists(name))) throw new RegistryError('NAME_UNKNOWN', undefined, { name });
  const result = await listings.tags(name, page);
  return json({ name, tags: result.names }, 200, nextPageHeaders(`/v2/${name}/tags/list`, page.n, result));
}
