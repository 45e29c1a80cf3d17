/**
 * Who may call the admin API: signed-in users (never robot tokens), admins for most of it.
 * Every admin handler starts with one of these; `adminRequests` (mounted for `/admin/*` in
 * app.ts) runs before them all.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../types.ts';
import { RegistryError } from '../../oci/errors.ts';
import { baseUrl } from '../../auth/challenge.ts';
import type { Identity } from '../../auth/policy.ts';
import type { TokenAuthorizer } from '../../auth/token-authorizer.ts';
import { requestSite } from '../../http/origin.ts';
import type { UserRecord } from '../../auth/users.ts';

export type User = Extract<Identity, { kind: 'user' }>['user'];

/** The signed-in user (never a robot), or throws 401. */
export async function signedIn(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<User> {
  const caller = await auth.caller(c.req.raw, c.get('peerAddress'));
  if (caller.kind === 'anonymous') throw auth.adminUnauthorized(c.req.raw);
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

/**
 * CSRF defence for the whole admin API (http/origin.ts): requests another site's page made a
 * browser send are refused, and every write with credentials must be `application/json`, which
 * no HTML form can send and which a cross-origin script may send only after a CORS preflight
 * this API never grants. (A write without credentials is refused by its handler with 401.)
 * Neither check concerns the CLI, curl or any other client that is not a browser.
 */
export function adminRequests(auth: TokenAuthorizer): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (requestSite(c.req.raw.headers, baseUrl(c.req.raw, auth.settings)) === 'cross-site') {
      throw new RegistryError('DENIED', 'the admin API refuses requests from other sites');
    }
    const write = c.req.method !== 'GET' && c.req.method !== 'HEAD';
    if (write && c.req.header('authorization') !== undefined && !isJson(c.req.header('content-type'))) {
      throw new RegistryError('INVALID_REQUEST', 'admin API writes must be sent with Content-Type: application/json', undefined, { status: 415 });
    }
    await next();
  };
}

function isJson(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'application/json';
}

/** A path parameter ('' when absent, which no validator accepts). */
export function param(c: Context<AppEnv>, name: string): string {
  return c.req.param(name) ?? '';
}
