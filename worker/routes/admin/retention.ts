/**
 * Retention in the admin API (admins only; registry/retention.ts says what it deletes).
 *
 *   POST /admin/retention?dryRun=true|false
 *
 * The answer lists every tag and manifest deleted (or that would be).
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../types.ts';
import type { TokenAuthorizer } from '../../auth/token-authorizer.ts';
import { adminOnly } from './guards.ts';
import { booleanQuery } from './query.ts';

export async function runRetention(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  await adminOnly(c, auth);
  const report = await c.get('registry').applyRetention({ dryRun: booleanQuery(c, 'dryRun') });
  return Response.json(report);
}
