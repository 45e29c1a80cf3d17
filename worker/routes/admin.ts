/**
 * The admin HTTP API (README "Administration"; the `berth` CLI is its client). JSON in, JSON
 * out; errors use the registry's `{errors:[{code,message}]}` shape. Admins (Basic or a Bearer
 * token of an admin account) may do everything; any other user may see itself, change its own
 * password and manage its own robot tokens. Robot secrets never open this API.
 *
 *   GET    /admin/whoami
 *   GET    /admin/users                      POST /admin/users {account,password,admin?,rules?}
 *   GET    /admin/users/:account             DELETE /admin/users/:account
 *   PUT    /admin/users/:account/password {password}
 *   PUT    /admin/users/:account/rules {rules:[{pattern,actions}] | ["pattern=actions"]}
 *   PUT    /admin/users/:account/admin {admin}
 *   GET    /admin/tokens[?owner=]            POST /admin/tokens {name,scopes,expiresInSeconds?,owner?}
 *   DELETE /admin/tokens/:id
 *   POST   /admin/gc?dryRun=true|false[&untaggedManifests=true][&keepUnreferencedLayers=true]
 *                                           (admin; registry/gc.ts)
 */
import type { Context, Hono } from 'hono';
import type { AppEnv } from '../types.ts';
import { RegistryError, renderError } from '../oci/errors.ts';
import { hashPassword, MAX_PASSWORD_BYTES } from '../auth/password.ts';
import { publicView } from '../auth/robot-tokens.ts';
import { validateRules } from '../auth/rules.ts';
import { isValidAccount, type UserRecord } from '../auth/users.ts';
import type { Identity } from '../auth/policy.ts';
import type { TokenAuthorizer } from '../auth/token-authorizer.ts';
import { socketAddress } from './token.ts';
import { collectGarbage } from '../registry/gc.ts';

const MAX_BODY_BYTES = 64 * 1024;
export const MIN_PASSWORD_LENGTH = 8;
/** Robot tokens live at most a year unless created without expiry on purpose (`expiresInSeconds: 0`). */
const MAX_TOKEN_SECONDS = 366 * 86_400;

/** A client mistake the OCI code table has no word for (bad JSON, conflicts). */
class ApiError extends Error {
  constructor(readonly status: 400 | 404 | 409, readonly code: string, message: string) {
    super(message);
  }
}

type User = Extract<Identity, { kind: 'user' }>['user'];

function userView(user: UserRecord): Omit<UserRecord, 'passwordHash' | 'generation'> {
  const { passwordHash: _hash, generation: _gen, ...rest } = user;
  return rest;
}

async function readJson(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text.length > MAX_BODY_BYTES) throw new ApiError(400, 'INVALID_REQUEST', 'body too large');
  try {
    const value: unknown = JSON.parse(text || '{}');
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new ApiError(400, 'INVALID_REQUEST', 'body must be a JSON object');
}

function checkPassword(value: unknown): string {
  if (typeof value !== 'string' || value.length < MIN_PASSWORD_LENGTH || new TextEncoder().encode(value).length > MAX_PASSWORD_BYTES) {
    throw new ApiError(400, 'INVALID_REQUEST', `password must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_BYTES} bytes`);
  }
  return value;
}

function checkRules(value: unknown): NonNullable<ReturnType<typeof validateRules>> {
  const rules = validateRules(value ?? []);
  if (!rules) throw new ApiError(400, 'INVALID_REQUEST', 'rules must be a list of {pattern, actions} or "pattern=actions"');
  return rules;
}

