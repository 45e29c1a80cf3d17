/**
 * The token endpoint (distribution docs/spec/auth/token.md and oauth.md):
 * - GET /token?service=…&scope=…&offline_token=true with Basic credentials (docker, skopeo),
 *   or without any for an anonymous token (public repositories only);
 * - POST /token form with grant_type=password or refresh_token (containerd, docker's
 *   identity-token refresh).
 * Answers `token` and `access_token` (both spellings are in use), `expires_in`, `issued_at`,
 * and `refresh_token` when a password grant POSTed `access_type=offline` (oauth.md).
 *
 * The GET's `offline_token=true` gets no refresh token. docker asks for one on every login and
 * stores it in config.json as `identitytoken`, in place of the password; podman and skopeo
 * (containers/common) then refuse to log in to that registry ("currently logged in, auth file
 * contains an Identity token"), even with their own auth file, since they read docker's too.
 * Without one, docker keeps the credentials as `auth`, as it does for Docker Hub, GHCR and
 * Quay, and the three clients share one DOCKER_CONFIG in any order. Refresh tokens already
 * issued keep working (`grant_type=refresh_token`).
 */
import type { Context } from 'hono';
import type { AppEnv } from '../types.ts';
import { parseAuthorization } from '../auth/credentials.ts';
import { readCappedText } from '../http/capped-body.ts';
import { signAccessToken, signRefreshToken, verifyRefreshToken } from '../auth/jwt.ts';
import { subjectOf, type Identity } from '../auth/policy.ts';
import { ADMIN_SCOPE, parseScopes } from '../auth/scope.ts';
import type { AccessRequest } from '../auth/types.ts';
import { basicUnauthorized, type TokenAuthorizer } from '../auth/token-authorizer.ts';

/** Forms carry a grant and a few scopes: 16 KiB is plenty, and all a stranger may make us hold. */
const MAX_FORM_BYTES = 16 * 1024;

interface Grant {
  identity: Identity | null;
  scopes: string[];
  offline: boolean;
  /** The caller proved a password (or robot secret) on this request: only then may the admin scope be granted. */
  signedIn: boolean;
  /** The refresh token presented, handed back unchanged on a refresh grant. */
  refreshToken?: string;
}

function oauthError(status: number, error: string, description: string): Response {
  return Response.json({ error, error_description: description }, { status, headers: { 'Cache-Control': 'no-store' } });
}

async function login(auth: TokenAuthorizer, c: Context<AppEnv>, username: string, password: string): Promise<Identity> {
  const result = await auth.accounts.login(username, password, auth.address(c.req.raw, c.get('peerAddress')));
  if (!result.ok) throw auth.loginFailure(result, () => basicUnauthorized());
  return result.identity;
}

async function grantFromGet(auth: TokenAuthorizer, c: Context<AppEnv>): Promise<Grant> {
  const url = new URL(c.req.url);
  const scopes = url.searchParams.getAll('scope');
  const credentials = parseAuthorization(c.req.header('authorization') ?? null);
  if (credentials === null) return { identity: null, scopes, offline: false, signedIn: false };
  if (credentials === 'invalid' || credentials.kind !== 'basic') throw basicUnauthorized('Basic credentials expected');
  // `offline_token` is not honoured: see the header comment (docker's identity-token trap).
  return { identity: await login(auth, c, credentials.username, credentials.password), scopes, offline: false, signedIn: true };
}

async function grantFromPost(auth: TokenAuthorizer, c: Context<AppEnv>): Promise<Grant | Response> {
  const form = new URLSearchParams(await readCappedText(c.req.raw, { limit: MAX_FORM_BYTES }));
  const scopes = form.getAll('scope');
  const grantType = form.get('grant_type');
  if (grantType === 'password') {
    const username = form.get('username');
    const password = form.get('password');
    if (!username || password === null) return oauthError(400, 'invalid_request', 'username and password are required');
    const offline = form.get('access_type') === 'offline';
    return { identity: await login(auth, c, username, password), scopes, offline, signedIn: true };
  }
  if (grantType === 'refresh_token') {
    const refreshToken = form.get('refresh_token') ?? '';
    const claims = await verifyRefreshToken(await auth.signingKey(), refreshToken, auth.service(c.req.raw));
    const identity = claims ? await auth.accounts.identityOf(claims.subject, claims.robot) : null;
    const owner = identity?.kind === 'robot' ? identity.owner : identity?.user;
    // A password change, or deleting and re-creating the account, draws a new stamp (users.ts)
    // and so retires every refresh token issued before it.
    if (!claims || !identity || owner?.stamp !== claims.stamp) throw basicUnauthorized('invalid refresh token');
    return { identity, scopes, offline: true, signedIn: false, refreshToken };
  }
  return oauthError(400, 'unsupported_grant_type', 'grant_type must be password or refresh_token');
}

/**
 * With BERTH_MIRROR_DEFAULT, dockerd asks a token for `library/alpine` and then pulls it from
 * the default mirror as `hub/library/alpine` (app.ts): pull on that name is asked for as well,
 * so the access rules of the mirror decide.
 */
function defaultMirrorScopes(c: Context<AppEnv>, asked: readonly AccessRequest[]): AccessRequest[] {
  const mirror = c.get('registry').mirror;
  const extra: AccessRequest[] = [];
  for (const scope of asked) {
    const alias = scope.type === 'repository' && scope.actions.includes('pull') ? mirror.defaultAliasName(scope.name) : null;
    if (alias && !asked.some((a) => a.name === alias)) extra.push({ type: 'repository', name: alias, actions: ['pull'] });
  }
  return extra;
}

async function issue(auth: TokenAuthorizer, c: Context<AppEnv>, grant: Grant): Promise<Response> {
  const key = await auth.signingKey();
  const audience = auth.service(c.req.raw);
  // A refresh token (docker keeps one in its config file for months) renews registry access,
  // never admin access (scope.ts ADMIN_SCOPE).
  const asked = parseScopes(grant.scopes).filter((s) => grant.signedIn || !(s.type === ADMIN_SCOPE.type && s.name === ADMIN_SCOPE.name));
  const access = auth.policy.grant(grant.identity, [...asked, ...defaultMirrorScopes(c, asked)]);
  const robot = grant.identity?.kind === 'robot' ? grant.identity.token.id : undefined;
  const subject = grant.identity ? subjectOf(grant.identity) : '';
  const { token, issuedAt, expiresIn } = await signAccessToken(key, {
    subject, audience, access, ttlSeconds: auth.settings.tokenTtlSeconds, robot,
  });
  const body: Record<string, string | number> = {
    token,
    access_token: token,
    expires_in: expiresIn,
    issued_at: new Date(issuedAt * 1000).toISOString(),
  };
  if (grant.identity && grant.offline) {
    const owner = grant.identity.kind === 'robot' ? grant.identity.owner : grant.identity.user;
    body.refresh_token = grant.refreshToken ?? (await signRefreshToken(key, {
      subject, audience, stamp: owner.stamp, robot, ttlSeconds: auth.settings.refreshTtlSeconds,
    }));
  }
  return Response.json(body, { headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' } });
}

/** GET /token: docker, skopeo and podman log in here with Basic (or ask anonymously). */
export async function getToken(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  return issue(auth, c, await grantFromGet(auth, c));
}

/** POST /token: the OAuth2 form (containerd's password grant, refresh grants). */
export async function postToken(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  const grant = await grantFromPost(auth, c);
  return grant instanceof Response ? grant : issue(auth, c, grant);
}
