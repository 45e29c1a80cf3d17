/**
 * Repository policies in the admin API (admins only; registry/policy-rules.ts says what they mean).
 *
 *   GET    /admin/policies                      every policy
 *   GET    /admin/policies/for?repository=NAME  the policy governing NAME (longest match), or 404
 *   PUT    /admin/policies {pattern, immutableTags?, keepLast?, keepDays?, protectTags?,
 *                           deleteUntaggedAfterSeconds?, expireImmutable?}   set (replace) one
 *   DELETE /admin/policies?pattern=PATTERN
 *
 * Patterns contain `/`, so they travel in the body or the query string, never in the path.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../types.ts';
import { RegistryError } from '../../oci/errors.ts';
import { assertName } from '../../oci/reference.ts';
import { validatePolicy } from '../../registry/policy-rules.ts';
import { MAX_POLICIES } from '../../registry/policies.ts';
import { isValidPattern } from '../../auth/rules.ts';
import type { TokenAuthorizer } from '../../auth/token-authorizer.ts';
import { adminOnly } from './guards.ts';
import { readJsonBody } from './json-body.ts';

export async function listPolicies(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  await adminOnly(c, auth);
  return Response.json({ policies: await c.get('registry').policies.list() });
}

export async function policyFor(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  await adminOnly(c, auth);
  const repository = assertName(c.req.query('repository') ?? '');
  const policy = await c.get('registry').policies.forRepository(repository);
  if (!policy) throw new RegistryError('POLICY_UNKNOWN', `no policy governs ${repository}`, { repository });
  return Response.json(policy);
}

export async function setPolicy(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  await adminOnly(c, auth);
  const registry = c.get('registry');
  const policy = validatePolicy(await readJsonBody(c), registry.clock());
  if (typeof policy === 'string') throw new RegistryError('INVALID_REQUEST', policy);
  if (!(await registry.policies.set(policy))) throw new RegistryError('CONFLICT', `at most ${MAX_POLICIES} policies`);
  return Response.json(policy);
}

export async function deletePolicy(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  await adminOnly(c, auth);
  const pattern = c.req.query('pattern') ?? '';
  if (!isValidPattern(pattern)) throw new RegistryError('INVALID_REQUEST', 'pattern must be a repository glob');
  if (!(await c.get('registry').policies.delete(pattern))) throw new RegistryError('POLICY_UNKNOWN', undefined, { pattern });
  return new Response(null, { status: 204 });
}
