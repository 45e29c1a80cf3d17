/**
 * Users in the admin API: list, show, create, delete, password, rules, admin flag.
 *
 *   GET    /admin/whoami
 *   GET    /admin/users                      POST /admin/users {account,password,admin?,rules?}
 *   GET    /admin/users/:account             DELETE /admin/users/:account
 *   PUT    /admin/users/:account/password {password, currentPassword}  (current: when it is your own)
 *   PUT    /admin/users/:account/rules {rules:[{pattern,actions}] | ["pattern=actions"]}
 *   PUT    /admin/users/:account/admin {admin}
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../types.ts';
import { RegistryError } from '../../oci/errors.ts';
import { hashPassword, MAX_PASSWORD_BYTES } from '../../auth/password.ts';
import { validateRules } from '../../auth/rules.ts';
import type { TokenAuthorizer } from '../../auth/token-authorizer.ts';
import { isValidAccount, newStamp, type UserRecord } from '../../auth/users.ts';
import { adminOnly, adminOrSelf, existingUser, param, signedIn } from './guards.ts';
import { readJsonBody } from './json-body.ts';

export const MIN_PASSWORD_LENGTH = 8;

export function userView(user: UserRecord): Omit<UserRecord, 'passwordHash' | 'stamp'> {
  const { passwordHash: _hash, stamp: _stamp, ...rest } = user;
  return rest;
}

function checkPassword(value: unknown): string {
  if (typeof value !== 'string' || value.length < MIN_PASSWORD_LENGTH || new TextEncoder().encode(value).length > MAX_PASSWORD_BYTES) {
    throw new RegistryError('INVALID_REQUEST', `password must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_BYTES} bytes`);
  }
  return value;
}

export function checkRules(value: unknown): NonNullable<ReturnType<typeof validateRules>> {
  const rules = validateRules(value ?? []);
  if (!rules) throw new RegistryError('INVALID_REQUEST', 'rules must be a list of {pattern, actions} or "pattern=actions"');
  return rules;
}

async function save(auth: TokenAuthorizer, user: UserRecord): Promise<void> {
  await auth.accounts.users.put({ ...user, updatedAt: new Date().toISOString() });
  auth.accounts.invalidate();
}

export async function whoami(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  const user = await signedIn(c, auth);
  return Response.json({ account: user.account, admin: user.admin, rules: user.rules });
}

export async function listUsers(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  await adminOnly(c, auth);
  return Response.json({ users: (await allUsers(auth)).map(userView) });
}

export async function createUser(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  await adminOnly(c, auth);
  return Response.json(userView(await addUser(auth, await readJsonBody(c))), { status: 201 });
}

// The operations below are shared by the admin API and the web UI (routes/ui/users.ts); callers
// have checked that the caller is an admin.

export async function allUsers(auth: TokenAuthorizer): Promise<UserRecord[]> {
  const users = await Promise.all((await auth.accounts.users.list()).map((a) => auth.accounts.users.get(a)));
  return users.filter((u): u is UserRecord => u !== null);
}

/** Creates a user from an untrusted `{account, password, admin?, rules?}`. */
export async function addUser(auth: TokenAuthorizer, body: Record<string, unknown>): Promise<UserRecord> {
  const account = body.account ?? body.name;
  if (typeof account !== 'string' || !isValidAccount(account)) {
    throw new RegistryError('INVALID_REQUEST', 'account must be lowercase letters, digits and . _ - (at most 64)');
  }
  const now = new Date().toISOString();
  const user: UserRecord = {
    account,
    passwordHash: await hashPassword(checkPassword(body.password), auth.settings.pbkdf2Iterations),
    admin: body.admin === true,
    rules: checkRules(body.rules),
    stamp: newStamp(),
    createdAt: now,
    updatedAt: now,
  };
  if (!(await auth.accounts.users.put(user, { create: true }))) throw new RegistryError('USER_EXISTS', undefined, { account });
  auth.accounts.invalidate();
  return user;
}

export async function showUser(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  await adminOrSelf(c, auth, param(c, 'account'));
  return Response.json(userView(await existingUser(auth, param(c, 'account'))));
}

export async function deleteUser(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  await removeUser(auth, await adminOnly(c, auth), param(c, 'account'));
  return new Response(null, { status: 204 });
}

/** Deletes `account` and revokes its robot tokens; nobody deletes their own account. */
export async function removeUser(auth: TokenAuthorizer, me: UserRecord, account: string): Promise<void> {
  const user = await existingUser(auth, account);
  if (user.account === me.account) throw new RegistryError('CONFLICT', 'you cannot delete your own account');
  await auth.accounts.users.delete(user.account);
  for (const token of await auth.accounts.robots.list()) {
    if (token.owner === user.account) await auth.accounts.robots.revoke(token.id);
  }
  auth.accounts.invalidate();
}

export async function setPassword(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  const me = await adminOrSelf(c, auth, param(c, 'account'));
  const user = await existingUser(auth, param(c, 'account'));
  const body = await readJsonBody(c);
  const password = checkPassword(body.password);
  // Your own password changes only with the current one, however you signed in: a stolen token
  // must not take the account over. An admin resetting someone else's needs no old password.
  if (me.account === user.account) await confirmPassword(c, auth, user.account, body.currentPassword);
  // A new stamp retires refresh tokens issued under the old password.
  await save(auth, { ...user, passwordHash: await hashPassword(password, auth.settings.pbkdf2Iterations), stamp: newStamp() });
  return new Response(null, { status: 204 });
}

/** Checks `current` is the account's password, counted and throttled like any login. */
async function confirmPassword(c: Context<AppEnv>, auth: TokenAuthorizer, account: string, current: unknown): Promise<void> {
  if (typeof current !== 'string' || current === '') {
    throw new RegistryError('INVALID_REQUEST', 'changing your own password needs currentPassword');
  }
  const result = await auth.accounts.login(account, current, auth.address(c.req.raw, c.get('peerAddress')));
  if (!result.ok) throw auth.loginFailure(result, () => new RegistryError('DENIED', 'currentPassword is not your password'));
  if (result.identity.kind !== 'user') throw new RegistryError('DENIED', 'currentPassword must be the password, not a robot token');
}

export async function setRules(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  await adminOnly(c, auth);
  return Response.json(userView(await replaceRules(auth, param(c, 'account'), (await readJsonBody(c)).rules)));
}

/** Replaces the access rules of `account` with an untrusted rule list. */
export async function replaceRules(auth: TokenAuthorizer, account: string, value: unknown): Promise<UserRecord> {
  const user = await existingUser(auth, account);
  const rules = checkRules(value);
  await save(auth, { ...user, rules });
  return { ...user, rules };
}

export async function setAdmin(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  const me = await adminOnly(c, auth);
  const user = await existingUser(auth, param(c, 'account'));
  const admin = (await readJsonBody(c)).admin;
  if (typeof admin !== 'boolean') throw new RegistryError('INVALID_REQUEST', 'admin must be true or false');
  if (!admin && user.account === me.account) throw new RegistryError('CONFLICT', 'you cannot drop your own admin flag');
  await save(auth, { ...user, admin, stamp: newStamp() });
  return Response.json(userView({ ...user, admin }));
}
