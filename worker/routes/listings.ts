/** end-8a/8b (tags list), the catalog, and end-12a/12b (referrers). */
import type { Context } from 'hono';
import type { AppEnv } from '../types.ts';
import { parseDigest } from '../oci/digest.ts';
import { RegistryError } from '../oci/errors.ts';
import { OCI_INDEX } from '../oci/media-types.ts';
import { nextLink, parsePage } from '../oci/pagination.ts';
import { listReferrers, listRepositories, listTags, repositoryExists, type NamePage } from '../registry/listings.ts';
import { json } from './respond.ts';

export async function tagsList(c: Context<AppEnv>, name: string): Promise<Response> {
  const store = c.get('registry').store;
  const page = parsePage(new URL(c.req.url).searchParams);
  if (!(await repositoryExists(store, name))) throw new RegistryError('NAME_UNKNOWN', undefined, { name });
  const result = await listTags(store, name, page);
  return json({ name, tags: result.names }, 200, linkHeader(`/v2/${name}/tags/list`, page.n, result));
}

export async function catalog(c: Context<AppEnv>): Promise<Response> {
  const page = parsePage(new URL(c.req.url).searchParams);
  const result = await listRepositories(c.get('registry').store, page);
  return json({ repositories: result.names }, 200, linkHeader('/v2/_catalog', page.n, result));
}

export async function referrers(c: Context<AppEnv>, name: string, digestText: string): Promise<Response> {
  const subject = parseDigest(digestText);
  const artifactType = c.req.query('artifactType');
  const manifests = await listReferrers(c.get('registry').store, name, subject, artifactType);
  const headers: Record<string, string> = { 'Content-Type': OCI_INDEX };
  if (artifactType !== undefined) headers['OCI-Filters-Applied'] = 'artifactType';
  return json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }, 200, headers);
}

function linkHeader(path: string, n: number | undefined, page: NamePage): Record<string, string> {
  const last = page.names[page.names.length - 1];
  if (!page.more || n === undefined || last === undefined) return {};
  return { Link: nextLink(path, n, last) };
}
