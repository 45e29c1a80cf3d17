/** end-12a/12b: `GET /v2/<name>/referrers/<digest>[?artifactType=]`, always an image index. */
import type { Context } from 'hono';
import type { AppEnv } from '../types.ts';
import { parseDigest } from '../oci/digest.ts';
import { OCI_INDEX } from '../oci/media-types.ts';
import { json } from './respond.ts';

export async function referrers(c: Context<AppEnv>, name: string, digestText: string): Promise<Response> {
  const subject = parseDigest(digestText);
  const artifactType = c.req.query('artifactType');
  const manifests = await c.get('registry').listings.referrers(name, subject, artifactType);
  const headers: Record<string, string> = { 'Content-Type': OCI_INDEX };
  if (artifactType !== undefined) headers['OCI-Filters-Applied'] = 'artifactType';
  return json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }, 200, headers);
}
