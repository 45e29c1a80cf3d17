/**
 * Garbage collection in the admin API (admins only; registry/gc.ts explains what it keeps).
 *
 *   POST /admin/gc?dryRun=true|false[&untaggedManifests=true][&keepUnreferencedLayers=true]
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../types.ts';
import type { TokenAuthorizer } from '../../auth/token-authorizer.ts';
import { adminOnly } from './guards.ts';
import { booleanQuery } from './query.ts';
import { gcSample } from '../../registry/scheduled.ts';

export async function runGc(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  await adminOnly(c, auth);
  const flag = (name: string): boolean => booleanQuery(c, name);
  const report = await c.get('registry').collectGarbage({
    dryRun: flag('dryRun'),
    untaggedManifests: flag('untaggedManifests'),
    keepUnreferencedLayers: flag('keepUnreferencedLayers'),
    graceSeconds: c.get('config').gcGraceSeconds,
  });
  c.get('metrics').gcRun(gcSample('admin', report));
  return Response.json(report);
}
