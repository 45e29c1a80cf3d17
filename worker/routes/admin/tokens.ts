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

/** Robot tokens live at most a year unless created without expiry on purpose (`expiresInSeconds: 0`). */
const MAX_TOKEN_SECONDS = 366 * 86_400;

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
  const seconds = body.expiresInSeconds ?? 90 * 86_400;
  if (typeof seconds !== 'number' || !Number.isSafeInteger(seconds) || seconds < 0 || seconds > MAX_TOKEN_SECONDS) {
    throw new RegistryError('INVALID_REQUEST', `expiresInSeconds must be 0 (never) to ${MAX_TOKEN_SECONDS}`);
  }
  const expiresAt = seconds === 0 ? null : new Date(Date.now() + seconds * 1000);
  const { token, secret } = await auth.accounts.robots.create({ name, owner, scopes, expiresAt });
  return { token: publicView(token), secret };
}

/** Revokes a token of `me` (an admin: anyone's); another user's token is as unknown as a missing one. */
export async function withdrawToken(auth: TokenAuthorizer, me: User, id: string): Promise<void> {
  const token = await auth.accounts.robots.get(id);
  if (!token || (!me.admin && token.owner !== me.account)) throw new RegistryError('TOKEN_UNKNOWN', undefined, { id });
  await auth.accounts.robots.revoke(token.id);
  auth.accounts.invalidate();
}
