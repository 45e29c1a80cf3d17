/**
 * Who may call the admin API: signed-in users (never robot tokens), admins for most of it.
 * Every admin handler starts with one of these.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../types.ts';
import { RegistryError } from '../../oci/errors.ts';
import type { Identity } from '../../auth/policy.ts';
import { basicUnauthorized, type TokenAuthorizer } from '../../auth/token-authorizer.ts';
import type { UserRecord } from '../../auth/users.ts';

export type User = Extract<Identity, { kind: 'user' }>['user'];

/** The signed-in user (never a robot), or throws 401. */
export async function signedIn(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<User> {
  const caller = await auth.caller(c.req.raw, c.get('peerAddress'));
  if (caller.kind === 'anonymous') throw basicUnauthorized('authentication required');
  if (caller.identity.kind !== 'user') throw new RegistryError('DENIED', 'robot tokens cannot use the admin API');
  return caller.identity.user;
}

export async function adminOnly(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<User> {
  const user = await signedIn(c, auth);
  if (!user.admin) throw new RegistryError('DENIED', 'administrator rights required');
  return user;
}

/** An admin, or the user `account` itself. */
export async function adminOrSelf(c: Context<AppEnv>, auth: TokenAuthorizer, account: string): Promise<User> {
  const user = await signedIn(c, auth);
  if (!user.admin && user.account !== account) throw new RegistryError('DENIED', 'administrator rights required');
  return user;
}

export async function existingUser(auth: TokenAuthorizer, account: string): Promise<UserRecord> {
  const user = await auth.accounts.users.get(account);
  if (!user) throw new RegistryError('USER_UNKNOWN', undefined, { account });
  return user;
}

/** A path parameter ('' when absent, which no validator accepts). */
export function param(c: Context<AppEnv>, name: string): string {
  return c.req.param(name) ?? '';
}
