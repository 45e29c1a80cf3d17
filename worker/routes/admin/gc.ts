/**
 * Garbage collection in the admin API (admins only; registry/gc.ts explains what it keeps).
 *
 *   POST /admin/gc?dryRun=true|false[&untaggedManifests=true][&keepUnreferencedLayers=true][&graceSeconds=N]
 *
 * `graceSeconds` overrides BERTH_GC_GRACE_SECONDS for this run only (`berth gc --grace`).
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../types.ts';
import type { TokenAuthorizer } from '../../auth/token-authorizer.ts';
import { adminOnly } from './guards.ts';
import { booleanQuery, wholeNumberQuery } from './query.ts';
import { gcSample } from '../../registry/scheduled.ts';

export async function runGc(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  await adminOnly(c, auth);
  const flag = (name: string): boolean => booleanQuery(c, name);
  const report = await c.get('registry').collectGarbage({
    dryRun: flag('dryRun'),
    untaggedManifests: flag('untaggedManifests'),
    keepUnreferencedLayers: flag('keepUnreferencedLayers'),
    graceSeconds: graceQuery(c) ?? c.get('config').gcGraceSeconds,
  });
  c.get('metrics').gcRun(gcSample('admin', report));
  return Response.json(report);
}

/** Ten years: beyond any sensible grace period, short of overflowing a date. */
const MAX_GRACE_SECONDS = 10 * 365 * 86_400;

function graceQuery(c: Context<AppEnv>): number | undefined {
  return wholeNumberQuery(c, 'graceSeconds', 0, MAX_GRACE_SECONDS);
}
