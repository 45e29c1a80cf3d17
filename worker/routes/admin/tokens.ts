/**
 * Robot tokens in the admin API. Any signed-in user manages its own; admins everyone's.
 *
 *   GET    /admin/tokens[?owner=]            POST /admin/tokens {name,scopes,expiresInSeconds?,owner?}
 *   DELETE /admin/tokens/:id
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../types.ts';
import { RegistryError } from '../../oci/errors.ts';
import { publicView } from '../../auth/robot-tokens.ts';
import type { TokenAuthorizer } from '../../auth/token-authorizer.ts';
import { existingUser, param, signedIn } from './guards.ts';
import { readJsonBody } from './json-body.ts';
import { checkRules } from './users.ts';

/** Robot tokens live at most a year unless created without expiry on purpose (`expiresInSeconds: 0`). */
const MAX_TOKEN_SECONDS = 366 * 86_400;

export async function listTokens(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  const me = await signedIn(c, auth);
  const owner = me.admin ? c.req.query('owner') : me.account;
  const tokens = (await auth.accounts.robots.list()).filter((t) => !owner || t.owner === owner);
  return Response.json({ tokens: tokens.map(publicView) });
}

export async function createToken(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  const me = await signedIn(c, auth);
  const body = await readJsonBody(c);
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
  // The secret is in this response only; we keep just its hash.
  return Response.json({ ...publicView(token), secret }, { status: 201, headers: { 'Cache-Control': 'no-store' } });
}

export async function revokeToken(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  const me = await signedIn(c, auth);
  const token = await auth.accounts.robots.get(param(c, 'id'));
  if (!token || (!me.admin && token.owner !== me.account)) throw new RegistryError('TOKEN_UNKNOWN', undefined, { id: param(c, 'id') });
  await auth.accounts.robots.revoke(token.id);
  auth.accounts.invalidate();
  return new Response(null, { status: 204 });
}
