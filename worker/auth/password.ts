/**
 * Password hashing with PBKDF2-HMAC-SHA256 through WebCrypto (the only password KDF workerd
 * provides natively). Stored form: `pbkdf2-sha256$<iterations>$<salt b64url>$<hash b64url>`, so
 * the iteration count can change later without invalidating existing hashes.
 *
 * Iterations: OWASP's Password Storage Cheat Sheet asks 600,000 for PBKDF2-HMAC-SHA256, which
 * Node (and so Lambda) takes; workerd refuses more than 100,000, so a Worker hashes with that
 * (the entry says so: `maxIterations`, settings.ts). A hash made with fewer iterations than the
 * deployment's setting is made anew at the account's next successful login (accounts.ts).
 */
import { constantTimeEqual, fromBase64Url, randomBytes, toBase64Url, utf8 } from './bytes.ts';

export const DEFAULT_PBKDF2_ITERATIONS = 600_000;
export const MIN_PBKDF2_ITERATIONS = 10_000;
/** workerd's WebCrypto refuses PBKDF2 with more iterations than this. */
export const WORKERD_MAX_PBKDF2_ITERATIONS = 100_000;
/** The most any runtime hashes or verifies with (a bound on what a stored hash may ask). */
export const MAX_PBKDF2_ITERATIONS = 10_000_000;
/** Longer inputs are refused before any hashing work (they are never real passwords). */
export const MAX_PASSWORD_BYTES = 1024;

const SCHEME = 'pbkdf2-sha256';

async function derive(password: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', utf8(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, 256);
  return new Uint8Array(bits);
}

export async function hashPassword(password: string, iterations = DEFAULT_PBKDF2_ITERATIONS): Promise<string> {
  if (utf8(password).length > MAX_PASSWORD_BYTES) throw new Error('password too long');
  const salt = randomBytes(16);
  const hash = await derive(password, salt, iterations);
  return `${SCHEME}$${iterations}$${toBase64Url(salt)}$${toBase64Url(hash)}`;
}

interface ParsedHash {
  iterations: number;
  salt: Uint8Array<ArrayBuffer>;
  hash: Uint8Array;
}

function parseHash(encoded: string): ParsedHash | null {
  const [scheme, iter, salt, hash, ...rest] = encoded.split('$');
  if (scheme !== SCHEME || rest.length > 0 || !iter || !salt || !hash) return null;
  const iterations = Number(iter);
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) return null;
  const saltBytes = fromBase64Url(salt);
  const hashBytes = fromBase64Url(hash);
  if (!saltBytes || !hashBytes || hashBytes.length !== 32) return null;
  return { iterations, salt: saltBytes, hash: hashBytes };
}

/** The iteration count a stored hash was made with, or null when it is not one of ours. */
export function hashIterations(encoded: string): number | null {
  return parseHash(encoded)?.iterations ?? null;
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parseHash(encoded);
  if (!parsed || utf8(password).length > MAX_PASSWORD_BYTES) return false;
  let derived: Uint8Array;
  try {
    derived = await derive(password, parsed.salt, parsed.iterations);
  } catch {
    // workerd refuses a hash made with more iterations than it allows (one made by Node at
    // 600,000): that login cannot succeed here, which is no server fault.
    return false;
  }
  return constantTimeEqual(derived, parsed.hash);
}

/**
 * Spends the same work as a real check when the account does not exist, so response time does
 * not tell which account names are real.
 */
export async function burnPasswordCheck(password: string, iterations: number): Promise<false> {
  await derive(password.slice(0, MAX_PASSWORD_BYTES), randomBytes(16), iterations);
  return false;
}
