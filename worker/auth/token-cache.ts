/**
 * Remembers registry access tokens that passed full verification, so a client that sends the
 * same Bearer token on every request (docker, containerd and skopeo all do, for the token's
 * lifetime) pays for one ES256 signature check instead of one per request: that check was
 * 30-40% of a HEAD blob's CPU (test/bench/RESULTS.md).
 *
 * What the cache may and may not do:
 * - Only a token that `verifyAccessToken` accepted is stored; a miss always runs the full check,
 *   so the cache can only answer "yes" for exactly the bytes that were verified (plus audience
 *   and key). A tampered token is a different key, hence a miss, hence the full check.
 * - An entry is served only while `now < exp` and `nbf <= now + leeway`, with `now` in whole
 *   seconds as jose computes it: a subset of what the uncached path accepts (`exp > now - leeway`).
 *   In the leeway window after `exp` the cache misses and the full check decides, so expiry
 *   behaves exactly as without the cache.
 * - Scope checks are not cached: the caller checks the claims against each request.
 *
 * The key is the token itself, not a digest of it. Map lookup compares the whole string, which is
 * as strict as comparing digests, and costs about 1 µs where `crypto.subtle.digest` of a ~800-byte
 * token costs 35-45 µs of CPU in Node (an async job on the thread pool), a quarter of the ES256
 * check it would save. Memory stays bounded: at most `maxEntries` tokens, each at most 8 KiB
 * (parseAuthorization refuses longer headers), about 1 KB in practice. Only tokens that verified
 * are held, and entries past their `exp` are dropped whenever a new token is stored. Beyond that
 * the least recently used entry goes first (Map keeps insertion order; a hit is re-inserted last).
 */
import { CLOCK_LEEWAY_SECONDS, verifyAccessToken, type AccessClaims } from './jwt.ts';
import type { SigningKey } from './signing-key.ts';

export const DEFAULT_TOKEN_CACHE_ENTRIES = 1000;
/** verifyAccessToken refuses longer tokens: never hold one. */
const MAX_TOKEN_LENGTH = 8192;

export type AccessTokenVerifier = (key: SigningKey, token: string, audience: string) => Promise<AccessClaims | null>;

export interface AccessTokenCacheOptions {
  maxEntries?: number;
  /** The full check; injectable for tests. */
  verify?: AccessTokenVerifier;
}

interface Entry {
  /** The key and audience it verified for: anything else must verify afresh. */
  key: SigningKey;
  audience: string;
  claims: AccessClaims;
}

export class AccessTokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly verifyToken: AccessTokenVerifier;

  constructor(options: AccessTokenCacheOptions = {}) {
    this.maxEntries = Math.max(1, Math.floor(options.maxEntries ?? DEFAULT_TOKEN_CACHE_ENTRIES));
    this.verifyToken = options.verify ?? verifyAccessToken;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Same contract as `verifyAccessToken`: the claims of a valid access token, or null. */
  async verify(key: SigningKey, token: string, audience: string): Promise<AccessClaims | null> {
    if (token.length > MAX_TOKEN_LENGTH) return this.verifyToken(key, token, audience);
    const now = nowSeconds();
    const hit = this.entries.get(token);
    if (hit) {
      this.entries.delete(token);
      if (hit.key === key && hit.audience === audience && servable(hit.claims, now)) {
        this.entries.set(token, hit); // most recently used goes last
        return copyClaims(hit.claims);
      }
    }
    const claims = await this.verifyToken(key, token, audience);
    if (!claims) return null;
    if (servable(claims, nowSeconds())) this.remember(token, { key, audience, claims: copyClaims(claims) });
    return claims;
  }

  private remember(token: string, entry: Entry): void {
    // Misses are rare (one per token), so a full sweep here is cheap: expired tokens go first.
    const now = nowSeconds();
    for (const [held, { claims }] of this.entries) {
      if (!(now < claims.expiresAt)) this.entries.delete(held);
    }
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(token, entry);
  }
}

/** jose's clock: whole seconds, rounded down (`epoch()` in jose's lib). */
function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function servable(claims: AccessClaims, now: number): boolean {
  if (!(now < claims.expiresAt)) return false;
  return claims.notBefore === undefined || claims.notBefore <= now + CLOCK_LEEWAY_SECONDS;
}

/** Callers get their own objects: nothing they do to a result can change what the cache holds. */
function copyClaims(claims: AccessClaims): AccessClaims {
  return { ...claims, access: claims.access.map((a) => ({ ...a, actions: [...a.actions] })) };
}
