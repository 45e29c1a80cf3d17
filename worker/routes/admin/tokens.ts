/**
 * Robot tokens in the admin API. Any signed-in user manages its own; admins everyone's.
 *
 *   GET    /admin/tokens[?owner=]            POST /admin/tokens {name,scopes,expiresInSeconds?,owner?}
 *   DELETE /admin/tokens/:id
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../types.ts';
import { RegistryError } from '../../oci/errors.ts';
import { publicView, type PublicRobotToken } from '../../auth/robot-tokens.ts';
import type { TokenAuthorizer } from '../../auth/token-authorizer.ts';
import { existingUser, param, signedIn, type User } from './guards.ts';
import { readJsonBody } from './json-body.ts';
import { checkRules } from './users.ts';

/** Lifetime of a token created without `expiresInSeconds` (capped by the deployment's maximum). */
const DEFAULT_TOKEN_SECONDS = 90 * 86_400;

export async function listTokens(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  const me = await signedIn(c, auth);
  return Response.json({ tokens: await tokensOf(auth, me, c.req.query('owner')) });
}

export async function createToken(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  const me = await signedIn(c, auth);
  const { token, secret } = await issueToken(auth, me, await readJsonBody(c));
  // The secret is in this response only; we keep just its hash.
  return Response.json({ ...token, secret }, { status: 201, headers: { 'Cache-Control': 'no-store' } });
}

export async function revokeToken(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  await withdrawToken(auth, await signedIn(c, auth), param(c, 'id'));
  return new Response(null, { status: 204 });
}

// The operations themselves, shared by the admin API above and the web UI (routes/ui/tokens.ts).

/** A user's own tokens; an admin sees everyone's, or those of `owner`. */
export async function tokensOf(auth: TokenAuthorizer, me: User, owner?: string): Promise<PublicRobotToken[]> {
  const only = me.admin ? owner : me.account;
  return (await auth.accounts.robots.list()).filter((t) => !only || t.owner === only).map(publicView);
}

/** Creates a token from an untrusted `{name, scopes, expiresInSeconds?, owner?}`. */
export async function issueToken(auth: TokenAuthorizer, me: User, body: Record<string, unknown>): Promise<{ token: PublicRobotToken; secret: string }> {
  const name = body.name;
  if (typeof name !== 'string' || !/^[\w.@-]{1,64}$/.test(name)) {
    throw new RegistryError('INVALID_REQUEST', 'name must be 1-64 letters, digits, _ . @ -');
  }
  const owner = body.owner === undefined ? me.account : body.owner;
  if (owner !== me.account && !me.admin) throw new RegistryError('DENIED', 'only admins create tokens for others');
  if (typeof owner !== 'string') throw new RegistryError('INVALID_REQUEST', 'owner must be an account');
  await existingUser(auth, owner);
  const scopes = checkRules(body.scopes);
  if (scopes.length === 0) throw new RegistryError('INVALID_REQUEST', 'a token needs at least one scope');
  const expiresAt = tokenExpiry(body.expiresInSeconds, auth.settings.robotTokenMaxSeconds);
  const { token, secret } = await auth.accounts.robots.create({ name, owner, scopes, expiresAt });
  return { token: publicView(token), secret };
}

/**
 * When a new robot token expires: `expiresInSeconds` from now, 0 for never. Both are bounded by
 * BERTH_ROBOT_TOKEN_MAX_TTL_SECONDS (`max`; 0 means no bound, and only then may a token never expire).
 */
function tokenExpiry(requested: unknown, max: number): Date | null {
  const seconds = requested ?? (max === 0 ? DEFAULT_TOKEN_SECONDS : Math.min(DEFAULT_TOKEN_SECONDS, max));
  const range = max === 0 ? '0 (never) or more' : `1 to ${max} (BERTH_ROBOT_TOKEN_MAX_TTL_SECONDS)`;
  if (typeof seconds !== 'number' || !Number.isSafeInteger(seconds) || seconds < 0 || (max !== 0 && (seconds === 0 || seconds > max))) {
    throw new RegistryError('INVALID_REQUEST', `expiresInSeconds must be ${range}`);
  }
  return seconds === 0 ? null : new Date(Date.now() + seconds * 1000);
}

/** Revokes a token of `me` (an admin: anyone's); another user's token is as unknown as a missing one. */
export async function withdrawToken(auth: TokenAuthorizer, me: User, id: string): Promise<void> {
  const token = await auth.accounts.robots.get(id);
  if (!token || (!me.admin && token.owner !== me.account)) throw new RegistryError('TOKEN_UNKNOWN', undefined, { id });
  await auth.accounts.robots.revoke(token.id);
  auth.accounts.invalidate();
}
