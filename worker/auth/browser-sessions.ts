/**
 * Web UI sessions. Signing in checks the password or robot secret once (throttled like every
 * login, accounts.ts) and hands back a short-lived session token (session-token.ts); the
 * password itself is never kept. Each request re-reads the account, so a deleted user, a revoked
 * robot token or a password change (a new credential stamp, users.ts) ends the session at once. A token past
 * half its life is renewed on the next request, up to SESSION_MAX_SECONDS after sign-in.
 */
import { RegistryError } from '../oci/errors.ts';
import { randomBytes, toBase64Url } from './bytes.ts';
import type { Identity } from './policy.ts';
import { signSessionToken, verifySessionToken, type SessionClaims } from './session-token.ts';
import type { TokenAuthorizer } from './token-authorizer.ts';

export const SESSION_TTL_SECONDS = 15 * 60;
export const SESSION_MAX_SECONDS = 12 * 3600;

export interface IssuedSession {
  token: string;
  /** Seconds the token (and so its cookie) lives. */
  maxAge: number;
}

export interface BrowserSession {
  identity: Identity;
  /** The form token bound to this session (the UI's CSRF check compares against it). */
  csrf: string;
  /** A fresh token, when this one was past half its life. */
  renewed?: IssuedSession;
}

function stampOf(identity: Identity): string {
  return identity.kind === 'robot' ? identity.owner.stamp : identity.user.stamp;
}

export class BrowserSessions {
  constructor(
    private readonly auth: TokenAuthorizer,
    private readonly ttlSeconds = SESSION_TTL_SECONDS,
    private readonly maxSeconds = SESSION_MAX_SECONDS,
  ) {}

  /** Checks the credentials; throws UNAUTHORIZED (wrong) or TOOMANYREQUESTS (throttled). */
  async signIn(req: Request, peerAddress: string | undefined, username: string, password: string): Promise<IssuedSession & { identity: Identity }> {
    const result = await this.auth.accounts.login(username, password, this.auth.address(req, peerAddress));
    if (!result.ok) throw this.auth.loginFailure(result, () => new RegistryError('UNAUTHORIZED', 'wrong username, password or token'));
    const identity = result.identity;
    const now = Math.floor(Date.now() / 1000);
    const claims: Omit<SessionClaims, 'expiresAt'> = {
      subject: identity.kind === 'robot' ? identity.owner.account : identity.user.account,
      stamp: stampOf(identity),
      csrf: toBase64Url(randomBytes(24)),
      startedAt: now,
    };
    if (identity.kind === 'robot') claims.robot = identity.token.id;
    return { ...(await this.issue(req, claims, now)), identity };
  }

  /** The session `token` stands for, or null when it is invalid, expired or its account changed. */
  async resume(req: Request, token: string): Promise<BrowserSession | null> {
    const claims = await verifySessionToken(await this.auth.signingKey(), token, this.auth.service(req));
    if (!claims) return null;
    const now = Math.floor(Date.now() / 1000);
    if (claims.startedAt + this.maxSeconds <= now) return null;
    const identity = await this.auth.accounts.identityOf(claims.subject, claims.robot);
    // A record from before stamps has '' and matches no session (as with refresh tokens).
    if (!identity || stampOf(identity) === '' || stampOf(identity) !== claims.stamp) return null;
    const session: BrowserSession = { identity, csrf: claims.csrf };
    if (claims.expiresAt - now < this.ttlSeconds / 2) {
      const { expiresAt: _old, ...kept } = claims;
      session.renewed = await this.issue(req, kept, now);
    }
    return session;
  }

  private async issue(req: Request, claims: Omit<SessionClaims, 'expiresAt'>, now: number): Promise<IssuedSession> {
    const maxAge = Math.max(1, Math.min(this.ttlSeconds, claims.startedAt + this.maxSeconds - now));
    const { token } = await signSessionToken(await this.auth.signingKey(), {
      ...claims,
      audience: this.auth.service(req),
      ttlSeconds: maxAge,
      now: now * 1000,
    });
    return { token, maxAge };
  }
}
