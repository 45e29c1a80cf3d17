/**
 * The Authorizer for BERTH_AUTH=token (the default). Per /v2 request it accepts, in this order
 * of preference for clients: a Bearer token from our token endpoint (stateless: one signature
 * check per token, remembered until it expires, no store read), HTTP Basic with a password or
 * robot secret (verified, then remembered briefly), or nothing (anonymous: public repositories
 * only). Missing or bad credentials get a 401 Bearer challenge naming the scope; valid but
 * insufficient ones get 403 DENIED.
 */
import type { ObjectStore } from '../storage/types.ts';
import { RegistryError } from '../oci/errors.ts';
import { isValidName } from '../oci/reference.ts';
import { Accounts, type LoginResult } from './accounts.ts';
import { bearerChallenge, serviceName } from './challenge.ts';
import { clientAddress } from '../platform.ts';
import { parseAuthorization } from './credentials.ts';
import { isAdmin, Policy, subjectOf, type Identity } from './policy.ts';
import { ADMIN_SCOPE, ALL_REPOSITORY_ACTIONS, covers } from './scope.ts';
import type { AuthRuntime, AuthSettings } from './settings.ts';
import { AccessTokenCache } from './token-cache.ts';
import { loadSigningKey, type SigningKey } from './signing-key.ts';
import type { AccessRequest, Authorizer, Principal } from './types.ts';

export interface AuthorizerOptions {
  log?: (line: string) => void;
  /** What the runtime allows (the Workers entry caps PBKDF2 iterations). */
  runtime?: AuthRuntime;
}

/** Who sent a request, as far as its credentials prove. */
export type Caller =
  | { kind: 'anonymous' }
  | { kind: 'identity'; identity: Identity; via: 'password' | 'robot' | 'token' };

export class TokenAuthorizer implements Authorizer {
  readonly accounts: Accounts;
  readonly policy: Policy;
  private signingKeyPromise: Promise<SigningKey> | undefined;
  /** Verified access tokens (token-cache.ts): one signature check per token, not per request. */
  private readonly tokens = new AccessTokenCache();

  constructor(
    private readonly store: ObjectStore,
    readonly settings: AuthSettings,
    private readonly options: AuthorizerOptions = {},
  ) {
    this.accounts = new Accounts(store, settings.pbkdf2Iterations);
    this.policy = new Policy(settings.publicRepos);
  }

  /** Loaded on first use (not at construction) so building the app stays synchronous everywhere. */
  signingKey(): Promise<SigningKey> {
    this.signingKeyPromise ??= loadSigningKey(this.store, this.settings.jwtPrivateKey).catch((error: unknown) => {
      this.signingKeyPromise = undefined; // let the next request retry a transient store failure
      this.options.log?.(`berth auth: cannot load the JWT signing key: ${error instanceof Error ? error.message : 'error'}`);
      throw new RegistryError('UNAVAILABLE', 'token signing key unavailable');
    });
    return this.signingKeyPromise;
  }

  service(req: Request): string {
    return serviceName(req, this.settings);
  }

  address(req: Request, fromSocket?: string): string | null {
    return clientAddress(req, this.settings.trustProxy, fromSocket);
  }

  unauthorized(req: Request, scopes: readonly AccessRequest[], error?: 'invalid_token' | 'insufficient_scope'): RegistryError {
    return new RegistryError('UNAUTHORIZED', undefined, undefined, {
      headers: { 'WWW-Authenticate': bearerChallenge(req, this.settings, scopes, error) },
    });
  }

  /** Turns a failed login into the right error (429 with Retry-After, or `onInvalid`). */
  loginFailure(result: Exclude<LoginResult, { ok: true }>, onInvalid: () => RegistryError): RegistryError {
    if (result.reason === 'invalid') return onInvalid();
    return new RegistryError('TOOMANYREQUESTS', 'too many failed logins; try again later', undefined, {
      headers: { 'Retry-After': String(result.retryAfter) },
    });
  }

