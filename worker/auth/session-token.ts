/**
 * The web UI's session token: an ES256 JWT of its own `typ`, so it can never stand in for a
 * registry access token or a refresh token (jwt.ts pins `typ` on every check), and the other
 * way round. It lives in an HttpOnly cookie and names the account, never a password.
 *
 * Claims besides iss/sub/aud/iat/exp: `stp` (the user record's credential stamp, users.ts: a
 * password change draws a new one and so retires every session), `rbt` (robot token id when signed in with one), `csrf` (the form
 * token bound to this session) and `sst` (when the session began; renewals keep it, so a
 * session cannot be renewed forever).
 */
import { signJwt, verifyJwt } from './jwt.ts';
import type { SigningKey } from './signing-key.ts';

const SESSION_TYP = 'berth-session+jwt';

export interface SessionClaims {
  subject: string;
  /** The account's credential stamp when the session began. */
  stamp: string;
  robot?: string;
  csrf: string;
  /** Seconds since the epoch. */
  startedAt: number;
  expiresAt: number;
}

export async function signSessionToken(
  key: SigningKey,
  input: Omit<SessionClaims, 'expiresAt'> & { audience: string; ttlSeconds: number; now?: number },
): Promise<{ token: string; expiresAt: number }> {
  const issuedAt = Math.floor((input.now ?? Date.now()) / 1000);
  const expiresAt = issuedAt + input.ttlSeconds;
  const claims: Record<string, unknown> = { stp: input.stamp, csrf: input.csrf, sst: input.startedAt };
  if (input.robot) claims.rbt = input.robot;
  const token = await signJwt(key, SESSION_TYP, claims, { subject: input.subject, audience: input.audience, issuedAt, expiresAt });
  return { token, expiresAt };
}

export async function verifySessionToken(key: SigningKey, token: string, audience: string): Promise<SessionClaims | null> {
  const payload = await verifyJwt(key, token, audience, SESSION_TYP);
  if (!payload || typeof payload.sub !== 'string' || payload.sub === '') return null;
  const { stp, csrf, sst, rbt, exp } = payload;
  if (typeof stp !== 'string' || stp === '' || typeof csrf !== 'string' || csrf.length < 16 || typeof sst !== 'number' || typeof exp !== 'number') {
    return null;
  }
  const claims: SessionClaims = { subject: payload.sub, stamp: stp, csrf, startedAt: sst, expiresAt: exp };
  if (typeof rbt === 'string') claims.robot = rbt;
  return claims;
}