export function mountAdminRoutes(app: Hono<AppEnv>, auth: TokenAuthorizer): void {
  /** The signed-in user (never a robot), or throws 401. */
  async function signedIn(c: Context<AppEnv>): Promise<User> {
    const caller = await auth.caller(c.req.raw, socketAddress(c));
    if (caller.kind === 'anonymous') {
      throw new RegistryError('UNAUTHORIZED', undefined, undefined, { headers: { 'WWW-Authenticate': 'Basic realm="berth", charset="UTF-8"' } });
    }
    if (caller.identity.kind !== 'user') throw new RegistryError('DENIED', 'robot tokens cannot use the admin API');
    return caller.identity.user;
  }

  async function adminOnly(c: Context<AppEnv>): Promise<User> {
    const user = await signedIn(c);
    if (!user.admin) throw new RegistryError('DENIED', 'administrator rights required');
    return user;
  }

  async function adminOrSelf(c: Context<AppEnv>, account: string): Promise<User> {
    const user = await signedIn(c);
    if (!user.admin && user.account !== account) throw new RegistryError('DENIED', 'administrator rights required');
    return user;
  }

  async function existing(account: string): Promise<UserRecord> {
    const user = await auth.accounts.users.get(account);
    if (!user) throw new ApiError(404, 'USER_UNKNOWN', 'no such user');
    return user;
  }

  async function save(user: UserRecord): Promise<void> {
    await auth.accounts.users.put({ ...user, updatedAt: new Date().toISOString() });
    auth.accounts.invalidate();
  }

  type Handler = (c: Context<AppEnv>) => Promise<Response>;
  const route = (handler: Handler): Handler => async (c) => {
    try {
      return await handler(c);
    } catch (error) {
      if (error instanceof RegistryError) return renderError(error, c.req.method);
      if (error instanceof ApiError) {
        return Response.json({ errors: [{ code: error.code, message: error.message }] }, { status: error.status });
      }
      throw error;
    }
  };
  const param = (c: Context<AppEnv>, name: string): string => c.req.param(name) ?? '';

  app.get('/admin/whoami', route(async (c) => {
    const user = await signedIn(c);
    return Response.json({ account: user.account, admin: user.admin, rules: user.rules });
  }));

  app.get('/admin/users', route(async (c) => {
    await adminOnly(c);
    const users = await Promise.all((await auth.accounts.users.list()).map((a) => auth.accounts.users.get(a)));
    return Response.json({ users: users.filter((u): u is UserRecord => u !== null).map(userView) });
  }));

  app.post('/admin/users', route(async (c) => {
    await adminOnly(c);
    const body = await readJson(c);
    const account = body.account ?? body.name;
    if (typeof account !== 'string' || !isValidAccount(account)) {
      throw new ApiError(400, 'INVALID_REQUEST', 'account must be lowercase letters, digits and . _ - (at most 64)');
    }
    const now = new Date().toISOString();
    const user: UserRecord = {
      account,
      passwordHash: await hashPassword(checkPassword(body.password), auth.settings.pbkdf2Iterations),
      admin: body.admin === true,
      rules: checkRules(body.rules),
      generation: 1,
      createdAt: now,
      updatedAt: now,
    };
    if (!(await auth.accounts.users.put(user, { create: true }))) throw new ApiError(409, 'USER_EXISTS', 'user exists');
    auth.accounts.invalidate();
    return Response.json(userView(user), { status: 201 });
  }));

  app.get('/admin/users/:account', route(async (c) => {
    await adminOrSelf(c, param(c, 'account'));
    return Response.json(userView(await existing(param(c, 'account'))));
  }));

  app.delete('/admin/users/:account', route(async (c) => {
    const me = await adminOnly(c);
    const user = await existing(param(c, 'account'));
    if (user.account === me.account) throw new ApiError(409, 'INVALID_REQUEST', 'you cannot delete your own account');
    await auth.accounts.users.delete(user.account);
    for (const token of await auth.accounts.robots.list()) {
      if (token.owner === user.account) await auth.accounts.robots.revoke(token.id);
    }
    auth.accounts.invalidate();
    return new Response(null, { status: 204 });
  }));

  app.put('/admin/users/:account/password', route(async (c) => {
    await adminOrSelf(c, param(c, 'account'));
    const user = await existing(param(c, 'account'));
    const password = checkPassword((await readJson(c)).password);
    // A new generation retires refresh tokens issued under the old password.
    await save({ ...user, passwordHash: await hashPassword(password, auth.settings.pbkdf2Iterations), generation: user.generation + 1 });
    return new Response(null, { status: 204 });
  }));

  app.put('/admin/users/:account/rules', route(async (c) => {
    await adminOnly(c);
    const user = await existing(param(c, 'account'));
    const rules = checkRules((await readJson(c)).rules);
    await save({ ...user, rules });
    return Response.json(userView({ ...user, rules }));
  }));

  app.put('/admin/users/:account/admin', route(async (c) => {
    const me = await adminOnly(c);
    const user = await existing(param(c, 'account'));
    const admin = (await readJson(c)).admin;
    if (typeof admin !== 'boolean') throw new ApiError(400, 'INVALID_REQUEST', 'admin must be true or false');
    if (!admin && user.account === me.account) throw new ApiError(409, 'INVALID_REQUEST', 'you cannot drop your own admin flag');
    await save({ ...user, admin, generation: user.generation + 1 });
    return Response.json(userView({ ...user, admin }));
  }));

  app.get('/admin/tokens', route(async (c) => {
    const me = await signedIn(c);
    const owner = me.admin ? c.req.query('owner') : me.account;
    const tokens = (await auth.accounts.robots.list()).filter((t) => !owner || t.owner === owner);
    return Response.json({ tokens: tokens.map(publicView) });
  }));

  app.post('/admin/tokens', route(async (c) => {
    const me = await signedIn(c);
    const body = await readJson(c);
    const name = body.name;
    if (typeof name !== 'string' || !/^[\w.@-]{1,64}$/.test(name)) {
      throw new ApiError(400, 'INVALID_REQUEST', 'name must be 1-64 letters, digits, _ . @ -');
    }
    const owner = body.owner === undefined ? me.account : body.owner;
    if (owner !== me.account && !me.admin) throw new RegistryError('DENIED', 'only admins create tokens for others');
    if (typeof owner !== 'string') throw new ApiError(400, 'INVALID_REQUEST', 'owner must be an account');
    await existing(owner);
    const scopes = checkRules(body.scopes);
    if (scopes.length === 0) throw new ApiError(400, 'INVALID_REQUEST', 'a token needs at least one scope');
    const seconds = body.expiresInSeconds ?? 90 * 86_400;
    if (typeof seconds !== 'number' || !Number.isSafeInteger(seconds) || seconds < 0 || seconds > MAX_TOKEN_SECONDS) {
      throw new ApiError(400, 'INVALID_REQUEST', `expiresInSeconds must be 0 (never) to ${MAX_TOKEN_SECONDS}`);
    }
    const expiresAt = seconds === 0 ? null : new Date(Date.now() + seconds * 1000);
    const { token, secret } = await auth.accounts.robots.create({ name, owner, scopes, expiresAt });
    // The secret is in this response only; we keep just its hash.
    return Response.json({ ...publicView(token), secret }, { status: 201, headers: { 'Cache-Control': 'no-store' } });
  }));

  app.post('/admin/gc', route(async (c) => {
    await adminOnly(c);
    const flag = (name: string): boolean => {
      const value = c.req.query(name) ?? 'false';
      if (value !== 'true' && value !== 'false') throw new ApiError(400, 'INVALID_REQUEST', `${name} must be true or false`);
      return value === 'true';
    };
    const report = await collectGarbage(c.get('registry').store, {
      dryRun: flag('dryRun'),
      untaggedManifests: flag('untaggedManifests'),
      keepUnreferencedLayers: flag('keepUnreferencedLayers'),
      graceSeconds: c.get('config').gcGraceSeconds,
    });
    return Response.json(report);
  }));

  app.delete('/admin/tokens/:id', route(async (c) => {
    const me = await signedIn(c);
    const token = await auth.accounts.robots.get(param(c, 'id'));
    if (!token || (!me.admin && token.owner !== me.account)) throw new ApiError(404, 'TOKEN_UNKNOWN', 'no such token');
    await auth.accounts.robots.revoke(token.id);
    auth.accounts.invalidate();
    return new Response(null, { status: 204 });
  }));
}