  async authorize(req: Request, needed: AccessRequest[], peerAddress?: string): Promise<Principal> {
    // Names are checked before any permission decision: a pattern must never see a hostile name.
    for (const access of needed) {
      if (access.type === 'repository' && !isValidName(access.name)) {
        throw new RegistryError('NAME_INVALID', 'invalid repository name');
      }
    }
    const credentials = parseAuthorization(req.headers.get('authorization'));
    if (credentials === 'invalid') throw this.unauthorized(req, needed, 'invalid_token');

    if (credentials === null) {
      // GET /v2/ (nothing needed) still challenges, as Docker Hub does: a 200 there would make
      // `docker login` report success without ever checking the password.
      if (needed.length > 0 && needed.every((n) => this.policy.permits(null, n))) {
        return {
          subject: null, admin: false, granted: needed, via: 'anonymous',
          policy: (access) => this.policy.allowedActions(null, access),
        };
      }
      throw this.unauthorized(req, needed);
    }

    if (credentials.kind === 'bearer') {
      const claims = await this.tokens.verify(await this.signingKey(), credentials.token, this.service(req));
      if (!claims) throw this.unauthorized(req, needed, 'invalid_token');
      // A token is signed for its lifetime, but the account behind it may change before it
      // ends: it is looked up (remembered CACHE_SECONDS, accounts.ts), so a deleted user's or a
      // revoked robot's token stops at once here and within that time on other instances, and
      // a token is worth no more than what its account may do now (a demoted admin's push).
      const identity = claims.subject ? await this.accounts.currentIdentity(claims.subject, claims.robot) : null;
      if (claims.subject && !identity) throw this.unauthorized(req, needed, 'invalid_token');
      const granted = this.stillAllowed(identity, claims.access);
      const missing = needed.filter((n) => !covers(granted, n));
      if (missing.length === 0) {
        const admin = isAdmin(identity);
        return { subject: claims.subject || null, admin, granted, via: 'token', confirmAdmin: async () => admin };
      }
      // The token lacks a scope. If a fresh token could carry it, say so (401, the client asks
      // again with the scope from the challenge); if the account may never have it, 403.
      if (!identity || missing.every((n) => this.policy.permits(identity, n))) {
        throw this.unauthorized(req, needed, identity ? 'insufficient_scope' : undefined);
      }
      throw denied(missing);
    }

    const result = await this.accounts.login(credentials.username, credentials.password, this.address(req, peerAddress));
    if (!result.ok) throw this.loginFailure(result, () => this.unauthorized(req, needed, 'invalid_token'));
    const identity = result.identity;
    const missing = needed.filter((n) => !this.policy.permits(identity, n));
    if (missing.length > 0) throw denied(missing);
    return {
      subject: subjectOf(identity),
      admin: isAdmin(identity),
      granted: needed,
      via: identity.kind === 'robot' ? 'robot' : 'password',
      policy: (access) => this.policy.allowedActions(identity, access),
    };
  }

  /** What of a token's `access` the identity may still do (its rules or admin flag may have changed). */
  private stillAllowed(identity: Identity | null, access: readonly AccessRequest[]): AccessRequest[] {
    return access.map((entry) => {
      const allowed = this.policy.allowedActions(identity, entry);
      if (allowed.includes('*')) return entry; // registry resources: all or nothing
      const wanted = entry.actions.includes('*') ? ALL_REPOSITORY_ACTIONS : entry.actions;
      return { ...entry, actions: wanted.filter((a) => allowed.includes(a)) };
    });
  }

  allows(principal: Principal, access: AccessRequest): boolean {
    if (access.type === 'repository' && !isValidName(access.name)) return false;
    if (principal.via === 'open') return true;
    if (principal.policy) {
      const allowed = principal.policy(access);
      if (allowed.includes('*')) return true;
      return access.actions.every((a) =>
        a === '*' ? ALL_REPOSITORY_ACTIONS.every((x) => allowed.includes(x)) : allowed.includes(a),
      );
    }
    return covers(principal.granted, access);
  }

  /**
   * 401 for the admin API. A Bearer challenge naming the admin scope, never `Basic`: a Basic
   * challenge makes browsers ask for and cache credentials, which any other site could then
   * make them send (CSRF). Clients send Basic without being asked, or fetch a token.
   */
  adminUnauthorized(req: Request, message = 'sign in with your password (Basic) or a token with scope registry:admin:*'): RegistryError {
    return new RegistryError('UNAUTHORIZED', message, undefined, {
      headers: { 'WWW-Authenticate': bearerChallenge(req, this.settings, [ADMIN_SCOPE]) },
    });
  }

  /**
   * The caller of an admin API request: the account's own password or robot secret (Basic), or
   * a Bearer token issued for admin use (scope `registry:admin:*`, which only a password login
   * gets). Any other token is refused: a leaked pull token must not create users or robot
   * tokens. Throws 401/403/429; returns anonymous when no credentials were sent.
   */
  async caller(req: Request, fromSocket?: string): Promise<Caller> {
    const credentials = parseAuthorization(req.headers.get('authorization'));
    if (credentials === null) return { kind: 'anonymous' };
    const invalid = (): RegistryError => this.adminUnauthorized(req, 'invalid credentials');
    if (credentials === 'invalid') throw invalid();
    if (credentials.kind === 'bearer') {
      const claims = await this.tokens.verify(await this.signingKey(), credentials.token, this.service(req));
      const identity = claims?.subject ? await this.accounts.identityOf(claims.subject, claims.robot) : null;
      if (!claims || !identity) throw invalid();
      if (!covers(claims.access, ADMIN_SCOPE)) {
        throw new RegistryError('DENIED', 'this token was not issued for the admin API: sign in with your password, or ask /token for scope registry:admin:*');
      }
      return { kind: 'identity', identity, via: 'token' };
    }
    const result = await this.accounts.login(credentials.username, credentials.password, this.address(req, fromSocket));
    if (!result.ok) throw this.loginFailure(result, invalid);
    return { kind: 'identity', identity: result.identity, via: result.identity.kind === 'robot' ? 'robot' : 'password' };
  }
}

function denied(missing: readonly AccessRequest[]): RegistryError {
  // Same detail shape as Docker's registry: one entry per refused resource.
  return new RegistryError('DENIED', undefined, missing.map((m) => ({ Type: m.type, Name: m.name, Action: m.actions.join(',') })));
}

/** 401 for the token endpoint, where clients send Basic credentials. */
export function basicUnauthorized(message = 'invalid username or password'): RegistryError {
  return new RegistryError('UNAUTHORIZED', message, undefined, { headers: { 'WWW-Authenticate': 'Basic realm="berth", charset="UTF-8"' } });
}
