/**
 * Registry tokens (distribution docs/spec/auth/jwt.md): ES256 JWTs with claims
 * iss sub aud exp nbf iat jti access[{type,name,actions}], and refresh tokens (oauth.md) that are
 * JWTs of their own `typ`, so neither can stand in for the other. Verification pins the
 * algorithm (no `none`, no HS256-with-the-public-key confusion), the key id, the deployment's
 * issuer (signing-key.ts), audience and lifetime.
 */
import { jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { isValidName } from '../oci/reference.ts';
import { randomBytes, toBase64Url } from './bytes.ts';
import { isAction, isRegistryResource } from './scope.ts';
import { TOKEN_ALGORITHM, type SigningKey } from './signing-key.ts';
import type { AccessRequest } from './types.ts';

const ACCESS_TYP = 'JWT';
const REFRESH_TYP = 'berth-refresh+jwt';
/** Tolerated clock skew between instances, in seconds. */
export const CLOCK_LEEWAY_SECONDS = 30;

export interface AccessClaims {
  /** Account name; '' for anonymous tokens. */
  subject: string;
  access: AccessRequest[];
  expiresAt: number;
  /** `nbf`, when the token has one (the token cache re-checks it like jose does). */
  notBefore?: number;
  /** Robot token id when the login used a robot secret (`rbt` claim). */
  robot?: string;
}

export interface RefreshClaims {
  subject: string;
  /** The user record's stamp when issued (users.ts): a password change or re-creation retires the token. */
  stamp: string;
  /** Set when the login used a robot secret: the token lives only as long as that robot token. */
  robot?: string;
}

function jti(): string {
  return toBase64Url(randomBytes(16));
}

/** Header and registered claims every token of Berth's carries; `typ` keeps the kinds apart. */
export function signJwt(
  key: SigningKey,
  typ: string,
  claims: JWTPayload,
  times: { subject: string; audience: string; issuedAt: number; expiresAt: number; notBefore?: boolean },
): Promise<string> {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: key.kid, typ })
    .setIssuer(key.issuer)
    .setSubject(times.subject)
    .setAudience(times.audience)
    .setIssuedAt(times.issuedAt);
  if (times.notBefore) jwt.setNotBefore(times.issuedAt);
  return jwt.setExpirationTime(times.expiresAt).setJti(jti()).sign(key.privateKey);
}

export async function signAccessToken(
  key: SigningKey,
  input: { subject: string; audience: string; access: AccessRequest[]; ttlSeconds: number; robot?: string; now?: number },
): Promise<{ token: string; issuedAt: number; expiresIn: number }> {
  const issuedAt = Math.floor((input.now ?? Date.now()) / 1000);
  const claims: JWTPayload = { access: input.access };
  if (input.robot) claims.rbt = input.robot;
  const token = await signJwt(key, ACCESS_TYP, claims, {
    subject: input.subject, audience: input.audience, issuedAt, expiresAt: issuedAt + input.ttlSeconds, notBefore: true,
  });
  return { token, issuedAt, expiresIn: input.ttlSeconds };
}

export async function signRefreshToken(
  key: SigningKey,
  input: RefreshClaims & { audience: string; ttlSeconds: number },
): Promise<string> {
  const claims: JWTPayload = { stp: input.stamp };
  if (input.robot) claims.rbt = input.robot;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: key.kid, typ: REFRESH_TYP })
    .setIssuer(key.issuer)
    .setSubject(input.subject)
    .setAudience(input.audience)
    .setIssuedAt()
    .setExpirationTime(`${input.ttlSeconds}s`)
    .setJti(jti())
    .sign(key.privateKey);
}

/** The payload of a token of this `typ` signed by `key` for `audience`, or null for anything else. */
export async function verifyJwt(key: SigningKey, token: string, audience: string, typ: string): Promise<JWTPayload | null> {
  if (token.length > 8192) return null;
  try {
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        if (header.kid !== key.kid) throw new Error('unknown key id');
        return key.publicKey;
      },
      { algorithms: [TOKEN_ALGORITHM], issuer: key.issuer, audience, typ, clockTolerance: CLOCK_LEEWAY_SECONDS,
        requiredClaims: ['sub', 'exp', 'iat'] },
    );
    return payload;
  } catch {
    return null;
  }
}

function parseAccess(value: unknown): AccessRequest[] | null {
  if (!Array.isArray(value) || value.length > 64) return null;
  const out: AccessRequest[] = [];
  for (const item of value as unknown[]) {
    if (typeof item !== 'object' || item === null) return null;
    const { type, name, actions } = item as Record<string, unknown>;
    if (!Array.isArray(actions) || !actions.every((a): a is string => typeof a === 'string')) return null;
    const valid = actions.filter(isAction);
    if (type === 'repository' && typeof name === 'string' && isValidName(name)) out.push({ type, name, actions: valid });
    else if (type === 'registry' && typeof name === 'string' && isRegistryResource(name)) out.push({ type, name, actions: valid });
    else return null;
  }
  return out;
}

/** The claims of a valid access token for `audience`, or null for anything else. */
export async function verifyAccessToken(key: SigningKey, token: string, audience: string): Promise<AccessClaims | null> {
  const payload = await verifyJwt(key, token, audience, ACCESS_TYP);
  const access = payload ? parseAccess(payload.access) : null;
  if (!payload || !access || typeof payload.sub !== 'string' || typeof payload.exp !== 'number') return null;
  const claims: AccessClaims = { subject: payload.sub, access, expiresAt: payload.exp };
  if (typeof payload.nbf === 'number') claims.notBefore = payload.nbf;
  if (typeof payload.rbt === 'string') claims.robot = payload.rbt;
  return claims;
}

export async function verifyRefreshToken(key: SigningKey, token: string, audience: string): Promise<RefreshClaims | null> {
  const payload = await verifyJwt(key, token, audience, REFRESH_TYP);
  if (!payload || typeof payload.sub !== 'string' || typeof payload.stp !== 'string' || payload.stp === '') return null;
  const claims: RefreshClaims = { subject: payload.sub, stamp: payload.stp };
  if (typeof payload.rbt === 'string') claims.robot = payload.rbt;
  return claims;
}
